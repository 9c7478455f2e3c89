/**
 * Hand-rolled remote-write encoders for the send path. They write the same bytes as Prometheus'
 * gogo-generated Go marshallers (fields in number order, zero-valued scalars and empty strings
 * omitted, -0.0 omitted like 0.0 because Go compares `!= 0`) without building a message object per
 * sample: a series' labels are encoded once (encodeLabelsBlock) and copied per sample, and the
 * builders reuse their buffers across batches.
 */
import { ByteWriter, uvarintSize } from '../util/bytes.ts';
import type { Labels } from '../util/labels.ts';
import { OutpostError } from '../util/errors.ts';
import { STALE_NAN_HI, STALE_NAN_LO } from './proto.ts';

// Tags: (field number << 3) | wire type.
const TAG_F1_LEN = 0x0a;
const TAG_F2_LEN = 0x12;
const TAG_F3_LEN = 0x1a;
const TAG_F4_LEN = 0x22;
const TAG_F5_LEN = 0x2a;
const TAG_F1_I64 = 0x09;
const TAG_F1_VARINT = 0x08;
const TAG_F2_VARINT = 0x10;
const TAG_F3_VARINT = 0x18;
const TAG_F4_VARINT = 0x20;

export class EncoderStateError extends OutpostError {
  constructor(message: string) {
    super('encoder_state', message);
  }
}

/** Bytes a protobuf int64 varint takes: negatives always take 10 (64-bit two's complement). */
export function int64VarintSize(v: number): number {
  return v < 0 ? 10 : uvarintSize(v);
}

/** Wire size of a Sample body (value 1, timestamp 2) under Go's zero-omission rules. */
function sampleBodySize(value: number, stale: boolean, timestampMs: number): number {
  let n = 0;
  if (stale || value !== 0) n += 9;
  if (timestampMs !== 0) n += 1 + int64VarintSize(timestampMs);
  return n;
}

/** Writes the Sample body fields; the caller has reserved the space. */
function writeSampleBody(w: ByteWriter, value: number, stale: boolean, timestampMs: number): void {
  if (stale) {
    w.u8(TAG_F1_I64);
    w.bits64le(STALE_NAN_HI, STALE_NAN_LO);
  } else if (value !== 0) {
    w.u8(TAG_F1_I64);
    w.f64le(value);
  }
  if (timestampMs !== 0) {
    w.u8(TAG_F2_VARINT);
    putInt64Varint(w, timestampMs);
  }
}

/** uvarint size for 0 <= v < 2^32 with integer compares only (symbol refs, lengths). */
function u32VarintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** uvarint for 0 <= v < 2^32 using bit operations; the caller has ensured 5 bytes of room. */
function putU32Varint(w: ByteWriter, v: number): void {
  const b = w.buf;
  let p = w.pos;
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  w.pos = p;
}

/**
 * Protobuf int64 varint. Millisecond timestamps need 41 bits, so the common case splits into
 * 32-bit halves for bit operations instead of ByteWriter's float division loop; negatives (rare:
 * pre-1970) take the general path. The caller has ensured 10 bytes of room.
 */
function putInt64Varint(w: ByteWriter, v: number): void {
  if (v < 0) {
    w.int64varint(v);
    return;
  }
  if (v < 0x100000000) {
    putU32Varint(w, v);
    return;
  }
  const b = w.buf;
  let p = w.pos;
  let lo = v >>> 0;
  const hi = Math.floor(v / 0x100000000);
  for (let i = 0; i < 4; i++) {
    b[p++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  // 4 bits of lo remain; hi < 2^21 for safe integers, so the rest fits in 25 bits.
  let x = lo | (hi << 4);
  while (x >= 0x80) {
    b[p++] = (x & 0x7f) | 0x80;
    x >>>= 7;
  }
  b[p++] = x;
  w.pos = p;
}

function copyInto(w: ByteWriter, src: Uint8Array): void {
  const n = src.length;
  w.ensure(n);
  w.buf.set(src, w.pos);
  w.pos += n;
}

const labelsScratch = new ByteWriter(1024);

/**
 * The `repeated Label labels = 1` fields of an RW1 TimeSeries, for a series' final (sorted) label
 * set. Computed once per series and kept in the queue's series cache; every sample of the series
 * copies it. Empty names/values are omitted field-wise exactly as Go does (they should not occur).
 */
export function encodeLabelsBlock(labels: Labels): Buffer {
  const w = labelsScratch;
  w.reset();
  for (let i = 0; i < labels.length; i += 2) {
    const name = labels[i];
    const value = labels[i + 1];
    const nLen = Buffer.byteLength(name);
    const vLen = Buffer.byteLength(value);
    let body = 0;
    if (nLen > 0) body += 1 + uvarintSize(nLen) + nLen;
    if (vLen > 0) body += 1 + uvarintSize(vLen) + vLen;
    w.u8(TAG_F1_LEN);
    w.uvarint(body);
    if (nLen > 0) {
      w.u8(TAG_F1_LEN);
      w.str(name);
    }
    if (vLen > 0) {
      w.u8(TAG_F2_LEN);
      w.str(value);
    }
  }
  return w.copy();
}

/**
 * Builds one RW 1.0 WriteRequest. One TimeSeries per sample, as Prometheus does. Metadata entries
 * go after all series (field 3 follows field 1 in Go's output) whatever the order of the calls.
 * reset() keeps both buffers, so a builder reused per shard allocates nothing in steady state.
 */
export class WriteRequestBuilder {
  private readonly w: ByteWriter;
  private readonly meta: ByteWriter;
  private samples = 0;
  private metas = 0;
  private finished = false;

  constructor(initialSize = 256 * 1024) {
    this.w = new ByteWriter(initialSize);
    this.meta = new ByteWriter(1024);
  }

  reset(): void {
    this.w.reset();
    this.meta.reset();
    this.samples = 0;
    this.metas = 0;
    this.finished = false;
  }

  /** Samples plus metadata entries added since reset(). */
  get count(): number {
    return this.samples + this.metas;
  }

  get sampleCount(): number {
    return this.samples;
  }

  get metadataCount(): number {
    return this.metas;
  }

  /** Bytes written so far (series only until finish()); lets a caller cap a request's size. */
  get size(): number {
    return this.w.pos + this.meta.pos;
  }

  /**
   * Appends `TimeSeries{labels: <labelsBlock>, samples: [{value, timestamp}]}`. With stale=true the
   * value written is the stale marker's exact bits and `value` is ignored.
   */
  addSample(labelsBlock: Uint8Array, value: number, stale: boolean, timestampMs: number): void {
    const b = Buffer.isBuffer(labelsBlock) ? labelsBlock : Buffer.from(labelsBlock.buffer, labelsBlock.byteOffset, labelsBlock.byteLength);
    this.addSampleFrom(b, 0, b.length, value, stale, timestampMs);
  }

  /**
   * addSample with the labels block given as src[off, off+len), so a caller keeping many blocks in
   * one arena does not create a view per sample.
   */
  addSampleFrom(src: Buffer, off: number, len: number, value: number, stale: boolean, timestampMs: number): void {
    if (this.finished) throw new EncoderStateError('addSample after finish(); call reset() first');
    const sb = sampleBodySize(value, stale, timestampMs);
    // sb <= 20, so the Sample's own length prefix is always one byte.
    const tsLen = len + 2 + sb;
    const w = this.w;
    w.ensure(tsLen + 11);
    w.u8(TAG_F1_LEN);
    w.uvarint(tsLen);
    src.copy(w.buf, w.pos, off, off + len);
    w.pos += len;
    w.u8(TAG_F2_LEN);
    w.u8(sb);
    writeSampleBody(w, value, stale, timestampMs);
    this.samples++;
  }

  /** Appends a MetricMetadata entry (WriteRequest field 3). `type` is a MetricType number. */
  addMetadata(type: number, family: string, help: string, unit: string): void {
    if (this.finished) throw new EncoderStateError('addMetadata after finish(); call reset() first');
    const fLen = Buffer.byteLength(family);
    const hLen = Buffer.byteLength(help);
    const uLen = Buffer.byteLength(unit);
    let body = 0;
    if (type !== 0) body += 1 + uvarintSize(type);
    if (fLen > 0) body += 1 + uvarintSize(fLen) + fLen;
    if (hLen > 0) body += 1 + uvarintSize(hLen) + hLen;
    if (uLen > 0) body += 1 + uvarintSize(uLen) + uLen;
    const m = this.meta;
    m.u8(TAG_F3_LEN);
    m.uvarint(body);
    if (type !== 0) {
      m.u8(TAG_F1_VARINT);
      m.uvarint(type);
    }
    if (fLen > 0) {
      m.u8(TAG_F2_LEN);
      m.str(family);
    }
    if (hLen > 0) {
      m.u8(TAG_F4_LEN);
      m.str(help);
    }
    if (uLen > 0) {
      m.u8(TAG_F5_LEN);
      m.str(unit);
    }
    this.metas++;
  }

  /**
   * The encoded WriteRequest: a view of the internal buffer, valid until the next reset(). Calling
   * it again before reset() returns the same bytes.
   */
  finish(): Buffer {
    if (!this.finished) {
      if (this.meta.pos > 0) copyInto(this.w, this.meta.view());
      this.finished = true;
    }
    return this.w.view();
  }
}

/**
 * Builds one RW 2.0 Request. Symbols are interned per request ("" is always ref 0) in the order
 * Prometheus interns them: each label's name then value, then help and unit. Go writes `symbols`
 * (field 4) before `timeseries` (field 5), so series are staged in a second buffer and copied
 * behind the symbol table in finish().
 */
export class WriteRequestV2Builder {
  private readonly series: ByteWriter;
  private readonly out: ByteWriter;
  private readonly symbolRefs = new Map<string, number>();
  private symbolList: string[] = [''];
  private refs: Uint32Array = new Uint32Array(64);
  private samples = 0;
  private finished = false;

  constructor(initialSize = 256 * 1024) {
    this.series = new ByteWriter(initialSize);
    this.out = new ByteWriter(initialSize);
    this.symbolRefs.set('', 0);
  }

  reset(): void {
    this.series.reset();
    this.out.reset();
    this.symbolRefs.clear();
    this.symbolRefs.set('', 0);
    this.symbolList.length = 1;
    this.samples = 0;
    this.finished = false;
  }

  get count(): number {
    return this.samples;
  }

  /** Number of distinct symbols so far, including "". */
  get symbolCount(): number {
    return this.symbolList.length;
  }

  /** Interns s and returns its ref in this request's symbol table. */
  symbol(s: string): number {
    let ref = this.symbolRefs.get(s);
    if (ref === undefined) {
      ref = this.symbolList.length;
      this.symbolList.push(s);
      this.symbolRefs.set(s, ref);
    }
    return ref;
  }

  /**
   * Appends `TimeSeries{labels_refs, samples: [{value, timestamp}], metadata: {type, help_ref,
   * unit_ref}}`. Metadata is always present on the wire (Go marshals the non-nullable message
   * even when empty: `2a 00`).
   */
  addSample(
    labels: Labels,
    value: number,
    stale: boolean,
    timestampMs: number,
    type = 0,
    help = '',
    unit = '',
  ): void {
    if (this.finished) throw new EncoderStateError('addSample after finish(); call reset() first');
    const n = labels.length;
    if (this.refs.length < n) this.refs = new Uint32Array(Math.max(n, this.refs.length * 2));
    const refs = this.refs;
    let refsLen = 0;
    for (let i = 0; i < n; i++) {
      const ref = this.symbol(labels[i]);
      refs[i] = ref;
      refsLen += u32VarintSize(ref);
    }
    const helpRef = help === '' ? 0 : this.symbol(help);
    const unitRef = unit === '' ? 0 : this.symbol(unit);
    let metaLen = 0;
    if (type !== 0) metaLen += 1 + uvarintSize(type);
    if (helpRef !== 0) metaLen += 1 + uvarintSize(helpRef);
    if (unitRef !== 0) metaLen += 1 + uvarintSize(unitRef);
    const sb = sampleBodySize(value, stale, timestampMs);
    let tsLen = 2 + sb + 2 + metaLen;
    if (n > 0) tsLen += 1 + u32VarintSize(refsLen) + refsLen;

    const w = this.series;
    w.ensure(tsLen + 6);
    w.u8(TAG_F5_LEN);
    putU32Varint(w, tsLen);
    if (n > 0) {
      w.u8(TAG_F1_LEN);
      putU32Varint(w, refsLen);
      for (let i = 0; i < n; i++) putU32Varint(w, refs[i]);
    }
    w.u8(TAG_F2_LEN);
    w.u8(sb);
    writeSampleBody(w, value, stale, timestampMs);
    w.u8(TAG_F5_LEN);
    w.u8(metaLen);
    if (type !== 0) {
      w.u8(TAG_F1_VARINT);
      w.uvarint(type);
    }
    if (helpRef !== 0) {
      w.u8(TAG_F3_VARINT);
      w.uvarint(helpRef);
    }
    if (unitRef !== 0) {
      w.u8(TAG_F4_VARINT);
      w.uvarint(unitRef);
    }
    this.samples++;
  }

  /** The encoded Request: a view of the internal buffer, valid until the next reset(). */
  finish(): Buffer {
    if (!this.finished) {
      const o = this.out;
      o.reset();
      const syms = this.symbolList;
      for (let i = 0; i < syms.length; i++) {
        o.u8(TAG_F4_LEN);
        o.str(syms[i]);
      }
      copyInto(o, this.series.view());
      this.finished = true;
    }
    return this.out.view();
  }
}

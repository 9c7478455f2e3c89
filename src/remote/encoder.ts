/**
 * Hand-rolled remote-write encoders for the send path. They write the same bytes as Prometheus'
 * gogo-generated Go marshallers (fields in number order, zero-valued scalars and empty strings
 * omitted, -0.0 omitted like 0.0 because Go compares `!= 0`) without building a message object per
 * sample: a series' labels are encoded once (encodeLabelsBlock) and copied per sample, and the
 * builders reuse their buffers across batches.
 */
import { ByteWriter, grownArray, uvarintSize } from '../util/bytes.ts';
import { u32At } from '../util/columns.ts';
import { type Labels, labelPairs } from '../util/labels.ts';
import { OutpostError } from '../util/errors.ts';
import type { Histogram, HistogramSpan } from '../storage/histogram.ts';
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
const TAG_F2_I64 = 0x11;
const TAG_F3_I64 = 0x19;
const TAG_F5_I64 = 0x29;
const TAG_F6_VARINT = 0x30;
const TAG_F7_I64 = 0x39;
const TAG_F8_LEN = 0x42;
const TAG_F9_LEN = 0x4a;
const TAG_F10_LEN = 0x52;
const TAG_F11_LEN = 0x5a;
const TAG_F12_LEN = 0x62;
const TAG_F13_LEN = 0x6a;
const TAG_F14_VARINT = 0x70;
const TAG_F15_VARINT = 0x78;
// Field 16 (custom_values) needs a two-byte tag: 0x82 0x01.
const TAG_F16_LEN_LO = 0x82;
const TAG_F16_LEN_HI = 0x01;

export class EncoderStateError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_ENCODER_STATE', message);
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

/** putU32Varint for refs[0, n), the first n entries of a reused ref column. */
function putRefs(w: ByteWriter, refs: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) putU32Varint(w, u32At(refs, i));
}

function copyInto(w: ByteWriter, src: Uint8Array): void {
  const n = src.length;
  w.ensure(n);
  w.buf.set(src, w.pos);
  w.pos += n;
}

/** Refuses to add to a request after finish(). */
function checkOpen(finished: boolean, what: string): void {
  if (finished) throw new EncoderStateError(`${what} after finish(); call reset() first`);
}

/** Writes a length-delimited field holding p's bytes (room for them must already be made). */
function writeBytesField(w: ByteWriter, tag: number, p: ByteWriter): void {
  const pl = p.pos;
  w.u8(tag);
  w.uvarint(pl);
  p.buf.copy(w.buf, w.pos, 0, pl);
  w.pos += pl;
}

/** The size of a varint field that proto3 omits when v is 0. */
function varintFieldSize(v: number): number {
  return v === 0 ? 0 : 1 + uvarintSize(v);
}

/** Writes a varint field unless v is 0 (proto3 omits zero values). */
function writeVarintField(w: ByteWriter, tag: number, v: number): void {
  if (v === 0) return;
  w.u8(tag);
  w.uvarint(v);
}

/** The size of a string field of len UTF-8 bytes, omitted when empty. */
function strFieldSize(len: number): number {
  return len === 0 ? 0 : 1 + uvarintSize(len) + len;
}

/** Writes a string field of len UTF-8 bytes unless it is empty. */
function writeStrField(w: ByteWriter, tag: number, v: string, len: number): void {
  if (len === 0) return;
  w.u8(tag);
  w.str(v);
}

/** The size of a packed refs field of refsLen bytes, omitted when it holds no refs (n = 0). */
function refsFieldSize(n: number, refsLen: number): number {
  return n === 0 ? 0 : 1 + u32VarintSize(refsLen) + refsLen;
}

/** Writes refs[0, n) as a packed field 1 of refsLen bytes, unless n is 0 (room must already be made). */
function writeRefsField(w: ByteWriter, refs: Uint32Array, n: number, refsLen: number): void {
  if (n === 0) return;
  w.u8(TAG_F1_LEN);
  putU32Varint(w, refsLen);
  putRefs(w, refs, n);
}

/** refs when it holds n entries, else a larger array (contents not kept: callers refill it). */
function refsFor(refs: Uint32Array, n: number): Uint32Array {
  return refs.length >= n ? refs : new Uint32Array(Math.max(n, refs.length * 2));
}

/** What a request builder added since reset(). */
abstract class AddedCounts {
  protected samples = 0;
  protected exemplars = 0;
  protected histograms = 0;
  protected finished = false;

  protected resetCounts(): void {
    this.samples = 0;
    this.exemplars = 0;
    this.histograms = 0;
    this.finished = false;
  }

  get sampleCount(): number {
    return this.samples;
  }

  get exemplarCount(): number {
    return this.exemplars;
  }

  get histogramCount(): number {
    return this.histograms;
  }
}

const labelsScratch = new ByteWriter(1024);

/** Writes `repeated Label` (field 1) entries for labels; shared by TimeSeries and Exemplar. */
function writeLabelsBlock(w: ByteWriter, labels: Labels): void {
  for (const [name, value] of labelPairs(labels)) {
    const nLen = Buffer.byteLength(name);
    const vLen = Buffer.byteLength(value);
    w.u8(TAG_F1_LEN);
    w.uvarint(strFieldSize(nLen) + strFieldSize(vLen));
    writeStrField(w, TAG_F1_LEN, name, nLen);
    writeStrField(w, TAG_F2_LEN, value, vLen);
  }
}

/**
 * The `repeated Label labels = 1` fields of an RW1 TimeSeries, for a series' final (sorted) label
 * set. Computed once per series and kept in the queue's series cache; every sample of the series
 * copies it. Empty names/values are omitted field-wise exactly as Go does (they should not occur).
 */
export function encodeLabelsBlock(labels: Labels): Buffer {
  return Buffer.from(labelsBlockView(labels));
}

/** encodeLabelsBlock's bytes in a scratch buffer, valid until the next call (for a caller that copies them). */
export function labelsBlockView(labels: Labels): Buffer {
  const w = labelsScratch;
  w.reset();
  writeLabelsBlock(w, labels);
  return w.view();
}

/** Zigzag of a signed 32/53-bit integer, as protobuf sint32/sint64 store it. */
function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function writeSpans(w: ByteWriter, tag: number, spans: readonly HistogramSpan[]): void {
  for (const { offset: off, length: len } of spans) {
    let body = 0;
    if (off !== 0) body += 1 + uvarintSize(zigzag(off));
    if (len !== 0) body += 1 + uvarintSize(len);
    w.u8(tag);
    w.uvarint(body);
    if (off !== 0) {
      w.u8(TAG_F1_VARINT);
      w.varint(off);
    }
    if (len !== 0) {
      w.u8(TAG_F2_VARINT);
      w.uvarint(len);
    }
  }
}

/** Packed `repeated sint64` (integer histograms' bucket deltas). */
function writePackedSint(w: ByteWriter, tag: number, vs: readonly number[]): void {
  if (vs.length === 0) return;
  let size = 0;
  for (const v of vs) size += uvarintSize(zigzag(v));
  w.u8(tag);
  w.uvarint(size);
  for (const v of vs) w.varint(v);
}

/** Packed `repeated double` (float histograms' bucket counts, custom bucket bounds). */
function writePackedDouble(w: ByteWriter, vs: readonly number[]): void {
  w.uvarint(vs.length * 8);
  for (const v of vs) w.f64le(v);
}

/**
 * The body of an RW1 `Histogram` (and of RW2's, which shares fields 1-16) in field order, as
 * gogo marshals it: the count/zero-count oneofs are written even when zero, other scalars only
 * when non-zero, a stale histogram's sum keeps the stale marker's exact bits. `float` selects the
 * *_float / *_counts fields of a float histogram over the *_int / *_deltas of an integer one.
 */
export function writeHistogramBody(w: ByteWriter, h: Histogram, float: boolean, timestampMs: number): void {
  if (float) {
    w.u8(TAG_F2_I64);
    w.f64le(h.count);
  } else {
    w.u8(TAG_F1_VARINT);
    w.uvarint(h.count);
  }
  if (h.staleSum) {
    w.u8(TAG_F3_I64);
    w.bits64le(STALE_NAN_HI, STALE_NAN_LO);
  } else if (h.sum !== 0) {
    w.u8(TAG_F3_I64);
    w.f64le(h.sum);
  }
  if (h.schema !== 0) {
    w.u8(TAG_F4_VARINT);
    w.varint(h.schema);
  }
  if (h.zeroThreshold !== 0) {
    w.u8(TAG_F5_I64);
    w.f64le(h.zeroThreshold);
  }
  if (float) {
    w.u8(TAG_F7_I64);
    w.f64le(h.zeroCount);
  } else {
    w.u8(TAG_F6_VARINT);
    w.uvarint(h.zeroCount);
  }
  writeSpans(w, TAG_F8_LEN, h.negativeSpans);
  if (float) {
    if (h.negativeBuckets.length > 0) {
      w.u8(TAG_F10_LEN);
      writePackedDouble(w, h.negativeBuckets);
    }
  } else writePackedSint(w, TAG_F9_LEN, h.negativeBuckets);
  writeSpans(w, TAG_F11_LEN, h.positiveSpans);
  if (float) {
    if (h.positiveBuckets.length > 0) {
      w.u8(TAG_F13_LEN);
      writePackedDouble(w, h.positiveBuckets);
    }
  } else writePackedSint(w, TAG_F12_LEN, h.positiveBuckets);
  if (h.counterResetHint !== 0) {
    w.u8(TAG_F14_VARINT);
    w.uvarint(h.counterResetHint);
  }
  if (timestampMs !== 0) {
    w.u8(TAG_F15_VARINT);
    w.ensure(10);
    putInt64Varint(w, timestampMs);
  }
  const cv = h.customValues;
  if (cv !== undefined && cv.length > 0) {
    w.u8(TAG_F16_LEN_LO);
    w.u8(TAG_F16_LEN_HI);
    writePackedDouble(w, cv);
  }
  // RW2's start_timestamp (field 17) would follow; Outpost's WAL has no start timestamps, so it is
  // always 0 and omitted.
}

/** RW1 Exemplar body: labels (field 1), value (2), timestamp (3). */
function writeExemplarV1Body(w: ByteWriter, labels: Labels, value: number, timestampMs: number): void {
  writeLabelsBlock(w, labels);
  if (value !== 0) {
    w.u8(TAG_F2_I64);
    w.f64le(value);
  }
  if (timestampMs !== 0) {
    w.u8(TAG_F3_VARINT);
    w.ensure(10);
    putInt64Varint(w, timestampMs);
  }
}

/**
 * Builds one RW 1.0 WriteRequest. One TimeSeries per sample, exemplar or histogram, as Prometheus
 * does. Metadata entries go after all series (field 3 follows field 1 in Go's output) whatever the
 * order of the calls. reset() keeps the buffers, so a builder reused per shard allocates nothing
 * in steady state.
 */
export class WriteRequestBuilder extends AddedCounts {
  private readonly w: ByteWriter;
  private readonly meta: ByteWriter;
  /** Stages an exemplar's or histogram's body, whose length prefix must precede it. */
  private readonly payload: ByteWriter;
  private metas = 0;

  constructor(initialSize = 256 * 1024) {
    super();
    this.w = new ByteWriter(initialSize);
    this.meta = new ByteWriter(1024);
    this.payload = new ByteWriter(1024);
  }

  reset(): void {
    this.w.reset();
    this.meta.reset();
    this.resetCounts();
    this.metas = 0;
  }

  /** Samples, exemplars, histograms and metadata entries added since reset(). */
  get count(): number {
    return this.samples + this.exemplars + this.histograms + this.metas;
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
    const b = Buffer.isBuffer(labelsBlock)
      ? labelsBlock
      : Buffer.from(labelsBlock.buffer, labelsBlock.byteOffset, labelsBlock.byteLength);
    this.addSampleFrom(b, 0, b.length, value, stale, timestampMs);
  }

  /**
   * addSample with the labels block given as src[off, off+len), so a caller keeping many blocks in
   * one arena does not create a view per sample.
   */
  addSampleFrom(src: Buffer, off: number, len: number, value: number, stale: boolean, timestampMs: number): void {
    checkOpen(this.finished, 'addSample');
    const sb = sampleBodySize(value, stale, timestampMs);
    // sb <= 20, so the Sample's own length prefix is always one byte.
    const w = this.seriesHead(src, off, len, len + 2 + sb);
    w.u8(TAG_F2_LEN);
    w.u8(sb);
    writeSampleBody(w, value, stale, timestampMs);
    this.samples++;
  }

  /** Appends `TimeSeries{labels, exemplars: [{labels: exemplarLabels, value, timestamp}]}`. */
  addExemplarFrom(
    src: Buffer,
    off: number,
    len: number,
    exemplarLabels: Labels,
    value: number,
    timestampMs: number,
  ): void {
    checkOpen(this.finished, 'addExemplar');
    const p = this.payload;
    p.reset();
    writeExemplarV1Body(p, exemplarLabels, value, timestampMs);
    this.addSeriesPayload(src, off, len, TAG_F3_LEN, p);
    this.exemplars++;
  }

  /**
   * Appends `TimeSeries{labels, histograms: [h at timestamp]}`; `float` says whether h holds float
   * counts (WAL records 8/10) or integer counts with delta-encoded buckets (7/9).
   */
  addHistogramFrom(src: Buffer, off: number, len: number, h: Histogram, float: boolean, timestampMs: number): void {
    checkOpen(this.finished, 'addHistogram');
    const p = this.payload;
    p.reset();
    writeHistogramBody(p, h, float, timestampMs);
    this.addSeriesPayload(src, off, len, TAG_F4_LEN, p);
    this.histograms++;
  }

  /**
   * Opens a WriteRequest.timeseries entry of tsLen bytes and writes its labels block src[off,
   * off+len); room is made for the whole entry (tsLen, plus 11 for its tag and length prefix).
   */
  private seriesHead(src: Buffer, off: number, len: number, tsLen: number): ByteWriter {
    const w = this.w;
    w.ensure(tsLen + 11);
    w.u8(TAG_F1_LEN);
    w.uvarint(tsLen);
    src.copy(w.buf, w.pos, off, off + len);
    w.pos += len;
    return w;
  }

  private addSeriesPayload(src: Buffer, off: number, len: number, tag: number, p: ByteWriter): void {
    const pl = p.pos;
    writeBytesField(this.seriesHead(src, off, len, len + 1 + uvarintSize(pl) + pl), tag, p);
  }

  /** Appends a MetricMetadata entry (WriteRequest field 3). `type` is a MetricType number. */
  addMetadata(type: number, family: string, help: string, unit: string): void {
    checkOpen(this.finished, 'addMetadata');
    const fLen = Buffer.byteLength(family);
    const hLen = Buffer.byteLength(help);
    const uLen = Buffer.byteLength(unit);
    const m = this.meta;
    m.u8(TAG_F3_LEN);
    m.uvarint(varintFieldSize(type) + strFieldSize(fLen) + strFieldSize(hLen) + strFieldSize(uLen));
    writeVarintField(m, TAG_F1_VARINT, type);
    writeStrField(m, TAG_F2_LEN, family, fLen);
    writeStrField(m, TAG_F4_LEN, help, hLen);
    writeStrField(m, TAG_F5_LEN, unit, uLen);
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
 * Strings numbered once for the lifetime of a queue (label names and values of cached series), so
 * an RW2 request can map a series' labels to its own symbol refs with typed-array lookups instead
 * of hashing every label string of every sample.
 */
export class SymbolInterner {
  private readonly index = new Map<string, number>();
  readonly strings: string[] = [];

  get size(): number {
    return this.strings.length;
  }

  intern(s: string): number {
    let id = this.index.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.index.set(s, id);
    }
    return id;
  }

  /** The id of s, or -1 if it was never interned. */
  lookup(s: string): number {
    return this.index.get(s) ?? -1;
  }

  /** The ids of a label set (name, value, name, value, ...). */
  internLabels(labels: Labels): Uint32Array {
    return Uint32Array.from(labels, (s) => this.intern(s));
  }
}

/**
 * Builds one RW 2.0 Request. Symbols are interned per request ("" is always ref 0) in the order
 * they are first used: each label's name then value, then (exemplars) the exemplar's labels, then
 * help and unit. Go writes `symbols` (field 4) before `timeseries` (field 5), so series are staged
 * in a second buffer and copied behind the symbol table in finish().
 *
 * Two ways to give labels: as strings (addSample; every string is hashed), or as ids of a
 * SymbolInterner set with useInterner() (addSeries*; the queue's path), which map to this
 * request's refs through generation-stamped typed arrays. Both ways share one table, so a string
 * never gets two refs.
 */
export class WriteRequestV2Builder extends AddedCounts {
  private readonly series: ByteWriter;
  private readonly out: ByteWriter;
  private readonly payload: ByteWriter;
  private readonly symbolRefs = new Map<string, number>();
  private symbolList: string[] = [''];
  private refs: Uint32Array = new Uint32Array(64);
  private exRefs: Uint32Array = new Uint32Array(16);
  private interner: SymbolInterner | null = null;
  // Per interned id: this request's ref, valid when idGen[id] === gen.
  private idRef: Uint32Array = new Uint32Array(0);
  private idGen: Uint32Array = new Uint32Array(0);
  private gen = 1;

  constructor(initialSize = 256 * 1024) {
    super();
    this.series = new ByteWriter(initialSize);
    this.out = new ByteWriter(initialSize);
    this.payload = new ByteWriter(1024);
    this.symbolRefs.set('', 0);
  }

  reset(): void {
    this.series.reset();
    this.out.reset();
    this.symbolRefs.clear();
    this.symbolRefs.set('', 0);
    this.symbolList.length = 1;
    this.resetCounts();
    if (++this.gen === 0xffffffff) {
      this.idGen.fill(0);
      this.gen = 1;
    }
  }

  /**
   * Sets the interner whose ids addSeries* take (null: none). Call right after reset(): refs
   * already handed out for ids of another interner would be wrong.
   */
  useInterner(interner: SymbolInterner | null): void {
    this.interner = interner;
    this.ensureIdCapacity();
  }

  /** Samples, exemplars and histograms added since reset(). */
  get count(): number {
    return this.samples + this.exemplars + this.histograms;
  }

  /** Number of distinct symbols so far, including "". */
  get symbolCount(): number {
    return this.symbolList.length;
  }

  /** The symbol table so far; valid until the next reset(). */
  get symbols(): readonly string[] {
    return this.symbolList;
  }

  private ensureIdCapacity(): void {
    const n = this.interner === null ? 0 : this.interner.size;
    if (this.idGen.length >= n) return;
    const size = Math.max(n, this.idGen.length * 2, 1024);
    this.idGen = grownArray(this.idGen, size);
    this.idRef = grownArray(this.idRef, size);
  }

  /** This request's ref for interned id `id`. */
  private idSymbol(id: number): number {
    const known = this.idRef[id];
    if (this.idGen[id] === this.gen && known !== undefined) return known;
    const s = this.interner?.strings[id];
    if (s === undefined) throw new EncoderStateError(`symbol id ${id} is not in the interner`);
    const ref = this.symbolList.length;
    this.symbolList.push(s);
    this.idGen[id] = this.gen;
    this.idRef[id] = ref;
    return ref;
  }

  /** Interns s and returns its ref in this request's symbol table. */
  symbol(s: string): number {
    if (this.interner !== null) {
      const id = this.interner.lookup(s);
      if (id >= 0) {
        this.ensureIdCapacity();
        return this.idSymbol(id);
      }
    }
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
  addSample(labels: Labels, value: number, stale: boolean, timestampMs: number, type = 0, help = '', unit = ''): void {
    checkOpen(this.finished, 'addSample');
    this.refs = refsFor(this.refs, labels.length);
    const refsLen = this.symbolRefsOf(labels, this.refs);
    const helpRef = help === '' ? 0 : this.symbol(help);
    const unitRef = unit === '' ? 0 : this.symbol(unit);
    this.writeSampleSeries(labels.length, refsLen, value, stale, timestampMs, type, helpRef, unitRef);
  }

  /** Puts the refs of labels' strings into out (large enough); returns their packed byte length. */
  private symbolRefsOf(labels: Labels, out: Uint32Array): number {
    let len = 0;
    let i = 0;
    for (const s of labels) {
      const ref = this.symbol(s);
      out[i++] = ref;
      len += u32VarintSize(ref);
    }
    return len;
  }

  /** Fills this.refs from interned ids; returns the packed byte length. */
  private refsFromIds(ids: Uint32Array): number {
    this.refs = refsFor(this.refs, ids.length);
    this.ensureIdCapacity();
    const refs = this.refs;
    let refsLen = 0;
    let i = 0;
    for (const id of ids) {
      const ref = this.idSymbol(id);
      refs[i++] = ref;
      refsLen += u32VarintSize(ref);
    }
    return refsLen;
  }

  /**
   * addSample for a series whose labels are interned ids (see useInterner). The queue's path:
   * metadata is empty (the agent's WAL holds no metadata records, so a 2.0 series carries type
   * UNSPECIFIED and no help/unit) and start_timestamp is 0, i.e. omitted (no created timestamps
   * either: those would need Prometheus' st-storage records, which Outpost never writes).
   */
  addSeriesSample(ids: Uint32Array, value: number, stale: boolean, timestampMs: number): void {
    checkOpen(this.finished, 'addSample');
    const refsLen = this.refsFromIds(ids);
    this.writeSampleSeries(ids.length, refsLen, value, stale, timestampMs, 0, 0, 0);
  }

  /** Appends `TimeSeries{labels_refs, exemplars: [{labels_refs, value, timestamp}], metadata: {}}`. */
  addSeriesExemplar(ids: Uint32Array, exemplarLabels: Labels, value: number, timestampMs: number): void {
    checkOpen(this.finished, 'addExemplar');
    // Series labels take their refs first, as Prometheus symbolizes them before the exemplar's.
    const refsLen = this.refsFromIds(ids);
    const m = exemplarLabels.length;
    this.exRefs = refsFor(this.exRefs, m);
    const exLen = this.symbolRefsOf(exemplarLabels, this.exRefs);
    const p = this.payload;
    p.reset();
    p.ensure(refsFieldSize(m, exLen));
    writeRefsField(p, this.exRefs, m, exLen);
    if (value !== 0) {
      p.u8(TAG_F2_I64);
      p.f64le(value);
    }
    if (timestampMs !== 0) {
      p.u8(TAG_F3_VARINT);
      p.ensure(10);
      putInt64Varint(p, timestampMs);
    }
    this.writePayloadSeries(ids.length, refsLen, TAG_F4_LEN, p);
    this.exemplars++;
  }

  /** Appends `TimeSeries{labels_refs, histograms: [h at timestamp], metadata: {}}`. */
  addSeriesHistogram(ids: Uint32Array, h: Histogram, float: boolean, timestampMs: number): void {
    checkOpen(this.finished, 'addHistogram');
    const refsLen = this.refsFromIds(ids);
    const p = this.payload;
    p.reset();
    writeHistogramBody(p, h, float, timestampMs);
    this.writePayloadSeries(ids.length, refsLen, TAG_F3_LEN, p);
    this.histograms++;
  }

  /** Writes a TimeSeries with this.refs[0..n), one Sample and the given metadata. */
  private writeSampleSeries(
    n: number,
    refsLen: number,
    value: number,
    stale: boolean,
    timestampMs: number,
    type: number,
    helpRef: number,
    unitRef: number,
  ): void {
    const refs = this.refs;
    const metaLen = varintFieldSize(type) + varintFieldSize(helpRef) + varintFieldSize(unitRef);
    const sb = sampleBodySize(value, stale, timestampMs);
    const tsLen = 2 + sb + 2 + metaLen + refsFieldSize(n, refsLen);

    const w = this.series;
    w.ensure(tsLen + 6);
    w.u8(TAG_F5_LEN);
    putU32Varint(w, tsLen);
    writeRefsField(w, refs, n, refsLen);
    w.u8(TAG_F2_LEN);
    w.u8(sb);
    writeSampleBody(w, value, stale, timestampMs);
    w.u8(TAG_F5_LEN);
    w.u8(metaLen);
    writeVarintField(w, TAG_F1_VARINT, type);
    writeVarintField(w, TAG_F3_VARINT, helpRef);
    writeVarintField(w, TAG_F4_VARINT, unitRef);
    this.samples++;
  }

  /** Writes a TimeSeries with this.refs[0..n), one length-delimited payload field and empty metadata. */
  private writePayloadSeries(n: number, refsLen: number, tag: number, p: ByteWriter): void {
    const refs = this.refs;
    const pl = p.pos;
    const tsLen = 1 + uvarintSize(pl) + pl + 2 + refsFieldSize(n, refsLen);
    const w = this.series;
    w.ensure(tsLen + 6);
    w.u8(TAG_F5_LEN);
    w.uvarint(tsLen);
    writeRefsField(w, refs, n, refsLen);
    writeBytesField(w, tag, p);
    w.u8(TAG_F5_LEN);
    w.u8(0);
  }

  /** The encoded Request: a view of the internal buffer, valid until the next reset(). */
  finish(): Buffer {
    if (!this.finished) {
      const o = this.out;
      o.reset();
      const syms = this.symbolList;
      for (const s of syms) {
        o.u8(TAG_F4_LEN);
        o.str(s);
      }
      copyInto(o, this.series.view());
      this.finished = true;
    }
    return this.out.view();
  }
}

/**
 * WAL record codec, byte-compatible with Prometheus' tsdb/record package. The first byte of every
 * record is its type; refs, base timestamps and float bits are big-endian 64-bit; deltas are zigzag
 * varints relative to the record's first entry; strings are uvarint length + UTF-8.
 *
 * Every encode* resets the writer and leaves exactly one record in it (w.view()).
 * Every decode* throws InvalidRecordError on bytes that do not follow the layout.
 */
import { ByteReader, ByteReaderError, grownArray, type ByteWriter } from '../util/bytes.ts';
import { columnAt, f64At } from '../util/columns.ts';
import type { Labels } from '../util/labels.ts';
import { InvalidRecordError } from './errors.ts';
import { isCustomBucketsSchema, type Histogram, type HistogramSpan } from '../storage/histogram.ts';

export const RecordType = {
  Series: 1,
  Samples: 2,
  Tombstones: 3,
  Exemplars: 4,
  MmapMarkers: 5,
  Metadata: 6,
  HistogramSamples: 7,
  FloatHistogramSamples: 8,
  CustomBucketsHistogramSamples: 9,
  CustomBucketsFloatHistogramSamples: 10,
  SamplesV2: 11,
  HistogramSamplesV2: 12,
  FloatHistogramSamplesV2: 13,
  MinValidTime: 14,
  Unknown: 255,
} as const;

/** Prometheus' stale marker is the NaN with bits 0x7ff0000000000002. */
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;
/** Go's math.NaN() (0x7ff8000000000001): what Prometheus writes for a scraped NaN. */
const NAN_HI = 0x7ff80000;
const NAN_LO = 0x00000001;

/** Record type of rec, or RecordType.Unknown (255) when empty or not a known type. */
export function recordType(rec: Uint8Array): number {
  const t = rec[0];
  return t !== undefined && t >= 1 && t <= 14 ? t : RecordType.Unknown;
}

/** Whether a 64-bit pattern (hi, lo) is the stale marker. */
function isStaleBits(hi: number, lo: number): boolean {
  return hi === STALE_HI && lo === STALE_LO;
}

/** Malformed bytes become InvalidRecordError; anything else (e.g. out of memory) passes through untouched. */
function fail(what: string, err: unknown): never {
  if (err instanceof ByteReaderError)
    throw new InvalidRecordError(`invalid ${what} record: ${err.message}`, { cause: err });
  if (err instanceof InvalidRecordError && !err.message.startsWith('invalid ')) {
    throw new InvalidRecordError(`invalid ${what} record: ${err.message}`, { cause: err });
  }
  throw err;
}

/**
 * Checks that rec's type byte is one of types, then runs read over the rest; malformed bytes
 * anywhere become one InvalidRecordError naming the record (`what`).
 */
function decodeRecord<T>(rec: Uint8Array, what: string, types: readonly number[], read: (r: ByteReader) => T): T {
  const r = new ByteReader(rec);
  try {
    if (rec.length < 1) throw new InvalidRecordError('empty record');
    const t = r.u8();
    if (!types.includes(t)) throw new InvalidRecordError(`invalid record type ${t}, expected ${types.join(' or ')}`);
    return read(r);
  } catch (err) {
    return fail(what, err);
  }
}

function writeFloat(w: ByteWriter, v: number): void {
  if (Number.isNaN(v)) w.bits64be(NAN_HI, NAN_LO);
  else w.f64be(v);
}

function readLabels(r: ByteReader): string[] {
  const n = r.uvarint();
  if (n * 2 > r.remaining) throw new InvalidRecordError(`label count ${n} exceeds record size`);
  const out: string[] = new Array(n * 2);
  for (let i = 0; i < n * 2; i++) out[i] = r.str();
  return out;
}

function writeLabels(w: ByteWriter, ls: Labels): void {
  w.uvarint(ls.length >>> 1);
  for (const s of ls) w.str(s);
}

// ---------------------------------------------------------------------------------------------
// Series (1): repeated { BE64 ref, uvarint n, n × (str name, str value) }

export function encodeSeries(w: ByteWriter, refs: readonly number[], labels: readonly Labels[], n: number): void {
  w.reset();
  w.u8(RecordType.Series);
  for (let i = 0; i < n; i++) {
    // The columns hold at least n entries (callers pass their fill count).
    w.i64be(columnAt(refs, i));
    writeLabels(w, columnAt(labels, i));
  }
}

export function decodeSeries(rec: Uint8Array, onSeries: (ref: number, labels: Labels) => void): void {
  decodeRecord(rec, 'series', [RecordType.Series], (r) => {
    while (r.remaining > 0) {
      const ref = r.i64be();
      onSeries(ref, readLabels(r));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Samples (2): type byte only when empty; else BE64 baseRef, BE64 baseT, then for every sample
// (the first included) varint(ref − baseRef), varint(t − baseT), BE64 value bits.

/** Growable columns of samples, reused across records. */
export class SampleBatch {
  n = 0;
  refs: Float64Array;
  ts: Float64Array;
  values: Float64Array;
  stale: Uint8Array;

  constructor(capacity = 1024) {
    this.refs = new Float64Array(capacity);
    this.ts = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.stale = new Uint8Array(capacity);
  }

  reset(): void {
    this.n = 0;
  }

  /** Makes room for `more` samples beyond n. */
  reserve(more: number): void {
    const need = this.n + more;
    if (need <= this.refs.length) return;
    let size = this.refs.length * 2 || 16;
    while (size < need) size *= 2;
    this.refs = grownArray(this.refs, size);
    this.ts = grownArray(this.ts, size);
    this.values = grownArray(this.values, size);
    this.stale = grownArray(this.stale, size);
  }

  push(ref: number, t: number, v: number, stale: boolean | number): void {
    if (this.n === this.refs.length) this.reserve(1);
    const i = this.n++;
    this.refs[i] = ref;
    this.ts[i] = t;
    this.values[i] = v;
    this.stale[i] = stale ? 1 : 0;
  }
}

export function encodeSamples(
  w: ByteWriter,
  refs: Float64Array,
  ts: Float64Array,
  values: Float64Array,
  stale: Uint8Array,
  n: number,
): void {
  w.reset();
  w.u8(RecordType.Samples);
  if (n === 0) return;
  // The columns hold at least n > 0 entries (callers pass their fill count).
  const baseRef = f64At(refs, 0);
  const baseT = f64At(ts, 0);
  w.i64be(baseRef);
  w.i64be(baseT);
  // Worst case per sample: two 10-byte varints and 8 value bytes; one ensure() up front.
  w.ensure(n * 28);
  for (let i = 0; i < n; i++) {
    w.varint(f64At(refs, i) - baseRef);
    w.varint(f64At(ts, i) - baseT);
    if (stale[i] !== 0) w.bits64be(STALE_HI, STALE_LO);
    else writeFloat(w, f64At(values, i));
  }
}

/** Appends the samples of rec to out. Stale markers are recognised from their raw bits. */
export function decodeSamples(rec: Uint8Array, out: SampleBatch): void {
  decodeRecord(rec, 'samples', [RecordType.Samples], (r) => {
    if (r.remaining === 0) return;
    const baseRef = r.i64be();
    const baseT = r.i64be();
    // Every sample takes at least 10 bytes.
    out.reserve(Math.floor(r.remaining / 10));
    while (r.remaining > 0) {
      const ref = baseRef + r.varint();
      const t = baseT + r.varint();
      const hi = r.bits64beHi();
      const lo = r.bits64beLo();
      if (hi === STALE_HI && lo === STALE_LO) {
        r.skip(8);
        out.push(ref, t, NaN, 1);
      } else {
        out.push(ref, t, r.f64be(), 0);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Samples v2 (11), written only by Prometheus with st-storage: recognised and decoded, never written.

export interface RefSampleV2 {
  ref: number;
  t: number;
  st: number;
  v: number;
  stale: boolean;
}

export function decodeSamplesV2(rec: Uint8Array, out: RefSampleV2[]): void {
  decodeRecord(rec, 'samples v2', [RecordType.SamplesV2], (r) => {
    let firstT = 0;
    let firstST = 0;
    let prev: RefSampleV2 | null = null;
    while (r.remaining > 0) {
      let ref: number;
      let t: number;
      let st: number;
      if (prev === null) {
        ref = r.varint();
        t = firstT = r.varint();
        st = firstST = r.varint();
      } else {
        ref = prev.ref + r.varint();
        t = firstT + r.varint();
        const marker = r.u8();
        st = marker === 0 ? 0 : marker === 1 ? prev.st : firstST + r.varint();
      }
      const hi = r.bits64beHi();
      const lo = r.bits64beLo();
      const stale = isStaleBits(hi, lo);
      const v = r.f64be();
      prev = { ref, t, st, v: stale ? NaN : v, stale };
      out.push(prev);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Tombstones (3): repeated { BE64 ref, varint mint, varint maxt }

export interface Tombstone {
  ref: number;
  mint: number;
  maxt: number;
}

export function encodeTombstones(w: ByteWriter, stones: readonly Tombstone[]): void {
  w.reset();
  w.u8(RecordType.Tombstones);
  for (const s of stones) {
    w.i64be(s.ref);
    w.varint(s.mint);
    w.varint(s.maxt);
  }
}

export function decodeTombstones(rec: Uint8Array, out: Tombstone[]): void {
  decodeRecord(rec, 'tombstones', [RecordType.Tombstones], (r) => {
    while (r.remaining > 0) out.push({ ref: r.i64be(), mint: r.varint(), maxt: r.varint() });
  });
}

// ---------------------------------------------------------------------------------------------
// Exemplars (4): like samples (BE64 baseRef, BE64 baseT, per exemplar varint dRef, varint dT,
// BE64 value) with each exemplar's label set after its value.

export interface RefExemplar {
  ref: number;
  t: number;
  v: number;
  labels: Labels;
}

export function encodeExemplars(w: ByteWriter, exemplars: readonly RefExemplar[]): void {
  w.reset();
  w.u8(RecordType.Exemplars);
  const first = exemplars[0];
  if (first === undefined) return;
  const baseRef = first.ref;
  const baseT = first.t;
  w.i64be(baseRef);
  w.i64be(baseT);
  for (const e of exemplars) {
    w.varint(e.ref - baseRef);
    w.varint(e.t - baseT);
    writeFloat(w, e.v);
    writeLabels(w, e.labels);
  }
}

export function decodeExemplars(rec: Uint8Array, out: RefExemplar[]): void {
  decodeRecord(rec, 'exemplars', [RecordType.Exemplars], (r) => {
    if (r.remaining === 0) return;
    const baseRef = r.i64be();
    const baseT = r.i64be();
    while (r.remaining > 0) {
      const ref = baseRef + r.varint();
      const t = baseT + r.varint();
      const v = r.f64be();
      out.push({ ref, t, v, labels: readLabels(r) });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Metadata (6): repeated { uvarint ref, byte type, uvarint nFields, nFields × (str name, str value) }.
// The writer always emits UNIT then HELP; readers skip field names they do not know.

export interface RefMetadata {
  ref: number;
  type: number;
  unit: string;
  help: string;
}

export function encodeMetadata(w: ByteWriter, metadata: readonly RefMetadata[]): void {
  w.reset();
  w.u8(RecordType.Metadata);
  for (const m of metadata) {
    w.uvarint(m.ref);
    w.u8(m.type);
    w.uvarint(2);
    w.str('UNIT');
    w.str(m.unit);
    w.str('HELP');
    w.str(m.help);
  }
}

export function decodeMetadata(rec: Uint8Array, out: RefMetadata[]): void {
  decodeRecord(rec, 'metadata', [RecordType.Metadata], (r) => {
    while (r.remaining > 0) {
      const ref = r.uvarint();
      const type = r.u8();
      const nFields = r.uvarint();
      let unit = '';
      let help = '';
      for (let i = 0; i < nFields; i++) {
        const name = r.str();
        const value = r.str();
        if (name === 'UNIT') unit = value;
        else if (name === 'HELP') help = value;
      }
      out.push({ ref, type, unit, help });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Min valid time (14): BE64 mint. Only in checkpoints written by current Prometheus.

export function encodeMinValidTime(w: ByteWriter, mint: number): void {
  w.reset();
  w.u8(RecordType.MinValidTime);
  w.i64be(mint);
}

export function decodeMinValidTime(rec: Uint8Array): number {
  return decodeRecord(rec, 'min valid time', [RecordType.MinValidTime], (r) => {
    const mint = r.i64be();
    if (r.remaining > 0) throw new InvalidRecordError(`unexpected ${r.remaining} bytes left in entry`);
    return mint;
  });
}

// ---------------------------------------------------------------------------------------------
// Native histograms (7, 9: integer counts; 8, 10: float counts). Frame: BE64 baseRef, BE64 baseT of
// the batch's first entry; per histogram varint dRef, varint dT, then the histogram:
//   byte counterResetHint, varint schema, BE64 zeroThreshold,
//   zeroCount, count (uvarint | BE64 float), BE64 sum,
//   uvarint nPosSpans × (varint offset, uvarint length), same for negative spans,
//   uvarint nPosBuckets × (varint delta | BE64 float), same for negative buckets,
//   if schema == −53: uvarint nCustom × BE64 float.

const SCHEMA_MIN_RESERVED = -9;
const SCHEMA_MAX_RESERVED = 52;

export interface RefHistogramSample {
  ref: number;
  t: number;
  h: Histogram;
}

function isKnownSchema(schema: number): boolean {
  return isCustomBucketsSchema(schema) || (schema >= SCHEMA_MIN_RESERVED && schema <= SCHEMA_MAX_RESERVED);
}

function writeHistogram(w: ByteWriter, h: Histogram, float: boolean): void {
  w.u8(h.counterResetHint);
  w.varint(h.schema);
  w.f64be(h.zeroThreshold);
  if (float) {
    writeFloat(w, h.zeroCount);
    writeFloat(w, h.count);
  } else {
    w.uvarint(h.zeroCount);
    w.uvarint(h.count);
  }
  if (h.staleSum) w.bits64be(STALE_HI, STALE_LO);
  else writeFloat(w, h.sum);
  for (const spans of [h.positiveSpans, h.negativeSpans]) {
    w.uvarint(spans.length);
    for (const s of spans) {
      w.varint(s.offset);
      w.uvarint(s.length);
    }
  }
  for (const buckets of [h.positiveBuckets, h.negativeBuckets]) {
    w.uvarint(buckets.length);
    if (float) for (const b of buckets) writeFloat(w, b);
    else for (const b of buckets) w.varint(b);
  }
  if (isCustomBucketsSchema(h.schema)) {
    const cv = h.customValues ?? [];
    w.uvarint(cv.length);
    for (const v of cv) w.f64be(v);
  }
}

function readSpans(r: ByteReader): HistogramSpan[] {
  const n = r.uvarint();
  if (n > r.remaining) throw new InvalidRecordError(`span count ${n} exceeds record size`);
  const out: HistogramSpan[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { offset: r.varint(), length: r.uvarint() };
  return out;
}

function readHistogram(r: ByteReader, float: boolean): Histogram {
  const counterResetHint = r.u8();
  const schema = r.varint();
  const zeroThreshold = r.f64be();
  const zeroCount = float ? r.f64be() : r.uvarint();
  const count = float ? r.f64be() : r.uvarint();
  const staleSum = isStaleBits(r.bits64beHi(), r.bits64beLo());
  const sum = r.f64be();
  const positiveSpans = readSpans(r);
  const negativeSpans = readSpans(r);
  const buckets = (): number[] => {
    const n = r.uvarint();
    if (n > r.remaining) throw new InvalidRecordError(`bucket count ${n} exceeds record size`);
    const out: number[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = float ? r.f64be() : r.varint();
    return out;
  };
  const positiveBuckets = buckets();
  const negativeBuckets = buckets();
  const h: Histogram = {
    counterResetHint,
    schema,
    zeroThreshold,
    zeroCount,
    count,
    sum: staleSum ? NaN : sum,
    positiveSpans,
    negativeSpans,
    positiveBuckets,
    negativeBuckets,
  };
  if (staleSum) h.staleSum = true;
  if (isCustomBucketsSchema(schema)) {
    const n = r.uvarint();
    if (n * 8 > r.remaining) throw new InvalidRecordError(`custom value count ${n} exceeds record size`);
    const cv: number[] = new Array(n);
    for (let i = 0; i < n; i++) cv[i] = r.f64be();
    h.customValues = cv;
  }
  return h;
}

function encodeHistogramFrame(
  w: ByteWriter,
  type: number,
  hs: readonly RefHistogramSample[],
  float: boolean,
  splitCustom: boolean,
): RefHistogramSample[] {
  w.reset();
  w.u8(type);
  const custom: RefHistogramSample[] = [];
  const first = hs[0];
  if (first === undefined) return custom;
  // As in Prometheus the frame's base is the batch's first entry, even when that one is split off.
  const baseRef = first.ref;
  const baseT = first.t;
  w.i64be(baseRef);
  w.i64be(baseT);
  for (const s of hs) {
    if (splitCustom && isCustomBucketsSchema(s.h.schema)) {
      custom.push(s);
      continue;
    }
    w.varint(s.ref - baseRef);
    w.varint(s.t - baseT);
    writeHistogram(w, s.h, float);
  }
  // Nothing left but custom-bucket histograms: no record at all (w is empty, as in Prometheus).
  if (splitCustom && custom.length === hs.length) w.reset();
  return custom;
}

/**
 * Encodes the exponential-schema histograms of hs as a type-7 record and returns the custom-bucket
 * ones, which go into their own record (encodeCustomBucketsHistogramSamples). When hs holds only
 * custom-bucket histograms, w is left empty: there is nothing to log.
 */
export function encodeHistogramSamples(w: ByteWriter, hs: readonly RefHistogramSample[]): RefHistogramSample[] {
  return encodeHistogramFrame(w, RecordType.HistogramSamples, hs, false, true);
}

export function encodeCustomBucketsHistogramSamples(w: ByteWriter, hs: readonly RefHistogramSample[]): void {
  encodeHistogramFrame(w, RecordType.CustomBucketsHistogramSamples, hs, false, false);
}

/** Float-histogram counterpart of encodeHistogramSamples (record type 8). */
export function encodeFloatHistogramSamples(w: ByteWriter, hs: readonly RefHistogramSample[]): RefHistogramSample[] {
  return encodeHistogramFrame(w, RecordType.FloatHistogramSamples, hs, true, true);
}

export function encodeCustomBucketsFloatHistogramSamples(w: ByteWriter, hs: readonly RefHistogramSample[]): void {
  encodeHistogramFrame(w, RecordType.CustomBucketsFloatHistogramSamples, hs, true, false);
}

function decodeHistogramFrame(rec: Uint8Array, out: RefHistogramSample[], float: boolean, types: number[]): void {
  decodeRecord(rec, float ? 'float histogram' : 'histogram', types, (r) => {
    if (r.remaining === 0) return;
    const baseRef = r.i64be();
    const baseT = r.i64be();
    while (r.remaining > 0) {
      const ref = baseRef + r.varint();
      const t = baseT + r.varint();
      const h = readHistogram(r, float);
      // Prometheus skips histograms with schemas it does not know rather than failing the record.
      if (!isKnownSchema(h.schema)) continue;
      out.push({ ref, t, h });
    }
  });
}

/** Appends the histograms of a type 7 or 9 record to out. */
export function decodeHistogramSamples(rec: Uint8Array, out: RefHistogramSample[]): void {
  decodeHistogramFrame(rec, out, false, [RecordType.HistogramSamples, RecordType.CustomBucketsHistogramSamples]);
}

/** Appends the histograms of a type 8 or 10 record to out. */
export function decodeFloatHistogramSamples(rec: Uint8Array, out: RefHistogramSample[]): void {
  decodeHistogramFrame(rec, out, true, [
    RecordType.FloatHistogramSamples,
    RecordType.CustomBucketsFloatHistogramSamples,
  ]);
}

/**
 * Remote-write protobuf schemas (RW 1.0 `prometheus.*` and RW 2.0 `io.prometheus.write.v2.*`) and
 * decoders of both requests, for tests, the test receiver and the benchmarks. The agent only encodes
 * (src/remote/encoder.ts) and never loads protobufjs. The decoders are hand-written on purpose: a JS
 * double does not keep a NaN payload reliably, so the stale marker is recognised from the raw bits.
 */
import protobuf from 'protobufjs';
import { STALE_NAN_HI, STALE_NAN_LO } from '../../src/remote/proto.ts';
import { ByteReader, ByteReaderError } from '../../src/util/bytes.ts';

const HISTOGRAM_BODY = `
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  repeated double positive_counts = 13;
  ResetHint reset_hint = 14;
  int64 timestamp = 15;
  repeated double custom_values = 16;`;

const RW1_PROTO = `
syntax = "proto3";
package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
  reserved 2;
  repeated MetricMetadata metadata = 3;
}
message MetricMetadata {
  enum MetricType {
    UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3; GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7;
  }
  MetricType type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message Histogram {
  enum ResetHint { UNKNOWN = 0; YES = 1; NO = 2; GAUGE = 3; }
  ${HISTOGRAM_BODY}
}
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated Exemplar exemplars = 3;
  repeated Histogram histograms = 4;
}
message Label { string name = 1; string value = 2; }
`;

// Head's 2.0 schema: start_timestamp lives on Sample/Histogram; TimeSeries field 6 (the old
// created_timestamp) is reserved.
const RW2_PROTO = `
syntax = "proto3";
package io.prometheus.write.v2;

message Request {
  reserved 1 to 3;
  repeated string symbols = 4;
  repeated TimeSeries timeseries = 5;
}
message TimeSeries {
  repeated uint32 labels_refs = 1;
  repeated Sample samples = 2;
  repeated Histogram histograms = 3;
  repeated Exemplar exemplars = 4;
  Metadata metadata = 5;
  reserved 6;
}
message Exemplar { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3; }
message Sample { double value = 1; int64 timestamp = 2; int64 start_timestamp = 3; }
message Metadata {
  enum MetricType {
    METRIC_TYPE_UNSPECIFIED = 0; METRIC_TYPE_COUNTER = 1; METRIC_TYPE_GAUGE = 2; METRIC_TYPE_HISTOGRAM = 3;
    METRIC_TYPE_GAUGEHISTOGRAM = 4; METRIC_TYPE_SUMMARY = 5; METRIC_TYPE_INFO = 6; METRIC_TYPE_STATESET = 7;
  }
  MetricType type = 1;
  uint32 help_ref = 3;
  uint32 unit_ref = 4;
}
message Histogram {
  enum ResetHint { RESET_HINT_UNSPECIFIED = 0; RESET_HINT_YES = 1; RESET_HINT_NO = 2; RESET_HINT_GAUGE = 3; }
  ${HISTOGRAM_BODY}
  int64 start_timestamp = 17;
}
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
`;

const rw1Root = protobuf.parse(RW1_PROTO, { keepCase: false }).root;
const rw2Root = protobuf.parse(RW2_PROTO, { keepCase: false }).root;

export const rw1 = {
  WriteRequest: rw1Root.lookupType('prometheus.WriteRequest'),
  TimeSeries: rw1Root.lookupType('prometheus.TimeSeries'),
  Label: rw1Root.lookupType('prometheus.Label'),
  Sample: rw1Root.lookupType('prometheus.Sample'),
  Exemplar: rw1Root.lookupType('prometheus.Exemplar'),
  MetricMetadata: rw1Root.lookupType('prometheus.MetricMetadata'),
  Histogram: rw1Root.lookupType('prometheus.Histogram'),
  BucketSpan: rw1Root.lookupType('prometheus.BucketSpan'),
} as const;

export const rw2 = {
  Request: rw2Root.lookupType('io.prometheus.write.v2.Request'),
  TimeSeries: rw2Root.lookupType('io.prometheus.write.v2.TimeSeries'),
  Sample: rw2Root.lookupType('io.prometheus.write.v2.Sample'),
  Exemplar: rw2Root.lookupType('io.prometheus.write.v2.Exemplar'),
  Metadata: rw2Root.lookupType('io.prometheus.write.v2.Metadata'),
  Histogram: rw2Root.lookupType('io.prometheus.write.v2.Histogram'),
  BucketSpan: rw2Root.lookupType('io.prometheus.write.v2.BucketSpan'),
} as const;

/** A request body the decoders cannot read. Test code, so not in the agent's error catalogue. */
export class ProtoDecodeError extends Error {
  readonly code = 'proto_decode';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtoDecodeError';
  }
}

export interface DecodedLabel {
  name: string;
  value: string;
}
interface DecodedSample {
  value: number;
  timestamp: number;
  /** True only for the exact stale-marker bits, not for any other NaN. */
  stale: boolean;
}
interface DecodedExemplar {
  labels: DecodedLabel[];
  value: number;
  timestamp: number;
}
interface DecodedBucketSpan {
  offset: number;
  length: number;
}
/** protobufjs' plain-object form (camelCase, longs as numbers, enums as numbers, defaults filled). */
interface DecodedHistogram {
  countInt?: number;
  countFloat?: number;
  sum: number;
  schema: number;
  zeroThreshold: number;
  zeroCountInt?: number;
  zeroCountFloat?: number;
  negativeSpans: DecodedBucketSpan[];
  negativeDeltas: number[];
  negativeCounts: number[];
  positiveSpans: DecodedBucketSpan[];
  positiveDeltas: number[];
  positiveCounts: number[];
  resetHint: number;
  timestamp: number;
  customValues: number[];
  startTimestamp?: number;
}
export interface DecodedTimeSeries {
  /** In wire order, duplicates kept: tests check sorting and uniqueness on this. */
  labels: DecodedLabel[];
  samples: DecodedSample[];
  exemplars: DecodedExemplar[];
  histograms: DecodedHistogram[];
}
export interface DecodedMetadata {
  type: number;
  metricFamilyName: string;
  help: string;
  unit: string;
}
export interface DecodedWriteRequest {
  timeseries: DecodedTimeSeries[];
  metadata: DecodedMetadata[];
}

interface DecodedSampleV2 extends DecodedSample {
  startTimestamp: number;
}
interface DecodedExemplarV2 {
  labelsRefs: number[];
  labels: DecodedLabel[];
  value: number;
  timestamp: number;
}
export interface DecodedMetadataV2 {
  type: number;
  helpRef: number;
  unitRef: number;
  help: string;
  unit: string;
}
interface DecodedTimeSeriesV2 {
  labelsRefs: number[];
  /** Resolved through the symbol table, in wire order. */
  labels: DecodedLabel[];
  samples: DecodedSampleV2[];
  histograms: DecodedHistogram[];
  exemplars: DecodedExemplarV2[];
  metadata: DecodedMetadataV2;
}
export interface DecodedRequestV2 {
  symbols: string[];
  timeseries: DecodedTimeSeriesV2[];
}

// ---- low-level wire reading -------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const scratch = new DataView(new ArrayBuffer(8));
const TWO32 = 4294967296;

/** Protobuf int64 varint as a JS number (exact within ±2^53); negatives are 10-byte two's complement. */
function readInt64(r: ByteReader): number {
  let lo = 0;
  let hi = 0;
  let b = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    b = r.u8();
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) return lo >>> 0;
  }
  b = r.u8();
  lo |= (b & 0x0f) << 28;
  hi = (b & 0x7f) >>> 4;
  if (b >= 0x80) {
    for (let shift = 3; ; shift += 7) {
      if (shift > 31) throw new ProtoDecodeError(`varint longer than 10 bytes at offset ${r.pos}`);
      b = r.u8();
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
  }
  return (hi | 0) * TWO32 + (lo >>> 0);
}

function readU32le(buf: Uint8Array, p: number): number {
  const [b0, b1, b2, b3] = [buf[p], buf[p + 1], buf[p + 2], buf[p + 3]];
  if (b0 === undefined || b1 === undefined || b2 === undefined || b3 === undefined) {
    throw new ProtoDecodeError(`fixed-width value at offset ${p} runs past the end (${buf.length} bytes)`);
  }
  return (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0;
}

/** Reads a little-endian double, reporting whether its bits are exactly the stale marker. */
function readDouble(r: ByteReader, out: { value: number; stale: boolean }): void {
  r.skip(8);
  const p = r.pos - 8;
  const lo = readU32le(r.buf, p);
  const hi = readU32le(r.buf, p + 4);
  scratch.setUint32(0, lo, true);
  scratch.setUint32(4, hi, true);
  out.value = scratch.getFloat64(0, true);
  out.stale = hi === STALE_NAN_HI && lo === STALE_NAN_LO;
}

function readPlainDouble(r: ByteReader): number {
  r.skip(8);
  const p = r.pos - 8;
  scratch.setUint32(0, readU32le(r.buf, p), true);
  scratch.setUint32(4, readU32le(r.buf, p + 4), true);
  return scratch.getFloat64(0, true);
}

function skipField(r: ByteReader, wire: number): void {
  switch (wire) {
    case WIRE_VARINT:
      r.uvarint();
      return;
    case WIRE_I64:
      r.skip(8);
      return;
    case WIRE_LEN:
      r.skip(r.uvarint());
      return;
    case WIRE_I32:
      r.skip(4);
      return;
    default:
      throw new ProtoDecodeError(`unsupported wire type ${wire} at offset ${r.pos}`);
  }
}

/** A field tag; field number 0 is illegal and is what zero padding or a truncated body looks like. */
function readTag(r: ByteReader): number {
  const at = r.pos;
  const tag = r.uvarint();
  if (tag < 8) throw new ProtoDecodeError(`illegal field number 0 at offset ${at}`);
  return tag;
}

function expectWire(field: string, got: number, want: number, r: ByteReader): void {
  if (got !== want) throw new ProtoDecodeError(`field ${field}: wire type ${got}, want ${want} (offset ${r.pos})`);
}

/** Reads the length of a sub-message and returns its end offset; the reader is positioned at its start. */
function subEnd(r: ByteReader): number {
  const n = r.uvarint();
  const end = r.pos + n;
  if (end > r.end) throw new ProtoDecodeError(`length ${n} at offset ${r.pos} runs past the end`);
  return end;
}

function withEnd<T>(r: ByteReader, end: number, fn: () => T): T {
  const outer = r.end;
  r.end = end;
  const v = fn();
  if (r.pos !== end) throw new ProtoDecodeError(`sub-message ended at ${r.pos}, expected ${end}`);
  r.end = outer;
  return v;
}

/** Calls onField with the number and wire type of each field up to r.end; onField consumes the field. */
function eachField(r: ByteReader, onField: (field: number, wire: number) => void): void {
  while (r.pos < r.end) {
    const tag = readTag(r);
    onField(tag >>> 3, tag & 7);
  }
}

// Field readers: each checks the wire type the schema gives the field named `name`, then reads it.

function int64Field(r: ByteReader, wire: number, name: string): number {
  expectWire(name, wire, WIRE_VARINT, r);
  return readInt64(r);
}

function stringField(r: ByteReader, wire: number, name: string): string {
  expectWire(name, wire, WIRE_LEN, r);
  return r.str();
}

function doubleField(r: ByteReader, wire: number, name: string): number {
  expectWire(name, wire, WIRE_I64, r);
  return readPlainDouble(r);
}

/** Sample.value (RW1 and RW2), kept with its stale-marker flag. */
function sampleValueField(r: ByteReader, wire: number, s: DecodedSample): void {
  expectWire('Sample.value', wire, WIRE_I64, r);
  readDouble(r, s);
}

/** A length-delimited sub-message, decoded with the reader bounded to it. */
function messageField<T>(r: ByteReader, wire: number, name: string, decode: (r: ByteReader) => T): T {
  expectWire(name, wire, WIRE_LEN, r);
  return withEnd(r, subEnd(r), () => decode(r));
}

const histogramConversion: protobuf.IConversionOptions = {
  longs: Number,
  enums: Number,
  defaults: true,
  arrays: true,
};

function decodeHistogram(type: protobuf.Type, r: ByteReader, end: number): DecodedHistogram {
  const msg = type.decode(r.buf.subarray(r.pos, end));
  r.pos = end;
  return type.toObject(msg, histogramConversion) as DecodedHistogram;
}

function decodeLabel(r: ByteReader): DecodedLabel {
  const label: DecodedLabel = { name: '', value: '' };
  eachField(r, (field, wire) => {
    if (field === 1) label.name = stringField(r, wire, 'Label.name');
    else if (field === 2) label.value = stringField(r, wire, 'Label.value');
    else skipField(r, wire);
  });
  return label;
}

function decodeSample(r: ByteReader): DecodedSample {
  const s: DecodedSample = { value: 0, timestamp: 0, stale: false };
  eachField(r, (field, wire) => {
    if (field === 1) sampleValueField(r, wire, s);
    else if (field === 2) s.timestamp = int64Field(r, wire, 'Sample.timestamp');
    else skipField(r, wire);
  });
  return s;
}

function decodeExemplar(r: ByteReader): DecodedExemplar {
  const e: DecodedExemplar = { labels: [], value: 0, timestamp: 0 };
  eachField(r, (field, wire) => {
    if (field === 1) e.labels.push(messageField(r, wire, 'Exemplar.labels', decodeLabel));
    else if (field === 2) e.value = doubleField(r, wire, 'Exemplar.value');
    else if (field === 3) e.timestamp = int64Field(r, wire, 'Exemplar.timestamp');
    else skipField(r, wire);
  });
  return e;
}

function decodeTimeSeries(r: ByteReader): DecodedTimeSeries {
  const ts: DecodedTimeSeries = { labels: [], samples: [], exemplars: [], histograms: [] };
  eachField(r, (field, wire) => {
    if (field >= 1 && field <= 4) expectWire(`TimeSeries field ${field}`, wire, WIRE_LEN, r);
    if (field === 1) ts.labels.push(withEnd(r, subEnd(r), () => decodeLabel(r)));
    else if (field === 2) ts.samples.push(withEnd(r, subEnd(r), () => decodeSample(r)));
    else if (field === 3) ts.exemplars.push(withEnd(r, subEnd(r), () => decodeExemplar(r)));
    else if (field === 4) ts.histograms.push(decodeHistogram(rw1.Histogram, r, subEnd(r)));
    else skipField(r, wire);
  });
  return ts;
}

function decodeMetricMetadata(r: ByteReader): DecodedMetadata {
  const m: DecodedMetadata = { type: 0, metricFamilyName: '', help: '', unit: '' };
  eachField(r, (field, wire) => {
    if (field === 1) m.type = int64Field(r, wire, 'MetricMetadata.type');
    else if (field === 2) m.metricFamilyName = stringField(r, wire, 'MetricMetadata.metric_family_name');
    else if (field === 4) m.help = stringField(r, wire, 'MetricMetadata.help');
    else if (field === 5) m.unit = stringField(r, wire, 'MetricMetadata.unit');
    else skipField(r, wire);
  });
  return m;
}

function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProtoDecodeError) throw err;
    if (err instanceof ByteReaderError || err instanceof Error) {
      throw new ProtoDecodeError(`${what}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Decodes an uncompressed RW 1.0 `prometheus.WriteRequest`. Throws ProtoDecodeError on malformed input. */
export function decodeWriteRequest(body: Uint8Array): DecodedWriteRequest {
  return guard('WriteRequest', () => {
    const r = new ByteReader(body);
    const req: DecodedWriteRequest = { timeseries: [], metadata: [] };
    eachField(r, (field, wire) => {
      if (field === 1) req.timeseries.push(messageField(r, wire, 'WriteRequest.timeseries', decodeTimeSeries));
      else if (field === 3) req.metadata.push(messageField(r, wire, 'WriteRequest.metadata', decodeMetricMetadata));
      else skipField(r, wire);
    });
    return req;
  });
}

// ---- RW 2.0 ------------------------------------------------------------------------------------

function readRefs(r: ByteReader, wire: number, into: number[]): void {
  if (wire === WIRE_VARINT) {
    into.push(r.uvarint());
    return;
  }
  expectWire('labels_refs', wire, WIRE_LEN, r);
  const end = subEnd(r);
  while (r.pos < end) into.push(r.uvarint());
  if (r.pos !== end) throw new ProtoDecodeError(`packed labels_refs overran at offset ${r.pos}`);
}

function resolveLabels(refs: number[], symbols: string[]): DecodedLabel[] {
  if (refs.length % 2 !== 0) throw new ProtoDecodeError(`odd number of labels_refs (${refs.length})`);
  const out: DecodedLabel[] = [];
  for (let i = 0; i < refs.length; i += 2) {
    const n = refs[i] ?? -1;
    const v = refs[i + 1] ?? -1;
    const name = symbols[n];
    const value = symbols[v];
    if (name === undefined || value === undefined) {
      throw new ProtoDecodeError(`symbol ref out of range (${n}, ${v}; ${symbols.length} symbols)`);
    }
    out.push({ name, value });
  }
  return out;
}

function symbolAt(symbols: string[], ref: number): string {
  const symbol = symbols[ref];
  if (symbol === undefined) throw new ProtoDecodeError(`symbol ref ${ref} out of range (${symbols.length} symbols)`);
  return symbol;
}

function decodeSampleV2(r: ByteReader): DecodedSampleV2 {
  const s: DecodedSampleV2 = { value: 0, timestamp: 0, stale: false, startTimestamp: 0 };
  eachField(r, (field, wire) => {
    if (field === 1) sampleValueField(r, wire, s);
    else if (field === 2) s.timestamp = int64Field(r, wire, 'Sample.timestamp');
    else if (field === 3) s.startTimestamp = int64Field(r, wire, 'Sample.start_timestamp');
    else skipField(r, wire);
  });
  return s;
}

function decodeExemplarV2(r: ByteReader): DecodedExemplarV2 {
  const e: DecodedExemplarV2 = { labelsRefs: [], labels: [], value: 0, timestamp: 0 };
  eachField(r, (field, wire) => {
    if (field === 1) readRefs(r, wire, e.labelsRefs);
    else if (field === 2) e.value = doubleField(r, wire, 'Exemplar.value');
    else if (field === 3) e.timestamp = int64Field(r, wire, 'Exemplar.timestamp');
    else skipField(r, wire);
  });
  return e;
}

function decodeMetadataV2(r: ByteReader, into: DecodedMetadataV2): void {
  eachField(r, (field, wire) => {
    if (field === 1 || field === 3 || field === 4) expectWire(`Metadata field ${field}`, wire, WIRE_VARINT, r);
    if (field === 1) into.type = readInt64(r);
    else if (field === 3) into.helpRef = r.uvarint();
    else if (field === 4) into.unitRef = r.uvarint();
    else skipField(r, wire);
  });
}

function decodeTimeSeriesV2(r: ByteReader): DecodedTimeSeriesV2 {
  const ts: DecodedTimeSeriesV2 = {
    labelsRefs: [],
    labels: [],
    samples: [],
    histograms: [],
    exemplars: [],
    metadata: { type: 0, helpRef: 0, unitRef: 0, help: '', unit: '' },
  };
  eachField(r, (field, wire) => {
    if (field === 1) readRefs(r, wire, ts.labelsRefs);
    else if (field >= 2 && field <= 5) {
      expectWire(`TimeSeries field ${field}`, wire, WIRE_LEN, r);
      const end = subEnd(r);
      if (field === 2) ts.samples.push(withEnd(r, end, () => decodeSampleV2(r)));
      else if (field === 3) ts.histograms.push(decodeHistogram(rw2.Histogram, r, end));
      else if (field === 4) ts.exemplars.push(withEnd(r, end, () => decodeExemplarV2(r)));
      else withEnd(r, end, () => decodeMetadataV2(r, ts.metadata));
    } else skipField(r, wire);
  });
  return ts;
}

/**
 * Decodes an uncompressed RW 2.0 `io.prometheus.write.v2.Request`, resolving every ref through the
 * symbol table (a ref out of range or an odd labels_refs count is a ProtoDecodeError).
 */
export function decodeRequestV2(body: Uint8Array): DecodedRequestV2 {
  return guard('Request', () => {
    const r = new ByteReader(body);
    const req: DecodedRequestV2 = { symbols: [], timeseries: [] };
    eachField(r, (field, wire) => {
      if (field === 4) req.symbols.push(stringField(r, wire, 'Request.symbols'));
      else if (field === 5) req.timeseries.push(messageField(r, wire, 'Request.timeseries', decodeTimeSeriesV2));
      else skipField(r, wire);
    });
    // Symbols may legally follow the series on the wire, so refs are resolved only at the end.
    for (const ts of req.timeseries) {
      ts.labels = resolveLabels(ts.labelsRefs, req.symbols);
      for (const e of ts.exemplars) e.labels = resolveLabels(e.labelsRefs, req.symbols);
      ts.metadata.help = symbolAt(req.symbols, ts.metadata.helpRef);
      ts.metadata.unit = symbolAt(req.symbols, ts.metadata.unitRef);
    }
    return req;
  });
}

/**
 * The protobuf exposition format (`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
 * encoding=delimited`): length-delimited MetricFamily messages of client_model's metrics.proto, decoded
 * by hand over the scrape Buffer and presented through the TextParser interface, entry by entry, in the
 * order Prometheus 3.x's model/textparse/protobufparse.go yields them:
 *  - per family with at least one metric: HELP, UNIT (when set), TYPE;
 *  - counter, gauge, untyped: one series; summary: `_count`, `_sum`, then one series per quantile;
 *  - histograms: a native histogram (when native parts are present and not ignored) as one Histogram entry,
 *    its classic parts (`_count`, `_sum`, `_bucket` per bound, +Inf added when missing) only with
 *    always_scrape_classic_histograms; a classic-only histogram yields its classic series and/or its
 *    conversion to a custom-bucket histogram (convert_classic_histograms_to_nhcb).
 * Native histograms are compacted (Compact(0)) as Prometheus does. Exemplars: a counter's, a classic
 * bucket's on its `_bucket` series, and for a native histogram every exemplar that has a timestamp (from
 * its `exemplars` field, else from its buckets), in timestamp order.
 *
 * The scrape cache key of an entry is built from raw bytes (name, suffix, label names and values joined
 * by 0xff, then the `le`/`quantile` label), so a known series costs byte copies and a compare with the
 * expected entry, and label strings are only made for new series.
 */
import { sameBytes } from '../util/bytes.ts';
import { METRIC_NAME } from '../util/labels.ts';
import { CounterResetHint, type Histogram, type HistogramSpan } from '../storage/histogram.ts';
import { compactHistogram } from '../storage/histogram-buckets.ts';
import { ClassicHistogramBuilder } from '../storage/nhcb.ts';
import { OutpostError } from '../util/errors.ts';
import { duplicateLabelName } from './base.ts';
import { validUtf8 } from './scan.ts';
import { SeriesHint } from './series-hint.ts';
import { Entry, type EntryKind, MetricType, ParseError, type TextParser } from './types.ts';
import { Wire, WireReader } from './protobuf-wire.ts';

/** What the scrape config asks of histograms; see Prometheus' scrape_native_histograms and friends. */
export interface ProtobufParserOptions {
  /** scrape_native_histograms is off: native parts are ignored, histograms are read as classic ones. */
  readonly ignoreNativeHistograms: boolean;
  /** always_scrape_classic_histograms: a histogram with both forms also yields its classic series. */
  readonly keepClassicHistograms: boolean;
  /** convert_classic_histograms_to_nhcb. */
  readonly convertClassicToNhcb: boolean;
}

/** client_model MetricType enum. */
const PbType = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4, gaugeHistogram: 5 } as const;

const METADATA_TYPE = [
  MetricType.counter,
  MetricType.gauge,
  MetricType.summary,
  MetricType.unknown,
  MetricType.histogram,
  MetricType.gaugehistogram,
];

/** Steps of one metric's entries. */
const Step = { value: 0, count: 1, sum: 2, quantile: 3, bucket: 4, infBucket: 5, native: 6, nhcb: 7 } as const;

const Phase = { family: 0, help: 1, unit: 2, type: 3, metric: 4, done: 5 } as const;

const SEP = 0xff;
const SUFFIX_COUNT = Buffer.from('_count');
const SUFFIX_SUM = Buffer.from('_sum');
const SUFFIX_BUCKET = Buffer.from('_bucket');
const LE = Buffer.from('le');
const QUANTILE = Buffer.from('quantile');
const EMPTY = Buffer.alloc(0);
const INF_BYTES = Buffer.from('+Inf');

/**
 * Go's strconv.FormatFloat(f, 'g', -1, 64) with ".0" added to integers, as labels.FormatOpenMetricsFloat
 * writes `le` and `quantile` values.
 */
export function formatOpenMetricsFloat(f: number): string {
  if (f === 1) return '1.0';
  if (f === 0) return '0.0';
  if (f === -1) return '-1.0';
  if (Number.isNaN(f)) return 'NaN';
  if (f === Number.POSITIVE_INFINITY) return '+Inf';
  if (f === Number.NEGATIVE_INFINITY) return '-Inf';
  const s = goFormatG(f);
  return s.includes('e') || s.includes('.') ? s : `${s}.0`;
}

/**
 * Go's strconv.FormatFloat(f, 'g', -1, 64): the shortest round-trip digits (which toExponential() also
 * gives), in exponent form when the exponent is below −4 or at least 6 (Go's rule for the shortest
 * precision), with a signed exponent of at least two digits.
 */
function goFormatG(f: number): string {
  const [mant = '', expStr = '0'] = f.toExponential().split('e');
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const eprec = 6;
  let out: string;
  if (exp < -4 || exp >= eprec) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    out = `${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    out = digits + '0'.repeat(exp + 1 - digits.length);
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${out}` : out;
}

/** Growable list of label ranges: name start, name end, value start, value end per label. */
class LabelRanges {
  a = new Int32Array(64);
  n = 0;
  push4(ns: number, ne: number, vs: number, ve: number): void {
    if (4 * this.n + 4 > this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    const p = 4 * this.n++;
    this.a[p] = ns;
    this.a[p + 1] = ne;
    this.a[p + 2] = vs;
    this.a[p + 3] = ve;
  }
  /** Name start, name end, value start and value end of label i (< n). */
  ns(i: number): number {
    return this.a[4 * i] ?? 0;
  }
  ne(i: number): number {
    return this.a[4 * i + 1] ?? 0;
  }
  vs(i: number): number {
    return this.a[4 * i + 2] ?? 0;
  }
  ve(i: number): number {
    return this.a[4 * i + 3] ?? 0;
  }
}

/** dst[at…] = src[s, e) byte by byte: for the few bytes of a name or label, cheaper than Buffer.copy. */
function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) dst[at++] = src[i] ?? 0;
  return at;
}

/** h[at…] starts with src[s, e) within h's bound `end`: the position after it, else -1. */
function matchPiece(h: Uint8Array, at: number, end: number, src: Uint8Array, s: number, e: number): number {
  if (at < 0 || at + e - s > end) return -1;
  for (let i = s; i < e; i++, at++) if (src[i] !== h[at]) return -1;
  return at;
}

/** matchPiece with 8-byte compares for the longer pieces (names and label values). */
function matchLong(
  h: Uint8Array,
  hv: DataView,
  at: number,
  end: number,
  src: Uint8Array,
  sv: DataView,
  s: number,
  e: number,
): number {
  const n = e - s;
  if (n < 16) return matchPiece(h, at, end, src, s, e);
  if (at < 0 || at + n > end) return -1;
  return sameBytes(h, hv, at, src, sv, s, n) ? at + n : -1;
}

/** `le` and `quantile` values seen before: the same bounds come back in every histogram of every scrape. */
const floatLabelCache = new Map<number, Buffer>();

function floatLabelBytes(f: number): Buffer {
  let b = floatLabelCache.get(f);
  if (b === undefined) {
    if (floatLabelCache.size >= 4096) floatLabelCache.clear();
    b = Buffer.from(formatOpenMetricsFloat(f), 'latin1');
    floatLabelCache.set(f, b);
  }
  return b;
}

/** Growable list of (start, end) byte ranges. */
class Ranges {
  a = new Int32Array(32);
  n = 0;
  push(s: number, e: number): void {
    if (2 * this.n + 2 > this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[2 * this.n] = s;
    this.a[2 * this.n + 1] = e;
    this.n++;
  }
  start(i: number): number {
    return this.a[2 * i] ?? -1;
  }
  end(i: number): number {
    return this.a[2 * i + 1] ?? -1;
  }
}

/** One decoded exemplar: where its message is, and what the exemplar says. */
interface PbExemplar {
  start: number;
  end: number;
  value: number;
  hasTs: boolean;
  ts: number;
}

export class ProtobufParser implements TextParser {
  private readonly opts: ProtobufParserOptions;
  private buf: Buffer = EMPTY;
  private end = 0;
  /** Offset of the next MetricFamily's length prefix. */
  private pos = 0;
  private readonly r = new WireReader();
  private readonly r2 = new WireReader();
  private phase: number = Phase.family;

  // The current family.
  private nameS = 0;
  private nameE = 0;
  private helpS = 0;
  private helpE = 0;
  private unitS = 0;
  private unitE = 0;
  private pbType = 0;
  private readonly metrics = new Ranges();
  private metricI = 0;

  // The current metric.
  private readonly lbls = new LabelRanges();
  private tsMs = 0;
  private val = 0;
  private counterEx = -1;
  private counterExEnd = -1;
  private count = 0;
  private countFloat = 0;
  private sum = 0;
  private startTs = 0;
  private readonly qs: number[] = [];
  private readonly qvs: number[] = [];
  private readonly ubs: number[] = [];
  private readonly cums: number[] = [];
  private readonly cumFloats: number[] = [];
  private readonly bucketEx = new Ranges();
  private schema = 0;
  private zeroThreshold = 0;
  private zeroCount = 0;
  private zeroCountFloat = 0;
  private readonly posSpans: HistogramSpan[] = [];
  private readonly negSpans: HistogramSpan[] = [];
  private readonly posDeltas: number[] = [];
  private readonly negDeltas: number[] = [];
  private readonly posCounts: number[] = [];
  private readonly negCounts: number[] = [];
  private readonly histEx = new Ranges();

  // The current metric's entries.
  private steps = new Int32Array(64);
  private stepN = 0;
  private stepI = 0;
  private readonly nhcb = new ClassicHistogramBuilder();

  // The current entry.
  private kind: EntryKind = Entry.EOF;
  private key: Buffer = Buffer.allocUnsafe(256);
  /** Where the current key is: `key`, or the hint's bytes after a hit. */
  private keyBuf: Uint8Array = this.key;
  private suffix: Buffer = EMPTY;
  private magicName: Buffer = EMPTY;
  private magicValue: Buffer = EMPTY;
  seriesStart = 0;
  seriesEnd = 0;
  value = 0;
  hasTimestamp = false;
  timestamp = 0;
  /** Start (created) timestamp of the current counter, summary or histogram in ms; 0 when not exposed. */
  startTimestamp = 0;
  histogram: Histogram | null = null;
  histogramFloat = false;
  metricType = 0;
  readonly line = 0;
  nameStart = 0;
  nameEnd = 0;
  textStart = 0;
  textEnd = 0;

  // Exemplars of the current entry.
  private readonly exs: PbExemplar[] = [];
  private exN = 0;
  private exI = 0;
  private readonly exLbls = new Ranges();
  hasExemplar = false;
  exemplarValue = 0;
  exemplarHasTimestamp = false;
  exemplarTimestamp = 0;

  // The expected next series (scrape cache hint).
  private readonly hint = new SeriesHint();
  private bodyView: DataView = new DataView(EMPTY.buffer, EMPTY.byteOffset, 0);
  expectedHit = false;

  constructor(opts: ProtobufParserOptions) {
    this.opts = opts;
  }

  get seriesBuf(): Uint8Array {
    return this.keyBuf;
  }

  reset(body: Buffer, length: number): void {
    if (body !== this.buf) this.bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
    this.buf = body;
    this.end = Math.min(length, body.length);
    this.pos = 0;
    this.phase = Phase.family;
    this.kind = Entry.EOF;
    this.hint.len = -1;
    this.expectedHit = false;
    this.histogram = null;
    this.hasExemplar = false;
  }

  expect(src: Uint8Array, off: number, len: number): void {
    this.hint.set(src, off, len);
  }

  get family(): string {
    if (this.kind !== Entry.Type && this.kind !== Entry.Help && this.kind !== Entry.Unit) return '';
    return this.buf.toString('utf8', this.nameS, this.nameE);
  }

  get text(): string {
    if (this.kind !== Entry.Help && this.kind !== Entry.Unit) return '';
    return this.buf.toString('utf8', this.textStart, this.textEnd);
  }

  next(): EntryKind {
    this.histogram = null;
    this.hasExemplar = false;
    this.expectedHit = false;
    for (;;) {
      switch (this.phase) {
        case Phase.family:
          if (!this.nextFamily()) {
            this.phase = Phase.done;
            return (this.kind = Entry.EOF);
          }
          this.phase = Phase.help;
          continue;
        case Phase.help:
          this.phase = this.unitE > this.unitS ? Phase.unit : Phase.type;
          return this.metadata(Entry.Help, this.helpS, this.helpE);
        case Phase.unit:
          this.phase = Phase.type;
          return this.metadata(Entry.Unit, this.unitS, this.unitE);
        case Phase.type:
          this.phase = Phase.metric;
          this.metricI = 0;
          this.stepI = this.stepN = 0;
          this.metricType = METADATA_TYPE[this.pbType] ?? MetricType.unknown;
          return this.metadata(Entry.Type, this.nameS, this.nameE);
        case Phase.metric:
          if (this.stepI < this.stepN) return this.step();
          if (this.metricI >= this.metrics.n) {
            this.phase = Phase.family;
            continue;
          }
          this.decodeMetric(this.metrics.start(this.metricI), this.metrics.end(this.metricI));
          this.metricI++;
          this.planSteps();
          continue;
        default:
          return (this.kind = Entry.EOF);
      }
    }
  }

  private metadata(kind: EntryKind, s: number, e: number): EntryKind {
    this.nameStart = this.nameS;
    this.nameEnd = this.nameE;
    this.textStart = s;
    this.textEnd = e;
    return (this.kind = kind);
  }

  /** Decodes the next MetricFamily with at least one metric; false at the end of the body. */
  private nextFamily(): boolean {
    const r = this.r;
    for (;;) {
      if (this.pos >= this.end) return false;
      r.at(this.buf, this.pos, this.end, 'MetricFamily');
      const n = r.uvarint32();
      const start = r.pos;
      const famEnd = start + n;
      if (famEnd > this.end)
        throw new ParseError(
          0,
          `protobuf: insufficient length of buffer, expected at least ${famEnd - this.pos} bytes, ` +
            `got ${this.end - this.pos} bytes`,
        );
      this.pos = famEnd;
      this.nameS = this.nameE = this.helpS = this.helpE = this.unitS = this.unitE = start;
      this.pbType = 0;
      this.metrics.n = 0;
      r.end = famEnd;
      while (!r.done) {
        const k = r.key();
        switch (k >>> 3) {
          case 1:
            r.expect(k, Wire.len, 'name');
            this.nameE = r.lenEnd();
            this.nameS = r.pos;
            r.pos = this.nameE;
            break;
          case 2:
            r.expect(k, Wire.len, 'help');
            this.helpE = r.lenEnd();
            this.helpS = r.pos;
            r.pos = this.helpE;
            break;
          case 3:
            r.expect(k, Wire.varint, 'type');
            this.pbType = r.int32();
            break;
          case 4: {
            r.expect(k, Wire.len, 'metric');
            const e = r.lenEnd();
            this.metrics.push(r.pos, e);
            r.pos = e;
            break;
          }
          case 5:
            r.expect(k, Wire.len, 'unit');
            this.unitE = r.lenEnd();
            this.unitS = r.pos;
            r.pos = this.unitE;
            break;
          default:
            r.skip(k & 7);
        }
      }
      // Prometheus skips families without metrics before looking at anything else.
      if (this.metrics.n === 0) continue;
      const b = this.buf;
      if (this.nameE === this.nameS || !validUtf8(b, this.nameS, this.nameE))
        throw new ParseError(0, `invalid metric name: ${b.toString('utf8', this.nameS, this.nameE)}`);
      if (!validUtf8(b, this.helpS, this.helpE))
        throw new ParseError(0, `invalid help for metric ${JSON.stringify(this.family0())}`);
      if (this.pbType < 0 || this.pbType > PbType.gaugeHistogram)
        throw new ParseError(0, `unknown metric type for metric ${JSON.stringify(this.family0())}: ${this.pbType}`);
      return true;
    }
  }

  private family0(): string {
    return this.buf.toString('utf8', this.nameS, this.nameE);
  }

  private resetMetric(): void {
    this.lbls.n = 0;
    this.tsMs = 0;
    this.val = 0;
    this.counterEx = -1;
    this.counterExEnd = -1;
    this.count = 0;
    this.countFloat = 0;
    this.sum = 0;
    this.startTs = 0;
    // Truncating an array is a runtime call even when it is empty: only histograms and summaries fill these.
    if (this.pbType === PbType.summary) {
      this.qs.length = 0;
      this.qvs.length = 0;
    } else if (this.pbType === PbType.histogram || this.pbType === PbType.gaugeHistogram) this.resetHistogram();
  }

  private resetHistogram(): void {
    clear(this.ubs);
    clear(this.cums);
    clear(this.cumFloats);
    this.bucketEx.n = 0;
    this.schema = 0;
    this.zeroThreshold = 0;
    this.zeroCount = 0;
    this.zeroCountFloat = 0;
    clear(this.posSpans);
    clear(this.negSpans);
    clear(this.posDeltas);
    clear(this.negDeltas);
    clear(this.posCounts);
    clear(this.negCounts);
    this.histEx.n = 0;
  }

  private decodeMetric(s: number, e: number): void {
    this.resetMetric();
    const r = this.r.at(this.buf, s, e, 'Metric');
    while (!r.done) {
      const k = r.key();
      const f = k >>> 3;
      if (f === 1) {
        r.expect(k, Wire.len, 'label');
        const le = r.lenEnd();
        this.decodeLabelPair(r.pos, le);
        r.pos = le;
      } else if (f === 6) {
        r.expect(k, Wire.varint, 'timestamp_ms');
        this.tsMs = r.int64();
      } else if (f >= 2 && f <= 5) {
        r.expect(k, Wire.len, 'value');
        const ve = r.lenEnd();
        // Only the field that matches the family's type counts, as in Prometheus.
        if (f === 2 && this.pbType === PbType.gauge) this.decodeSimple(r.pos, ve, 'Gauge');
        else if (f === 3 && this.pbType === PbType.counter) this.decodeCounter(r.pos, ve);
        else if (f === 4 && this.pbType === PbType.summary) this.decodeSummary(r.pos, ve);
        else if (f === 5 && this.pbType === PbType.untyped) this.decodeSimple(r.pos, ve, 'Untyped');
        r.pos = ve;
      } else if (f === 7) {
        r.expect(k, Wire.len, 'histogram');
        const he = r.lenEnd();
        if (this.pbType === PbType.histogram || this.pbType === PbType.gaugeHistogram) this.decodeHistogram(r.pos, he);
        r.pos = he;
      } else r.skip(k & 7);
    }
  }

  /** A LabelPair's name and value ranges, appended to lbls (name start, name end, value start, value end). */
  private decodeLabelPair(s: number, e: number): void {
    const r = this.r2.at(this.buf, s, e, 'LabelPair');
    let ns = s;
    let ne = s;
    let vs = s;
    let ve = s;
    while (!r.done) {
      const k = r.key();
      const f = k >>> 3;
      if (f === 1 || f === 2) {
        r.expect(k, Wire.len, f === 1 ? 'name' : 'value');
        const fe = r.lenEnd();
        if (f === 1) {
          ns = r.pos;
          ne = fe;
        } else {
          vs = r.pos;
          ve = fe;
        }
        r.pos = fe;
      } else r.skip(k & 7);
    }
    this.lbls.push4(ns, ne, vs, ve);
  }

  private decodeSimple(s: number, e: number, what: string): void {
    const r = this.r2.at(this.buf, s, e, what);
    while (!r.done) {
      const k = r.key();
      if (k >>> 3 === 1) {
        r.expect(k, Wire.fixed64, 'value');
        this.val = r.double();
      } else r.skip(k & 7);
    }
  }

  private decodeCounter(s: number, e: number): void {
    const r = this.r2.at(this.buf, s, e, 'Counter');
    while (!r.done) {
      const k = r.key();
      const f = k >>> 3;
      if (f === 1) {
        r.expect(k, Wire.fixed64, 'value');
        this.val = r.double();
      } else if (f === 2) {
        r.expect(k, Wire.len, 'exemplar');
        this.counterExEnd = r.lenEnd();
        this.counterEx = r.pos;
        r.pos = this.counterExEnd;
      } else if (f === 3) {
        r.expect(k, Wire.len, 'start_timestamp');
        const te = r.lenEnd();
        this.startTs = this.timestampMs(r.pos, te);
        r.pos = te;
      } else r.skip(k & 7);
    }
  }

  private decodeSummary(s: number, e: number): void {
    const r = this.r2.at(this.buf, s, e, 'Summary');
    while (!r.done) {
      const k = r.key();
      const f = k >>> 3;
      if (f === 1) {
        r.expect(k, Wire.varint, 'sample_count');
        this.count = r.uint64();
      } else if (f === 2) {
        r.expect(k, Wire.fixed64, 'sample_sum');
        this.sum = r.double();
      } else if (f === 3) {
        r.expect(k, Wire.len, 'quantile');
        const qe = r.lenEnd();
        let q = 0;
        let v = 0;
        const end = r.end;
        const what = r.what;
        r.end = qe;
        r.what = 'Quantile';
        while (!r.done) {
          const qk = r.key();
          if (qk >>> 3 === 1) {
            r.expect(qk, Wire.fixed64, 'quantile');
            q = r.double();
          } else if (qk >>> 3 === 2) {
            r.expect(qk, Wire.fixed64, 'value');
            v = r.double();
          } else r.skip(qk & 7);
        }
        r.end = end;
        r.what = what;
        this.qs.push(q);
        this.qvs.push(v);
      } else if (f === 4) {
        r.expect(k, Wire.len, 'start_timestamp');
        const te = r.lenEnd();
        this.startTs = this.timestampMs(r.pos, te);
        r.pos = te;
      } else r.skip(k & 7);
    }
  }

  private decodeHistogram(s: number, e: number): void {
    const r = this.r2.at(this.buf, s, e, 'Histogram');
    while (!r.done) {
      const k = r.key();
      switch (k >>> 3) {
        case 1:
          r.expect(k, Wire.varint, 'sample_count');
          this.count = r.uint64();
          break;
        case 2:
          r.expect(k, Wire.fixed64, 'sample_sum');
          this.sum = r.double();
          break;
        case 3: {
          r.expect(k, Wire.len, 'bucket');
          const be = r.lenEnd();
          this.decodeBucket(r, be);
          break;
        }
        case 4:
          r.expect(k, Wire.fixed64, 'sample_count_float');
          this.countFloat = r.double();
          break;
        case 5:
          r.expect(k, Wire.varint, 'schema');
          this.schema = r.sint();
          break;
        case 6:
          r.expect(k, Wire.fixed64, 'zero_threshold');
          this.zeroThreshold = r.double();
          break;
        case 7:
          r.expect(k, Wire.varint, 'zero_count');
          this.zeroCount = r.uint64();
          break;
        case 8:
          r.expect(k, Wire.fixed64, 'zero_count_float');
          this.zeroCountFloat = r.double();
          break;
        case 9:
          this.decodeSpan(r, k, this.negSpans, 'negative_span');
          break;
        case 10:
          this.decodeSints(r, k, this.negDeltas, 'negative_delta');
          break;
        case 11:
          this.decodeDoubles(r, k, this.negCounts, 'negative_count');
          break;
        case 12:
          this.decodeSpan(r, k, this.posSpans, 'positive_span');
          break;
        case 13:
          this.decodeSints(r, k, this.posDeltas, 'positive_delta');
          break;
        case 14:
          this.decodeDoubles(r, k, this.posCounts, 'positive_count');
          break;
        case 15: {
          r.expect(k, Wire.len, 'start_timestamp');
          const te = r.lenEnd();
          this.startTs = this.timestampMs(r.pos, te);
          r.pos = te;
          break;
        }
        case 16: {
          r.expect(k, Wire.len, 'exemplars');
          const xe = r.lenEnd();
          this.histEx.push(r.pos, xe);
          r.pos = xe;
          break;
        }
        default:
          r.skip(k & 7);
      }
    }
  }

  private decodeBucket(r: WireReader, be: number): void {
    const end = r.end;
    const what = r.what;
    r.end = be;
    r.what = 'Bucket';
    let cum = 0;
    let cumF = 0;
    let ub = 0;
    let exS = -1;
    let exE = -1;
    while (!r.done) {
      const k = r.key();
      const f = k >>> 3;
      if (f === 1) {
        r.expect(k, Wire.varint, 'cumulative_count');
        cum = r.uint64();
      } else if (f === 2) {
        r.expect(k, Wire.fixed64, 'upper_bound');
        ub = r.double();
      } else if (f === 3) {
        r.expect(k, Wire.len, 'exemplar');
        exE = r.lenEnd();
        exS = r.pos;
        r.pos = exE;
      } else if (f === 4) {
        r.expect(k, Wire.fixed64, 'cumulative_count_float');
        cumF = r.double();
      } else r.skip(k & 7);
    }
    r.end = end;
    r.what = what;
    this.ubs.push(ub);
    this.cums.push(cum);
    this.cumFloats.push(cumF);
    this.bucketEx.push(exS, exE);
  }

  private decodeSpan(r: WireReader, k: number, out: HistogramSpan[], name: string): void {
    r.expect(k, Wire.len, name);
    const se = r.lenEnd();
    const end = r.end;
    const what = r.what;
    r.end = se;
    r.what = 'BucketSpan';
    let offset = 0;
    let length = 0;
    while (!r.done) {
      const sk = r.key();
      if (sk >>> 3 === 1) {
        r.expect(sk, Wire.varint, 'offset');
        offset = r.sint();
      } else if (sk >>> 3 === 2) {
        r.expect(sk, Wire.varint, 'length');
        length = r.uint64();
      } else r.skip(sk & 7);
    }
    r.end = end;
    r.what = what;
    out.push({ offset, length });
  }

  /** repeated sint64, packed or not. */
  private decodeSints(r: WireReader, k: number, out: number[], name: string): void {
    if ((k & 7) === Wire.varint) {
      out.push(r.sint());
      return;
    }
    r.expect(k, Wire.len, name);
    const pe = r.lenEnd();
    const end = r.end;
    r.end = pe;
    while (!r.done) out.push(r.sint());
    r.end = end;
  }

  /** repeated double, packed or not. */
  private decodeDoubles(r: WireReader, k: number, out: number[], name: string): void {
    if ((k & 7) === Wire.fixed64) {
      out.push(r.double());
      return;
    }
    r.expect(k, Wire.len, name);
    const pe = r.lenEnd();
    if ((pe - r.pos) % 8 !== 0) throw r.fail(`packed ${name} of ${pe - r.pos} bytes is not a whole number of doubles`);
    while (r.pos < pe) out.push(r.double());
  }

  /** A google.protobuf.Timestamp message in ms (seconds * 1000 + whole ms of nanos). */
  private timestampMs(s: number, e: number): number {
    const r = new WireReader().at(this.buf, s, e, 'Timestamp');
    let sec = 0;
    let nanos = 0;
    while (!r.done) {
      const k = r.key();
      if (k >>> 3 === 1) {
        r.expect(k, Wire.varint, 'seconds');
        sec = r.int64();
      } else if (k >>> 3 === 2) {
        r.expect(k, Wire.varint, 'nanos');
        nanos = r.int32();
      } else r.skip(k & 7);
    }
    return sec * 1000 + Math.trunc(nanos / 1_000_000);
  }

  /** Prometheus' isNativeHistogram: any span, a zero threshold or a zero count marks native parts. */
  private isNative(): boolean {
    return this.posSpans.length > 0 || this.negSpans.length > 0 || this.zeroThreshold > 0 || this.zeroCount > 0;
  }

  private pushStep(code: number, arg: number): void {
    if (2 * this.stepN + 2 > this.steps.length) {
      const b = new Int32Array(this.steps.length * 2);
      b.set(this.steps);
      this.steps = b;
    }
    this.steps[2 * this.stepN] = code;
    this.steps[2 * this.stepN + 1] = arg;
    this.stepN++;
  }

  /** The entries of the metric just decoded, in Prometheus' order. */
  private planSteps(): void {
    this.stepN = this.stepI = 0;
    const t = this.pbType;
    if (t === PbType.counter || t === PbType.gauge || t === PbType.untyped) {
      this.pushStep(Step.value, 0);
      return;
    }
    if (t === PbType.summary) {
      this.pushStep(Step.count, 0);
      this.pushStep(Step.sum, 0);
      for (let i = 0; i < this.qs.length; i++) this.pushStep(Step.quantile, i);
      return;
    }
    const o = this.opts;
    if (!o.ignoreNativeHistograms && this.isNative()) {
      this.checkNativeConsistency();
      this.pushStep(Step.native, 0);
      if (o.keepClassicHistograms && this.ubs.length > 0) this.planClassic();
      return;
    }
    if (!o.convertClassicToNhcb || o.keepClassicHistograms) this.planClassic();
    if (o.convertClassicToNhcb) this.pushStep(Step.nhcb, 0);
  }

  private planClassic(): void {
    this.pushStep(Step.count, 0);
    this.pushStep(Step.sum, 0);
    for (let i = 0; i < this.ubs.length; i++) {
      this.pushStep(Step.bucket, i);
      // Buckets after a +Inf one are not read, as in Prometheus.
      if (this.ubs[i] === Number.POSITIVE_INFINITY) return;
    }
    this.pushStep(Step.infBucket, 0);
  }

  private checkNativeConsistency(): void {
    const float = this.countFloat > 0 || this.zeroCountFloat > 0;
    const side = (name: string, spans: HistogramSpan[], n: number) => {
      let total = 0;
      for (const s of spans) total += s.length;
      if (total !== n)
        throw new ParseError(
          0,
          `histogram ${JSON.stringify(this.family0())}: ${name} side: spans require ${total} buckets, have ${n}`,
        );
    };
    side('positive', this.posSpans, float ? this.posCounts.length : this.posDeltas.length);
    side('negative', this.negSpans, float ? this.negCounts.length : this.negDeltas.length);
  }

  private classicCount(): number {
    return this.countFloat !== 0 ? this.countFloat : this.count;
  }

  /** Sets up the entry of the next step. */
  private step(): EntryKind {
    const code = this.steps[2 * this.stepI] ?? Step.value;
    const arg = this.steps[2 * this.stepI + 1] ?? 0;
    this.stepI++;
    this.hasTimestamp = this.tsMs !== 0;
    this.timestamp = this.tsMs;
    this.startTimestamp = this.startTs;
    this.suffix = EMPTY;
    this.magicName = EMPTY;
    this.exN = this.exI = 0;
    let kind: EntryKind = Entry.Series;
    switch (code) {
      case Step.value:
        this.value = this.val;
        if (this.counterEx >= 0) this.addExemplar(this.counterEx, this.counterExEnd);
        break;
      case Step.count:
        this.suffix = SUFFIX_COUNT;
        this.value = this.pbType === PbType.summary ? this.count : this.classicCount();
        break;
      case Step.sum:
        this.suffix = SUFFIX_SUM;
        this.value = this.sum;
        break;
      case Step.quantile:
        this.magicName = QUANTILE;
        this.magicValue = floatLabelBytes(this.qs[arg] ?? 0);
        this.value = this.qvs[arg] ?? 0;
        break;
      case Step.bucket: {
        this.suffix = SUFFIX_BUCKET;
        this.magicName = LE;
        this.magicValue = floatLabelBytes(this.ubs[arg] ?? 0);
        const f = this.cumFloats[arg] ?? 0;
        this.value = f !== 0 ? f : (this.cums[arg] ?? 0);
        const s = this.bucketEx.start(arg);
        if (s >= 0) this.addExemplar(s, this.bucketEx.end(arg));
        break;
      }
      case Step.infBucket:
        this.suffix = SUFFIX_BUCKET;
        this.magicName = LE;
        this.magicValue = INF_BYTES;
        this.value = this.classicCount();
        break;
      case Step.native:
        kind = Entry.Histogram;
        this.buildNative();
        this.nativeExemplars();
        break;
      default:
        kind = Entry.Histogram;
        this.buildNhcb();
    }
    this.buildKey();
    this.kind = kind;
    if (this.exN > 0) this.selectExemplar(0);
    return kind;
  }

  private buildNative(): void {
    const float = this.countFloat > 0 || this.zeroCountFloat > 0;
    const h: Histogram = {
      counterResetHint: this.pbType === PbType.gaugeHistogram ? CounterResetHint.gauge : CounterResetHint.unknown,
      schema: this.schema,
      zeroThreshold: this.zeroThreshold,
      zeroCount: float ? this.zeroCountFloat : this.zeroCount,
      count: float ? this.countFloat : this.count,
      sum: this.sum,
      positiveSpans: this.posSpans.map((s) => ({ offset: s.offset, length: s.length })),
      negativeSpans: this.negSpans.map((s) => ({ offset: s.offset, length: s.length })),
      positiveBuckets: float ? [...this.posCounts] : [...this.posDeltas],
      negativeBuckets: float ? [...this.negCounts] : [...this.negDeltas],
    };
    this.histogram = compactHistogram(h, float, 0);
    this.histogramFloat = float;
  }

  private buildNhcb(): void {
    const b = this.nhcb;
    b.reset();
    try {
      b.setCount(this.classicCount());
      b.setSum(this.sum);
      for (const [i, ub] of this.ubs.entries()) {
        const f = this.cumFloats[i] ?? 0;
        b.setBucket(ub, f !== 0 ? f : (this.cums[i] ?? 0));
      }
      const { h, float } = b.convert();
      if (this.pbType === PbType.gaugeHistogram) h.counterResetHint = CounterResetHint.gauge;
      this.histogram = h;
      this.histogramFloat = float;
    } catch (err) {
      if (!(err instanceof OutpostError)) throw err;
      throw new ParseError(
        0,
        `converting classic histogram ${JSON.stringify(this.family0())} to a native histogram: ${err.message}`,
      );
    }
  }

  /** Exemplars with a timestamp from the histogram's own list, else from its buckets; sorted by time. */
  private nativeExemplars(): void {
    const from = this.histEx.n > 0 ? this.histEx : this.bucketEx;
    for (let i = 0; i < from.n; i++) {
      const s = from.start(i);
      if (s < 0) continue;
      const x = this.addExemplar(s, from.end(i));
      if (!x.hasTs) this.exN--;
    }
    if (this.exN > 1) {
      // exemplar.Compare's order (time, then value), as Prometheus' scrape loop sorts them.
      const list = this.exs.slice(0, this.exN).sort((a, b) => a.ts - b.ts || a.value - b.value);
      for (const [i, x] of list.entries()) this.exs[i] = x;
    }
  }

  /** Decodes the exemplar message at [s, e) into the next slot of the current entry's list. */
  private addExemplar(s: number, e: number): PbExemplar {
    let x = this.exs[this.exN];
    if (x === undefined) {
      x = { start: 0, end: 0, value: 0, hasTs: false, ts: 0 };
      this.exs[this.exN] = x;
    }
    this.exN++;
    x.start = s;
    x.end = e;
    x.value = 0;
    x.hasTs = false;
    x.ts = 0;
    const r = new WireReader().at(this.buf, s, e, 'Exemplar');
    while (!r.done) {
      const k = r.key();
      const f = k >>> 3;
      if (f === 2) {
        r.expect(k, Wire.fixed64, 'value');
        x.value = r.double();
      } else if (f === 3) {
        r.expect(k, Wire.len, 'timestamp');
        const te = r.lenEnd();
        x.hasTs = true;
        x.ts = this.timestampMs(r.pos, te);
        r.pos = te;
      } else r.skip(k & 7);
    }
    return x;
  }

  private selectExemplar(i: number): void {
    const x = this.exs[i];
    if (x === undefined) return;
    this.exI = i;
    this.hasExemplar = true;
    this.exemplarValue = x.value;
    this.exemplarHasTimestamp = x.hasTs;
    this.exemplarTimestamp = x.ts;
    this.exLbls.n = 0;
    const r = this.r2.at(this.buf, x.start, x.end, 'Exemplar');
    while (!r.done) {
      const k = r.key();
      if (k >>> 3 === 1) {
        r.expect(k, Wire.len, 'label');
        const le = r.lenEnd();
        this.exLbls.push(r.pos, le);
        r.pos = le;
      } else r.skip(k & 7);
    }
  }

  nextExemplar(): boolean {
    if (this.exI + 1 >= this.exN) {
      this.hasExemplar = false;
      return false;
    }
    this.selectExemplar(this.exI + 1);
    return true;
  }

  /**
   * Whether the entry's key would equal the hint, compared piece by piece without building it. On a hit
   * the key is the hint's bytes, so seriesBuf points there and nothing is copied.
   */
  private matchHint(): boolean {
    const len = this.hint.len;
    if (len < 0) return false;
    const h = this.hint.buf;
    const b = this.buf;
    const end = this.hint.off + len;
    const hv = this.hint.view;
    const bv = this.bodyView;
    let at = matchLong(h, hv, this.hint.off, end, b, bv, this.nameS, this.nameE);
    if (this.suffix.length > 0) at = matchPiece(h, at, end, this.suffix, 0, this.suffix.length);
    const l = this.lbls;
    for (let i = 0; i < l.n && at >= 0; i++) {
      if (h[at] !== SEP) return false;
      at = matchLong(h, hv, at + 1, end, b, bv, l.ns(i), l.ne(i));
      if (at < 0 || h[at] !== SEP) return false;
      at = matchLong(h, hv, at + 1, end, b, bv, l.vs(i), l.ve(i));
    }
    if (at >= 0 && this.magicName.length > 0) {
      if (h[at] !== SEP) return false;
      at = matchPiece(h, at + 1, end, this.magicName, 0, this.magicName.length);
      if (at < 0 || h[at] !== SEP) return false;
      at = matchPiece(h, at + 1, end, this.magicValue, 0, this.magicValue.length);
    }
    return at === end;
  }

  /** name + suffix, then (0xff name 0xff value) per label, then the magic label: the scrape cache key. */
  private buildKey(): void {
    if (this.matchHint()) {
      this.keyBuf = this.hint.buf;
      this.seriesStart = this.hint.off;
      this.seriesEnd = this.hint.off + this.hint.len;
      this.expectedHit = true;
      return;
    }
    const b = this.buf;
    const l = this.lbls;
    let n = this.nameE - this.nameS + this.suffix.length;
    for (let i = 0; i < l.n; i++) n += l.ne(i) - l.ns(i) + l.ve(i) - l.vs(i) + 2;
    if (this.magicName.length > 0) n += this.magicName.length + this.magicValue.length + 2;
    if (n > this.key.length) this.key = Buffer.allocUnsafe(Math.max(n, this.key.length * 2));
    const k = this.key;
    this.keyBuf = k;
    let at = copyBytes(k, 0, b, this.nameS, this.nameE);
    at = copyBytes(k, at, this.suffix, 0, this.suffix.length);
    for (let i = 0; i < l.n; i++) {
      k[at++] = SEP;
      at = copyBytes(k, at, b, l.ns(i), l.ne(i));
      k[at++] = SEP;
      at = copyBytes(k, at, b, l.vs(i), l.ve(i));
    }
    if (this.magicName.length > 0) {
      k[at++] = SEP;
      at = copyBytes(k, at, this.magicName, 0, this.magicName.length);
      k[at++] = SEP;
      at = copyBytes(k, at, this.magicValue, 0, this.magicValue.length);
    }
    this.seriesStart = 0;
    this.seriesEnd = at;
  }

  labels(): string[] {
    if (this.expectedHit) throw new Error('labels() after an expected-series hit: the label set was not scanned');
    const b = this.buf;
    const out: string[] = [METRIC_NAME, b.toString('utf8', this.nameS, this.nameE) + this.suffix.toString('latin1')];
    const l = this.lbls;
    for (let i = 0; i < l.n; i++) {
      const name = utf8(b, l.ns(i), l.ne(i), 'name');
      if (name === '') throw new ParseError(0, 'invalid label name: ""');
      out.push(name, utf8(b, l.vs(i), l.ve(i), 'value'));
    }
    if (this.magicName.length > 0) out.push(this.magicName.toString('latin1'), this.magicValue.toString('latin1'));
    const dup = duplicateLabelName(out);
    if (dup !== undefined)
      throw new ParseError(0, `label name ${JSON.stringify(dup)} is not unique in ${JSON.stringify(out[1])}`);
    return out;
  }

  exemplarLabels(): string[] {
    if (!this.hasExemplar) return [];
    const out: string[] = [];
    for (let i = 0; i < this.exLbls.n; i++) {
      const [name, value] = this.labelPair(this.r, this.exLbls.start(i), this.exLbls.end(i), 'exemplar LabelPair');
      out.push(name, value);
    }
    return out;
  }

  /** An exemplar's LabelPair: name and value, both required to be valid UTF-8. */
  private labelPair(r: WireReader, s: number, e: number, what: string): [string, string] {
    const b = this.buf;
    r.at(b, s, e, what);
    let name = '';
    let value = '';
    while (!r.done) {
      const k = r.key();
      const f = k >>> 3;
      if (f === 1 || f === 2) {
        r.expect(k, Wire.len, f === 1 ? 'name' : 'value');
        const fe = r.lenEnd();
        const str = utf8(b, r.pos, fe, f === 1 ? 'name' : 'value');
        if (f === 1) name = str;
        else value = str;
        r.pos = fe;
      } else r.skip(k & 7);
    }
    return [name, value];
  }
}

/** b[s, e) as a string; ParseError unless it is valid UTF-8. */
function utf8(b: Buffer, s: number, e: number, what: 'name' | 'value'): string {
  if (!validUtf8(b, s, e)) throw new ParseError(0, `invalid label ${what}: not valid UTF-8`);
  return b.toString('utf8', s, e);
}

function clear(a: unknown[]): void {
  if (a.length > 0) a.length = 0;
}

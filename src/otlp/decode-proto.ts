/**
 * A hand-written decoder of OTLP's ExportMetricsServiceRequest (opentelemetry-proto metrics/v1 and
 * collector/metrics/v1) over one Buffer. Every read is bounds-checked against the enclosing message,
 * unknown fields are skipped as protobuf requires, and the limits stop decoding at the first excess,
 * so a hostile body costs at most what its size allows. Errors name the place in the request.
 */
import { EMPTY_VALUE, anyValueString, type RawValue } from './any-value.ts';
import { OtlpRequestError, tooManyPoints } from './errors.ts';
import type * as M from './model.ts';

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** 2^32, for 64-bit values read as two halves. */
const TWO32 = 4294967296;

/** Nesting of AnyValue arrays and maps that is accepted (the Go decoder has its own recursion cap). */
const MAX_VALUE_DEPTH = 32;

class Wire {
  readonly buf: Buffer;
  pos = 0;
  /** Field names from the request down to what is being read, for errors. */
  readonly path: string[] = [];
  readonly limits: M.DecodeLimits;
  points = 0;
  private lo = 0;
  private hi = 0;

  constructor(buf: Buffer, limits: M.DecodeLimits) {
    this.buf = buf;
    this.limits = limits;
  }

  fail(message: string): never {
    const where = this.path.join('.').replace(/\.\[/g, '[');
    throw new OtlpRequestError(400, `invalid protobuf at ${where || 'the top level'}: ${message}`);
  }

  need(n: number, end: number, what: string): void {
    if (this.pos + n > end) this.fail(`truncated ${what} (needs ${n} bytes, ${end - this.pos} left)`);
  }

  /** An unsigned varint as a double (exact up to 2^53; larger values round, as a Go float64 would). */
  varint(end: number): number {
    const buf = this.buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) this.fail('truncated varint');
      const b = buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** A varint int64 as exact decimal text. */
  int64Text(end: number): string {
    const start = this.pos;
    const small = this.varint(end);
    if (this.pos - start <= 7) return String(small);
    let big = 0n;
    for (let i = this.pos - 1; i >= start; i--) big = (big << 7n) | BigInt((this.buf[i] as number) & 0x7f);
    return BigInt.asIntN(64, big).toString();
  }

  /** The low 32 bits of a varint as a signed int32 (negative int32s are sent as 10-byte varints). */
  int32(end: number): number {
    const start = this.pos;
    this.varint(end);
    let v = 0;
    for (let i = start, shift = 0; i < this.pos && shift < 32; i++, shift += 7)
      v |= ((this.buf[i] as number) & 0x7f) << shift;
    return v | 0;
  }

  sint32(end: number): number {
    const n = this.varint(end);
    return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
  }

  /** Reads the next 8 bytes as unsigned 32-bit halves into lo and hi (fields, so nothing is allocated). */
  private halves(end: number, what: string): void {
    this.need(8, end, what);
    this.lo = this.buf.readUInt32LE(this.pos);
    this.hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
  }

  fixed64(end: number): number {
    this.halves(end, 'fixed64');
    return this.hi * TWO32 + this.lo;
  }

  /** Unix nanoseconds (fixed64) as whole milliseconds, exactly: hi·2³² = hi·4294·10⁶ + hi·967296. */
  nanosToMs(end: number): number {
    this.halves(end, 'timestamp');
    return this.hi * 4294 + Math.floor((this.hi * 967296 + this.lo) / 1e6);
  }

  sfixed64(end: number): number {
    this.halves(end, 'sfixed64');
    // The high half is two's complement.
    return (this.hi | 0) * TWO32 + this.lo;
  }

  double(end: number): number {
    this.need(8, end, 'double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A length prefix; returns the end of the field's bytes. */
  len(end: number): number {
    const n = this.varint(end);
    if (this.pos + n > end) this.fail(`truncated field (length ${n}, ${end - this.pos} bytes left)`);
    return this.pos + n;
  }

  string(end: number, what: string): string {
    const e = this.len(end);
    if (e - this.pos > this.limits.maxAttributeBytes)
      this.fail(`${what} is ${e - this.pos} bytes, more than the ${this.limits.maxAttributeBytes} allowed`);
    const s = this.buf.toString('utf8', this.pos, e);
    this.pos = e;
    return s;
  }

  bytes(end: number): Uint8Array {
    const e = this.len(end);
    const b = this.buf.subarray(this.pos, e);
    this.pos = e;
    return b;
  }

  skip(wireType: number, end: number): void {
    switch (wireType) {
      case VARINT:
        this.varint(end);
        return;
      case I64:
        this.need(8, end, 'fixed64');
        this.pos += 8;
        return;
      case LEN:
        this.pos = this.len(end);
        return;
      case I32:
        this.need(4, end, 'fixed32');
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  tag(end: number): number {
    const t = this.varint(end);
    if (t < 8) this.fail(`invalid field number 0 (tag ${t})`);
    return t;
  }

  /** Checks a length-delimited field's wire type and returns its end. */
  message(tag: number, end: number, name: string): number {
    if ((tag & 7) !== LEN) this.fail(`${name}: wire type ${tag & 7}, expected a length-delimited message`);
    return this.len(end);
  }

  expect(tag: number, wireType: number, name: string): void {
    if ((tag & 7) !== wireType) this.fail(`${name}: wire type ${tag & 7}, expected ${wireType}`);
  }

  countPoint(): void {
    if (++this.points > this.limits.maxPoints) throw tooManyPoints(this.limits.maxPoints);
  }

  /** Runs fn with `segment` on the path (for errors). */
  at<T>(segment: string, fn: () => T): T {
    this.path.push(segment);
    const r = fn();
    this.path.pop();
    return r;
  }
}

/** Decodes a protobuf ExportMetricsServiceRequest; throws OtlpRequestError (400 or 413). */
export function decodeProtoRequest(buf: Buffer, limits: M.DecodeLimits): M.OtlpRequest {
  const w = new Wire(buf, limits);
  const end = buf.length;
  const resources: M.OtlpResourceMetrics[] = [];
  while (w.pos < end) {
    const tag = w.tag(end);
    if (tag >>> 3 === 1) {
      const e = w.message(tag, end, 'resource_metrics');
      resources.push(w.at(`resource_metrics[${resources.length}]`, () => resourceMetrics(w, e)));
    } else w.skip(tag & 7, end);
  }
  return { resources, points: w.points };
}

function resourceMetrics(w: Wire, end: number): M.OtlpResourceMetrics {
  let attributes: M.Attributes = [];
  const scopes: M.OtlpScopeMetrics[] = [];
  while (w.pos < end) {
    const tag = w.tag(end);
    switch (tag >>> 3) {
      case 1: {
        const e = w.message(tag, end, 'resource');
        attributes = w.at('resource', () => resource(w, e));
        break;
      }
      case 2: {
        const e = w.message(tag, end, 'scope_metrics');
        scopes.push(w.at(`scope_metrics[${scopes.length}]`, () => scopeMetrics(w, e)));
        break;
      }
      default:
        w.skip(tag & 7, end);
    }
  }
  return { attributes, scopes };
}

function resource(w: Wire, end: number): M.Attributes {
  const attrs: string[] = [];
  while (w.pos < end) {
    const tag = w.tag(end);
    if (tag >>> 3 === 1) keyValue(w, tag, end, attrs, 'attributes');
    else w.skip(tag & 7, end);
  }
  return attrs;
}

function scopeMetrics(w: Wire, end: number): M.OtlpScopeMetrics {
  let name = '';
  let version = '';
  let schemaUrl = '';
  let attributes: string[] = [];
  const metrics: M.OtlpMetric[] = [];
  while (w.pos < end) {
    const tag = w.tag(end);
    switch (tag >>> 3) {
      case 1: {
        const e = w.message(tag, end, 'scope');
        w.at('scope', () => {
          const attrs: string[] = [];
          while (w.pos < e) {
            const t = w.tag(e);
            const f = t >>> 3;
            if (f === 1) name = w.string(e, 'name');
            else if (f === 2) version = w.string(e, 'version');
            else if (f === 3) keyValue(w, t, e, attrs, 'attributes');
            else w.skip(t & 7, e);
          }
          attributes = attrs;
        });
        break;
      }
      case 2: {
        const e = w.message(tag, end, 'metrics');
        metrics.push(w.at(`metrics[${metrics.length}]`, () => metric(w, e)));
        break;
      }
      case 3:
        w.expect(tag, LEN, 'schema_url');
        schemaUrl = w.string(end, 'schema_url');
        break;
      default:
        w.skip(tag & 7, end);
    }
  }
  return { name, version, schemaUrl, attributes, metrics };
}

function metric(w: Wire, end: number): M.OtlpMetric {
  let name = '';
  let description = '';
  let unit = '';
  let data: M.MetricData | null = null;
  while (w.pos < end) {
    const tag = w.tag(end);
    switch (tag >>> 3) {
      case 1:
        w.expect(tag, LEN, 'name');
        name = w.string(end, 'name');
        break;
      case 2:
        w.expect(tag, LEN, 'description');
        description = w.string(end, 'description');
        break;
      case 3:
        w.expect(tag, LEN, 'unit');
        unit = w.string(end, 'unit');
        break;
      case 5:
        data = { type: 'gauge', points: dataField(w, tag, end, 'gauge', numberPoint).points };
        break;
      case 7: {
        const r = dataField(w, tag, end, 'sum', numberPoint);
        data = { type: 'sum', points: r.points, temporality: r.temporality, monotonic: r.monotonic };
        break;
      }
      case 9: {
        const r = dataField(w, tag, end, 'histogram', histogramPoint);
        data = { type: 'histogram', points: r.points, temporality: r.temporality };
        break;
      }
      case 10: {
        const r = dataField(w, tag, end, 'exponential_histogram', expHistogramPoint);
        data = { type: 'exponential_histogram', points: r.points, temporality: r.temporality };
        break;
      }
      case 11:
        data = { type: 'summary', points: dataField(w, tag, end, 'summary', summaryPoint).points };
        break;
      default:
        w.skip(tag & 7, end);
    }
  }
  return { name, description, unit, data };
}

/**
 * Gauge, Sum, Histogram, ExponentialHistogram and Summary share their layout: data_points = 1,
 * aggregation_temporality = 2 (not in gauges and summaries), Sum's is_monotonic = 3.
 */
/** One of a Metric's data fields (gauge, sum, ...), read with its name on the error path. */
function dataField<T>(
  w: Wire,
  tag: number,
  end: number,
  name: string,
  point: (w: Wire, end: number) => T,
): { points: T[]; temporality: number; monotonic: boolean } {
  const e = w.message(tag, end, name);
  return w.at(name, () => dataPoints(w, e, point));
}

function dataPoints<T>(
  w: Wire,
  end: number,
  point: (w: Wire, end: number) => T,
): { points: T[]; temporality: number; monotonic: boolean } {
  const points: T[] = [];
  let temporality = 0;
  let monotonic = false;
  while (w.pos < end) {
    const tag = w.tag(end);
    const f = tag >>> 3;
    if (f === 1) {
      const e = w.message(tag, end, 'data_points');
      points.push(w.at(`data_points[${points.length}]`, () => point(w, e)));
    } else if (f === 2) {
      w.expect(tag, VARINT, 'aggregation_temporality');
      temporality = w.int32(end);
    } else if (f === 3) {
      w.expect(tag, VARINT, 'is_monotonic');
      monotonic = w.varint(end) !== 0;
    } else w.skip(tag & 7, end);
  }
  return { points, temporality, monotonic };
}

/** Field numbers of what every data point type has, which differ between the types. */
interface PointLayout {
  readonly attributes: number;
  readonly flags: number;
  /** 0 = the type has no exemplars (summaries). */
  readonly exemplars: number;
  /** count = 4 (fixed64) and sum = 5 (double) for histograms and summaries; not for number points. */
  readonly countAndSum: boolean;
}

const NUMBER_POINT: PointLayout = { attributes: 7, flags: 8, exemplars: 5, countAndSum: false };
const HISTOGRAM_POINT: PointLayout = { attributes: 9, flags: 10, exemplars: 8, countAndSum: true };
const EXP_HISTOGRAM_POINT: PointLayout = { attributes: 1, flags: 10, exemplars: 11, countAndSum: true };
const SUMMARY_POINT: PointLayout = { attributes: 7, flags: 8, exemplars: 0, countAndSum: true };

/** The fields every point type shares, filled while its message is read. */
class PointFields {
  readonly attributes: string[] = [];
  readonly exemplars: M.OtlpExemplar[] = [];
  timeMs = 0;
  flags = 0;
  count = 0;
  sum: number | undefined = undefined;
}

/** Reads `tag` into `p` if it is one of the shared fields; false for a field of the type's own. */
function commonField(w: Wire, tag: number, end: number, layout: PointLayout, p: PointFields): boolean {
  const f = tag >>> 3;
  if (f === layout.attributes) keyValue(w, tag, end, p.attributes, 'attributes');
  else if (f === 3) {
    w.expect(tag, I64, 'time_unix_nano');
    p.timeMs = w.nanosToMs(end);
  } else if (f === layout.flags) {
    w.expect(tag, VARINT, 'flags');
    p.flags = w.varint(end);
  } else if (f === layout.exemplars) {
    const e = w.message(tag, end, 'exemplars');
    p.exemplars.push(w.at(`exemplars[${p.exemplars.length}]`, () => exemplar(w, e)));
  } else if (layout.countAndSum && f === 4) {
    w.expect(tag, I64, 'count');
    p.count = w.fixed64(end);
  } else if (layout.countAndSum && f === 5) {
    w.expect(tag, I64, 'sum');
    p.sum = w.double(end);
  } else return false;
  return true;
}

function numberPoint(w: Wire, end: number): M.NumberPoint {
  w.countPoint();
  const p = new PointFields();
  let value = 0;
  while (w.pos < end) {
    const tag = w.tag(end);
    if (commonField(w, tag, end, NUMBER_POINT, p)) continue;
    const f = tag >>> 3;
    if (f === 4) {
      w.expect(tag, I64, 'as_double');
      value = w.double(end);
    } else if (f === 6) {
      w.expect(tag, I64, 'as_int');
      value = w.sfixed64(end);
    } else w.skip(tag & 7, end);
  }
  return { attributes: p.attributes, timeMs: p.timeMs, flags: p.flags, value, exemplars: p.exemplars };
}

/** A repeated fixed64 or double field, packed (LEN) or one element (I64). */
function repeated64(w: Wire, tag: number, end: number, out: number[], read: (e: number) => number, name: string) {
  if ((tag & 7) === I64) {
    out.push(read(end));
    return;
  }
  if ((tag & 7) !== LEN) w.fail(`${name}: wire type ${tag & 7}, expected packed or fixed 64-bit values`);
  const e = w.len(end);
  if ((e - w.pos) % 8 !== 0) w.fail(`${name}: packed length ${e - w.pos} is not a multiple of 8`);
  while (w.pos < e) out.push(read(e));
}

function histogramPoint(w: Wire, end: number): M.HistogramPoint {
  w.countPoint();
  const p = new PointFields();
  const bucketCounts: number[] = [];
  const explicitBounds: number[] = [];
  while (w.pos < end) {
    const tag = w.tag(end);
    if (commonField(w, tag, end, HISTOGRAM_POINT, p)) continue;
    const f = tag >>> 3;
    if (f === 6) repeated64(w, tag, end, bucketCounts, (e) => w.fixed64(e), 'bucket_counts');
    else if (f === 7) repeated64(w, tag, end, explicitBounds, (e) => w.double(e), 'explicit_bounds');
    else w.skip(tag & 7, end);
  }
  return { ...pointBase(p), count: p.count, sum: p.sum, bucketCounts, explicitBounds, exemplars: p.exemplars };
}

function pointBase(p: PointFields): { attributes: string[]; timeMs: number; flags: number } {
  return { attributes: p.attributes, timeMs: p.timeMs, flags: p.flags };
}

const NO_BUCKETS: M.ExpBuckets = Object.freeze({ offset: 0, counts: [] });

function expBuckets(w: Wire, end: number): M.ExpBuckets {
  let offset = 0;
  const counts: number[] = [];
  while (w.pos < end) {
    const tag = w.tag(end);
    const f = tag >>> 3;
    if (f === 1) {
      w.expect(tag, VARINT, 'offset');
      offset = w.sint32(end);
    } else if (f === 2) {
      if ((tag & 7) === VARINT) counts.push(w.varint(end));
      else {
        const e = w.message(tag, end, 'bucket_counts');
        while (w.pos < e) counts.push(w.varint(e));
      }
    } else w.skip(tag & 7, end);
  }
  return { offset, counts };
}

function expHistogramPoint(w: Wire, end: number): M.ExpHistogramPoint {
  w.countPoint();
  const p = new PointFields();
  let scale = 0;
  let zeroCount = 0;
  let zeroThreshold = 0;
  let positive = NO_BUCKETS;
  let negative = NO_BUCKETS;
  while (w.pos < end) {
    const tag = w.tag(end);
    if (commonField(w, tag, end, EXP_HISTOGRAM_POINT, p)) continue;
    switch (tag >>> 3) {
      case 6:
        w.expect(tag, VARINT, 'scale');
        scale = w.sint32(end);
        break;
      case 7:
        w.expect(tag, I64, 'zero_count');
        zeroCount = w.fixed64(end);
        break;
      case 8: {
        const e = w.message(tag, end, 'positive');
        positive = w.at('positive', () => expBuckets(w, e));
        break;
      }
      case 9: {
        const e = w.message(tag, end, 'negative');
        negative = w.at('negative', () => expBuckets(w, e));
        break;
      }
      case 14:
        w.expect(tag, I64, 'zero_threshold');
        zeroThreshold = w.double(end);
        break;
      default:
        w.skip(tag & 7, end);
    }
  }
  return {
    ...pointBase(p),
    count: p.count,
    sum: p.sum,
    scale,
    zeroCount,
    zeroThreshold,
    positive,
    negative,
    exemplars: p.exemplars,
  };
}

function summaryPoint(w: Wire, end: number): M.SummaryPoint {
  w.countPoint();
  const p = new PointFields();
  const quantiles: { quantile: number; value: number }[] = [];
  while (w.pos < end) {
    const tag = w.tag(end);
    if (commonField(w, tag, end, SUMMARY_POINT, p)) continue;
    if (tag >>> 3 !== 6) {
      w.skip(tag & 7, end);
      continue;
    }
    const e = w.message(tag, end, 'quantile_values');
    let quantile = 0;
    let value = 0;
    while (w.pos < e) {
      const t = w.tag(e);
      const f = t >>> 3;
      if (f === 1) {
        w.expect(t, I64, 'quantile');
        quantile = w.double(e);
      } else if (f === 2) {
        w.expect(t, I64, 'value');
        value = w.double(e);
      } else w.skip(t & 7, e);
    }
    quantiles.push({ quantile, value });
  }
  return { ...pointBase(p), count: p.count, sum: p.sum ?? 0, quantiles };
}

function exemplar(w: Wire, end: number): M.OtlpExemplar {
  const attributes: string[] = [];
  let timeMs = 0;
  let value = 0;
  let traceId = '';
  let spanId = '';
  while (w.pos < end) {
    const tag = w.tag(end);
    switch (tag >>> 3) {
      case 7:
        keyValue(w, tag, end, attributes, 'filtered_attributes');
        break;
      case 2:
        w.expect(tag, I64, 'time_unix_nano');
        timeMs = w.nanosToMs(end);
        break;
      case 3:
        w.expect(tag, I64, 'as_double');
        value = w.double(end);
        break;
      case 6:
        w.expect(tag, I64, 'as_int');
        value = w.sfixed64(end);
        break;
      case 4:
        w.expect(tag, LEN, 'span_id');
        spanId = Buffer.from(w.bytes(end)).toString('hex');
        break;
      case 5:
        w.expect(tag, LEN, 'trace_id');
        traceId = Buffer.from(w.bytes(end)).toString('hex');
        break;
      default:
        w.skip(tag & 7, end);
    }
  }
  return { attributes, timeMs, value, traceId, spanId };
}

/** One KeyValue of a repeated attributes field, appended to `out` as key, value-as-string. */
function keyValue(w: Wire, tag: number, end: number, out: string[], field: string): void {
  const e = w.message(tag, end, field);
  const index = out.length / 2;
  if (index >= w.limits.maxAttributes) w.fail(`${field}: more than ${w.limits.maxAttributes} attributes in one set`);
  w.at(`${field}[${index}]`, () => {
    let key = '';
    let value: RawValue = EMPTY_VALUE;
    while (w.pos < e) {
      const t = w.tag(e);
      const f = t >>> 3;
      if (f === 1) {
        w.expect(t, LEN, 'key');
        key = w.string(e, 'key');
      } else if (f === 2) {
        const ve = w.message(t, e, 'value');
        value = w.at('value', () => anyValue(w, ve, 0));
      } else w.skip(t & 7, e);
    }
    const text = anyValueString(value);
    if (text.length > w.limits.maxAttributeBytes && Buffer.byteLength(text) > w.limits.maxAttributeBytes)
      w.fail(`value of "${key.slice(0, 64)}" is longer than the ${w.limits.maxAttributeBytes} bytes allowed`);
    out.push(key, text);
  });
}

function anyValue(w: Wire, end: number, depth: number): RawValue {
  if (depth > MAX_VALUE_DEPTH) w.fail(`values nested more than ${MAX_VALUE_DEPTH} deep`);
  let v: RawValue = EMPTY_VALUE;
  while (w.pos < end) {
    const tag = w.tag(end);
    switch (tag >>> 3) {
      case 1:
        w.expect(tag, LEN, 'string_value');
        v = { kind: 'string', value: w.string(end, 'string_value') };
        break;
      case 2:
        w.expect(tag, VARINT, 'bool_value');
        v = { kind: 'bool', value: w.varint(end) !== 0 };
        break;
      case 3:
        w.expect(tag, VARINT, 'int_value');
        v = { kind: 'int', value: w.int64Text(end) };
        break;
      case 4:
        w.expect(tag, I64, 'double_value');
        v = { kind: 'double', value: w.double(end) };
        break;
      case 5: {
        const e = w.message(tag, end, 'array_value');
        const values: RawValue[] = [];
        while (w.pos < e) {
          const t = w.tag(e);
          if (t >>> 3 === 1) {
            const ve = w.message(t, e, 'values');
            values.push(anyValue(w, ve, depth + 1));
          } else w.skip(t & 7, e);
        }
        v = { kind: 'array', values };
        break;
      }
      case 6: {
        const e = w.message(tag, end, 'kvlist_value');
        const entries: [string, RawValue][] = [];
        while (w.pos < e) {
          const t = w.tag(e);
          if (t >>> 3 !== 1) {
            w.skip(t & 7, e);
            continue;
          }
          const ke = w.message(t, e, 'values');
          let key = '';
          let val: RawValue = EMPTY_VALUE;
          while (w.pos < ke) {
            const t2 = w.tag(ke);
            if (t2 >>> 3 === 1) {
              w.expect(t2, LEN, 'key');
              key = w.string(ke, 'key');
            } else if (t2 >>> 3 === 2) {
              const ve = w.message(t2, ke, 'value');
              val = anyValue(w, ve, depth + 1);
            } else w.skip(t2 & 7, ke);
          }
          entries.push([key, val]);
        }
        v = { kind: 'kvlist', entries };
        break;
      }
      case 7:
        w.expect(tag, LEN, 'bytes_value');
        v = { kind: 'bytes', value: w.bytes(end) };
        break;
      default:
        w.skip(tag & 7, end);
    }
  }
  return v;
}

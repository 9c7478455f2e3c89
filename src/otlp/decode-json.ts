/**
 * OTLP/JSON (the protobuf JSON mapping with OTLP's exceptions): lowerCamelCase field names (snake_case
 * accepted too, as the Go collector does), 64-bit integers as strings or numbers, enums as numbers or
 * names, trace and span ids as hex, bytes_value as base64, NaN and infinities as strings. Shapes are
 * checked field by field, so a wrong type names its place instead of turning into a zero.
 */
import { EMPTY_VALUE, anyValueString, type RawValue } from './any-value.ts';
import { OtlpRequestError, tooManyPoints } from './errors.ts';
import type * as M from './model.ts';

type Obj = Readonly<Record<string, unknown>>;

const TEMPORALITY_NAMES: Readonly<Record<string, number>> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};

const MAX_VALUE_DEPTH = 32;

class JsonReader {
  readonly limits: M.DecodeLimits;
  points = 0;
  constructor(limits: M.DecodeLimits) {
    this.limits = limits;
  }

  fail(path: string, message: string): never {
    throw new OtlpRequestError(400, `invalid OTLP/JSON at ${path || 'the top level'}: ${message}`);
  }

  obj(v: unknown, path: string): Obj {
    if (v === null || v === undefined) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(path, `expected an object, got ${kind(v)}`);
    return v as Obj;
  }

  arr(v: unknown, path: string): readonly unknown[] {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${kind(v)}`);
    return v;
  }

  str(v: unknown, path: string): string {
    if (v === null || v === undefined) return '';
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${kind(v)}`);
    if (v.length > this.limits.maxAttributeBytes && Buffer.byteLength(v) > this.limits.maxAttributeBytes)
      this.fail(path, `string is longer than the ${this.limits.maxAttributeBytes} bytes allowed`);
    return v;
  }

  bool(v: unknown, path: string): boolean {
    if (v === null || v === undefined) return false;
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, got ${kind(v)}`);
    return v;
  }

  /** A double: a number or "NaN", "Infinity", "-Infinity" (or a decimal string, as protojson accepts). */
  double(v: unknown, path: string): number {
    if (v === null || v === undefined) return 0;
    if (typeof v === 'number') return v;
    if (typeof v === 'string') {
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      const n = Number(v);
      if (v.trim() !== '' && !Number.isNaN(n)) return n;
    }
    this.fail(path, `expected a number, got ${kind(v)}`);
  }

  /** An unsigned 64-bit integer (a string of digits or a number) as a double. */
  uint(v: unknown, path: string): number {
    if (v === null || v === undefined) return 0;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return Number(v);
    this.fail(path, `expected an unsigned integer (a string of digits), got ${kind(v)}`);
  }

  /** A signed 64-bit integer as exact decimal text. */
  intText(v: unknown, path: string): string {
    if (typeof v === 'number' && Number.isInteger(v)) return String(v);
    if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) {
      const b = BigInt(v);
      if (b >= -(2n ** 63n) && b < 2n ** 63n) return b.toString();
    }
    this.fail(path, `expected a 64-bit integer, got ${kind(v)}`);
  }

  int(v: unknown, path: string): number {
    if (v === null || v === undefined) return 0;
    return Number(this.intText(v, path));
  }

  /** Unix nanoseconds (string or number) as whole milliseconds, exactly. */
  nanosToMs(v: unknown, path: string): number {
    if (v === null || v === undefined) return 0;
    if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return v.length <= 6 ? 0 : Number(v.slice(0, -6));
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return Math.floor(v / 1e6);
    this.fail(path, `expected a timestamp in nanoseconds (a string of digits), got ${kind(v)}`);
  }

  enumValue(v: unknown, path: string): number {
    if (v === null || v === undefined) return 0;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    const named = typeof v === 'string' && Object.hasOwn(TEMPORALITY_NAMES, v) ? TEMPORALITY_NAMES[v] : undefined;
    if (named !== undefined) return named;
    this.fail(path, `expected an aggregation temporality (0, 1, 2 or its name), got ${kind(v)}`);
  }

  hexId(v: unknown, path: string, bytes: number): string {
    if (v === null || v === undefined || v === '') return '';
    if (typeof v !== 'string' || !/^[0-9a-fA-F]*$/.test(v) || v.length !== bytes * 2)
      this.fail(path, `expected ${bytes * 2} hex digits, got ${kind(v)}`);
    return v.toLowerCase();
  }

  countPoint(): void {
    if (++this.points > this.limits.maxPoints) throw tooManyPoints(this.limits.maxPoints);
  }
}

/** A field by its lowerCamelCase name or its proto (snake_case) name. */
function field(o: Obj, camel: string, snake?: string): unknown {
  const v = o[camel];
  if (v !== undefined || snake === undefined) return v;
  return o[snake];
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Decodes an OTLP/JSON ExportMetricsServiceRequest; throws OtlpRequestError (400 or 413). */
export function decodeJsonRequest(text: string, limits: M.DecodeLimits): M.OtlpRequest {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new OtlpRequestError(400, `invalid OTLP/JSON: ${(err as Error).message}`);
  }
  const r = new JsonReader(limits);
  const top = r.obj(root, '');
  const resources: M.OtlpResourceMetrics[] = [];
  const list = r.arr(field(top, 'resourceMetrics', 'resource_metrics'), 'resourceMetrics');
  for (let i = 0; i < list.length; i++) resources.push(resourceMetrics(r, list[i], `resourceMetrics[${i}]`));
  return { resources, points: r.points };
}

function resourceMetrics(r: JsonReader, v: unknown, path: string): M.OtlpResourceMetrics {
  const o = r.obj(v, path);
  const res = r.obj(o.resource, `${path}.resource`);
  const attributes = attrs(r, res.attributes, `${path}.resource.attributes`);
  const list = r.arr(field(o, 'scopeMetrics', 'scope_metrics'), `${path}.scopeMetrics`);
  const scopes: M.OtlpScopeMetrics[] = [];
  for (let i = 0; i < list.length; i++) scopes.push(scopeMetrics(r, list[i], `${path}.scopeMetrics[${i}]`));
  return { attributes, scopes };
}

function scopeMetrics(r: JsonReader, v: unknown, path: string): M.OtlpScopeMetrics {
  const o = r.obj(v, path);
  const scope = r.obj(o.scope, `${path}.scope`);
  const list = r.arr(o.metrics, `${path}.metrics`);
  const metrics: M.OtlpMetric[] = [];
  for (let i = 0; i < list.length; i++) metrics.push(metric(r, list[i], `${path}.metrics[${i}]`));
  return {
    name: r.str(scope.name, `${path}.scope.name`),
    version: r.str(scope.version, `${path}.scope.version`),
    schemaUrl: r.str(field(o, 'schemaUrl', 'schema_url'), `${path}.schemaUrl`),
    attributes: attrs(r, scope.attributes, `${path}.scope.attributes`),
    metrics,
  };
}

function metric(r: JsonReader, v: unknown, path: string): M.OtlpMetric {
  const o = r.obj(v, path);
  let data: M.MetricData | null = null;
  if (o.gauge != null) {
    const g = r.obj(o.gauge, `${path}.gauge`);
    data = { type: 'gauge', points: points(r, g, `${path}.gauge`, numberPoint) };
  } else if (o.sum != null) {
    const s = r.obj(o.sum, `${path}.sum`);
    data = {
      type: 'sum',
      ...aggregated(r, s, `${path}.sum`, numberPoint),
      monotonic: r.bool(field(s, 'isMonotonic', 'is_monotonic'), `${path}.sum.isMonotonic`),
    };
  } else if (o.histogram != null) {
    const h = r.obj(o.histogram, `${path}.histogram`);
    data = { type: 'histogram', ...aggregated(r, h, `${path}.histogram`, histogramPoint) };
  } else if (field(o, 'exponentialHistogram', 'exponential_histogram') != null) {
    const p = `${path}.exponentialHistogram`;
    const h = r.obj(field(o, 'exponentialHistogram', 'exponential_histogram'), p);
    data = { type: 'exponential_histogram', ...aggregated(r, h, p, expHistogramPoint) };
  } else if (o.summary != null) {
    const s = r.obj(o.summary, `${path}.summary`);
    data = { type: 'summary', points: points(r, s, `${path}.summary`, summaryPoint) };
  }
  return {
    name: r.str(o.name, `${path}.name`),
    description: r.str(o.description, `${path}.description`),
    unit: r.str(o.unit, `${path}.unit`),
    data,
  };
}

/** The points and aggregation temporality of a sum, histogram or exponential histogram. */
function aggregated<T>(
  r: JsonReader,
  o: Obj,
  path: string,
  one: (r: JsonReader, p: Obj, path: string) => T,
): { points: T[]; temporality: number } {
  // Points before the temporality: a request with both wrong is refused for its points, as it was.
  const list = points(r, o, path, one);
  const temporality = r.enumValue(
    field(o, 'aggregationTemporality', 'aggregation_temporality'),
    `${path}.aggregationTemporality`,
  );
  return { points: list, temporality };
}

function points<T>(r: JsonReader, o: Obj, path: string, one: (r: JsonReader, p: Obj, path: string) => T): T[] {
  const list = r.arr(field(o, 'dataPoints', 'data_points'), `${path}.dataPoints`);
  const out: T[] = [];
  for (let i = 0; i < list.length; i++) {
    const p = `${path}.dataPoints[${i}]`;
    r.countPoint();
    out.push(one(r, r.obj(list[i], p), p));
  }
  return out;
}

function base(r: JsonReader, o: Obj, path: string, attrName = 'attributes') {
  return {
    attributes: attrs(r, o[attrName], `${path}.${attrName}`),
    timeMs: r.nanosToMs(field(o, 'timeUnixNano', 'time_unix_nano'), `${path}.timeUnixNano`),
    flags: r.int(o.flags, `${path}.flags`),
  };
}

function numberPoint(r: JsonReader, o: Obj, path: string): M.NumberPoint {
  const asInt = field(o, 'asInt', 'as_int');
  const value =
    asInt !== undefined && asInt !== null
      ? r.int(asInt, `${path}.asInt`)
      : r.double(field(o, 'asDouble', 'as_double'), `${path}.asDouble`);
  return { ...base(r, o, path), value, exemplars: exemplars(r, o.exemplars, `${path}.exemplars`) };
}

function optionalDouble(r: JsonReader, v: unknown, path: string): number | undefined {
  return v === undefined || v === null ? undefined : r.double(v, path);
}

function numbers(r: JsonReader, v: unknown, path: string, read: (v: unknown, path: string) => number): number[] {
  const list = r.arr(v, path);
  const out: number[] = [];
  for (let i = 0; i < list.length; i++) out.push(read(list[i], `${path}[${i}]`));
  return out;
}

function histogramPoint(r: JsonReader, o: Obj, path: string): M.HistogramPoint {
  return {
    ...base(r, o, path),
    count: r.uint(o.count, `${path}.count`),
    sum: optionalDouble(r, o.sum, `${path}.sum`),
    bucketCounts: numbers(r, field(o, 'bucketCounts', 'bucket_counts'), `${path}.bucketCounts`, (v, p) => r.uint(v, p)),
    explicitBounds: numbers(r, field(o, 'explicitBounds', 'explicit_bounds'), `${path}.explicitBounds`, (v, p) =>
      r.double(v, p),
    ),
    exemplars: exemplars(r, o.exemplars, `${path}.exemplars`),
  };
}

function expBuckets(r: JsonReader, v: unknown, path: string): M.ExpBuckets {
  const o = r.obj(v, path);
  return {
    offset: r.int(o.offset, `${path}.offset`),
    counts: numbers(r, field(o, 'bucketCounts', 'bucket_counts'), `${path}.bucketCounts`, (x, p) => r.uint(x, p)),
  };
}

function expHistogramPoint(r: JsonReader, o: Obj, path: string): M.ExpHistogramPoint {
  return {
    ...base(r, o, path),
    count: r.uint(o.count, `${path}.count`),
    sum: optionalDouble(r, o.sum, `${path}.sum`),
    scale: r.int(o.scale, `${path}.scale`),
    zeroCount: r.uint(field(o, 'zeroCount', 'zero_count'), `${path}.zeroCount`),
    zeroThreshold: r.double(field(o, 'zeroThreshold', 'zero_threshold'), `${path}.zeroThreshold`),
    positive: expBuckets(r, o.positive, `${path}.positive`),
    negative: expBuckets(r, o.negative, `${path}.negative`),
    exemplars: exemplars(r, o.exemplars, `${path}.exemplars`),
  };
}

function summaryPoint(r: JsonReader, o: Obj, path: string): M.SummaryPoint {
  const list = r.arr(field(o, 'quantileValues', 'quantile_values'), `${path}.quantileValues`);
  const quantiles: { quantile: number; value: number }[] = [];
  for (let i = 0; i < list.length; i++) {
    const p = `${path}.quantileValues[${i}]`;
    const q = r.obj(list[i], p);
    quantiles.push({ quantile: r.double(q.quantile, `${p}.quantile`), value: r.double(q.value, `${p}.value`) });
  }
  return {
    ...base(r, o, path),
    count: r.uint(o.count, `${path}.count`),
    sum: r.double(o.sum, `${path}.sum`),
    quantiles,
  };
}

function exemplars(r: JsonReader, v: unknown, path: string): M.OtlpExemplar[] {
  const list = r.arr(v, path);
  const out: M.OtlpExemplar[] = [];
  for (let i = 0; i < list.length; i++) {
    const p = `${path}[${i}]`;
    const o = r.obj(list[i], p);
    const asInt = field(o, 'asInt', 'as_int');
    out.push({
      attributes: attrs(r, field(o, 'filteredAttributes', 'filtered_attributes'), `${p}.filteredAttributes`),
      timeMs: r.nanosToMs(field(o, 'timeUnixNano', 'time_unix_nano'), `${p}.timeUnixNano`),
      value:
        asInt !== undefined && asInt !== null
          ? r.int(asInt, `${p}.asInt`)
          : r.double(field(o, 'asDouble', 'as_double'), `${p}.asDouble`),
      traceId: r.hexId(field(o, 'traceId', 'trace_id'), `${p}.traceId`, 16),
      spanId: r.hexId(field(o, 'spanId', 'span_id'), `${p}.spanId`, 8),
    });
  }
  return out;
}

function attrs(r: JsonReader, v: unknown, path: string): M.Attributes {
  const list = r.arr(v, path);
  if (list.length > r.limits.maxAttributes) r.fail(path, `more than ${r.limits.maxAttributes} attributes in one set`);
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const p = `${path}[${i}]`;
    const kv = r.obj(list[i], p);
    const key = r.str(kv.key, `${p}.key`);
    const text = anyValueString(anyValue(r, kv.value, `${p}.value`, 0));
    if (text.length > r.limits.maxAttributeBytes && Buffer.byteLength(text) > r.limits.maxAttributeBytes)
      r.fail(p, `value of "${key.slice(0, 64)}" is longer than the ${r.limits.maxAttributeBytes} bytes allowed`);
    out.push(key, text);
  }
  return out;
}

function anyValue(r: JsonReader, v: unknown, path: string, depth: number): RawValue {
  if (depth > MAX_VALUE_DEPTH) r.fail(path, `values nested more than ${MAX_VALUE_DEPTH} deep`);
  const o = r.obj(v, path);
  let x: unknown;
  if ((x = field(o, 'stringValue', 'string_value')) !== undefined)
    return { kind: 'string', value: r.str(x, `${path}.stringValue`) };
  if ((x = field(o, 'boolValue', 'bool_value')) !== undefined)
    return { kind: 'bool', value: r.bool(x, `${path}.boolValue`) };
  if ((x = field(o, 'intValue', 'int_value')) !== undefined)
    return { kind: 'int', value: r.intText(x, `${path}.intValue`) };
  if ((x = field(o, 'doubleValue', 'double_value')) !== undefined)
    return { kind: 'double', value: r.double(x, `${path}.doubleValue`) };
  if ((x = field(o, 'bytesValue', 'bytes_value')) !== undefined) {
    const s = r.str(x, `${path}.bytesValue`);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) r.fail(`${path}.bytesValue`, 'expected base64');
    return { kind: 'bytes', value: Buffer.from(s, 'base64') };
  }
  if ((x = field(o, 'arrayValue', 'array_value')) !== undefined) {
    const list = r.arr(r.obj(x, `${path}.arrayValue`).values, `${path}.arrayValue.values`);
    return {
      kind: 'array',
      values: list.map((e, i) => anyValue(r, e, `${path}.arrayValue.values[${i}]`, depth + 1)),
    };
  }
  if ((x = field(o, 'kvlistValue', 'kvlist_value')) !== undefined) {
    const list = r.arr(r.obj(x, `${path}.kvlistValue`).values, `${path}.kvlistValue.values`);
    return {
      kind: 'kvlist',
      entries: list.map((e, i) => {
        const p = `${path}.kvlistValue.values[${i}]`;
        const kv = r.obj(e, p);
        return [r.str(kv.key, `${p}.key`), anyValue(r, kv.value, `${p}.value`, depth + 1)] as const;
      }),
    };
  }
  return EMPTY_VALUE;
}

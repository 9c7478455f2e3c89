/**
 * OTLP requests for tests and the benchmark: the opentelemetry-proto metrics schema (metrics/v1, common/v1,
 * resource/v1, collector/metrics/v1) for protobufjs, and one way to write a request (the OTLP/JSON
 * object form) that becomes both encodings: `otlpJson(req)` as a client would send it and
 * `otlpProto(req)` with ids turned from hex into bytes, as the protobuf mapping wants them.
 */
import protobuf from 'protobufjs';
import http from 'node:http';
import zlib from 'node:zlib';

const OTLP_PROTO = `
syntax = "proto3";
package otlp;

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }
message Status { int32 code = 1; string message = 2; }

message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }

message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message Metric {
  string name = 1; string description = 2; string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; ExponentialHistogram exponential_histogram = 10; Summary summary = 11; }
  repeated KeyValue metadata = 12;
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message ExponentialHistogram { repeated ExponentialHistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Summary { repeated SummaryDataPoint data_points = 1; }
message NumberDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  repeated Exemplar exemplars = 5; uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4;
  optional double sum = 5; repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7;
  repeated Exemplar exemplars = 8; uint32 flags = 10; optional double min = 11; optional double max = 12;
}
message ExponentialHistogramDataPoint {
  repeated KeyValue attributes = 1; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4;
  optional double sum = 5; sint32 scale = 6; fixed64 zero_count = 7; Buckets positive = 8; Buckets negative = 9;
  message Buckets { sint32 offset = 1; repeated uint64 bucket_counts = 2; }
  uint32 flags = 10; repeated Exemplar exemplars = 11; optional double min = 12; optional double max = 13;
  double zero_threshold = 14;
}
message SummaryDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4;
  double sum = 5;
  message ValueAtQuantile { double quantile = 1; double value = 2; }
  repeated ValueAtQuantile quantile_values = 6; uint32 flags = 8;
}
message Exemplar {
  repeated KeyValue filtered_attributes = 7; fixed64 time_unix_nano = 2;
  oneof value { double as_double = 3; sfixed64 as_int = 6; }
  bytes span_id = 4; bytes trace_id = 5;
}
`;

const root = protobuf.parse(OTLP_PROTO, { keepCase: false }).root;
const otlpTypes = {
  Request: root.lookupType('otlp.ExportMetricsServiceRequest'),
  Response: root.lookupType('otlp.ExportMetricsServiceResponse'),
  Status: root.lookupType('otlp.Status'),
} as const;

/** An OTLP/JSON request object (camelCase, ids in hex). */
export type OtlpJsonRequest = { resourceMetrics: unknown[] };

export function otlpJson(req: OtlpJsonRequest): string {
  return JSON.stringify(req);
}

/** Hex ids to bytes and "NaN"-style strings to numbers: the protobufjs object form of the same request. */
function protoForm(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((e) => protoForm(e));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) out[k] = protoForm(e, k);
    return out;
  }
  if ((key === 'traceId' || key === 'spanId') && typeof v === 'string') return Buffer.from(v, 'hex');
  if (key === 'bytesValue' && typeof v === 'string') return Buffer.from(v, 'base64');
  if (typeof v === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(v)) return Number(v);
  return v;
}

export function otlpProto(req: OtlpJsonRequest): Buffer {
  const msg = otlpTypes.Request.fromObject(protoForm(req) as Record<string, unknown>);
  return Buffer.from(otlpTypes.Request.encode(msg).finish());
}

/** Attributes from a record: string values, or {intValue: ...}-style AnyValues as given. */
export function kv(attrs: Record<string, unknown>): { key: string; value: unknown }[] {
  return Object.entries(attrs).map(([key, v]) => ({
    key,
    value: typeof v === 'string' ? { stringValue: v } : v,
  }));
}

/** One resource with one scope holding `metrics`. */
export function oneResource(resource: Record<string, unknown>, metrics: unknown[], scope: unknown = {}) {
  return { resourceMetrics: [{ resource: { attributes: kv(resource) }, scopeMetrics: [{ scope, metrics }] }] };
}

/** ms to the nanosecond string OTLP/JSON carries. */
export function nanos(ms: number): string {
  return `${BigInt(ms) * 1_000_000n}`;
}

export interface OtlpResponse {
  status: number;
  contentType: string;
  body: Buffer;
  /** Decoded ExportMetricsServiceResponse or Status, whichever the status implies. */
  json: Record<string, unknown>;
}

/** POSTs a body to an OTLP endpoint on 127.0.0.1 and decodes the answer in the encoding it came in. */
export async function postOtlp(
  url: string,
  body: Buffer | string,
  opts: { type?: string; gzip?: boolean; headers?: Record<string, string> } = {},
): Promise<OtlpResponse> {
  const type = opts.type ?? (typeof body === 'string' ? 'application/json' : 'application/x-protobuf');
  let data = typeof body === 'string' ? Buffer.from(body) : body;
  const headers: Record<string, string> = { 'Content-Type': type, ...opts.headers };
  if (opts.gzip) {
    data = zlib.gzipSync(data);
    headers['Content-Encoding'] = 'gzip';
  }
  const r = await new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    });
    // The server may answer and close before it read everything (413): that is not a test failure.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    req.end(data);
  });
  let json: Record<string, unknown> = {};
  if (r.type.startsWith('application/json')) json = JSON.parse(r.body.toString()) as Record<string, unknown>;
  else if (r.type.startsWith('application/x-protobuf')) {
    const t = r.status === 200 ? otlpTypes.Response : otlpTypes.Status;
    json = t.toObject(t.decode(r.body), { longs: String, defaults: false }) as Record<string, unknown>;
  }
  return { status: r.status, contentType: r.type, body: r.body, json };
}

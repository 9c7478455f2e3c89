/**
 * client_model's io.prometheus.client metrics.proto for protobufjs, and an encoder of delimited
 * MetricFamily bodies (what a target serves as `application/vnd.google.protobuf;
 * proto=io.prometheus.client.MetricFamily; encoding=delimited`). Tests, fixtures and the benchmarks
 * write protobuf exposition with it; the agent decodes by hand (src/textparse/protobuf.ts).
 */
import protobuf from 'protobufjs';

const METRICS_PROTO = `
syntax = "proto3";
package io.prometheus.client;

message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message LabelPair { string name = 1; string value = 2; }
enum MetricType { COUNTER = 0; GAUGE = 1; SUMMARY = 2; UNTYPED = 3; HISTOGRAM = 4; GAUGE_HISTOGRAM = 5; }
message Gauge { double value = 1; }
message Counter { double value = 1; Exemplar exemplar = 2; Timestamp start_timestamp = 3; }
message Quantile { double quantile = 1; double value = 2; }
message Summary {
  uint64 sample_count = 1;
  double sample_sum = 2;
  repeated Quantile quantile = 3;
  Timestamp start_timestamp = 4;
}
message Untyped { double value = 1; }
message Histogram {
  uint64 sample_count = 1;
  double sample_count_float = 4;
  double sample_sum = 2;
  repeated Bucket bucket = 3;
  Timestamp start_timestamp = 15;
  sint32 schema = 5;
  double zero_threshold = 6;
  uint64 zero_count = 7;
  double zero_count_float = 8;
  repeated BucketSpan negative_span = 9;
  repeated sint64 negative_delta = 10;
  repeated double negative_count = 11;
  repeated BucketSpan positive_span = 12;
  repeated sint64 positive_delta = 13;
  repeated double positive_count = 14;
  repeated Exemplar exemplars = 16;
}
message Bucket {
  uint64 cumulative_count = 1;
  double cumulative_count_float = 4;
  double upper_bound = 2;
  Exemplar exemplar = 3;
}
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message Exemplar { repeated LabelPair label = 1; double value = 2; Timestamp timestamp = 3; }
message Metric {
  repeated LabelPair label = 1;
  Gauge gauge = 2;
  Counter counter = 3;
  Summary summary = 4;
  Untyped untyped = 5;
  Histogram histogram = 7;
  int64 timestamp_ms = 6;
}
message MetricFamily {
  string name = 1;
  string help = 2;
  MetricType type = 3;
  repeated Metric metric = 4;
  string unit = 5;
}
`;

const root = protobuf.parse(METRICS_PROTO, { keepCase: true }).root;
const MetricFamily = root.lookupType('io.prometheus.client.MetricFamily');

export const PROTOBUF_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** Plain objects in metrics.proto's field names (snake_case); `type` may be the enum's name. */
export type MetricFamilyObject = Record<string, unknown>;

/** A delimited body: each family as a varint length and its message. */
export function encodeFamilies(families: readonly MetricFamilyObject[]): Buffer {
  const w = protobuf.Writer.create();
  for (const f of families) {
    const msg = MetricFamily.fromObject(f);
    w.bytes(MetricFamily.encode(msg).finish());
  }
  return Buffer.from(w.finish());
}

/** One family's message without the length prefix (for building broken bodies). */
export function encodeFamily(family: MetricFamilyObject): Buffer {
  return Buffer.from(MetricFamily.encode(MetricFamily.fromObject(family)).finish());
}

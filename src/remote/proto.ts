/**
 * Remote-write wire constants shared by the encoder and the client. The protobuf schemas and the
 * decoders live with the tests (test/helpers/rw-proto.ts): the agent only encodes, by hand.
 */

/** MetricMetadata.MetricType (RW1) and Metadata.MetricType (RW2) share these numbers. */
export const MetricType = {
  UNKNOWN: 0,
  COUNTER: 1,
  GAUGE: 2,
  HISTOGRAM: 3,
  GAUGEHISTOGRAM: 4,
  SUMMARY: 5,
  INFO: 6,
  STATESET: 7,
} as const;

/** Prometheus' stale marker, 0x7ff0000000000002, as two 32-bit halves. */
export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;

export const RW1_CONTENT_TYPE = 'application/x-protobuf';
export const RW2_CONTENT_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';
export const RW1_VERSION = '0.1.0';
export const RW2_VERSION = '2.0.0';

/**
 * An OTLP metrics export request as the receiver needs it, whichever encoding it came in. Attribute
 * values are already turned into strings as the Go collector's pcommon.Value.AsString does, which is
 * what Prometheus' translator puts into labels; attributes are flat [key, value, key, value, ...] in
 * the order they were sent.
 */
export type Attributes = readonly string[];

export const Temporality = { unspecified: 0, delta: 1, cumulative: 2 } as const;

/** DataPointFlags.NO_RECORDED_VALUE: the point marks the series as gone (a stale marker). */
export const NO_RECORDED_VALUE = 1;

export interface OtlpExemplar {
  readonly attributes: Attributes;
  /** ms since epoch, 0 = none. */
  readonly timeMs: number;
  readonly value: number;
  /** Lower-case hex, '' = none. */
  readonly traceId: string;
  readonly spanId: string;
}

interface PointBase {
  readonly attributes: Attributes;
  /** ms since epoch (the nanoseconds cut to ms, as Prometheus does). */
  readonly timeMs: number;
  readonly flags: number;
}

export interface NumberPoint extends PointBase {
  readonly value: number;
  readonly exemplars: readonly OtlpExemplar[];
}

export interface HistogramPoint extends PointBase {
  readonly count: number;
  /** undefined = the optional sum was not sent. */
  readonly sum: number | undefined;
  readonly bucketCounts: readonly number[];
  readonly explicitBounds: readonly number[];
  readonly exemplars: readonly OtlpExemplar[];
}

export interface ExpBuckets {
  readonly offset: number;
  readonly counts: readonly number[];
}

export interface ExpHistogramPoint extends PointBase {
  readonly count: number;
  readonly sum: number | undefined;
  readonly scale: number;
  readonly zeroCount: number;
  readonly zeroThreshold: number;
  readonly positive: ExpBuckets;
  readonly negative: ExpBuckets;
  readonly exemplars: readonly OtlpExemplar[];
}

export interface SummaryPoint extends PointBase {
  readonly count: number;
  readonly sum: number;
  readonly quantiles: readonly { readonly quantile: number; readonly value: number }[];
}

export type MetricData =
  | { readonly type: 'gauge'; readonly points: readonly NumberPoint[] }
  | {
      readonly type: 'sum';
      readonly points: readonly NumberPoint[];
      readonly temporality: number;
      readonly monotonic: boolean;
    }
  | { readonly type: 'histogram'; readonly points: readonly HistogramPoint[]; readonly temporality: number }
  | {
      readonly type: 'exponential_histogram';
      readonly points: readonly ExpHistogramPoint[];
      readonly temporality: number;
    }
  | { readonly type: 'summary'; readonly points: readonly SummaryPoint[] };

export interface OtlpMetric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  /** null = the metric carried no data field (Prometheus: "unsupported metric type"). */
  readonly data: MetricData | null;
}

export interface OtlpScopeMetrics {
  readonly name: string;
  readonly version: string;
  readonly schemaUrl: string;
  readonly attributes: Attributes;
  readonly metrics: readonly OtlpMetric[];
}

export interface OtlpResourceMetrics {
  readonly attributes: Attributes;
  readonly scopes: readonly OtlpScopeMetrics[];
}

export interface OtlpRequest {
  readonly resources: readonly OtlpResourceMetrics[];
  /** Data points in the request (every type), counted while decoding. */
  readonly points: number;
}

/** What a request may hold at most; decoding stops at the first excess, so memory stays bounded. */
export interface DecodeLimits {
  readonly maxPoints: number;
  /** Attributes in one set (a resource's, a scope's, a point's, an exemplar's). */
  readonly maxAttributes: number;
  /** Bytes of one attribute key or value after conversion to a string. */
  readonly maxAttributeBytes: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxPoints: 50_000,
  maxAttributes: 512,
  maxAttributeBytes: 64 * 1024,
});

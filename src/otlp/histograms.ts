/**
 * OTLP histograms as Prometheus native histograms, as 3.x's prometheusremotewrite/histograms.go builds
 * them: exponential histograms (scale = schema, scaled down past 8, offsets moved by one because OTLP's
 * bucket 0 is (1, base] and Prometheus' is (base⁻¹, 1]) and explicit-bucket histograms as custom buckets
 * (schema -53, bounds as custom values). Counts are integers; the reset hint is unknown, gauge for deltas.
 * A NO_RECORDED_VALUE point becomes the series' staleness marker (Prometheus puts the stale NaN in its sum).
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type Histogram, type HistogramSpan } from '../storage/histogram.ts';
import { OtlpTranslationError } from './errors.ts';
import type { ExpHistogramPoint, HistogramPoint } from './model.ts';
import { NO_RECORDED_VALUE, Temporality } from './model.ts';

/** A translated histogram point; `stale` (NO_RECORDED_VALUE) is appended as the series' staleness marker. */
export interface OtlpHistogram {
  readonly h: Histogram;
  readonly stale: boolean;
  readonly warning: string;
}

/** histogram.ExponentialSchemaMin/Max and CustomBucketsSchema. */
const SCHEMA_MIN = -4;
const SCHEMA_MAX = 8;
/** histograms.go defaultZeroThreshold. */
const DEFAULT_ZERO_THRESHOLD = 1e-128;

/**
 * convertBucketsLayout: dense OTLP counts to spans and deltas, merging 2^scaleDown buckets into one and
 * opening a new span only for gaps of more than two empty buckets (client_golang's rule).
 */
function convertBucketsLayout(
  counts: readonly number[],
  offset: number,
  scaleDown: number,
  adjustOffset: boolean,
): { spans: HistogramSpan[]; deltas: number[] } {
  if (counts.length === 0) return { spans: [], deltas: [] };
  const spans: { offset: number; length: number }[] = [];
  const deltas: number[] = [];
  let count = 0;
  let prev = 0;
  const appendDelta = (c: number) => {
    (spans[spans.length - 1] as { length: number }).length++;
    deltas.push(c - prev);
    prev = c;
  };
  let bucketIdx = (offset >> scaleDown) + 1;
  const initialOffset = adjustOffset ? (offset >> scaleDown) + 1 : offset;
  spans.push({ offset: initialOffset, length: 0 });
  for (const [i, c] of counts.entries()) {
    const nextIdx = ((i + offset) >> scaleDown) + 1;
    if (bucketIdx === nextIdx) {
      count += c;
      continue;
    }
    if (count === 0) {
      count = c;
      continue;
    }
    const gap = nextIdx - bucketIdx - 1;
    if (gap > 2) spans.push({ offset: gap, length: 0 });
    else for (let g = 0; g < gap; g++) appendDelta(0);
    appendDelta(count);
    count = c;
    bucketIdx = nextIdx;
  }
  const gap = ((counts.length + offset - 1) >> scaleDown) + 1 - bucketIdx;
  if (gap > 2) spans.push({ offset: gap, length: 0 });
  else for (let g = 0; g < gap; g++) appendDelta(0);
  appendDelta(count);
  return { spans, deltas };
}

function zeroCountNonZeroSum(h: Histogram, stale: boolean, what: string): string {
  return !stale && h.count === 0 && h.sum !== 0
    ? `${what} data point has zero count, but non-zero sum: ${h.sum.toFixed(6)}`
    : '';
}

/** exponentialToNativeHistogram. Throws HistogramConversionError for a scale below -4. */
export function expToNativeHistogram(p: ExpHistogramPoint, temporality: number): OtlpHistogram {
  let scale = p.scale;
  if (scale < SCHEMA_MIN)
    throw new OtlpTranslationError(
      `cannot convert exponential to native histogram. Scale must be >= ${SCHEMA_MIN}, was ${scale}`,
    );
  let scaleDown = 0;
  if (scale > SCHEMA_MAX) {
    scaleDown = scale - SCHEMA_MAX;
    scale = SCHEMA_MAX;
  }
  const pos = convertBucketsLayout(p.positive.counts, p.positive.offset, scaleDown, true);
  const neg = convertBucketsLayout(p.negative.counts, p.negative.offset, scaleDown, true);
  const stale = (p.flags & NO_RECORDED_VALUE) !== 0;
  const h: Histogram = {
    counterResetHint: temporality === Temporality.delta ? CounterResetHint.gauge : CounterResetHint.unknown,
    schema: scale,
    // histograms.go leaves OTLP's zero_threshold unused (a TODO there) and always uses 1e-128.
    zeroThreshold: DEFAULT_ZERO_THRESHOLD,
    zeroCount: p.zeroCount,
    count: p.count,
    sum: p.sum ?? 0,
    positiveSpans: pos.spans,
    positiveBuckets: pos.deltas,
    negativeSpans: neg.spans,
    negativeBuckets: neg.deltas,
  };
  return { h, stale, warning: zeroCountNonZeroSum(h, stale, 'exponential histogram') };
}

/** explicitHistogramToCustomBucketsHistogram: leading empty buckets skipped, bounds as custom values. */
export function explicitToCustomBuckets(p: HistogramPoint, temporality: number): OtlpHistogram {
  let offset = 0;
  while (offset < p.bucketCounts.length && p.bucketCounts[offset] === 0) offset++;
  const pos = convertBucketsLayout(p.bucketCounts.slice(offset), offset, 0, false);
  const stale = (p.flags & NO_RECORDED_VALUE) !== 0;
  const h: Histogram = {
    counterResetHint: temporality === Temporality.delta ? CounterResetHint.gauge : CounterResetHint.unknown,
    schema: CUSTOM_BUCKETS_SCHEMA,
    zeroThreshold: 0,
    zeroCount: 0,
    count: p.count,
    sum: p.sum ?? 0,
    positiveSpans: pos.spans,
    positiveBuckets: pos.deltas,
    negativeSpans: [],
    negativeBuckets: [],
    customValues: [...p.explicitBounds],
  };
  return { h, stale, warning: zeroCountNonZeroSum(h, stale, 'histogram') };
}

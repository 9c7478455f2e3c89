/**
 * Native histograms as every stage sees them: the scrape side (protobuf exposition, NHCB conversion, OTLP)
 * produces them, the agent writes them to the WAL, remote write sends them. The shape follows Prometheus'
 * model/histogram (Histogram and FloatHistogram share one interface here; a separate `float` flag says which
 * one a value is, as the WAL record type does).
 */
import { OutpostError } from '../util/errors.ts';

/** Schema of native histograms with custom bucket bounds (NHCB): bounds live in `customValues`. */
export const CUSTOM_BUCKETS_SCHEMA = -53;
/** Exponential schemas Prometheus ingests: bucket growth factor 2^(2^-schema). */
const EXPONENTIAL_SCHEMA_MIN = -4;
const EXPONENTIAL_SCHEMA_MAX = 8;

/** Prometheus' CounterResetHint values (the byte in WAL records, the enum in remote write). */
export const CounterResetHint = {
  unknown: 0,
  counterReset: 1,
  notCounterReset: 2,
  gauge: 3,
} as const;

export interface HistogramSpan {
  /** Gap to the previous span's end (for the first span: the index of its first bucket). */
  offset: number;
  length: number;
}

/**
 * One native histogram. Integer histograms (WAL records 7/9, `float` false) hold integer counts and
 * buckets as deltas between consecutive populated buckets; float histograms (records 8/10) hold
 * absolute float counts and buckets. `staleSum` marks a staleness marker: its sum is Prometheus' stale
 * NaN, whose exact bits a JS number cannot be relied on to keep.
 */
export interface Histogram {
  counterResetHint: number;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  staleSum?: boolean;
  positiveSpans: HistogramSpan[];
  negativeSpans: HistogramSpan[];
  positiveBuckets: number[];
  negativeBuckets: number[];
  /** Upper bounds of the custom buckets (schema −53 only), ascending, +Inf implied. */
  customValues?: number[];
}

export function isCustomBucketsSchema(schema: number): boolean {
  return schema === CUSTOM_BUCKETS_SCHEMA;
}

/**
 * The staleness marker of a histogram series: an empty histogram whose sum is the stale NaN (what
 * Prometheus' head appender turns a stale float sample of a histogram series into).
 */
export function staleHistogram(): Histogram {
  return {
    counterResetHint: CounterResetHint.unknown,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    count: 0,
    sum: Number.NaN,
    staleSum: true,
    positiveSpans: [],
    negativeSpans: [],
    positiveBuckets: [],
    negativeBuckets: [],
  };
}

/** A histogram Prometheus' Validate() would refuse; the scrape that produced it fails as a whole. */
export class InvalidHistogramError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_HISTOGRAM_INVALID', `invalid native histogram: ${message}`);
  }
}

function checkSpans(spans: readonly HistogramSpan[], buckets: number, side: string, firstMayBeNegative: boolean): void {
  let n = 0;
  for (const [i, s] of spans.entries()) {
    if (s.offset < 0 && (i > 0 || !firstMayBeNegative))
      throw new InvalidHistogramError(`${side}: span number ${i + 1} with offset ${s.offset} is negative`);
    n += s.length;
  }
  if (n !== buckets) throw new InvalidHistogramError(`${side}: spans need ${n} buckets, have ${buckets} buckets`);
}

/** Sum of the bucket counts of one side; deltas for integer histograms. Throws on a negative count. */
function bucketTotal(buckets: readonly number[], deltas: boolean, side: string): number {
  let last = 0;
  let total = 0;
  for (const [i, b] of buckets.entries()) {
    const c = deltas ? last + b : b;
    if (c < 0) throw new InvalidHistogramError(`${side}: bucket number ${i + 1} has observation count of ${c}`);
    last = c;
    total += c;
  }
  return total;
}

function checkCustomBounds(h: Histogram): void {
  const bounds = h.customValues ?? [];
  let prev = Number.NEGATIVE_INFINITY;
  for (const [i, b] of bounds.entries()) {
    if (Number.isNaN(b)) throw new InvalidHistogramError('custom buckets: a bound is NaN');
    if (i > 0 && b <= prev)
      throw new InvalidHistogramError(`custom buckets: previous bound is ${prev} and current is ${b}`);
    prev = b;
  }
  if (prev === Number.POSITIVE_INFINITY)
    throw new InvalidHistogramError('custom buckets: last +Inf bound must not be explicitly defined');
  checkSpans(h.positiveSpans, h.positiveBuckets.length, 'custom buckets', false);
  let covered = 0;
  for (const s of h.positiveSpans) covered += s.offset + s.length;
  if (bounds.length + 1 < covered)
    throw new InvalidHistogramError(
      `custom buckets: only ${bounds.length} custom bounds defined which is insufficient to cover total span length of ${covered}`,
    );
  if (h.zeroCount !== 0) throw new InvalidHistogramError('custom buckets: must have zero count of 0');
  if (h.zeroThreshold !== 0) throw new InvalidHistogramError('custom buckets: must have zero threshold of 0');
  if (h.negativeSpans.length > 0 || h.negativeBuckets.length > 0)
    throw new InvalidHistogramError('custom buckets: must not have negative buckets');
}

/**
 * Prometheus' Histogram.Validate / FloatHistogram.Validate (model/histogram): the checks its agent
 * appender runs before a histogram may enter the WAL. Throws InvalidHistogramError.
 */
export function validateHistogram(h: Histogram, float: boolean): void {
  let negative = 0;
  if (isCustomBucketsSchema(h.schema)) {
    checkCustomBounds(h);
  } else if (h.schema >= EXPONENTIAL_SCHEMA_MIN && h.schema <= EXPONENTIAL_SCHEMA_MAX) {
    checkSpans(h.positiveSpans, h.positiveBuckets.length, 'positive side', true);
    checkSpans(h.negativeSpans, h.negativeBuckets.length, 'negative side', true);
    negative = bucketTotal(h.negativeBuckets, !float, 'negative side');
    if (float && h.zeroCount < 0)
      throw new InvalidHistogramError(`zero bucket has observation count of ${h.zeroCount}`);
    if (h.customValues !== undefined && h.customValues.length > 0)
      throw new InvalidHistogramError('histogram with exponential schema must not have custom bounds');
  } else {
    throw new InvalidHistogramError(
      `histogram has an invalid schema ${h.schema}, which must be between ${EXPONENTIAL_SCHEMA_MIN} and ` +
        `${EXPONENTIAL_SCHEMA_MAX} for exponential buckets, or ${CUSTOM_BUCKETS_SCHEMA} for custom buckets`,
    );
  }
  if (float) {
    if (h.count < 0) throw new InvalidHistogramError(`observation count is ${h.count}`);
    bucketTotal(h.positiveBuckets, false, 'positive side');
    return;
  }
  const inBuckets = negative + bucketTotal(h.positiveBuckets, true, 'positive side') + h.zeroCount;
  // A NaN sum (e.g. a NaN observation) lets the count exceed what the buckets hold.
  if (Number.isNaN(h.sum) ? inBuckets > h.count : inBuckets !== h.count)
    throw new InvalidHistogramError(`${inBuckets} observations found in buckets, but the Count field is ${h.count}`);
}

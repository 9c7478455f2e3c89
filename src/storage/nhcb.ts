/**
 * Classic histogram → native histogram with custom buckets (NHCB, schema −53), with the rules of
 * Prometheus 3.x util/convertnhcb/convertnhcb.go (TempHistogram):
 *  - buckets arrive as (le, cumulative count); a NaN bound, a negative count or a count below the
 *    previous bucket's is an error; a repeated bound is ignored; out-of-order bounds are inserted in place
 *    (and must stay cumulative with both neighbours);
 *  - without a count the highest bucket's count is the count; without a +Inf bucket one is added with
 *    the count;
 *  - the result is an integer histogram when every bucket count and the count are whole numbers (bucket
 *    counts then delta-encoded, Compact(2)), else a float histogram (absolute counts, Compact(0));
 *  - the +Inf bucket's count must equal the count ("count mismatch");
 *  - custom_values hold every bound but +Inf.
 */
import { CUSTOM_BUCKETS_SCHEMA, InvalidHistogramError, type Histogram } from './histogram.ts';
import { compactHistogram } from './histogram-buckets.ts';

export interface ConvertedHistogram {
  h: Histogram;
  float: boolean;
}

/** Collects one classic histogram's parts, then converts them (reusable through reset()). */
export class ClassicHistogramBuilder {
  private les: number[] = [];
  private counts: number[] = [];
  private count = 0;
  private sum = 0;
  private hasCount = false;

  reset(): void {
    this.les.length = 0;
    this.counts.length = 0;
    this.count = 0;
    this.sum = 0;
    this.hasCount = false;
  }

  setCount(count: number): void {
    if (count < 0) throw new InvalidHistogramError(`count must be non-negative: count=${count}`);
    this.count = count;
    this.hasCount = true;
  }

  setSum(sum: number): void {
    this.sum = sum;
  }

  setBucket(le: number, count: number): void {
    if (Number.isNaN(le)) throw new InvalidHistogramError('bucket boundary must not be NaN');
    if (count < 0) throw new InvalidHistogramError(`bucket count must be non-negative: le=${le}, count=${count}`);
    const les = this.les;
    const counts = this.counts;
    const n = les.length;
    if (n === 0 || les[n - 1] < le) {
      if (n > 0 && count < counts[n - 1])
        throw new InvalidHistogramError(`count is not cumulative: ${count} < ${counts[n - 1]}`);
      les.push(le);
      counts.push(count);
      return;
    }
    let i = 0;
    while (les[i] < le) i++;
    if (les[i] === le) return; // a duplicate bucket, ignored
    if (i > 0 && count < counts[i - 1])
      throw new InvalidHistogramError(`count is not cumulative: ${count} < ${counts[i - 1]}`);
    if (count > counts[i]) throw new InvalidHistogramError(`count is not cumulative: ${count} > ${counts[i]}`);
    les.splice(i, 0, le);
    counts.splice(i, 0, count);
  }

  /** The NHCB of what was collected; throws InvalidHistogramError as the rules above say. */
  convert(): ConvertedHistogram {
    const les = [...this.les];
    const counts = [...this.counts];
    let count = this.count;
    if (!this.hasCount && les.length > 0) count = counts[counts.length - 1];
    if (les.length === 0 || les[les.length - 1] !== Number.POSITIVE_INFINITY) {
      les.push(Number.POSITIVE_INFINITY);
      counts.push(count);
    }
    const whole = Number.isInteger(count) && counts.every((c) => Number.isInteger(c));
    const last = counts[counts.length - 1];
    if (count !== last) throw new InvalidHistogramError(`count mismatch: count=${count} != le=+Inf count=${last}`);
    const buckets: number[] = new Array(counts.length);
    let prevCount = 0;
    let prevDelta = 0;
    for (let i = 0; i < counts.length; i++) {
      const inBucket = counts[i] - prevCount;
      buckets[i] = whole ? inBucket - prevDelta : inBucket;
      prevCount = counts[i];
      prevDelta = inBucket;
    }
    const h: Histogram = {
      counterResetHint: 0,
      schema: CUSTOM_BUCKETS_SCHEMA,
      zeroThreshold: 0,
      zeroCount: 0,
      count,
      sum: this.sum,
      positiveSpans: [{ offset: 0, length: counts.length }],
      negativeSpans: [],
      positiveBuckets: buckets,
      negativeBuckets: [],
    };
    if (les.length > 1) h.customValues = les.slice(0, -1);
    return { h: compactHistogram(h, !whole, whole ? 2 : 0), float: !whole };
  }
}

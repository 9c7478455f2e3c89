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

/** One classic bucket: its upper bound and cumulative count. */
interface ClassicBucket {
  le: number;
  count: number;
}

/** Collects one classic histogram's parts, then converts them (reusable through reset()). */
export class ClassicHistogramBuilder {
  /** Ascending by le. */
  private buckets: ClassicBucket[] = [];
  private count = 0;
  private sum = 0;
  private hasCount = false;

  reset(): void {
    this.buckets.length = 0;
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
    const bs = this.buckets;
    const last = bs.at(-1);
    if (last === undefined || last.le < le) {
      if (last !== undefined && count < last.count)
        throw new InvalidHistogramError(`count is not cumulative: ${count} < ${last.count}`);
      bs.push({ le, count });
      return;
    }
    // Out of order: in place, between its neighbours (there is one at or above le: the last).
    const i = bs.findIndex((b) => b.le >= le);
    const above = bs[i];
    if (above === undefined || above.le === le) return; // a duplicate bucket, ignored
    const below = bs[i - 1];
    if (below !== undefined && count < below.count)
      throw new InvalidHistogramError(`count is not cumulative: ${count} < ${below.count}`);
    if (count > above.count) throw new InvalidHistogramError(`count is not cumulative: ${count} > ${above.count}`);
    bs.splice(i, 0, { le, count });
  }

  /** The NHCB of what was collected; throws InvalidHistogramError as the rules above say. */
  convert(): ConvertedHistogram {
    const bs = [...this.buckets];
    const highest = bs.at(-1);
    const count = !this.hasCount && highest !== undefined ? highest.count : this.count;
    if (highest === undefined || highest.le !== Number.POSITIVE_INFINITY)
      bs.push({ le: Number.POSITIVE_INFINITY, count });
    const whole = Number.isInteger(count) && bs.every((b) => Number.isInteger(b.count));
    const inf = bs.at(-1)?.count;
    if (count !== inf) throw new InvalidHistogramError(`count mismatch: count=${count} != le=+Inf count=${inf}`);
    const buckets: number[] = [];
    let prevCount = 0;
    let prevDelta = 0;
    for (const b of bs) {
      const inBucket = b.count - prevCount;
      buckets.push(whole ? inBucket - prevDelta : inBucket);
      prevCount = b.count;
      prevDelta = inBucket;
    }
    const h: Histogram = {
      counterResetHint: 0,
      schema: CUSTOM_BUCKETS_SCHEMA,
      zeroThreshold: 0,
      zeroCount: 0,
      count,
      sum: this.sum,
      positiveSpans: [{ offset: 0, length: bs.length }],
      negativeSpans: [],
      positiveBuckets: buckets,
      negativeBuckets: [],
    };
    if (bs.length > 1) h.customValues = bs.slice(0, -1).map((b) => b.le);
    return { h: compactHistogram(h, !whole, whole ? 2 : 0), float: !whole };
  }
}

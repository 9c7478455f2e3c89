/**
 * Prometheus' maxSchemaAppender and bucketLimitAppender (scrape/target.go), applied in that order: a
 * native histogram finer than native_histogram_min_bucket_factor allows is reduced to that schema; one
 * with more buckets than native_histogram_bucket_limit is reduced one schema at a time until it fits.
 */
import { isCustomBucketsSchema, type Histogram } from '../storage/histogram.ts';
import { reduceResolution } from '../storage/histogram-buckets.ts';

const EXPONENTIAL_SCHEMA_MIN = -4;
const EXPONENTIAL_SCHEMA_MAX = 8;

/**
 * The schema native_histogram_min_bucket_factor asks for (Prometheus' pickSchema): the largest schema
 * whose bucket growth factor is at least `factor`; 8 (no reduction) for a factor of 1 or less.
 */
export function maxSchemaForBucketFactor(factor: number): number {
  const f = factor <= 1 ? 1.00271 : factor;
  const floor = Math.floor(-Math.log2(Math.log2(f))) || 0;
  if (floor >= EXPONENTIAL_SCHEMA_MAX) return EXPONENTIAL_SCHEMA_MAX;
  if (floor <= EXPONENTIAL_SCHEMA_MIN) return EXPONENTIAL_SCHEMA_MIN;
  return floor;
}

/** Applies both limits to h in place; false when the bucket limit cannot be met (the scrape then fails). */
export function limitHistogramBuckets(h: Histogram, float: boolean, bucketLimit: number, maxSchema: number): boolean {
  if (maxSchema < EXPONENTIAL_SCHEMA_MAX && !isCustomBucketsSchema(h.schema) && h.schema > maxSchema)
    reduceResolution(h, float, maxSchema);
  if (bucketLimit <= 0) return true;
  const buckets = () => h.positiveBuckets.length + h.negativeBuckets.length;
  if (buckets() <= bucketLimit) return true;
  if (isCustomBucketsSchema(h.schema)) return false;
  while (buckets() > bucketLimit) {
    if (h.schema <= EXPONENTIAL_SCHEMA_MIN) return false;
    reduceResolution(h, float, h.schema - 1);
  }
  return true;
}

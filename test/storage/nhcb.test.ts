/**
 * Classic histogram → NHCB, bucket by bucket, against the rules of Prometheus 3.x
 * util/convertnhcb/convertnhcb.go (TempHistogram.SetBucketCount / SetCount / Convert and
 * convertToIntegerHistogram / convertToFloatHistogram):
 *  R1 buckets are cumulative (le, count) pairs; the NHCB holds per-bucket counts, delta-encoded when whole;
 *  R2 custom_values are the bounds without +Inf, which is implied;
 *  R3 a missing +Inf bucket is added with the count; a missing count is the highest bucket's;
 *  R4 whole counts give an integer histogram compacted with Compact(2), else a float one with Compact(0);
 *  R5 bounds arriving out of order are inserted in place; a repeated bound is ignored;
 *  R6 NaN bounds, negative counts, non-cumulative counts and a count unequal to +Inf's are errors.
 */
import test from 'ava';
import { InvalidHistogramError } from '../../src/storage/histogram.ts';
import { ClassicHistogramBuilder, type ConvertedHistogram } from '../../src/storage/nhcb.ts';

function convert(count: number | null, sum: number, buckets: [number, number][]): ConvertedHistogram {
  const b = new ClassicHistogramBuilder();
  b.reset();
  if (count !== null) b.setCount(count);
  b.setSum(sum);
  for (const [le, c] of buckets) b.setBucket(le, c);
  return b.convert();
}

test('R1/R2/R4: whole counts become per-bucket deltas with the bounds as custom values', (t) => {
  // cumulative 1, 3, 6, 10 (+Inf) -> per bucket 1, 2, 3, 4 -> deltas 1, 1, 1, 1
  const { h, float } = convert(10, 21.5, [
    [0.1, 1],
    [1, 3],
    [10, 6],
    [Infinity, 10],
  ]);
  t.false(float);
  t.is(h.schema, -53);
  t.is(h.count, 10);
  t.is(h.sum, 21.5);
  t.deepEqual(h.positiveSpans, [{ offset: 0, length: 4 }]);
  t.deepEqual(h.positiveBuckets, [1, 1, 1, 1]);
  t.deepEqual(h.customValues, [0.1, 1, 10]);
  t.deepEqual([h.zeroCount, h.zeroThreshold, h.negativeSpans, h.negativeBuckets], [0, 0, [], []]);
});

test('R3: no +Inf bucket: one is added with the count; no count: the highest bucket gives it', (t) => {
  const withCount = convert(5, 1, [[1, 2]]);
  // per bucket 2 (le=1), 3 (+Inf)
  t.deepEqual(withCount.h.positiveBuckets, [2, 1]);
  t.deepEqual(withCount.h.customValues, [1]);
  const noCount = convert(null, 1, [
    [1, 2],
    [2, 4],
  ]);
  // count = 4; +Inf holds 4 -> per bucket 2, 2, 0: the empty +Inf bucket is compacted away
  t.is(noCount.h.count, 4);
  t.deepEqual(noCount.h.positiveSpans, [{ offset: 0, length: 2 }]);
  t.deepEqual(noCount.h.positiveBuckets, [2, 0]);
  t.deepEqual(noCount.h.customValues, [1, 2]);
});

test('R3: nothing but a count: the sole +Inf bucket, no custom values', (t) => {
  const { h } = convert(3, 0.5, []);
  t.deepEqual(h.positiveSpans, [{ offset: 0, length: 1 }]);
  t.deepEqual(h.positiveBuckets, [3]);
  t.is(h.customValues, undefined);
});

test('R4: Compact(2) keeps up to two empty buckets inside a span, cuts longer runs and the edges', (t) => {
  // per bucket 0, 1, 0, 0, 2, 0, 0, 0, 3, 0 (+Inf, count 6)
  const { h } = convert(6, 0, [
    [1, 0],
    [2, 1],
    [3, 1],
    [4, 1],
    [5, 3],
    [6, 3],
    [7, 3],
    [8, 3],
    [9, 6],
  ]);
  t.deepEqual(h.positiveSpans, [
    { offset: 1, length: 4 },
    { offset: 3, length: 1 },
  ]);
  // absolute 1, 0, 0, 2 | 3 -> deltas 1, -1, 0, 2, 1
  t.deepEqual(h.positiveBuckets, [1, -1, 0, 2, 1]);
  t.deepEqual(h.customValues, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('R4: a fractional count makes a float histogram: absolute counts, every empty bucket cut (Compact(0))', (t) => {
  // per bucket 0.5, 0, 1 (+Inf 1.5)
  const { h, float } = convert(1.5, 2, [
    [1, 0.5],
    [2, 0.5],
  ]);
  t.true(float);
  t.deepEqual(h.positiveSpans, [
    { offset: 0, length: 1 },
    { offset: 1, length: 1 },
  ]);
  t.deepEqual(h.positiveBuckets, [0.5, 1]);
});

test('R5: out-of-order bounds are inserted in place, repeated ones ignored', (t) => {
  const { h } = convert(4, 0, [
    [10, 3],
    [1, 1],
    [5, 2],
    [5, 2],
    [1, 7],
  ]);
  t.deepEqual(h.customValues, [1, 5, 10]);
  // per bucket 1, 1, 1, 1 (+Inf)
  t.deepEqual(h.positiveBuckets, [1, 0, 0, 0]);
});

test('R6: the errors of convertnhcb', (t) => {
  const err = (fn: () => unknown, msg: RegExp) => {
    const e = t.throws(fn, { instanceOf: InvalidHistogramError });
    t.regex(e?.message ?? '', msg);
  };
  err(() => convert(1, 0, [[Number.NaN, 1]]), /bucket boundary must not be NaN/);
  err(() => convert(1, 0, [[1, -1]]), /bucket count must be non-negative/);
  err(() => convert(-1, 0, []), /count must be non-negative/);
  err(
    () =>
      convert(5, 0, [
        [1, 3],
        [2, 2],
      ]),
    /count is not cumulative: 2 < 3/,
  );
  err(
    () =>
      convert(5, 0, [
        [1, 3],
        [3, 4],
        [2, 5],
      ]),
    /count is not cumulative: 5 > 4/,
  );
  err(
    () =>
      convert(5, 0, [
        [1, 3],
        [Infinity, 4],
      ]),
    /count mismatch: count=5 != le=\+Inf count=4/,
  );
});

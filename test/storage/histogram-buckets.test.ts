import test from 'ava';
import type { Histogram } from '../../src/storage/histogram.ts';
import { compactHistogram, reduceResolution } from '../../src/storage/histogram-buckets.ts';

function h(spans: [number, number][], buckets: number[], schema = 2): Histogram {
  return {
    counterResetHint: 0,
    schema,
    zeroThreshold: 0,
    zeroCount: 0,
    count: 0,
    sum: 0,
    positiveSpans: spans.map(([offset, length]) => ({ offset, length })),
    negativeSpans: spans.map(([offset, length]) => ({ offset, length })),
    positiveBuckets: [...buckets],
    negativeBuckets: [...buckets],
  };
}

test('reduceResolution merges 2^(from-to) buckets into one, negative indexes included (targetIdx)', (t) => {
  // Schema 2 indexes -3..1 and 6: to schema 0 they map to ((i-1)>>2)+1 = 0, 0, 0, 0, 1 and 2.
  const x = h(
    [
      [-3, 5],
      [4, 1],
    ],
    [1, 1, 1, 1, 1, 1],
  );
  reduceResolution(x, true, 0);
  t.is(x.schema, 0);
  t.deepEqual(x.positiveSpans, [{ offset: 0, length: 3 }]);
  t.deepEqual(x.positiveBuckets, [4, 1, 1]);
  t.deepEqual(x.negativeBuckets, [4, 1, 1], 'both sides');
  // Integer histograms keep delta encoding: absolute 4, 1, 1 -> 4, -3, 0.
  const y = h(
    [
      [-3, 5],
      [4, 1],
    ],
    [1, 0, 0, 0, 0, 0],
  );
  reduceResolution(y, false, 0);
  t.deepEqual(y.positiveBuckets, [4, -3, 0]);
  // A gap that survives the reduction keeps two spans.
  const z = h(
    [
      [0, 1],
      [15, 1],
    ],
    [2, 5],
  );
  reduceResolution(z, true, 1);
  // indexes 0 and 16 at schema 2 -> 0 and 8 at schema 1
  t.deepEqual(z.positiveSpans, [
    { offset: 0, length: 1 },
    { offset: 7, length: 1 },
  ]);
  t.deepEqual(z.positiveBuckets, [2, 5]);
});

test('compactHistogram drops empty buckets and empty spans, and joins neighbours', (t) => {
  const x = h(
    [
      [0, 0],
      [2, 3],
      [0, 2],
      [1, 1],
    ],
    [0, 4, 4, 0, 0, 4],
  );
  // Integer deltas: absolute 0, 4, 8, 8, 8, 12 at indexes 2, 3, 4, 5, 6, 8.
  compactHistogram(x, false, 0);
  t.deepEqual(x.positiveSpans, [
    { offset: 3, length: 4 },
    { offset: 1, length: 1 },
  ]);
  t.deepEqual(x.positiveBuckets, [4, 4, 0, 0, 4]);
});

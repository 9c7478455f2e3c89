/**
 * Bucket layout operations on native histograms, with the results Prometheus' model/histogram gives:
 * Compact(maxEmptyBuckets) and ReduceResolution(targetSchema). Both work on absolute bucket indexes:
 * spans and (delta or absolute) counts are expanded, transformed and laid out again, which gives the
 * same canonical layout as Prometheus' in-place algorithms.
 */
import { isCustomBucketsSchema, type Histogram, type HistogramSpan } from './histogram.ts';

/** One side's buckets as absolute indexes and absolute counts. */
interface Expanded {
  idx: number[];
  counts: number[];
}

function expand(spans: readonly HistogramSpan[], buckets: readonly number[], deltas: boolean): Expanded {
  const idx: number[] = [];
  const counts: number[] = [];
  let i = 0;
  let at = 0;
  let abs = 0;
  for (const s of spans) {
    at += s.offset;
    for (let k = 0; k < s.length && i < buckets.length; k++, i++) {
      abs = deltas ? abs + buckets[i] : buckets[i];
      idx.push(at + k);
      counts.push(abs);
    }
    at += s.length;
  }
  return { idx, counts };
}

/**
 * Lays out buckets at ascending absolute indexes as spans. Neighbours whose gap (empty indexes between
 * them) is at most maxGap share a span, the gap filled with empty buckets; adjacent ones always do.
 */
function layout(e: Expanded, deltas: boolean, maxGap: number): { spans: HistogramSpan[]; buckets: number[] } {
  const spans: HistogramSpan[] = [];
  const buckets: number[] = [];
  let prevIdx = 0;
  let prevAbs = 0;
  const push = (c: number) => {
    buckets.push(deltas ? c - prevAbs : c);
    prevAbs = c;
  };
  for (let k = 0; k < e.idx.length; k++) {
    const at = e.idx[k];
    const c = e.counts[k];
    const last = spans.at(-1);
    if (last === undefined) {
      spans.push({ offset: at, length: 1 });
    } else {
      const gap = at - prevIdx - 1;
      if (gap <= maxGap) {
        for (let z = 0; z < gap; z++) push(0);
        last.length += gap + 1;
      } else spans.push({ offset: gap, length: 1 });
    }
    push(c);
    prevIdx = at;
  }
  return { spans, buckets };
}

function compactSide(
  spans: readonly HistogramSpan[],
  buckets: readonly number[],
  deltas: boolean,
  maxEmpty: number,
): { spans: HistogramSpan[]; buckets: number[] } {
  const e = expand(spans, buckets, deltas);
  const kept: Expanded = { idx: [], counts: [] };
  for (let k = 0; k < e.idx.length; k++) {
    if (e.counts[k] === 0) continue;
    kept.idx.push(e.idx[k]);
    kept.counts.push(e.counts[k]);
  }
  return layout(kept, deltas, maxEmpty);
}

/**
 * Prometheus' Compact(maxEmptyBuckets): removes empty buckets, except runs of at most maxEmpty between
 * populated ones, and merges spans accordingly (a no-op span disappears). Changes h in place and returns it.
 */
export function compactHistogram(h: Histogram, float: boolean, maxEmpty: number): Histogram {
  const p = compactSide(h.positiveSpans, h.positiveBuckets, !float, maxEmpty);
  const n = compactSide(h.negativeSpans, h.negativeBuckets, !float, maxEmpty);
  h.positiveSpans = p.spans;
  h.positiveBuckets = p.buckets;
  h.negativeSpans = n.spans;
  h.negativeBuckets = n.buckets;
  return h;
}

/** Index of bucket idx of schema `from` in the coarser schema `to` (Prometheus' targetIdx). */
function targetIdx(idx: number, from: number, to: number): number {
  return ((idx - 1) >> (from - to)) + 1;
}

function reduceSide(
  spans: readonly HistogramSpan[],
  buckets: readonly number[],
  deltas: boolean,
  from: number,
  to: number,
): { spans: HistogramSpan[]; buckets: number[] } {
  const e = expand(spans, buckets, deltas);
  const merged: Expanded = { idx: [], counts: [] };
  for (let k = 0; k < e.idx.length; k++) {
    const t = targetIdx(e.idx[k], from, to);
    const last = merged.idx.length - 1;
    if (last >= 0 && merged.idx[last] === t) merged.counts[last] += e.counts[k];
    else {
      merged.idx.push(t);
      merged.counts.push(e.counts[k]);
    }
  }
  return layout(merged, deltas, 0);
}

/**
 * Prometheus' ReduceResolution(targetSchema) for exponential schemas: buckets of the finer schema merge
 * into the coarser one's (2^(schema−target) to one). Changes h in place.
 */
export function reduceResolution(h: Histogram, float: boolean, target: number): void {
  if (isCustomBucketsSchema(h.schema) || target >= h.schema) return;
  const p = reduceSide(h.positiveSpans, h.positiveBuckets, !float, h.schema, target);
  const n = reduceSide(h.negativeSpans, h.negativeBuckets, !float, h.schema, target);
  h.positiveSpans = p.spans;
  h.positiveBuckets = p.buckets;
  h.negativeSpans = n.spans;
  h.negativeBuckets = n.buckets;
  h.schema = target;
}

/**
 * Bucket layout operations on native histograms, with the results Prometheus' model/histogram gives:
 * Compact(maxEmptyBuckets) and ReduceResolution(targetSchema). Both work on absolute bucket indexes:
 * spans and (delta or absolute) counts are expanded, transformed and laid out again, which gives the
 * same canonical layout as Prometheus' in-place algorithms.
 */
import { isCustomBucketsSchema, type Histogram, type HistogramSpan } from './histogram.ts';

/** One bucket of one side: its absolute index and absolute count. */
interface Bucket {
  idx: number;
  count: number;
}

function expand(spans: readonly HistogramSpan[], buckets: readonly number[], deltas: boolean): Bucket[] {
  const out: Bucket[] = [];
  const it = buckets.values();
  let at = 0;
  let abs = 0;
  for (const s of spans) {
    at += s.offset;
    for (let k = 0; k < s.length; k++) {
      const next = it.next();
      if (next.done === true) return out; // validated elsewhere: spans never need more buckets than there are
      abs = deltas ? abs + next.value : next.value;
      out.push({ idx: at + k, count: abs });
    }
    at += s.length;
  }
  return out;
}

/**
 * Lays out buckets at ascending absolute indexes as spans. Neighbours whose gap (empty indexes between
 * them) is at most maxGap share a span, the gap filled with empty buckets; adjacent ones always do.
 */
function layout(e: readonly Bucket[], deltas: boolean, maxGap: number): { spans: HistogramSpan[]; buckets: number[] } {
  const spans: HistogramSpan[] = [];
  const buckets: number[] = [];
  let prevIdx = 0;
  let prevAbs = 0;
  const push = (c: number) => {
    buckets.push(deltas ? c - prevAbs : c);
    prevAbs = c;
  };
  let last: HistogramSpan | undefined;
  for (const { idx, count } of e) {
    if (last === undefined) {
      last = { offset: idx, length: 1 };
      spans.push(last);
    } else {
      const gap = idx - prevIdx - 1;
      if (gap <= maxGap) {
        for (let z = 0; z < gap; z++) push(0);
        last.length += gap + 1;
      } else {
        last = { offset: gap, length: 1 };
        spans.push(last);
      }
    }
    push(count);
    prevIdx = idx;
  }
  return { spans, buckets };
}

function compactSide(
  spans: readonly HistogramSpan[],
  buckets: readonly number[],
  deltas: boolean,
  maxEmpty: number,
): { spans: HistogramSpan[]; buckets: number[] } {
  return layout(
    expand(spans, buckets, deltas).filter((b) => b.count !== 0),
    deltas,
    maxEmpty,
  );
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
  const merged: Bucket[] = [];
  let last: Bucket | undefined;
  for (const b of expand(spans, buckets, deltas)) {
    const t = targetIdx(b.idx, from, to);
    if (last !== undefined && last.idx === t) last.count += b.count;
    else {
      last = { idx: t, count: b.count };
      merged.push(last);
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

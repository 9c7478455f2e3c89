/**
 * `--enable-feature=otlp-deltatocumulative`: delta sums and histograms become cumulative before
 * translation, as Prometheus 3.x runs the Collector's deltatocumulative processor in front of its
 * translator. Each stream (resource, scope, metric and point attributes) keeps its running total; a
 * point not newer than the stream's last one is dropped and reported; streams idle for five minutes
 * (the processor's max_stale) are forgotten, and at most MAX_STREAMS are tracked. Histograms
 * whose bounds (explicit) or scale (exponential) change start over from the new point.
 */
import type {
  ExpBuckets,
  ExpHistogramPoint,
  HistogramPoint,
  MetricData,
  NumberPoint,
  OtlpMetric,
  OtlpRequest,
  OtlpResourceMetrics,
  OtlpScopeMetrics,
} from './model.ts';
import { NO_RECORDED_VALUE, Temporality } from './model.ts';

const MAX_STALE_MS = 5 * 60_000;
const MAX_STREAMS = 100_000;
/** How often idle streams are looked for. */
const SWEEP_MS = 30_000;

interface Stream {
  lastT: number;
  seen: number;
  sum: number;
  count: number;
  buckets: number[];
  bounds: readonly number[];
  scale: number;
  zeroCount: number;
  pos: ExpBuckets;
  neg: ExpBuckets;
}

export interface DeltaResult {
  readonly req: OtlpRequest;
  /** Delta points dropped (out of order, or over the stream limit). */
  readonly dropped: number;
  readonly messages: readonly string[];
}

function attrKey(a: readonly string[]): string {
  const pairs: string[] = [];
  for (let i = 0; i + 1 < a.length; i += 2) pairs.push(`${a[i]}\u0000${a[i + 1]}`);
  return pairs.sort().join('\u0001');
}

/** Adds b's buckets into a copy of a (both dense from their offsets). */
function mergeBuckets(a: ExpBuckets, b: ExpBuckets): ExpBuckets {
  if (a.counts.length === 0) return { offset: b.offset, counts: [...b.counts] };
  if (b.counts.length === 0) return a;
  const offset = Math.min(a.offset, b.offset);
  const end = Math.max(a.offset + a.counts.length, b.offset + b.counts.length);
  const counts = new Array<number>(end - offset).fill(0);
  a.counts.forEach((c, i) => {
    counts[a.offset - offset + i] = (counts[a.offset - offset + i] ?? 0) + c;
  });
  b.counts.forEach((c, i) => {
    counts[b.offset - offset + i] = (counts[b.offset - offset + i] ?? 0) + c;
  });
  return { offset, counts };
}

export class DeltaToCumulative {
  private readonly streams = new Map<string, Stream>();
  private lastSweep = 0;
  private readonly maxStreams: number;

  constructor(maxStreams = MAX_STREAMS) {
    this.maxStreams = maxStreams;
  }

  get size(): number {
    return this.streams.size;
  }

  convert(req: OtlpRequest, now: number): DeltaResult {
    this.sweep(now);
    let dropped = 0;
    let full = 0;
    let late = 0;
    const resources: OtlpResourceMetrics[] = req.resources.map((rm) => {
      const rKey = attrKey(rm.attributes);
      const scopes: OtlpScopeMetrics[] = rm.scopes.map((sc) => {
        const sKey = `${rKey}\u0002${sc.name}\u0002${sc.version}\u0002${attrKey(sc.attributes)}`;
        const metrics = sc.metrics.map((m): OtlpMetric => {
          const d = m.data;
          if (!d || !('temporality' in d) || d.temporality !== Temporality.delta) return m;
          const mKey = `${sKey}\u0002${m.name}\u0002${m.unit}\u0002${d.type}`;
          const keep = <P extends { attributes: readonly string[]; timeMs: number }>(
            points: readonly P[],
            fold: (s: Stream | undefined, p: P) => { s: Stream; out: P },
          ): P[] => {
            const out: P[] = [];
            for (const p of points) {
              const key = `${mKey}\u0003${attrKey(p.attributes)}`;
              const s = this.streams.get(key);
              if (s && p.timeMs <= s.lastT) {
                late++;
                continue;
              }
              if (!s && this.streams.size >= this.maxStreams) {
                full++;
                continue;
              }
              const r = fold(s, p);
              r.s.lastT = p.timeMs;
              r.s.seen = now;
              this.streams.set(key, r.s);
              out.push(r.out);
            }
            return out;
          };
          let data: MetricData;
          switch (d.type) {
            case 'sum':
              data = { ...d, temporality: Temporality.cumulative, points: keep(d.points, sumFold) };
              break;
            case 'histogram':
              data = { ...d, temporality: Temporality.cumulative, points: keep(d.points, histogramFold) };
              break;
            case 'exponential_histogram':
              data = { ...d, temporality: Temporality.cumulative, points: keep(d.points, expFold) };
              break;
          }
          return { ...m, data };
        });
        return { ...sc, metrics };
      });
      return { ...rm, scopes };
    });
    dropped = late + full;
    const messages: string[] = [];
    if (late > 0)
      messages.push(`${late} delta points not newer than their stream's last point dropped (otlp-deltatocumulative)`);
    if (full > 0)
      messages.push(
        `${full} delta points of new streams dropped: ${this.maxStreams} delta streams are tracked at most`,
      );
    return { req: { resources, points: req.points }, dropped, messages };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [k, s] of this.streams) if (now - s.seen > MAX_STALE_MS) this.streams.delete(k);
  }
}

function fresh(): Stream {
  return {
    lastT: 0,
    seen: 0,
    sum: 0,
    count: 0,
    buckets: [],
    bounds: [],
    scale: 0,
    zeroCount: 0,
    pos: { offset: 0, counts: [] },
    neg: { offset: 0, counts: [] },
  };
}

/** A point without a recorded value passes as it is and leaves the total alone. */
function stale(p: { flags: number }): boolean {
  return (p.flags & NO_RECORDED_VALUE) !== 0;
}

function sumFold(prev: Stream | undefined, p: NumberPoint): { s: Stream; out: NumberPoint } {
  const s = prev ?? fresh();
  if (stale(p)) return { s, out: p };
  s.sum += p.value;
  return { s, out: { ...p, value: s.sum } };
}

function histogramFold(prev: Stream | undefined, p: HistogramPoint): { s: Stream; out: HistogramPoint } {
  if (stale(p)) return { s: prev ?? fresh(), out: p };
  const sameBounds =
    prev !== undefined &&
    prev.bounds.length === p.explicitBounds.length &&
    prev.bounds.every((b, i) => b === p.explicitBounds[i]) &&
    prev.buckets.length === p.bucketCounts.length;
  const s = sameBounds ? prev : { ...fresh(), bounds: p.explicitBounds, buckets: p.bucketCounts.map(() => 0) };
  s.count += p.count;
  s.sum += p.sum ?? 0;
  s.buckets = s.buckets.map((b, i) => b + (p.bucketCounts[i] ?? 0));
  return {
    s,
    out: { ...p, count: s.count, sum: p.sum === undefined ? undefined : s.sum, bucketCounts: [...s.buckets] },
  };
}

function expFold(prev: Stream | undefined, p: ExpHistogramPoint): { s: Stream; out: ExpHistogramPoint } {
  if (stale(p)) return { s: prev ?? fresh(), out: p };
  const s = prev !== undefined && prev.scale === p.scale ? prev : { ...fresh(), scale: p.scale };
  s.count += p.count;
  s.sum += p.sum ?? 0;
  s.zeroCount += p.zeroCount;
  s.pos = mergeBuckets(s.pos, p.positive);
  s.neg = mergeBuckets(s.neg, p.negative);
  return {
    s,
    out: {
      ...p,
      count: s.count,
      sum: p.sum === undefined ? undefined : s.sum,
      zeroCount: s.zeroCount,
      positive: s.pos,
      negative: s.neg,
    },
  };
}

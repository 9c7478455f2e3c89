import type { Appender } from '../../src/storage/appender.ts';
import { staleHistogram, validateHistogram, type Histogram } from '../../src/storage/histogram.ts';
import { labelsKey, type Labels } from '../../src/util/labels.ts';
import { at } from './defined.ts';

export interface RecordedSample {
  labels: Record<string, string>;
  t: number;
  v: number;
  stale: boolean;
  /** Set for a native histogram (v is then NaN); `float` tells a float histogram from an integer one. */
  h?: Histogram;
  float?: boolean;
}

interface Pending {
  ref: number;
  t: number;
  v: number;
  stale: boolean;
  h?: Histogram;
  float?: boolean;
}

/**
 * An in-memory Appender for scrape tests: records committed samples with their labels, applies the
 * same out-of-order rule as the agent storage, and can be told to fail commits.
 */
export class RecordingAppender implements Appender {
  private readonly byKey = new Map<string, number>();
  private readonly labelsByRef: Labels[] = [[]];
  private readonly lastTs: number[] = [-Infinity];
  private pending: Pending[] = [];
  /** Per ref: whether the latest committed sample was a histogram (and which kind), for stale markers. */
  private readonly lastKind: ('float' | 'histogram' | 'floatHistogram')[] = ['float'];
  committed: RecordedSample[] = [];
  commits = 0;
  rollbacks = 0;

  ref(labels: Labels): number {
    const k = labelsKey(labels);
    let ref = this.byKey.get(k);
    if (ref === undefined) {
      ref = this.labelsByRef.length;
      this.byKey.set(k, ref);
      this.labelsByRef.push(labels);
      this.lastTs.push(-Infinity);
      this.lastKind.push('float');
    }
    return ref;
  }

  /** The newest committed timestamp of `ref`; a ref this appender never handed out has none, as before. */
  private lastTsOf(ref: number): number {
    return this.lastTs[ref] ?? -Infinity;
  }

  append(ref: number, t: number, v: number): boolean {
    if (t <= this.lastTsOf(ref)) return false;
    this.pending.push({ ref, t, v, stale: false });
    return true;
  }

  appendStale(ref: number, t: number): boolean {
    if (t <= this.lastTsOf(ref)) return false;
    const kind = this.lastKind[ref];
    if (kind === 'float') this.pending.push({ ref, t, v: NaN, stale: true });
    else this.pending.push({ ref, t, v: NaN, stale: true, h: staleHistogram(), float: kind === 'floatHistogram' });
    return true;
  }

  appendHistogram(ref: number, t: number, h: Histogram, float: boolean): boolean {
    validateHistogram(h, float);
    if (t <= this.lastTsOf(ref)) return false;
    this.pending.push({ ref, t, v: NaN, stale: false, h, float });
    return true;
  }

  get length(): number {
    return this.pending.length;
  }

  async commit(): Promise<void> {
    for (const p of this.pending) {
      const ls = at(this.labelsByRef, p.ref, 'series refs');
      const rec: Record<string, string> = {};
      for (let i = 0; i < ls.length; i += 2) rec[at(ls, i, 'labels')] = at(ls, i + 1, 'labels');
      const sample: RecordedSample = { labels: rec, t: p.t, v: p.v, stale: p.stale };
      if (p.h !== undefined) {
        sample.h = p.h;
        sample.float = p.float === true;
      }
      this.committed.push(sample);
      if (p.t > this.lastTsOf(p.ref)) {
        this.lastTs[p.ref] = p.t;
        this.lastKind[p.ref] = p.h === undefined ? 'float' : p.float === true ? 'floatHistogram' : 'histogram';
      }
    }
    this.pending = [];
    this.commits++;
  }

  rollback(): void {
    this.pending = [];
    this.rollbacks++;
  }

  /** Committed samples of the metric name at timestamp t (all timestamps if omitted). */
  named(name: string, t?: number): RecordedSample[] {
    return this.committed.filter((s) => s.labels.__name__ === name && (t === undefined || s.t === t));
  }

  at(t: number): RecordedSample[] {
    return this.committed.filter((s) => s.t === t);
  }
}

import type { Clock } from '../util/clock.ts';
import { f64At, u8At } from '../util/columns.ts';
import type { Labels } from '../util/labels.ts';
import { isCustomBucketsSchema, type Histogram } from '../storage/histogram.ts';
import type { WireProtocol } from './client.ts';
import { WriteRequestBuilder, WriteRequestV2Builder } from './encoder.ts';
import type { SeriesCache } from './series-cache.ts';
import { SnappyBlockCompressor } from './snappy.ts';

/** What a shard slot holds. */
const ITEM_SAMPLE = 0;
export const ITEM_EXEMPLAR = 1;
export const ITEM_HISTOGRAM = 2;
export const ITEM_FLOAT_HISTOGRAM = 3;

/** A partial batch of overdue samples goes out after the shard got nothing new for this long. */
const OVERDUE_IDLE_MS = 50;

/** One request as encoded: the compressed body and what it carries. */
export interface EncodedBatch {
  readonly body: Uint8Array;
  readonly protocol: WireProtocol;
  readonly samples: number;
  readonly exemplars: number;
  readonly histograms: number;
  /** Highest timestamp in the request (ms). */
  readonly highest: number;
}

/** What a shard needs from its queue. */
export interface ShardHost {
  readonly clock: Clock;
  readonly series: SeriesCache;
  /** Items per request (max_samples_per_send). */
  readonly batchSize: number;
  readonly batchSendDeadlineMs: number;
  /** The queue is stopping: send what is held without waiting for deadlines. */
  readonly stopping: boolean;
  /** The wire protocol batches are encoded in now. */
  readonly protocol: WireProtocol;
  readonly sendExemplars: boolean;
  readonly sendHistograms: boolean;
  /**
   * Sends a batch that `encode` builds (again in v1 after a 415 fallback), retrying as the queue's
   * policy says. False when `signal` aborted it before a final outcome: the items stay unacknowledged.
   */
  deliver(encode: (protocol: WireProtocol) => EncodedBatch, signal: AbortSignal): Promise<boolean>;
  /** Custom-bucket histograms that a RW1 request cannot carry (only after a fallback from RW2). */
  droppedNhcb(n: number): void;
  /** The shard freed space or finished a batch. */
  progressed(): void;
}

/**
 * Ring buffer of one shard's items (samples; exemplars and histograms when enabled), plus its
 * single sender loop. Numbers live in typed arrays; only exemplars and histograms keep an object.
 * Items of one series always land in the same shard, so per-series order holds.
 */
export class Shard {
  private readonly host: ShardHost;
  readonly capacity: number;
  // Read on every push: kept here rather than looked up on the host each time.
  private readonly batchSize: number;
  private readonly deadlineMs: number;
  private readonly clock: Clock;
  private readonly refs: Float64Array;
  private readonly ts: Float64Array;
  private readonly vals: Float64Array;
  private readonly stale: Uint8Array;
  private readonly kinds: Uint8Array;
  private readonly chunks: Float64Array;
  /** Allocated only when the queue forwards exemplars / histograms. */
  private readonly exLabels: (Labels | null)[] | null;
  private readonly hists: (Histogram | null)[] | null;
  private head = 0;
  private held = 0;
  private exemplarsHeldN = 0;
  private histogramsHeldN = 0;
  private readonly builder = new WriteRequestBuilder();
  private builderV2: WriteRequestV2Builder | null = null;
  private readonly snappy = new SnappyBlockCompressor();
  private wakeFn: (() => void) | null = null;
  private readonly abortCtl = new AbortController();
  private finished: Promise<void> = Promise.resolve();
  private draining = false;
  private quiescing = false;
  // What the last encode() took off the ring besides samples.
  private takenExemplars = 0;
  private takenHistograms = 0;

  constructor(host: ShardHost, cap: number) {
    this.host = host;
    this.capacity = cap;
    this.batchSize = host.batchSize;
    this.deadlineMs = host.batchSendDeadlineMs;
    this.clock = host.clock;
    this.refs = new Float64Array(cap);
    this.ts = new Float64Array(cap);
    this.vals = new Float64Array(cap);
    this.stale = new Uint8Array(cap);
    this.kinds = new Uint8Array(cap);
    this.chunks = new Float64Array(cap);
    this.exLabels = host.sendExemplars ? new Array<Labels | null>(cap).fill(null) : null;
    this.hists = host.sendHistograms ? new Array<Histogram | null>(cap).fill(null) : null;
  }

  /** Items held (samples, exemplars and histograms). */
  get size(): number {
    return this.held;
  }
  get exemplarsHeld(): number {
    return this.exemplarsHeldN;
  }
  get histogramsHeld(): number {
    return this.histogramsHeldN;
  }
  /** Settles when the sender loop has ended. */
  get done(): Promise<void> {
    return this.finished;
  }

  push(ref: number, t: number, v: number, stale: boolean, chunk: number): boolean {
    if (this.held >= this.capacity) return false;
    const i = (this.head + this.held) % this.capacity;
    this.refs[i] = ref;
    this.ts[i] = t;
    this.vals[i] = v;
    this.stale[i] = stale ? 1 : 0;
    this.kinds[i] = ITEM_SAMPLE;
    this.chunks[i] = chunk;
    this.held++;
    if (this.held >= this.batchSize) this.wake();
    // An idle loop sleeps a whole deadline; an overdue first sample should not wait for that.
    else if (this.held === 1 && t < this.clock.now() - this.deadlineMs) this.wake();
    return true;
  }

  /** Enqueues an exemplar (labels) or a histogram (h). */
  pushItem(
    kind: number,
    ref: number,
    t: number,
    v: number,
    labels: Labels | null,
    h: Histogram | null,
    chunk: number,
  ): boolean {
    if (this.held >= this.capacity) return false;
    const i = (this.head + this.held) % this.capacity;
    this.refs[i] = ref;
    this.ts[i] = t;
    this.vals[i] = v;
    this.stale[i] = 0;
    this.kinds[i] = kind;
    this.chunks[i] = chunk;
    if (kind === ITEM_EXEMPLAR && this.exLabels) {
      this.exLabels[i] = labels;
      this.exemplarsHeldN++;
    } else if (this.hists) {
      this.hists[i] = h;
      this.histogramsHeldN++;
    }
    this.held++;
    if (this.held >= this.batchSize) this.wake();
    return true;
  }

  /** The chunk of the oldest item held, 0 when empty. */
  oldestChunk(): number {
    return this.held === 0 ? 0 : (this.chunks[this.head] ?? 0);
  }

  /**
   * Timestamp of the oldest item held (ms), Infinity when empty. Items arrive in WAL order, so the
   * head is the oldest but for out-of-order appends.
   */
  oldestTimestamp(): number {
    return this.held === 0 ? Infinity : (this.ts[this.head] ?? Infinity);
  }

  wake(): void {
    const fn = this.wakeFn;
    this.wakeFn = null;
    fn?.();
  }

  /** Ends the loop at the next retry wait or batch boundary; what it holds stays unacknowledged. */
  abort(): void {
    this.abortCtl.abort();
    this.wake();
  }

  /** Sends what it holds without waiting for deadlines, then ends its loop. */
  drain(): void {
    this.quiescing = false;
    this.draining = true;
    this.wake();
  }

  /** Ends its loop once a send in flight is done, keeping what it holds (to hand over on a reshard). */
  quiesce(): void {
    this.quiescing = true;
    this.wake();
  }

  /** Adds how many held items would go to each of counts.length shards (ref modulo that). */
  countByShard(counts: Int32Array): void {
    const n = counts.length;
    for (let k = 0; k < this.held; k++) {
      const shard = f64At(this.refs, (this.head + k) % this.capacity) % n;
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
  }

  /**
   * Hands every held item, oldest first, to the shard `to` picks by ref; the caller made sure they
   * fit (countByShard). Items of one series all sit in one shard, so their order is kept. Only on a
   * quiesced shard, whose loop has ended.
   */
  moveTo(to: (ref: number) => Shard): void {
    for (let k = 0; k < this.held; k++) {
      const i = (this.head + k) % this.capacity;
      const ref = f64At(this.refs, i);
      const kind = u8At(this.kinds, i);
      const t = f64At(this.ts, i);
      const v = f64At(this.vals, i);
      const chunk = f64At(this.chunks, i);
      const dest = to(ref);
      if (kind === ITEM_SAMPLE) dest.push(ref, t, v, this.stale[i] === 1, chunk);
      else dest.pushItem(kind, ref, t, v, this.exLabels?.[i] ?? null, this.hists?.[i] ?? null, chunk);
      if (this.exLabels) this.exLabels[i] = null;
      if (this.hists) this.hists[i] = null;
    }
    this.head = 0;
    this.held = 0;
    this.exemplarsHeldN = 0;
    this.histogramsHeldN = 0;
  }

  run(): Promise<void> {
    this.finished = this.loop();
    return this.finished;
  }

  private async loop(): Promise<void> {
    const host = this.host;
    const clock = this.clock;
    const deadlineMs = this.deadlineMs;
    const batch = this.batchSize;
    let deadline = clock.now() + deadlineMs;
    while (!this.abortCtl.signal.aborted && !this.quiescing) {
      const flushing = host.stopping || this.draining;
      if (this.held === 0 && flushing) return;
      const full = this.held >= batch;
      const now = clock.now();
      if (!full && !(this.held > 0 && (now >= deadline || flushing))) {
        // The oldest sample already waited longer than batch_send_deadline since it was scraped (a
        // backlog after an outage or restart): once no more arrives for a moment, the partial batch
        // goes out rather than waiting a whole deadline more. That is the tail of every catch-up.
        const overdue = this.held > 0 && this.oldestTimestamp() < now - deadlineMs;
        const sizeBefore = this.held;
        // Sleep until a full batch is there or the deadline passes.
        await new Promise<void>((resolve) => {
          const wait =
            this.held > 0
              ? Math.max(1, overdue ? Math.min(OVERDUE_IDLE_MS, deadline - now) : deadline - now)
              : deadlineMs;
          const timer = clock.setTimeout(() => {
            this.wakeFn = null;
            resolve();
          }, wait);
          this.wakeFn = () => {
            clock.clearTimeout(timer);
            resolve();
          };
        });
        if (this.held === 0) deadline = clock.now() + deadlineMs;
        else if (overdue && this.held === sizeBefore) deadline = clock.now();
        continue;
      }
      const n = Math.min(this.held, batch);
      const delivered = await host.deliver((protocol) => this.encode(n, protocol), this.abortCtl.signal);
      if (!delivered) return;
      this.release(n);
      host.progressed();
      deadline = clock.now() + deadlineMs;
    }
  }

  /** Encodes the oldest n items as one request. */
  private encode(n: number, protocol: WireProtocol): EncodedBatch {
    const series = this.host.series;
    const cap = this.capacity;
    const refs = this.refs;
    const ts = this.ts;
    const vals = this.vals;
    const stale = this.stale;
    let highest = 0;
    let nS = 0;
    let nE = 0;
    let nH = 0;
    let nhcb = 0;
    let body: Uint8Array;
    if (this.exemplarsHeldN + this.histogramsHeldN === 0) {
      // Samples only: the hot path stays a tight loop over the typed arrays.
      if (protocol === 'v1') {
        const b = this.builder;
        b.reset();
        for (let k = 0; k < n; k++) {
          const i = (this.head + k) % cap;
          const ref = f64At(refs, i);
          const t = f64At(ts, i);
          const v = f64At(vals, i);
          series.addSampleTo(b, ref, v, stale[i] === 1, t);
          if (t > highest) highest = t;
        }
        body = this.snappy.compress(b.finish());
      } else {
        const b = this.v2();
        for (let k = 0; k < n; k++) {
          const i = (this.head + k) % cap;
          const ref = f64At(refs, i);
          const t = f64At(ts, i);
          const v = f64At(vals, i);
          b.addSeriesSample(series.idsOf(ref), v, stale[i] === 1, t);
          if (t > highest) highest = t;
        }
        body = this.snappy.compress(b.finish());
      }
      nS = n;
      this.takenExemplars = 0;
      this.takenHistograms = 0;
    } else {
      const kinds = this.kinds;
      const exLabels = this.exLabels;
      const hists = this.hists;
      const b1 = protocol === 'v1' ? this.builder : null;
      const b2 = protocol === 'v2' ? this.v2() : null;
      b1?.reset();
      let takenE = 0;
      let takenH = 0;
      for (let k = 0; k < n; k++) {
        const i = (this.head + k) % cap;
        const kind = kinds[i];
        const ref = f64At(refs, i);
        const t = f64At(ts, i);
        const v = f64At(vals, i);
        if (kind === ITEM_SAMPLE) {
          if (b1) series.addSampleTo(b1, ref, v, stale[i] === 1, t);
          else b2?.addSeriesSample(series.idsOf(ref), v, stale[i] === 1, t);
          nS++;
        } else if (kind === ITEM_EXEMPLAR) {
          takenE++;
          const ls = exLabels?.[i] ?? [];
          if (b1) series.addExemplarTo(b1, ref, ls, v, t);
          else b2?.addSeriesExemplar(series.idsOf(ref), ls, v, t);
          nE++;
        } else {
          takenH++;
          const h = hists?.[i];
          if (!h) continue;
          const float = kind === ITEM_FLOAT_HISTOGRAM;
          if (b1) {
            // Only after a fallback from RW2 can a custom-bucket histogram be here.
            if (isCustomBucketsSchema(h.schema)) {
              nhcb++;
              continue;
            }
            series.addHistogramTo(b1, ref, h, float, t);
          } else b2?.addSeriesHistogram(series.idsOf(ref), h, float, t);
          nH++;
        }
        if (t > highest) highest = t;
      }
      body = this.snappy.compress(b1 ? b1.finish() : (b2 as WriteRequestV2Builder).finish());
      this.takenExemplars = takenE;
      this.takenHistograms = takenH;
      if (nhcb > 0) this.host.droppedNhcb(nhcb);
    }
    return { body, protocol, samples: nS, exemplars: nE, histograms: nH, highest };
  }

  private v2(): WriteRequestV2Builder {
    let b = this.builderV2;
    if (b === null) {
      b = new WriteRequestV2Builder();
      this.builderV2 = b;
    }
    b.reset();
    b.useInterner(this.host.series.interner);
    return b;
  }

  /** Takes the oldest n items off the ring, letting go of their objects. */
  private release(n: number): void {
    if (this.takenExemplars + this.takenHistograms > 0) {
      for (let k = 0; k < n; k++) {
        const i = (this.head + k) % this.capacity;
        if (this.exLabels) this.exLabels[i] = null;
        if (this.hists) this.hists[i] = null;
      }
      this.exemplarsHeldN -= this.takenExemplars;
      this.histogramsHeldN -= this.takenHistograms;
    }
    this.head = (this.head + n) % this.capacity;
    this.held -= n;
  }
}

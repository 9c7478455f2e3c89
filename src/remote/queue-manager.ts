import type { RemoteWriteConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { relabel, compileRelabelConfigs, type CompiledRelabel } from '../relabel/relabel.ts';
import { sleep, type Clock } from '../util/clock.ts';
import { LabelsBuilder, type Labels } from '../util/labels.ts';
import type { SendResult, WriteClient } from './client.ts';
import { encodeLabelsBlock, WriteRequestBuilder } from './encoder.ts';
import type { RemoteMetrics } from './metrics.ts';
import { SnappyBlockCompressor } from './snappy.ts';
import { redactUrl } from '../config/redact.ts';

/** A WAL position: the byte offset in a segment just after the last record fully handed over. */
export interface WalPosition {
  readonly segment: number;
  readonly offset: number;
}

/** What a QueueManager tells its owner as acknowledgements advance. */
export interface QueueEvents {
  /** Everything before pos was acknowledged (sent or deliberately dropped). */
  onAcked(pos: WalPosition): void;
}

const SERIES_UNKNOWN = 0;
/** How often the desired shard count is recomputed (Prometheus: 10 s). */
const SHARD_UPDATE_MS = 10_000;
const EWMA_ALPHA = 0.2;
/** How often a saturated queue is checked for catch-up resharding. */
const CATCH_UP_CHECK_MS = 1000;
const SERIES_DROPPED = -1;

/**
 * One remote endpoint's queue: the series cache (ref -> encoded labels, after external labels and
 * write relabeling), N shards chosen by ref so per-series order holds, batching, retries, and the
 * bookkeeping that turns acknowledgements into a safe WAL position to persist.
 */
export class QueueManager {
  readonly cfg: RemoteWriteConfig;
  private readonly client: WriteClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: RemoteMetrics;
  private readonly events: QueueEvents;
  private readonly externalLabels: Labels;
  private readonly rules: readonly CompiledRelabel[];
  private readonly queueLabels: { readonly remote_name: string; readonly url: string };
  private readonly dropLabels = new Map<string, { remote_name: string; url: string; reason: string }>();
  // Series cache: labels blocks packed into one arena, located by ref.
  private arena = Buffer.allocUnsafe(1 << 20);
  private arenaPos = 0;
  private seriesOff = new Uint32Array(1024);
  private seriesLen = new Int32Array(1024);
  private readonly shards: Shard[] = [];
  // Chunks: the watcher hands samples over in chunks that end at a WAL position.
  private chunkSeq = 0;
  private readonly chunkPos = new Map<number, WalPosition>();
  private lastAckedChunk = 0;
  private spaceWaiters: (() => void)[] = [];
  private stopping = false;
  /** Highest sample timestamp acknowledged (ms). */
  highestSent = 0;
  /** Highest sample timestamp enqueued (ms). */
  highestEnqueued = 0;
  lastError = '';
  lastErrorAt = 0;
  /** True while the last send attempt failed. */
  failing = false;
  sent = 0;
  retried = 0;
  failed = 0;
  dropped = 0;
  private readonly rate: { t: number; n: number }[] = [];
  private readonly sharding: ShardingState;
  private resharding: Promise<void> | null = null;
  private reshardTimer: object | null = null;
  private catchUpTimer: object | null = null;
  /** Until this time (ms) resharding is frozen after a recoverable error, as current Prometheus does. */
  reshardFrozenUntil = 0;
  /** Send duration summed over completed batches, seconds (for the shard calculation). */
  sendSeconds = 0;
  /** Samples whose send completed (success or failure), for the shard calculation. */
  samplesOut = 0;
  lastSendAt = 0;

  constructor(cfg: RemoteWriteConfig, client: WriteClient, opts: { clock: Clock; log: Logger; metrics: RemoteMetrics; events: QueueEvents; externalLabels: Labels; samplesIn?: () => number }) {
    this.cfg = cfg;
    this.client = client;
    this.clock = opts.clock;
    this.log = opts.log;
    this.metrics = opts.metrics;
    this.events = opts.events;
    this.externalLabels = opts.externalLabels;
    this.rules = compileRelabelConfigs(cfg.writeRelabelConfigs);
    this.queueLabels = Object.freeze({ remote_name: cfg.name, url: redactUrl(cfg.url) });
    const q = cfg.queueConfig;
    const n = Math.max(1, q.minShards);
    for (let i = 0; i < n; i++) this.shards.push(new Shard(this, i, this.shardCapacity()));
    this.sharding = new ShardingState(opts.samplesIn ?? (() => 0));
    this.metrics.shards.set(this.labels(), n);
    // Per-queue counters exist from the start (at 0), so rate() and ratio alerts have series to work on.
    for (const c of [this.metrics.samplesTotal, this.metrics.samplesFailed, this.metrics.samplesRetried, this.metrics.bytesTotal, this.metrics.enqueueRetries]) c.inc(this.labels(), 0);
    for (const reason of ['dropped_series', 'unintentionally_dropped_series', 'too_old']) this.metrics.samplesDropped.inc({ ...this.labels(), reason }, 0);
    this.metrics.samplesPending.set(this.labels(), 0);
    this.metrics.highestSent.set(this.labels(), 0);
    this.metrics.shardsMin.set(this.labels(), q.minShards);
    this.metrics.shardsMax.set(this.labels(), q.maxShards);
    this.metrics.maxSamplesPerSend.set(this.labels(), q.maxSamplesPerSend);
    this.metrics.shardCapacity.set(this.labels(), q.capacity);
  }

  /** The queue's metric labels, built once (the URL is parsed to redact it). */
  labels(): { readonly remote_name: string; readonly url: string } {
    return this.queueLabels;
  }

  /** Each shard holds the configured capacity plus one batch, as Prometheus' shard queues do. */
  private shardCapacity(): number {
    const q = this.cfg.queueConfig;
    return Math.max(q.capacity, q.maxSamplesPerSend) + q.maxSamplesPerSend;
  }

  start(): void {
    for (const s of this.shards) void s.run();
    const tick = () => {
      this.updateShards();
      this.reshardTimer = this.clock.setTimeout(tick, SHARD_UPDATE_MS);
      (this.reshardTimer as { unref?: () => void }).unref?.();
    };
    this.reshardTimer = this.clock.setTimeout(tick, SHARD_UPDATE_MS);
    (this.reshardTimer as { unref?: () => void }).unref?.();
    const fast = () => {
      this.catchUpCheck();
      this.catchUpTimer = this.clock.setTimeout(fast, CATCH_UP_CHECK_MS);
      (this.catchUpTimer as { unref?: () => void }).unref?.();
    };
    this.catchUpTimer = this.clock.setTimeout(fast, CATCH_UP_CHECK_MS);
    (this.catchUpTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Catching up a backlog (after an outage, a restart): when the shards are full and sends succeed,
   * the endpoint is the bottleneck and the reader is waiting, so double the shards now rather than
   * after the rate-based calculation has had its 10 s ticks. Never while failing; the regular
   * calculation shrinks them again once caught up.
   */
  catchUpCheck(): void {
    const q = this.cfg.queueConfig;
    const n = this.shards.length;
    if (this.failing || this.resharding || this.stopping || n >= q.maxShards) return;
    if (this.clock.now() - this.lastSendAt > CATCH_UP_CHECK_MS * 2) return;
    let saturated = false;
    for (const s of this.shards) if (s.size >= s.capacity * 0.9) saturated = true;
    if (!saturated) return;
    void this.reshard(Math.min(q.maxShards, n * 2));
  }

  get shardCount(): number {
    return this.shards.length;
  }

  /** Recomputes the desired shard count (Prometheus' formula) and reshards when it moved enough. */
  updateShards(): void {
    const q = this.cfg.queueConfig;
    const now = this.clock.now();
    const desired = this.sharding.desired(this, now);
    if (desired === null) return;
    this.metrics.shardsDesired.set(this.labels(), desired);
    const cur = this.shards.length;
    let n = Math.ceil(desired);
    // Hysteresis: stay put within ±30%, never shrink while behind, stay within bounds.
    if (desired >= 0.7 * cur && desired <= 1.3 * cur) return;
    const delaySec = (this.sharding.highestIn() - this.highestSent) / 1000;
    if (n < cur && delaySec > 10) return;
    n = Math.min(q.maxShards, Math.max(q.minShards, n));
    if (n === cur) return;
    if (this.failing || now < this.reshardFrozenUntil) return;
    if (now - this.lastSendAt > SHARD_UPDATE_MS) return;
    void this.reshard(n);
  }

  /** Drains the current shards (the reader waits meanwhile), then continues with n shards. */
  reshard(n: number): Promise<void> {
    if (this.resharding || this.stopping) return this.resharding ?? Promise.resolve();
    this.resharding = (async () => {
      this.log.info('Remote storage resharding', { from: this.shards.length, to: n });
      for (const s of this.shards) s.drain();
      await Promise.all(this.shards.map((s) => s.done));
      if (this.stopping) return;
      this.shards.length = 0;
      for (let i = 0; i < n; i++) this.shards.push(new Shard(this, i, this.shardCapacity()));
      for (const s of this.shards) void s.run();
      this.metrics.shards.set(this.labels(), n);
    })().finally(() => {
      this.resharding = null;
      this.shardProgress();
    });
    return this.resharding;
  }

  /** Caches a series from a WAL series record. */
  storeSeries(ref: number, walLabels: Labels): void {
    let labels = walLabels;
    const ext = this.externalLabels;
    if (ext.length > 0 || this.rules.length > 0) {
      const lb = new LabelsBuilder(walLabels);
      for (let i = 0; i < ext.length; i += 2) if (!lb.has(ext[i])) lb.set(ext[i], ext[i + 1]);
      if (this.rules.length > 0 && !relabel(this.rules, lb)) {
        this.setSeries(ref, 0, SERIES_DROPPED);
        return;
      }
      labels = lb.labels();
    }
    if (labels.length === 0) {
      this.setSeries(ref, 0, SERIES_DROPPED);
      return;
    }
    const block = encodeLabelsBlock(labels);
    if (this.arenaPos + block.length > this.arena.length) this.growArena(block.length);
    block.copy(this.arena, this.arenaPos);
    this.setSeries(ref, this.arenaPos, block.length);
    this.arenaPos += block.length;
  }

  private growArena(extra: number): void {
    // Compact while growing: only blocks still referenced are kept.
    let size = this.arena.length;
    const live = this.liveArenaBytes() + extra;
    while (size < live * 2) size *= 2;
    const next = Buffer.allocUnsafe(size);
    let p = 0;
    for (let ref = 0; ref < this.seriesLen.length; ref++) {
      const len = this.seriesLen[ref];
      if (len > 0) {
        this.arena.copy(next, p, this.seriesOff[ref], this.seriesOff[ref] + len);
        this.seriesOff[ref] = p;
        p += len;
      }
    }
    this.arena = next;
    this.arenaPos = p;
  }

  private liveArenaBytes(): number {
    let n = 0;
    for (let ref = 0; ref < this.seriesLen.length; ref++) if (this.seriesLen[ref] > 0) n += this.seriesLen[ref];
    return n;
  }

  private setSeries(ref: number, off: number, len: number): void {
    if (ref >= this.seriesLen.length) {
      let n = this.seriesLen.length * 2;
      while (n <= ref) n *= 2;
      const o = new Uint32Array(n);
      o.set(this.seriesOff);
      const l = new Int32Array(n);
      l.set(this.seriesLen);
      this.seriesOff = o;
      this.seriesLen = l;
    }
    this.seriesOff[ref] = off;
    this.seriesLen[ref] = len;
  }

  /** Forgets series (after WAL truncation dropped them). */
  dropSeries(refs: readonly number[]): void {
    for (const ref of refs) if (ref < this.seriesLen.length) this.seriesLen[ref] = SERIES_UNKNOWN;
  }

  /** Appends a sample of series `ref` to a request, copying its labels block straight from the arena. */
  addSampleTo(b: WriteRequestBuilder, ref: number, value: number, stale: boolean, t: number): void {
    b.addSampleFrom(this.arena, this.seriesOff[ref], this.seriesLen[ref], value, stale, t);
  }

  /** Starts a chunk of samples ending at pos; returns its id. */
  beginChunk(pos: WalPosition): number {
    const id = ++this.chunkSeq;
    this.chunkPos.set(id, pos);
    return id;
  }

  /**
   * Enqueues one sample of the current chunk. Returns false when the target shard is full: the caller
   * waits on waitForSpace() and retries the same sample (back-pressure onto the WAL reader).
   */
  enqueue(ref: number, t: number, v: number, stale: boolean, chunk: number): boolean {
    const len = ref < this.seriesLen.length ? this.seriesLen[ref] : SERIES_UNKNOWN;
    if (len <= 0) {
      this.drop(len === SERIES_DROPPED ? 'dropped_series' : 'unintentionally_dropped_series');
      return true;
    }
    const ageLimit = this.cfg.queueConfig.sampleAgeLimit;
    if (ageLimit > 0 && t < this.clock.now() - ageLimit) {
      this.drop('too_old');
      return true;
    }
    if (this.resharding) return false;
    const shard = this.shards[ref % this.shards.length];
    if (!shard.push(ref, t, v, stale, chunk)) return false;
    if (t > this.highestEnqueued) this.highestEnqueued = t;
    return true;
  }

  private drop(reason: string): void {
    this.dropped++;
    this.sharding.dropped++;
    // Drops can be per sample (write relabeling): reuse one label object per reason.
    let l = this.dropLabels.get(reason);
    if (!l) {
      l = { ...this.queueLabels, reason };
      this.dropLabels.set(reason, l);
    }
    this.metrics.samplesDropped.inc(l);
  }

  /** Marks the current chunk fully handed over; if nothing of it is pending, acknowledgement may advance. */
  endChunk(): void {
    this.advanceAck();
  }

  waitForSpace(): Promise<void> {
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Called by shards when they freed space or finished a batch. */
  shardProgress(): void {
    const w = this.spaceWaiters;
    if (w.length > 0) {
      this.spaceWaiters = [];
      for (const fn of w) fn();
    }
    this.advanceAck();
  }

  private advanceAck(): void {
    // The safe chunk is the one before the oldest chunk any shard still holds samples of.
    let minPending = this.chunkSeq + 1;
    for (const s of this.shards) {
      const c = s.oldestChunk();
      if (c > 0 && c < minPending) minPending = c;
    }
    const safe = minPending - 1;
    if (safe <= this.lastAckedChunk) return;
    let pos: WalPosition | undefined;
    for (let c = this.lastAckedChunk + 1; c <= safe; c++) {
      const p = this.chunkPos.get(c);
      if (p) pos = p;
      this.chunkPos.delete(c);
    }
    this.lastAckedChunk = safe;
    if (pos) this.events.onAcked(pos);
  }

  pending(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }

  /** Samples per second acknowledged over the last ~10 s. */
  sendRate(): number {
    const now = this.clock.now();
    while (this.rate.length > 0 && this.rate[0].t < now - 10_000) this.rate.shift();
    let n = 0;
    for (const r of this.rate) n += r.n;
    return n / 10;
  }

  recordSent(n: number): void {
    this.sent += n;
    const now = this.clock.now();
    const last = this.rate[this.rate.length - 1];
    if (last && now - last.t < 1000) last.n += n;
    else this.rate.push({ t: now, n });
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Stops the shards: they flush what they hold for up to deadlineMs, then give up. Returns whether
   * everything was delivered.
   */
  async stop(deadlineMs: number): Promise<boolean> {
    this.stopping = true;
    if (this.reshardTimer) this.clock.clearTimeout(this.reshardTimer);
    if (this.catchUpTimer) this.clock.clearTimeout(this.catchUpTimer);
    if (this.resharding) await this.resharding;
    for (const s of this.shards) s.wake();
    const all = Promise.all(this.shards.map((s) => s.done));
    let timer: object | null = null;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.clock.setTimeout(() => resolve('timeout'), deadlineMs);
    });
    const r = await Promise.race([all.then(() => 'ok' as const), timeout]);
    if (timer) this.clock.clearTimeout(timer);
    for (const s of this.shards) s.abort();
    await all;
    this.client.close();
    for (const fn of this.spaceWaiters) fn();
    this.spaceWaiters = [];
    return r === 'ok' && this.pending() === 0;
  }

  // Used by shards.
  get clientRef(): WriteClient {
    return this.client;
  }
  get clockRef(): Clock {
    return this.clock;
  }
  get logRef(): Logger {
    return this.log;
  }
  get metricsRef(): RemoteMetrics {
    return this.metrics;
  }
}

/** Ring buffer of samples for one shard, plus its single sender loop. */
class Shard {
  private readonly qm: QueueManager;
  readonly capacity: number;
  private readonly refs: Float64Array;
  private readonly ts: Float64Array;
  private readonly vals: Float64Array;
  private readonly stale: Uint8Array;
  private readonly chunks: Float64Array;
  private head = 0;
  size = 0;
  private readonly builder = new WriteRequestBuilder();
  private readonly snappy = new SnappyBlockCompressor();
  private wakeFn: (() => void) | null = null;
  private readonly abortCtl = new AbortController();
  done: Promise<void> = Promise.resolve();
  private readonly index: number;

  constructor(qm: QueueManager, index: number, cap: number) {
    this.qm = qm;
    this.index = index;
    this.capacity = cap;
    this.refs = new Float64Array(cap);
    this.ts = new Float64Array(cap);
    this.vals = new Float64Array(cap);
    this.stale = new Uint8Array(cap);
    this.chunks = new Float64Array(cap);
  }

  push(ref: number, t: number, v: number, stale: boolean, chunk: number): boolean {
    if (this.size >= this.capacity) return false;
    const i = (this.head + this.size) % this.capacity;
    this.refs[i] = ref;
    this.ts[i] = t;
    this.vals[i] = v;
    this.stale[i] = stale ? 1 : 0;
    this.chunks[i] = chunk;
    this.size++;
    if (this.size >= this.qm.cfg.queueConfig.maxSamplesPerSend) this.wake();
    return true;
  }

  oldestChunk(): number {
    return this.size === 0 ? 0 : this.chunks[this.head];
  }

  wake(): void {
    const fn = this.wakeFn;
    this.wakeFn = null;
    fn?.();
  }

  abort(): void {
    this.abortCtl.abort();
    this.wake();
  }

  /** Sends what it holds without waiting for deadlines, then ends its loop. */
  drain(): void {
    this.draining = true;
    this.wake();
  }

  private draining = false;

  run(): Promise<void> {
    this.done = this.loop();
    return this.done;
  }

  private async loop(): Promise<void> {
    const qm = this.qm;
    const q = qm.cfg.queueConfig;
    const clock = qm.clockRef;
    let deadline = clock.now() + q.batchSendDeadline;
    while (!this.abortCtl.signal.aborted) {
      const flushing = qm.isStopping || this.draining;
      if (this.size === 0 && flushing) return;
      const full = this.size >= q.maxSamplesPerSend;
      const now = clock.now();
      if (!full && !(this.size > 0 && (now >= deadline || flushing))) {
        // Sleep until a full batch is there or the deadline passes.
        await new Promise<void>((resolve) => {
          const wait = this.size > 0 ? Math.max(1, deadline - now) : q.batchSendDeadline;
          const timer = clock.setTimeout(() => {
            this.wakeFn = null;
            resolve();
          }, wait);
          this.wakeFn = () => {
            clock.clearTimeout(timer);
            resolve();
          };
        });
        if (this.size === 0) deadline = clock.now() + q.batchSendDeadline;
        continue;
      }
      const n = Math.min(this.size, q.maxSamplesPerSend);
      await this.sendBatch(n);
      deadline = clock.now() + q.batchSendDeadline;
    }
  }

  /** Sends the oldest n samples, retrying recoverable errors until success, a final failure or abort. */
  private async sendBatch(n: number): Promise<void> {
    const qm = this.qm;
    const q = qm.cfg.queueConfig;
    const m = qm.metricsRef;
    const labels = qm.labels();
    const b = this.builder;
    b.reset();
    let highest = 0;
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) % this.capacity;
      const ref = this.refs[i];
      qm.addSampleTo(b, ref, this.vals[i], this.stale[i] === 1, this.ts[i]);
      if (this.ts[i] > highest) highest = this.ts[i];
    }
    const body = this.snappy.compress(b.finish());
    let backoff = q.minBackoff;
    let attempt = 0;
    let outcome: SendResult;
    for (;;) {
      const started = performance.now();
      outcome = await qm.clientRef.send(body, attempt, 'v1');
      const took = (performance.now() - started) / 1000;
      m.sentBatchDuration.observe(labels, took);
      qm.sendSeconds += took;
      m.samplesTotal.inc(labels, n);
      if (outcome.kind !== 'retry') break;
      qm.failing = true;
      qm.reshardFrozenUntil = qm.clockRef.now() + 2 * (outcome.retryAfterMs > 0 ? outcome.retryAfterMs : backoff);
      qm.lastError = outcome.error;
      qm.lastErrorAt = qm.clockRef.now();
      if (attempt === 0) qm.logRef.warn('Failed to send batch, retrying', { remote_name: qm.cfg.name, err: outcome.error });
      if (this.abortCtl.signal.aborted) return;
      const delay = outcome.retryAfterMs > 0 ? outcome.retryAfterMs : backoff;
      // The server's Retry-After is a minimum: jitter only upward there.
      await sleep(qm.clockRef, outcome.retryAfterMs > 0 ? Math.round(delay * (1 + Math.random() * 0.1)) : jitter(delay), this.abortCtl.signal);
      if (this.abortCtl.signal.aborted) return;
      m.samplesRetried.inc(labels, n);
      qm.retried += n;
      backoff = Math.min(delay * 2, q.maxBackoff);
      attempt++;
    }
    m.bytesTotal.inc(labels, body.length);
    qm.samplesOut += n;
    qm.lastSendAt = qm.clockRef.now();
    if (outcome.kind === 'ok') {
      qm.failing = false;
      qm.recordSent(n);
    } else {
      qm.failing = false;
      qm.lastError = outcome.error;
      qm.lastErrorAt = qm.clockRef.now();
      m.samplesFailed.inc(labels, n);
      qm.failed += n;
      qm.logRef.error('Non-recoverable error, dropping batch', { remote_name: qm.cfg.name, count: n, err: outcome.error });
    }
    if (highest > qm.highestSent) {
      qm.highestSent = highest;
      m.highestSent.set(labels, Math.floor(highest / 1000));
    }
    this.head = (this.head + n) % this.capacity;
    this.size -= n;
    qm.shardProgress();
  }
}

/** ±10% jitter so many agents recovering together do not retry in lockstep. */
function jitter(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}
/** Exponentially weighted rate, updated once per shard-update tick. */
class Ewma {
  rate = 0;
  private init = false;
  update(instant: number): void {
    if (!this.init) {
      if (instant === 0) return;
      this.rate = instant;
      this.init = true;
    } else this.rate += EWMA_ALPHA * (instant - this.rate);
  }
}

/**
 * Inputs of Prometheus' desired-shards calculation: samples in (appended), out (sent), dropped, and
 * time spent sending, as EWMA rates per second.
 */
class ShardingState {
  private readonly samplesIn: () => number;
  private readonly inRate = new Ewma();
  private readonly outRate = new Ewma();
  private readonly dropRate = new Ewma();
  private readonly durRate = new Ewma();
  private lastIn = 0;
  private lastOut = 0;
  private lastDropped = 0;
  private lastSeconds = 0;
  private lastAt = 0;
  dropped = 0;
  private highestInTs = 0;

  constructor(samplesIn: () => number) {
    this.samplesIn = samplesIn;
  }

  highestIn(): number {
    return this.highestInTs;
  }

  /** Desired shards (unrounded), or null until there is something to go by. */
  desired(qm: QueueManager, now: number): number | null {
    const dt = this.lastAt === 0 ? SHARD_UPDATE_MS / 1000 : (now - this.lastAt) / 1000;
    this.lastAt = now;
    if (dt <= 0) return null;
    const inTotal = this.samplesIn();
    this.inRate.update((inTotal - this.lastIn) / dt);
    this.outRate.update((qm.samplesOut - this.lastOut) / dt);
    this.dropRate.update((this.dropped - this.lastDropped) / dt);
    this.durRate.update((qm.sendSeconds - this.lastSeconds) / dt);
    this.lastIn = inTotal;
    this.lastOut = qm.samplesOut;
    this.lastDropped = this.dropped;
    this.lastSeconds = qm.sendSeconds;
    this.highestInTs = Math.max(this.highestInTs, qm.highestEnqueued);
    return desiredShards({
      inRate: this.inRate.rate,
      outRate: this.outRate.rate,
      dropRate: this.dropRate.rate,
      sendSecondsRate: this.durRate.rate,
      delaySeconds: Math.max(0, (this.highestInTs - qm.highestSent) / 1000),
    });
  }
}

/**
 * Prometheus' shard calculation: enough shards to send what comes in, plus 5% of the backlog per
 * second. Null while nothing was sent (no basis for an estimate).
 */
export function desiredShards(r: { inRate: number; outRate: number; dropRate: number; sendSecondsRate: number; delaySeconds: number }): number | null {
  if (r.outRate <= 0) return null;
  const keptRatio = r.outRate / (r.dropRate + r.outRate);
  const timePerSample = r.sendSecondsRate / r.outRate;
  const pending = r.delaySeconds * r.inRate * keptRatio;
  return timePerSample * (r.inRate * keptRatio + 0.05 * pending);
}

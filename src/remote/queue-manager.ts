import type { RemoteWriteConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { systemRandom, type Random } from '../util/random.ts';
import type { Labels } from '../util/labels.ts';
import { isCustomBucketsSchema, type Histogram } from '../storage/histogram.ts';
import type { WireProtocol, WriteClient } from './client.ts';
import type { KindMetrics, RemoteMetrics } from './metrics.ts';
import { CATCH_UP_CHECK_MS, Resharder, SHARD_UPDATE_MS, type QueueView } from './resharding.ts';
import { RetryingClient, type FinalResult, type RetryHooks } from './retry.ts';
import { SERIES_DROPPED, SeriesCache } from './series-cache.ts';
import {
  ITEM_EXEMPLAR,
  ITEM_FLOAT_HISTOGRAM,
  ITEM_HISTOGRAM,
  Shard,
  type EncodedBatch,
  type ShardHost,
} from './shard.ts';
import { MetadataSender } from './metadata-sender.ts';
import type { WriteTo } from './write-to.ts';
import { redactUrl } from '../config/redact.ts';
import type { WalPosition } from '../wal/segments.ts';
import type { MetadataSource } from '../storage/metadata.ts';
import type { SharedSeriesLabels } from '../storage/shared-labels.ts';

export { desiredShards } from './resharding.ts';

/** What a QueueManager tells its owner as acknowledgements advance. */
export interface QueueEvents {
  /** Everything before pos was acknowledged (sent or deliberately dropped). */
  onAcked(pos: WalPosition): void;
}

/**
 * Where a queue's shutdown flush stands: 'running' before stop(); 'draining' while the endpoint
 * takes what the shards hold; 'done' once everything went out; 'gave_up' when it stopped with data
 * unsent (the endpoint failed, the deadline passed, or the operator asked to quit now).
 */
export type FlushState = 'running' | 'draining' | 'done' | 'gave_up';

/** Dropped-item reasons exposed at 0 from the start (head's label values). */
const DROP_REASONS = ['dropped_series', 'unintentionally_dropped_series', 'too_old'] as const;
const REASON_NHCB = 'nhcb_in_rw1_not_supported';

type QueueLabels = { readonly remote_name: string; readonly url: string };

export interface QueueOptions {
  clock: Clock;
  log: Logger;
  metrics: RemoteMetrics;
  events: QueueEvents;
  externalLabels: Labels;
  /** Jitter for retry backoff (default Math.random). */
  random?: Random | undefined;
  samplesIn?: (() => number) | undefined;
  /** Newest sample timestamp appended to the WAL (ms): how far behind the reader is. */
  highestAppended?: (() => number) | undefined;
  metadataSource?: MetadataSource | undefined;
  /** The agent's series table: series it holds with the labels this queue sends are not copied. */
  sharedLabels?: SharedSeriesLabels | undefined;
}

/** The shard of series ref: ref modulo the shard count, so a series always goes to one shard. */
function shardFor(shards: readonly Shard[], ref: number): Shard {
  const shard = shards[ref % shards.length];
  if (shard === undefined) throw new RangeError(`no shard for series ref ${ref} among ${shards.length}`);
  return shard;
}

/**
 * One remote endpoint's queue: the series cache, N shards chosen by ref so per-series order holds,
 * the resharder, the retrying client, metadata sends, and the bookkeeping that turns
 * acknowledgements into a safe WAL position to persist. The WAL watcher sees it as a WriteTo.
 */
export class QueueManager implements WriteTo, ShardHost {
  readonly cfg: RemoteWriteConfig;
  readonly clock: Clock;
  readonly series: SeriesCache;
  readonly sendExemplars: boolean;
  readonly sendHistograms: boolean;
  /**
   * Items per request: max_samples_per_send, exemplars and histograms included. Prometheus grows
   * its per-shard send buffer by 10% with send_exemplars, but its shard queue still cuts batches at
   * max_samples_per_send, so that is the effective limit there too.
   */
  readonly batchSize: number;
  readonly batchSendDeadlineMs: number;
  private readonly retrying: RetryingClient;
  private readonly log: Logger;
  private readonly metrics: RemoteMetrics;
  private readonly events: QueueEvents;
  private readonly queueLabels: QueueLabels;
  private readonly dropLabels = new Map<string, QueueLabels & { reason: string }>();
  /** The wire protocol batches are encoded in now: the configured one until a 415 forces v1. */
  private wire: WireProtocol;
  private fellBackToV1 = false;
  /** RW1 metadata_config.send with a source; null otherwise. */
  private readonly metadata: MetadataSender | null;
  private readonly shards: Shard[] = [];
  // Chunks: the watcher hands samples over in chunks that end at a WAL position.
  private chunkSeq = 0;
  private readonly chunkPos = new Map<number, WalPosition>();
  private lastAckedChunk = 0;
  /**
   * The chunk the watcher began and has not ended (0: none): it may be parked on a full shard halfway
   * through a record, so neither that chunk nor anything after it counts as acknowledged, even when
   * every shard ran empty (a shutdown flush, a reshard draining the old shards).
   */
  private openChunk = 0;
  private spaceWaiters: (() => void)[] = [];
  private isStopping = false;
  private flush: FlushState = 'running';
  private flushDeadlineAt = 0;
  /** Ends the shutdown flush early (endpoint failing, or quit now). */
  private readonly giveUpCtl = new AbortController();
  private highestSentTs = 0;
  private highestEnqueuedTs = 0;
  /** Second last written to the queue_highest_timestamp_seconds gauge. */
  private highestEnqueuedSec = 0;
  private lastErr = '';
  private lastErrAt = 0;
  private isFailing = false;
  private readonly highestAppended: () => number;
  private readonly resharder: Resharder;
  private resharding: Promise<void> | null = null;
  private reshardTimer: TimerHandle | null = null;
  private catchUpTimer: TimerHandle | null = null;
  private started = false;
  private sentN = 0;
  private retriedN = 0;
  private failedN = 0;
  private droppedN = 0;
  private readonly rate: { t: number; n: number }[] = [];

  constructor(cfg: RemoteWriteConfig, client: WriteClient, opts: QueueOptions) {
    this.cfg = cfg;
    const q = cfg.queueConfig;
    this.wire = cfg.protobufMessage === 'io.prometheus.write.v2.Request' ? 'v2' : 'v1';
    this.series = new SeriesCache({
      externalLabels: opts.externalLabels,
      relabel: cfg.writeRelabelConfigs,
      keepIds: this.wire === 'v2',
      shared: opts.sharedLabels,
    });
    this.sendExemplars = cfg.sendExemplars;
    this.sendHistograms = cfg.sendNativeHistograms;
    this.batchSize = q.maxSamplesPerSend;
    this.batchSendDeadlineMs = q.batchSendDeadline;
    this.highestAppended = opts.highestAppended ?? (() => this.highestEnqueuedTs);
    this.clock = opts.clock;
    this.retrying = new RetryingClient(client, {
      clock: opts.clock,
      random: opts.random ?? systemRandom,
      minBackoffMs: q.minBackoff,
      maxBackoffMs: q.maxBackoff,
    });
    this.log = opts.log;
    this.metrics = opts.metrics;
    this.events = opts.events;
    this.queueLabels = Object.freeze({ remote_name: cfg.name, url: redactUrl(cfg.url) });
    const source = cfg.metadataConfig.send ? opts.metadataSource : undefined;
    this.metadata = source
      ? new MetadataSender({
          source,
          intervalMs: cfg.metadataConfig.sendInterval,
          perSend: cfg.metadataConfig.maxSamplesPerSend,
          clock: opts.clock,
          log: opts.log,
          metrics: opts.metrics,
          labels: this.queueLabels,
          retrying: this.retrying,
          hooks: (onRetry) => this.retryHooks(null, onRetry),
          active: () => this.wire === 'v1' && !this.isStopping,
        })
      : null;
    const n = Math.max(1, q.minShards);
    for (let i = 0; i < n; i++) this.shards.push(new Shard(this, this.shardCapacity()));
    this.resharder = new Resharder(opts.samplesIn ?? (() => 0));
    const m = this.metrics;
    const labels = this.queueLabels;
    m.shards.set(labels, n);
    // Per-queue counters exist from the start (at 0), so rate() and ratio alerts have series to work on.
    for (const c of [
      ...m.kinds.flatMap((k) => [k.total, k.failed, k.retried]),
      m.metadataTotal,
      m.metadataFailed,
      m.metadataRetried,
      m.metadataBytes,
      m.bytesTotal,
      m.enqueueRetries,
    ])
      c.inc(labels, 0);
    for (const reason of DROP_REASONS) {
      for (const k of m.kinds) k.dropped.inc({ ...labels, reason }, 0);
    }
    for (const k of m.kinds) k.pending.set(labels, 0);
    // Both read 0 until something was enqueued / sent. Prometheus 2.42 creates highest_sent only at
    // the first success; a 0 series lets the mixin's lag expression see an endpoint never reached.
    m.highestSent.set(labels, 0);
    m.highestEnqueued.set(labels, 0);
    m.shardsMin.set(labels, q.minShards);
    m.shardsMax.set(labels, q.maxShards);
    m.maxSamplesPerSend.set(labels, q.maxSamplesPerSend);
    m.shardCapacity.set(labels, q.capacity);
    if (this.wire === 'v2' && cfg.metadataConfig.send) {
      // Prometheus disables metadata_config.send for RW2 the same way: 2.0 carries metadata per series.
      this.log.info(
        'metadata_config.send does not apply to remote write 2.0 (metadata travels per series); metadata-only requests start only if the endpoint makes us fall back to 1.0',
      );
    }
  }

  /** The queue's metric labels, built once (the URL is parsed to redact it). */
  labels(): QueueLabels {
    return this.queueLabels;
  }

  // Read-only views for status and tests.
  get protocol(): WireProtocol {
    return this.wire;
  }
  /** True once a 415 made this queue fall back from RW2 to RW1 (until restart or reload). */
  get fellBack(): boolean {
    return this.fellBackToV1;
  }
  get stopping(): boolean {
    return this.isStopping;
  }
  /** Highest sample timestamp acknowledged (ms), 0 before the first. */
  get highestSent(): number {
    return this.highestSentTs;
  }
  /** Highest sample timestamp enqueued (ms). */
  get highestEnqueued(): number {
    return this.highestEnqueuedTs;
  }
  get lastError(): string {
    return this.lastErr;
  }
  get lastErrorAt(): number {
    return this.lastErrAt;
  }
  /** True while the last send attempt failed. */
  get failing(): boolean {
    return this.isFailing;
  }
  get sent(): number {
    return this.sentN;
  }
  get retried(): number {
    return this.retriedN;
  }
  get failed(): number {
    return this.failedN;
  }
  get dropped(): number {
    return this.droppedN;
  }
  get shardCount(): number {
    return this.shards.length;
  }
  get flushState(): FlushState {
    return this.flush;
  }
  /** When the shutdown flush gives up at the latest (ms), 0 before stop(). */
  get flushDeadline(): number {
    return this.flushDeadlineAt;
  }

  /** Each shard holds the configured capacity plus one batch, as Prometheus' shard queues do. */
  private shardCapacity(): number {
    const q = this.cfg.queueConfig;
    return Math.max(q.capacity, q.maxSamplesPerSend) + q.maxSamplesPerSend;
  }

  start(): void {
    for (const s of this.shards) void s.run();
    const tick = (): void => {
      this.updateShards();
      this.reshardTimer = this.unrefTimer(tick, SHARD_UPDATE_MS);
    };
    this.reshardTimer = this.unrefTimer(tick, SHARD_UPDATE_MS);
    this.started = true;
    this.metadata?.start();
  }

  /**
   * The catch-up check runs every second only while it can matter: from the moment the reader
   * waits for room in the shards until they have room again and no catch-up step is to be undone.
   * A queue that keeps up sets no timer for it at all.
   */
  private armCatchUp(): void {
    if (this.catchUpTimer || !this.started || this.isStopping) return;
    const fast = (): void => {
      this.catchUpTimer = null;
      this.catchUpCheck();
      if (this.spaceWaiters.length > 0 || this.resharder.catchingUp || this.view().saturated) this.armCatchUp();
    };
    this.catchUpTimer = this.unrefTimer(fast, CATCH_UP_CHECK_MS);
  }

  private unrefTimer(fn: () => void, ms: number): TimerHandle {
    const h = this.clock.setTimeout(fn, ms);
    (h as { unref?: () => void }).unref?.();
    return h;
  }

  /**
   * The queue's side of each attempt. Data sends (onAttempt given: it counts the attempt) also feed
   * the shard calculation and the queue's health; metadata sends pass null. onRetry counts a retry.
   */
  private retryHooks(onAttempt: ((seconds: number) => void) | null, onRetry: () => void): RetryHooks {
    const data = onAttempt !== null;
    return {
      attempted: (seconds) => {
        this.metrics.sentBatchDuration.observe(this.queueLabels, seconds);
        if (onAttempt) {
          this.resharder.recordAttempt(seconds);
          onAttempt(seconds);
        }
      },
      failed: (outcome, attempt, waitMs) => {
        if (data) this.isFailing = true;
        const now = this.clock.now();
        this.resharder.freeze(now + 2 * waitMs);
        this.lastErr = outcome.error;
        this.lastErrAt = now;
        if (attempt === 0)
          this.log.warn(data ? 'Failed to send batch, retrying' : 'Failed to send metadata, retrying', {
            remote_name: this.cfg.name,
            err: outcome.error,
          });
        // Draining for shutdown: a failing endpoint makes no progress, and what is unsent stays in the WAL.
        if (this.isStopping) this.giveUp('the endpoint is failing');
      },
      retrying: onRetry,
    };
  }

  /** ShardHost: sends one batch (re-encoded in v1 after a 415), then does the queue's accounting. */
  async deliver(encode: (protocol: WireProtocol) => EncodedBatch, signal: AbortSignal): Promise<boolean> {
    const m = this.metrics;
    const labels = this.queueLabels;
    let batch = encode(this.wire);
    let lastAttempt = 0;
    const hooks = this.retryHooks(
      (seconds) => {
        lastAttempt = seconds;
        m.samples.total.inc(labels, batch.samples);
        if (batch.exemplars > 0) m.exemplars.total.inc(labels, batch.exemplars);
        if (batch.histograms > 0) m.histograms.total.inc(labels, batch.histograms);
      },
      () => {
        m.samples.retried.inc(labels, batch.samples);
        if (batch.exemplars > 0) m.exemplars.retried.inc(labels, batch.exemplars);
        if (batch.histograms > 0) m.histograms.retried.inc(labels, batch.histograms);
        this.retriedN += batch.samples;
      },
    );
    let outcome: FinalResult | null = await this.retrying.send(batch.body, batch.protocol, signal, hooks);
    if (outcome !== null && outcome.kind === 'fail' && outcome.status === 415 && batch.protocol === 'v2') {
      this.fallBackToV1(outcome.error);
      batch = encode('v1');
      outcome = await this.retrying.send(batch.body, batch.protocol, signal, hooks);
    }
    // Aborted (hard shutdown): the items stay unacknowledged, so the WAL position does not pass them.
    if (outcome === null) return false;
    this.account(batch, outcome, lastAttempt);
    return true;
  }

  /** Counts a batch's final outcome: sent, failed, highest sent timestamp, health. */
  private account(batch: EncodedBatch, outcome: FinalResult, lastAttemptSec: number): void {
    const m = this.metrics;
    const labels = this.queueLabels;
    const { samples: nS, exemplars: nE, histograms: nH } = batch;
    m.bytesTotal.inc(labels, batch.body.length);
    this.resharder.recordSent(nS + nE + nH, this.clock.now(), lastAttemptSec);
    // How much the receiver took: RW2 receivers say so in headers; a RW1 receiver that does not
    // is assumed to have taken everything (Prometheus' rule).
    let wS = 0;
    let wE = 0;
    let wH = 0;
    let err = '';
    if (outcome.kind === 'ok') {
      const w = outcome.written;
      const confirmed = w.samples >= 0 || w.exemplars >= 0 || w.histograms >= 0;
      if (batch.protocol === 'v2' || confirmed) {
        wS = Math.max(0, w.samples);
        wE = Math.max(0, w.exemplars);
        wH = Math.max(0, w.histograms);
      } else {
        wS = nS;
        wE = nE;
        wH = nH;
      }
      if (batch.protocol === 'v2' && nS + nE + nH > 0 && wS + wE + wH === 0) {
        err =
          `sent v2 request with ${nS} samples, ${nH} histograms and ${nE} exemplars; got 2xx, but PRW 2.0 response header statistics indicate ` +
          `${wS} samples, ${wH} histograms and ${wE} exemplars were accepted; assuming failure e.g. the target only supports PRW 1.0 prometheus.WriteRequest, ` +
          'but does not check the Content-Type header correctly';
      }
    } else err = outcome.error;
    const fS = Math.max(0, nS - wS);
    const fE = Math.max(0, nE - wE);
    const fH = Math.max(0, nH - wH);
    if (fS > 0) m.samples.failed.inc(labels, fS);
    if (fE > 0) m.exemplars.failed.inc(labels, fE);
    if (fH > 0) m.histograms.failed.inc(labels, fH);
    this.failedN += fS;
    const recovered = this.isFailing;
    this.isFailing = false;
    // The endpoint is back after failures: the backlog starts to drain now, not at the next tick.
    if (recovered) this.catchUpCheck();
    if (err !== '') {
      this.lastErr = err;
      this.lastErrAt = this.clock.now();
      this.log.error('Non-recoverable error, dropping batch', {
        remote_name: this.cfg.name,
        failedSampleCount: fS,
        failedHistogramCount: fH,
        failedExemplarCount: fE,
        err,
      });
    } else {
      if (fS + fE + fH > 0) {
        this.log.error(
          'we got 2xx status code from the Receiver yet statistics indicate some data was not written; investigation needed',
          {
            remote_name: this.cfg.name,
            failedSampleCount: fS,
            failedHistogramCount: fH,
            failedExemplarCount: fE,
          },
        );
      }
      this.recordSent(Math.min(nS, wS) + Math.min(nE, wE) + Math.min(nH, wH));
    }
    if (batch.highest > this.highestSentTs) {
      this.highestSentTs = batch.highest;
      m.highestSent.set(labels, Math.floor(batch.highest / 1000));
    }
  }

  /** ShardHost: custom-bucket histograms a RW1 request cannot carry. */
  droppedNhcb(n: number): void {
    this.dropItem(this.metrics.histograms.dropped, REASON_NHCB, n);
  }

  /**
   * A 415 to a 2.0 request: the receiver speaks only 1.0. The spec lets a sender fall back; this
   * queue then encodes RW1 until it is restarted or reloaded. Shards hitting 415 concurrently
   * all land here; the log line comes once.
   */
  private fallBackToV1(err: string): void {
    if (this.wire === 'v1') return;
    this.wire = 'v1';
    this.fellBackToV1 = true;
    this.log.warn(
      'Remote write receiver rejected a 2.0 request with 415 Unsupported Media Type; falling back to 1.0 (prometheus.WriteRequest) for this endpoint until restart or reload',
      {
        remote_name: this.cfg.name,
        err,
      },
    );
  }

  private view(): QueueView {
    const q = this.cfg.queueConfig;
    let saturated = false;
    for (const s of this.shards) if (s.size >= s.capacity * 0.9) saturated = true;
    return {
      shards: this.shards.length,
      minShards: q.minShards,
      maxShards: q.maxShards,
      failing: this.isFailing,
      highestEnqueued: this.highestEnqueuedTs,
      highestSent: this.highestSentTs,
      highestAppended: this.highestAppended(),
      saturated,
    };
  }

  /** Catch-up resharding (see Resharder.catchUp), checked every second and on recovery. */
  catchUpCheck(): void {
    if (this.resharding || this.isStopping) return;
    const n = this.resharder.catchUp(this.view(), this.clock.now());
    if (n !== null) void this.reshard(n);
  }

  /** Recomputes the desired shard count (Prometheus' formula) and reshards when it moved enough. */
  updateShards(): void {
    const view = this.view();
    let desired = -1;
    const n = this.resharder.tick(view, this.clock.now(), (d) => {
      desired = d;
      this.metrics.shardsDesired.set(this.queueLabels, d);
    });
    if (desired >= 0) {
      this.log.debug('Shard calculation', {
        remote_name: this.cfg.name,
        desired: desired.toFixed(2),
        shards: view.shards,
        reshard_to: n ?? view.shards,
      });
    }
    if (n !== null) void this.reshard(n);
  }

  /**
   * Continues with n shards. The current shards finish the request they have in flight (the reader
   * waits meanwhile), then hand what they hold to the new shards, each series to one shard in its
   * order. Only when that does not fit (shrinking with full shards) do they drain through the
   * endpoint first. Draining always was the cost of a reshard before: with a slow receiver it
   * stalled the reader for (queued / batch) x latency, a minute at 10 s per request.
   */
  reshard(n: number): Promise<void> {
    if (this.resharding || this.isStopping) return this.resharding ?? Promise.resolve();
    this.resharding = (async () => {
      this.log.info('Remote storage resharding', { from: this.shards.length, to: n });
      const old = this.shards.slice();
      for (const s of old) s.quiesce();
      await Promise.all(old.map((s) => s.done));
      const cap = this.shardCapacity();
      const counts = new Int32Array(n);
      for (const s of old) s.countByShard(counts);
      let fits = !this.isStopping;
      if (counts.some((c) => c > cap)) fits = false;
      if (!fits) {
        // Stopping (the flush takes over from here) or too much to move: send it out first.
        for (const s of old) {
          s.drain();
          void s.run();
        }
        if (this.isStopping) return;
        await Promise.all(old.map((s) => s.done));
        if (this.isStopping) return;
      }
      const fresh: Shard[] = [];
      for (let i = 0; i < n; i++) fresh.push(new Shard(this, cap));
      for (const s of old) s.moveTo((ref) => shardFor(fresh, ref));
      this.shards.length = 0;
      this.shards.push(...fresh);
      for (const s of fresh) void s.run();
      this.metrics.shards.set(this.queueLabels, n);
    })().finally(() => {
      this.resharding = null;
      this.progressed();
    });
    return this.resharding;
  }

  /** WriteTo: caches a series from a WAL series record. */
  storeSeries(ref: number, walLabels: Labels): void {
    this.series.store(ref, walLabels);
  }

  /** WriteTo: starts a chunk of samples ending at pos; returns its id. */
  beginChunk(pos: WalPosition): number {
    const id = ++this.chunkSeq;
    this.chunkPos.set(id, pos);
    this.openChunk = id;
    return id;
  }

  /** WriteTo: enqueues one sample of the current chunk; false when the target shard is full. */
  enqueue(ref: number, t: number, v: number, stale: boolean, chunk: number): boolean {
    const state = this.series.state(ref);
    if (state <= 0) {
      this.drop(state === SERIES_DROPPED ? 'dropped_series' : 'unintentionally_dropped_series');
      return true;
    }
    const ageLimit = this.cfg.queueConfig.sampleAgeLimit;
    if (ageLimit > 0 && t < this.clock.now() - ageLimit) {
      this.drop('too_old');
      return true;
    }
    if (this.resharding) return false;
    const shard = shardFor(this.shards, ref);
    if (!shard.push(ref, t, v, stale, chunk)) return false;
    if (t > this.highestEnqueuedTs) this.raiseHighestEnqueued(t);
    return true;
  }

  private raiseHighestEnqueued(t: number): void {
    this.highestEnqueuedTs = t;
    // The gauge moves in whole seconds: set it only when that changes, not per sample.
    const sec = Math.floor(t / 1000);
    if (sec > this.highestEnqueuedSec) {
      this.highestEnqueuedSec = sec;
      this.metrics.highestEnqueued.set(this.queueLabels, sec);
    }
  }

  /**
   * WriteTo: enqueues an exemplar of series `ref` (send_exemplars). The exemplar's own labels are
   * sent as they are in the WAL (no external labels, no relabeling).
   */
  enqueueExemplar(ref: number, t: number, v: number, exemplarLabels: Labels, chunk: number): boolean {
    if (!this.sendExemplars) return true;
    return this.enqueueItem(
      ITEM_EXEMPLAR,
      this.metrics.exemplars.dropped,
      ref,
      t,
      v,
      exemplarLabels,
      null,
      chunk,
      null,
    );
  }

  /**
   * WriteTo: enqueues a native histogram of series `ref` (send_native_histograms); `float` for WAL
   * records 8/10. Custom-bucket histograms cannot travel in RW1 and are dropped there, as in Prometheus.
   */
  enqueueHistogram(ref: number, t: number, h: Histogram, float: boolean, chunk: number): boolean {
    if (!this.sendHistograms) return true;
    const refused = this.wire === 'v1' && isCustomBucketsSchema(h.schema) ? REASON_NHCB : null;
    return this.enqueueItem(
      float ? ITEM_FLOAT_HISTOGRAM : ITEM_HISTOGRAM,
      this.metrics.histograms.dropped,
      ref,
      t,
      0,
      null,
      h,
      chunk,
      refused,
    );
  }

  /**
   * The enqueue() contract for an exemplar or histogram: dropped and counted on `dropped` when too
   * old, when `refused` names a reason, or when its series is unknown or dropped, in that order.
   */
  private enqueueItem(
    kind: number,
    dropped: KindMetrics['dropped'],
    ref: number,
    t: number,
    v: number,
    labels: Labels | null,
    h: Histogram | null,
    chunk: number,
    refused: string | null,
  ): boolean {
    const ageLimit = this.cfg.queueConfig.sampleAgeLimit;
    if (ageLimit > 0 && t < this.clock.now() - ageLimit) {
      this.dropItem(dropped, 'too_old', 1);
      return true;
    }
    if (refused !== null) {
      this.dropItem(dropped, refused, 1);
      return true;
    }
    const state = this.series.state(ref);
    if (state <= 0) {
      this.dropItem(dropped, state === SERIES_DROPPED ? 'dropped_series' : 'unintentionally_dropped_series', 1);
      return true;
    }
    if (this.resharding) return false;
    const shard = shardFor(this.shards, ref);
    if (!shard.pushItem(kind, ref, t, v, labels, h, chunk)) return false;
    if (t > this.highestEnqueuedTs) this.raiseHighestEnqueued(t);
    return true;
  }

  private drop(reason: string): void {
    this.droppedN++;
    this.dropItem(this.metrics.samples.dropped, reason, 1);
  }

  /** Counts n dropped items of one kind; they also count as dropped for the shard calculation. */
  private dropItem(counter: KindMetrics['dropped'], reason: string, n: number): void {
    this.resharder.recordDropped(n);
    // Drops can be per sample (write relabeling): reuse one label object per reason.
    let l = this.dropLabels.get(reason);
    if (!l) {
      l = { ...this.queueLabels, reason };
      this.dropLabels.set(reason, l);
    }
    counter.inc(l, n);
  }

  /** WriteTo: the current chunk was fully handed over; if nothing of it is pending, acknowledgement may advance. */
  endChunk(): void {
    this.openChunk = 0;
    this.advanceAck();
  }

  /** WriteTo: resolves when shards made room (true), or at once with false when the queue is stopping. */
  waitForSpace(): Promise<boolean> {
    if (this.isStopping) return Promise.resolve(false);
    this.metrics.enqueueRetries.inc(this.queueLabels);
    this.armCatchUp();
    return new Promise((resolve) => this.spaceWaiters.push(() => resolve(!this.isStopping)));
  }

  /** WriteTo: wakes a reader parked in waitForSpace(). */
  wakeReader(): void {
    const w = this.spaceWaiters;
    if (w.length > 0) {
      this.spaceWaiters = [];
      for (const fn of w) fn();
    }
  }

  /** ShardHost: a shard freed space or finished a batch. */
  progressed(): void {
    this.wakeReader();
    this.advanceAck();
  }

  private advanceAck(): void {
    // The safe chunk is the one before the oldest chunk any shard still holds samples of.
    let minPending = this.chunkSeq + 1;
    for (const s of this.shards) {
      const c = s.oldestChunk();
      if (c > 0 && c < minPending) minPending = c;
    }
    if (this.openChunk > 0 && this.openChunk < minPending) minPending = this.openChunk;
    const safe = minPending - 1;
    if (safe <= this.lastAckedChunk) return;
    let pos: WalPosition | undefined;
    for (let c = this.lastAckedChunk + 1; c <= safe; c++) {
      const p = this.chunkPos.get(c);
      if (p) pos = p;
      this.chunkPos.delete(c);
    }
    this.lastAckedChunk = safe;
    if (pos) {
      // No shard holds anything before pos now: series the table removed before it can go.
      this.series.acknowledged(pos);
      this.events.onAcked(pos);
    }
  }

  pending(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }

  /** Items waiting in the shards, by kind (the *_pending gauges). */
  pendingByKind(): { samples: number; exemplars: number; histograms: number } {
    let exemplars = 0;
    let histograms = 0;
    let all = 0;
    for (const s of this.shards) {
      all += s.size;
      exemplars += s.exemplarsHeld;
      histograms += s.histogramsHeld;
    }
    return { samples: all - exemplars - histograms, exemplars, histograms };
  }

  /** Timestamp (ms) of the oldest item the shards hold, null when they hold nothing. */
  oldestPending(): number | null {
    let oldest = Infinity;
    for (const s of this.shards) {
      const t = s.oldestTimestamp();
      if (t < oldest) oldest = t;
    }
    return oldest === Infinity ? null : oldest;
  }

  /** Samples per second acknowledged over the last ~10 s. */
  sendRate(): number {
    const now = this.clock.now();
    while ((this.rate[0]?.t ?? Infinity) < now - 10_000) this.rate.shift();
    let n = 0;
    for (const r of this.rate) n += r.n;
    return n / 10;
  }

  private recordSent(n: number): void {
    this.sentN += n;
    const now = this.clock.now();
    const last = this.rate[this.rate.length - 1];
    if (last && now - last.t < 1000) last.n += n;
    else this.rate.push({ t: now, n });
  }

  /**
   * Ends the shutdown flush now: what the shards hold stays unacknowledged, so it stays in the WAL
   * and goes out after the restart. No-op unless stopping and still draining.
   */
  giveUp(why: string): void {
    if (!this.isStopping || this.giveUpCtl.signal.aborted || this.flush !== 'draining') return;
    this.log.warn(
      'Stopping remote write without waiting for the endpoint; unsent data stays in the WAL and is sent after restart',
      {
        remote_name: this.cfg.name,
        reason: why,
        pending: this.pending(),
      },
    );
    this.giveUpCtl.abort();
  }

  /**
   * Stops the queue. The shards flush what they hold while the endpoint takes it, for up to
   * deadlineMs; a failing endpoint ends the flush at once (giveUp), since nothing unsent is lost:
   * it stays in the WAL. Returns whether everything was delivered.
   */
  async stop(deadlineMs: number): Promise<boolean> {
    try {
      return await this.drainAndStop(deadlineMs);
    } finally {
      // Whatever happened: the series table must not keep calling a cache nobody reads.
      this.series.close();
    }
  }

  private async drainAndStop(deadlineMs: number): Promise<boolean> {
    this.isStopping = true;
    for (const t of [this.reshardTimer, this.catchUpTimer]) if (t) this.clock.clearTimeout(t);
    this.metadata?.stopTicking();
    this.flushDeadlineAt = this.clock.now() + deadlineMs;
    this.flush = 'draining';
    if (this.resharding) await this.resharding;
    if (this.isFailing || this.metadata?.failing) this.giveUp('the endpoint is failing');
    for (const s of this.shards) s.wake();
    // A metadata send in flight gets the same flush deadline as the shards.
    const all = Promise.all([...this.shards.map((s) => s.done), this.metadata?.inFlight]);
    let timer: TimerHandle | null = null;
    const gaveUp = this.giveUpCtl.signal;
    const ended = new Promise<'timeout' | 'gave_up'>((resolve) => {
      timer = this.clock.setTimeout(() => resolve('timeout'), deadlineMs);
      if (gaveUp.aborted) resolve('gave_up');
      else gaveUp.addEventListener('abort', () => resolve('gave_up'), { once: true });
    });
    const r = await Promise.race([all.then(() => 'ok' as const), ended]);
    if (timer) this.clock.clearTimeout(timer);
    for (const s of this.shards) s.abort();
    this.metadata?.abort();
    // Closing first fails a request still in flight, so giving up does not wait for remote_timeout.
    if (r !== 'ok') this.retrying.close();
    await all;
    if (r === 'ok') this.retrying.close();
    this.wakeReader();
    const ok = r === 'ok' && this.pending() === 0;
    this.flush = ok ? 'done' : 'gave_up';
    if (r === 'timeout' && !ok) {
      this.log.warn('Remote write flush deadline reached; unsent data stays in the WAL and is sent after restart', {
        remote_name: this.cfg.name,
        pending: this.pending(),
      });
    }
    return ok;
  }
}

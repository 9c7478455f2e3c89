import type { RemoteWriteConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { relabel, compileRelabelConfigs, type CompiledRelabel } from '../relabel/relabel.ts';
import { sleep, type Clock } from '../util/clock.ts';
import { grownArray } from '../util/bytes.ts';
import { LabelsBuilder, type Labels } from '../util/labels.ts';
import { isCustomBucketsSchema, type Histogram } from '../wal/records.ts';
import type { SendResult, WireProtocol, WriteClient } from './client.ts';
import { encodeLabelsBlock, SymbolInterner, WriteRequestBuilder, WriteRequestV2Builder } from './encoder.ts';
import type { RemoteMetrics } from './metrics.ts';
import { MetricType } from './proto.ts';
import { SnappyBlockCompressor } from './snappy.ts';
import { redactUrl } from '../config/redact.ts';
import { errorMessage } from '../util/errors.ts';

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
/** A partial batch of overdue samples goes out after the shard got nothing new for this long. */
const OVERDUE_IDLE_MS = 50;
/** Behind by more than this, catch-up quadruples the shards instead of doubling them. */
const FAR_BEHIND_SEC = 30;
/** While the receiver refuses connections, how often a TCP probe checks whether it is back. */
const PROBE_INTERVAL_MS = 250;
const SERIES_DROPPED = -1;
/** Series labels as interned ids (RW2 queues); shared by every series with no labels cached. */
const NO_IDS = new Uint32Array(0);

/** What a shard slot holds. */
const ITEM_SAMPLE = 0;
const ITEM_EXEMPLAR = 1;
const ITEM_HISTOGRAM = 2;
const ITEM_FLOAT_HISTOGRAM = 3;

/** Metric types as scrape metadata names them. */
export type MetadataMetricType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';

/** One metric family's metadata as the scrape side knows it (Prometheus' scrape.MetricMetadata). */
export interface MetricMetadataEntry {
  readonly metric: string;
  readonly type: MetadataMetricType;
  readonly help: string;
  readonly unit: string;
}

/**
 * Where RW1 metadata comes from: every active target's metadata, read each send_interval.
 * Duplicates (same family, type, help and unit) are fine; the queue de-duplicates.
 */
export type MetadataSource = () => Iterable<MetricMetadataEntry>;

const METADATA_TYPE_CODES: Readonly<Record<MetadataMetricType, number>> = {
  unknown: MetricType.UNKNOWN,
  counter: MetricType.COUNTER,
  gauge: MetricType.GAUGE,
  histogram: MetricType.HISTOGRAM,
  gaugehistogram: MetricType.GAUGEHISTOGRAM,
  summary: MetricType.SUMMARY,
  info: MetricType.INFO,
  stateset: MetricType.STATESET,
};

/** Dropped-item reasons exposed at 0 from the start (head's label values). */
const DROP_REASONS = ['dropped_series', 'unintentionally_dropped_series', 'too_old'] as const;
const REASON_NHCB = 'nhcb_in_rw1_not_supported';

/** A send's final outcome; null when the shard or queue was aborted first. */
type FinalResult = Exclude<SendResult, { kind: 'retry' }>;

/** Fewest dropped series before the interner is renumbered from the live ones (see dropSeries). */
const INTERNER_REBUILD_MIN = 4096;

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
  /** RW2 queues only: each cached series' labels as interned ids (the RW1 blocks stay for a 415 fallback). */
  private readonly keepIds: boolean;
  interner = new SymbolInterner();
  private seriesIds: (Uint32Array | undefined)[] = [];
  private liveIdSeries = 0;
  private droppedIdSeries = 0;
  /** The wire protocol batches are encoded in now: the configured one until a 415 forces v1. */
  protocol: WireProtocol;
  /** True once a 415 made this queue fall back from RW2 to RW1 (until restart or reload). */
  fellBack = false;
  readonly sendExemplars: boolean;
  readonly sendHistograms: boolean;
  /**
   * Items per request: max_samples_per_send, exemplars and histograms included. Prometheus grows
   * its per-shard send buffer by 10% with send_exemplars, but its shard queue still cuts batches at
   * max_samples_per_send, so that is the effective limit there too.
   */
  readonly batchSize: number;
  private readonly metadataSource: MetadataSource | null;
  private metadataTimer: object | null = null;
  private metadataSending: Promise<void> | null = null;
  private readonly metadataAbort = new AbortController();
  private readonly metadataBuilder = new WriteRequestBuilder(4096);
  private readonly metadataSnappy = new SnappyBlockCompressor();
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
  private readonly highestAppended: () => number;
  /** Shard count before catch-up grew it; null when not catching up. */
  private catchUpFrom: number | null = null;
  private caughtUpChecks = 0;
  private lastCatchUpStep = 0;
  /** Shards sleeping in a backoff that a successful probe cuts short. */
  private probeWaiters = 0;
  private reachable: Promise<boolean> | null = null;
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

  constructor(
    cfg: RemoteWriteConfig,
    client: WriteClient,
    opts: {
      clock: Clock;
      log: Logger;
      metrics: RemoteMetrics;
      events: QueueEvents;
      externalLabels: Labels;
      samplesIn?: () => number;
      /** Newest sample timestamp appended to the WAL (ms): how far behind the reader is. */
      highestAppended?: () => number;
      metadataSource?: MetadataSource;
    },
  ) {
    this.cfg = cfg;
    this.protocol = cfg.protobufMessage === 'io.prometheus.write.v2.Request' ? 'v2' : 'v1';
    this.keepIds = this.protocol === 'v2';
    this.sendExemplars = cfg.sendExemplars;
    this.sendHistograms = cfg.sendNativeHistograms;
    this.batchSize = cfg.queueConfig.maxSamplesPerSend;
    this.metadataSource = cfg.metadataConfig.send ? (opts.metadataSource ?? null) : null;
    this.highestAppended = opts.highestAppended ?? (() => this.highestEnqueued);
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
    const m = this.metrics;
    for (const c of [
      m.samplesTotal, m.samplesFailed, m.samplesRetried,
      m.exemplarsTotal, m.exemplarsFailed, m.exemplarsRetried,
      m.histogramsTotal, m.histogramsFailed, m.histogramsRetried,
      m.metadataTotal, m.metadataFailed, m.metadataRetried, m.metadataBytes,
      m.bytesTotal, m.enqueueRetries,
    ]) c.inc(this.labels(), 0);
    for (const reason of DROP_REASONS) {
      for (const c of [m.samplesDropped, m.exemplarsDropped, m.histogramsDropped]) c.inc({ ...this.labels(), reason }, 0);
    }
    for (const g of [m.samplesPending, m.exemplarsPending, m.histogramsPending]) g.set(this.labels(), 0);
    this.metrics.highestSent.set(this.labels(), 0);
    this.metrics.shardsMin.set(this.labels(), q.minShards);
    this.metrics.shardsMax.set(this.labels(), q.maxShards);
    this.metrics.maxSamplesPerSend.set(this.labels(), q.maxSamplesPerSend);
    this.metrics.shardCapacity.set(this.labels(), q.capacity);
    if (this.protocol === 'v2' && cfg.metadataConfig.send) {
      // Prometheus disables metadata_config.send for RW2 the same way: 2.0 carries metadata per series.
      this.log.info('metadata_config.send does not apply to remote write 2.0 (metadata travels per series); metadata-only requests start only if the endpoint makes us fall back to 1.0');
    }
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
    if (this.metadataSource) this.scheduleMetadata();
  }

  /** Like Prometheus' ticker: the first metadata send happens one send_interval after start. */
  private scheduleMetadata(): void {
    this.metadataTimer = this.clock.setTimeout(() => {
      this.metadataTimer = null;
      if (this.stopping) return;
      // A send still retrying swallows this tick (a Go ticker drops ticks the same way).
      if (!this.metadataSending && this.protocol === 'v1') {
        this.metadataSending = this.sendMetadata().finally(() => {
          this.metadataSending = null;
        });
      }
      this.scheduleMetadata();
    }, this.cfg.metadataConfig.sendInterval);
    (this.metadataTimer as { unref?: () => void }).unref?.();
  }

  /**
   * One metadata round (RW1 only): collect from the source, de-duplicate by (family, type, help,
   * unit), send metadata-only WriteRequests of at most metadata_config.max_samples_per_send
   * entries with the same retry rules as data. Resolves when every chunk is done or aborted.
   */
  async sendMetadata(): Promise<void> {
    const source = this.metadataSource;
    if (!source) return;
    const entries: MetricMetadataEntry[] = [];
    try {
      const seen = new Set<string>();
      for (const e of source()) {
        const key = `${e.metric}\xff${e.type}\xff${e.help}\xff${e.unit}`;
        if (seen.has(key)) continue;
        seen.add(key);
        entries.push(e);
      }
    } catch (err) {
      this.log.error('Reading metadata for remote write failed', { err: errorMessage(err) });
      return;
    }
    const per = this.cfg.metadataConfig.maxSamplesPerSend;
    const m = this.metrics;
    const labels = this.labels();
    const b = this.metadataBuilder;
    for (let i = 0; i < entries.length; i += per) {
      const end = Math.min(entries.length, i + per);
      const n = end - i;
      b.reset();
      for (let k = i; k < end; k++) {
        const e = entries[k];
        b.addMetadata(METADATA_TYPE_CODES[e.type] ?? MetricType.UNKNOWN, e.metric, e.help, e.unit);
      }
      const body = this.metadataSnappy.compress(b.finish());
      const outcome = await this.sendWithBackoff(body, 'v1', this.metadataAbort.signal, null, () => m.metadataRetried.inc(labels, n));
      if (outcome === null) return;
      if (outcome.kind === 'ok') {
        m.metadataTotal.inc(labels, n);
        m.metadataBytes.inc(labels, body.length);
      } else {
        m.metadataFailed.inc(labels, n);
        this.log.error('Non-recoverable error while sending metadata', { count: n, err: outcome.error });
      }
    }
  }

  /**
   * Posts one request with Prometheus' retry policy: recoverable outcomes are retried forever with
   * doubling backoff (or the server's Retry-After), until success, a non-recoverable outcome, or
   * `signal` (then null). Data sends (onAttempt given: it counts each attempt) also feed the
   * shard calculation and the queue's health; metadata sends pass null. onRetry counts a retry.
   */
  async sendWithBackoff(
    body: Uint8Array,
    protocol: WireProtocol,
    signal: AbortSignal,
    onAttempt: (() => void) | null,
    onRetry: () => void,
  ): Promise<FinalResult | null> {
    const q = this.cfg.queueConfig;
    const data = onAttempt !== null;
    const labels = this.labels();
    let backoff = q.minBackoff;
    let attempt = 0;
    for (;;) {
      const started = performance.now();
      const outcome = await this.client.send(body, attempt, protocol);
      const took = (performance.now() - started) / 1000;
      this.metrics.sentBatchDuration.observe(labels, took);
      if (data) {
        this.sendSeconds += took;
        onAttempt();
      }
      if (outcome.kind !== 'retry') return outcome;
      if (data) this.failing = true;
      const frozen = this.clock.now() + 2 * (outcome.retryAfterMs > 0 ? outcome.retryAfterMs : backoff);
      if (frozen > this.reshardFrozenUntil) this.reshardFrozenUntil = frozen;
      this.lastError = outcome.error;
      this.lastErrorAt = this.clock.now();
      if (attempt === 0) this.log.warn(data ? 'Failed to send batch, retrying' : 'Failed to send metadata, retrying', { remote_name: this.cfg.name, err: outcome.error });
      if (signal.aborted) return null;
      const delay = outcome.retryAfterMs > 0 ? outcome.retryAfterMs : backoff;
      // The server's Retry-After is a minimum: jitter only upward there.
      const wait = outcome.retryAfterMs > 0 ? Math.round(delay * (1 + Math.random() * 0.1)) : jitter(delay);
      if (outcome.refused && this.client.probe) await this.sleepUnlessReachable(wait, signal);
      else await sleep(this.clock, wait, signal);
      if (signal.aborted) return null;
      onRetry();
      backoff = Math.min(delay * 2, q.maxBackoff);
      attempt++;
    }
  }

  /**
   * Backoff after "connection refused" (the receiver's process is down, e.g. restarting): sleeps
   * as usual but wakes as soon as a TCP probe finds the port open again, so the backlog starts to
   * drain within a probe interval of the receiver's return rather than up to max_backoff later.
   * One probe loop per queue serves every shard waiting here, and it ends with the last waiter.
   */
  private async sleepUnlessReachable(ms: number, signal: AbortSignal): Promise<void> {
    const wake = new AbortController();
    const stop = (): void => wake.abort();
    signal.addEventListener('abort', stop, { once: true });
    this.probeWaiters++;
    this.reachable ??= this.probeUntilReachable();
    const back = this.reachable.then((ok) => (ok ? undefined : new Promise<void>(() => undefined)));
    try {
      await Promise.race([sleep(this.clock, ms, wake.signal), back]);
    } finally {
      this.probeWaiters--;
      signal.removeEventListener('abort', stop);
      wake.abort();
    }
  }

  /** True once a probe connected; false when the last waiter left first. */
  private async probeUntilReachable(): Promise<boolean> {
    const client = this.client;
    try {
      while (this.probeWaiters > 0) {
        await sleep(this.clock, PROBE_INTERVAL_MS);
        if (this.probeWaiters > 0 && client.probe && (await client.probe())) return true;
      }
      return false;
    } finally {
      this.reachable = null;
    }
  }

  /**
   * A 415 to a 2.0 request: the receiver speaks only 1.0. The spec lets a sender fall back; this
   * queue then encodes RW1 until it is restarted or reloaded. Shards hitting 415 concurrently
   * all land here; the log line comes once.
   */
  fallBackToV1(err: string): void {
    if (this.protocol === 'v1') return;
    this.protocol = 'v1';
    this.fellBack = true;
    this.log.warn('Remote write receiver rejected a 2.0 request with 415 Unsupported Media Type; falling back to 1.0 (prometheus.WriteRequest) for this endpoint until restart or reload', {
      remote_name: this.cfg.name,
      err,
    });
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
    if (this.failing || this.resharding || this.stopping) return;
    let saturated = false;
    for (const s of this.shards) if (s.size >= s.capacity * 0.9) saturated = true;
    if (!saturated && this.catchUpFrom !== null && ++this.caughtUpChecks >= 2) {
      // Caught up: the reader kept up for two checks in a row. Extra shards would now each hold a
      // sliver of every scrape until batch_send_deadline, so go back at once; the draining
      // reshard also sends those slivers now.
      const back = this.catchUpFrom;
      this.catchUpFrom = null;
      this.caughtUpChecks = 0;
      if (back !== n) void this.reshard(back);
      return;
    }
    if (saturated) this.caughtUpChecks = 0;
    if (n >= q.maxShards) return;
    if (this.clock.now() - this.lastSendAt > CATCH_UP_CHECK_MS * 2) return;
    if (!saturated) return;
    // A step needs time to show: right after one, the shards are still full of what the reshard
    // drained back in.
    const now = this.clock.now();
    if (now - this.lastCatchUpStep < CATCH_UP_CHECK_MS * 1.5) return;
    this.lastCatchUpStep = now;
    this.catchUpFrom ??= n;
    // Every reshard drains the shards while the reader waits, so a backlog of more than half a
    // minute (an outage, a restart) grows in fewer, bigger steps.
    const behindSec = (this.highestAppended() - this.highestSent) / 1000;
    void this.reshard(Math.min(q.maxShards, n * (behindSec > FAR_BEHIND_SEC ? 4 : 2)));
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
    this.log.debug('Remote storage desired shards', { desired: Math.round(desired * 100) / 100, current: this.shards.length, min: q.minShards, max: q.maxShards, failing: this.failing });
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
        this.forgetIds(ref);
        return;
      }
      labels = lb.labels();
    }
    if (labels.length === 0) {
      this.setSeries(ref, 0, SERIES_DROPPED);
      this.forgetIds(ref);
      return;
    }
    const block = encodeLabelsBlock(labels);
    if (this.arenaPos + block.length > this.arena.length) this.growArena(block.length);
    block.copy(this.arena, this.arenaPos);
    this.setSeries(ref, this.arenaPos, block.length);
    this.arenaPos += block.length;
    if (this.keepIds) {
      if (this.seriesIds[ref] === undefined) this.liveIdSeries++;
      this.seriesIds[ref] = this.interner.internLabels(labels);
    }
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
      this.seriesOff = grownArray(this.seriesOff, n);
      this.seriesLen = grownArray(this.seriesLen, n);
    }
    this.seriesOff[ref] = off;
    this.seriesLen[ref] = len;
  }

  /** Forgets series (after WAL truncation dropped them). */
  dropSeries(refs: readonly number[]): void {
    for (const ref of refs) if (ref < this.seriesLen.length) this.seriesLen[ref] = SERIES_UNKNOWN;
    if (!this.keepIds) return;
    for (const ref of refs) this.forgetIds(ref);
    // Churn leaves strings of gone series in the interner: renumber from the live series once more
    // series went than remain (amortised over those drops). Runs between requests: batches are
    // encoded synchronously, so no builder holds ids across it.
    if (this.droppedIdSeries > INTERNER_REBUILD_MIN && this.droppedIdSeries > this.liveIdSeries) this.rebuildInterner();
  }

  private forgetIds(ref: number): void {
    if (!this.keepIds || this.seriesIds[ref] === undefined) return;
    this.seriesIds[ref] = undefined;
    this.liveIdSeries--;
    this.droppedIdSeries++;
  }

  private rebuildInterner(): void {
    const old = this.interner.strings;
    const next = new SymbolInterner();
    for (const ids of this.seriesIds) {
      if (ids === undefined) continue;
      for (let i = 0; i < ids.length; i++) ids[i] = next.intern(old[ids[i]]);
    }
    this.interner = next;
    this.droppedIdSeries = 0;
  }

  /** Appends a sample of series `ref` to a request, copying its labels block straight from the arena. */
  addSampleTo(b: WriteRequestBuilder, ref: number, value: number, stale: boolean, t: number): void {
    b.addSampleFrom(this.arena, this.seriesOff[ref], this.seriesLen[ref], value, stale, t);
  }

  addExemplarTo(b: WriteRequestBuilder, ref: number, exemplarLabels: Labels, value: number, t: number): void {
    b.addExemplarFrom(this.arena, this.seriesOff[ref], this.seriesLen[ref], exemplarLabels, value, t);
  }

  addHistogramTo(b: WriteRequestBuilder, ref: number, h: Histogram, float: boolean, t: number): void {
    b.addHistogramFrom(this.arena, this.seriesOff[ref], this.seriesLen[ref], h, float, t);
  }

  /** A series' labels as ids of `interner` (RW2 queues); empty if the series was forgotten meanwhile. */
  seriesIdsOf(ref: number): Uint32Array {
    return this.seriesIds[ref] ?? NO_IDS;
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

  /**
   * Enqueues an exemplar of series `ref` (send_exemplars). Same contract as enqueue(); the
   * exemplar's own labels are sent as they are in the WAL (no external labels, no relabeling).
   */
  enqueueExemplar(ref: number, t: number, v: number, exemplarLabels: Labels, chunk: number): boolean {
    if (!this.sendExemplars) return true;
    return this.enqueueItem(ITEM_EXEMPLAR, this.metrics.exemplarsDropped, ref, t, v, exemplarLabels, null, chunk, null);
  }

  /**
   * Enqueues a native histogram of series `ref` (send_native_histograms); `float` for WAL records
   * 8/10. Custom-bucket histograms cannot travel in RW1 and are dropped there, as in Prometheus.
   */
  enqueueHistogram(ref: number, t: number, h: Histogram, float: boolean, chunk: number): boolean {
    if (!this.sendHistograms) return true;
    const refused = this.protocol === 'v1' && isCustomBucketsSchema(h.schema) ? REASON_NHCB : null;
    return this.enqueueItem(float ? ITEM_FLOAT_HISTOGRAM : ITEM_HISTOGRAM, this.metrics.histogramsDropped, ref, t, 0, null, h, chunk, refused);
  }

  /**
   * The enqueue() contract for an exemplar or histogram: dropped and counted on `dropped` when too
   * old, when `refused` names a reason, or when its series is unknown or dropped, in that order.
   */
  private enqueueItem(
    kind: number,
    dropped: RemoteMetrics['samplesDropped'],
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
    const len = ref < this.seriesLen.length ? this.seriesLen[ref] : SERIES_UNKNOWN;
    if (len <= 0) {
      this.dropItem(dropped, len === SERIES_DROPPED ? 'dropped_series' : 'unintentionally_dropped_series', 1);
      return true;
    }
    if (this.resharding) return false;
    const shard = this.shards[ref % this.shards.length];
    if (!shard.pushItem(kind, ref, t, v, labels, h, chunk)) return false;
    if (t > this.highestEnqueued) this.highestEnqueued = t;
    return true;
  }

  private drop(reason: string): void {
    this.dropped++;
    this.dropItem(this.metrics.samplesDropped, reason, 1);
  }

  /** Counts n dropped items of one kind; they also count as dropped for the shard calculation. */
  dropItem(counter: RemoteMetrics['samplesDropped'], reason: string, n: number): void {
    this.sharding.dropped += n;
    // Drops can be per sample (write relabeling): reuse one label object per reason.
    let l = this.dropLabels.get(reason);
    if (!l) {
      l = { ...this.queueLabels, reason };
      this.dropLabels.set(reason, l);
    }
    counter.inc(l, n);
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
    if (this.metadataTimer) this.clock.clearTimeout(this.metadataTimer);
    if (this.resharding) await this.resharding;
    for (const s of this.shards) s.wake();
    // A metadata send in flight gets the same flush deadline as the shards.
    const all = Promise.all([...this.shards.map((s) => s.done), this.metadataSending]);
    let timer: object | null = null;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.clock.setTimeout(() => resolve('timeout'), deadlineMs);
    });
    const r = await Promise.race([all.then(() => 'ok' as const), timeout]);
    if (timer) this.clock.clearTimeout(timer);
    for (const s of this.shards) s.abort();
    this.metadataAbort.abort();
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

/**
 * Ring buffer of one shard's items (samples; exemplars and histograms when enabled), plus its
 * single sender loop. Numbers live in typed arrays; only exemplars and histograms keep an object.
 */
class Shard {
  private readonly qm: QueueManager;
  readonly capacity: number;
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
  size = 0;
  exemplarsHeld = 0;
  histogramsHeld = 0;
  private readonly builder = new WriteRequestBuilder();
  private builderV2: WriteRequestV2Builder | null = null;
  private readonly snappy = new SnappyBlockCompressor();
  private wakeFn: (() => void) | null = null;
  private readonly abortCtl = new AbortController();
  done: Promise<void> = Promise.resolve();
  private readonly index: number;
  // What the last encode() put into the request, and what it took off the ring.
  private encSamples = 0;
  private encExemplars = 0;
  private encHistograms = 0;
  private encHighest = 0;
  private takenExemplars = 0;
  private takenHistograms = 0;

  constructor(qm: QueueManager, index: number, cap: number) {
    this.qm = qm;
    this.index = index;
    this.capacity = cap;
    this.refs = new Float64Array(cap);
    this.ts = new Float64Array(cap);
    this.vals = new Float64Array(cap);
    this.stale = new Uint8Array(cap);
    this.kinds = new Uint8Array(cap);
    this.chunks = new Float64Array(cap);
    this.exLabels = qm.sendExemplars ? new Array<Labels | null>(cap).fill(null) : null;
    this.hists = qm.sendHistograms ? new Array<Histogram | null>(cap).fill(null) : null;
  }

  push(ref: number, t: number, v: number, stale: boolean, chunk: number): boolean {
    if (this.size >= this.capacity) return false;
    const i = (this.head + this.size) % this.capacity;
    this.refs[i] = ref;
    this.ts[i] = t;
    this.vals[i] = v;
    this.stale[i] = stale ? 1 : 0;
    this.kinds[i] = ITEM_SAMPLE;
    this.chunks[i] = chunk;
    this.size++;
    if (this.size >= this.qm.batchSize) this.wake();
    // An idle loop sleeps a whole deadline; an overdue first sample should not wait for that.
    else if (this.size === 1 && t < this.qm.clockRef.now() - this.qm.cfg.queueConfig.batchSendDeadline) this.wake();
    return true;
  }

  /** Enqueues an exemplar (labels) or a histogram (h). */
  pushItem(kind: number, ref: number, t: number, v: number, labels: Labels | null, h: Histogram | null, chunk: number): boolean {
    if (this.size >= this.capacity) return false;
    const i = (this.head + this.size) % this.capacity;
    this.refs[i] = ref;
    this.ts[i] = t;
    this.vals[i] = v;
    this.stale[i] = 0;
    this.kinds[i] = kind;
    this.chunks[i] = chunk;
    if (kind === ITEM_EXEMPLAR && this.exLabels) {
      this.exLabels[i] = labels;
      this.exemplarsHeld++;
    } else if (this.hists) {
      this.hists[i] = h;
      this.histogramsHeld++;
    }
    this.size++;
    if (this.size >= this.qm.batchSize) this.wake();
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
    const batch = qm.batchSize;
    let deadline = clock.now() + q.batchSendDeadline;
    while (!this.abortCtl.signal.aborted) {
      const flushing = qm.isStopping || this.draining;
      if (this.size === 0 && flushing) return;
      const full = this.size >= batch;
      const now = clock.now();
      if (!full && !(this.size > 0 && (now >= deadline || flushing))) {
        // The oldest sample already waited longer than batch_send_deadline since it was scraped (a
        // backlog after an outage or restart): once no more arrives for a moment, the partial batch
        // goes out rather than waiting a whole deadline more. That is the tail of every catch-up.
        const overdue = this.size > 0 && this.ts[this.head] < now - q.batchSendDeadline;
        const sizeBefore = this.size;
        // Sleep until a full batch is there or the deadline passes.
        await new Promise<void>((resolve) => {
          const wait = this.size > 0 ? Math.max(1, overdue ? Math.min(OVERDUE_IDLE_MS, deadline - now) : deadline - now) : q.batchSendDeadline;
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
        else if (overdue && this.size === sizeBefore) deadline = clock.now();
        continue;
      }
      const n = Math.min(this.size, batch);
      await this.sendBatch(n);
      deadline = clock.now() + q.batchSendDeadline;
    }
  }

  /** Encodes the oldest n items as one request; returns the compressed body. */
  private encode(n: number, protocol: WireProtocol): Uint8Array {
    const qm = this.qm;
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
    if (this.exemplarsHeld + this.histogramsHeld === 0) {
      // Samples only: the hot path stays a tight loop over the typed arrays.
      if (protocol === 'v1') {
        const b = this.builder;
        b.reset();
        for (let k = 0; k < n; k++) {
          const i = (this.head + k) % cap;
          qm.addSampleTo(b, refs[i], vals[i], stale[i] === 1, ts[i]);
          if (ts[i] > highest) highest = ts[i];
        }
        body = this.snappy.compress(b.finish());
      } else {
        const b = this.v2();
        for (let k = 0; k < n; k++) {
          const i = (this.head + k) % cap;
          b.addSeriesSample(qm.seriesIdsOf(refs[i]), vals[i], stale[i] === 1, ts[i]);
          if (ts[i] > highest) highest = ts[i];
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
        const ref = refs[i];
        const t = ts[i];
        if (kind === ITEM_SAMPLE) {
          if (b1) qm.addSampleTo(b1, ref, vals[i], stale[i] === 1, t);
          else b2?.addSeriesSample(qm.seriesIdsOf(ref), vals[i], stale[i] === 1, t);
          nS++;
        } else if (kind === ITEM_EXEMPLAR) {
          takenE++;
          const ls = exLabels?.[i] ?? [];
          if (b1) qm.addExemplarTo(b1, ref, ls, vals[i], t);
          else b2?.addSeriesExemplar(qm.seriesIdsOf(ref), ls, vals[i], t);
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
            qm.addHistogramTo(b1, ref, h, float, t);
          } else b2?.addSeriesHistogram(qm.seriesIdsOf(ref), h, float, t);
          nH++;
        }
        if (t > highest) highest = t;
      }
      body = this.snappy.compress(b1 ? b1.finish() : (b2 as WriteRequestV2Builder).finish());
      this.takenExemplars = takenE;
      this.takenHistograms = takenH;
      if (nhcb > 0) qm.dropItem(qm.metricsRef.histogramsDropped, REASON_NHCB, nhcb);
    }
    this.encSamples = nS;
    this.encExemplars = nE;
    this.encHistograms = nH;
    this.encHighest = highest;
    return body;
  }

  private v2(): WriteRequestV2Builder {
    let b = this.builderV2;
    if (b === null) {
      b = new WriteRequestV2Builder();
      this.builderV2 = b;
    }
    b.reset();
    b.useInterner(this.qm.interner);
    return b;
  }

  /** Sends the oldest n items, retrying recoverable errors until success, a final failure or abort. */
  private async sendBatch(n: number): Promise<void> {
    const qm = this.qm;
    const m = qm.metricsRef;
    const labels = qm.labels();
    const signal = this.abortCtl.signal;
    const onAttempt = (): void => {
      m.samplesTotal.inc(labels, this.encSamples);
      if (this.encExemplars > 0) m.exemplarsTotal.inc(labels, this.encExemplars);
      if (this.encHistograms > 0) m.histogramsTotal.inc(labels, this.encHistograms);
    };
    const onRetry = (): void => {
      m.samplesRetried.inc(labels, this.encSamples);
      if (this.encExemplars > 0) m.exemplarsRetried.inc(labels, this.encExemplars);
      if (this.encHistograms > 0) m.histogramsRetried.inc(labels, this.encHistograms);
      qm.retried += this.encSamples;
    };
    let protocol = qm.protocol;
    let body = this.encode(n, protocol);
    let outcome = await qm.sendWithBackoff(body, protocol, signal, onAttempt, onRetry);
    if (outcome !== null && outcome.kind === 'fail' && outcome.status === 415 && protocol === 'v2') {
      qm.fallBackToV1(outcome.error);
      protocol = 'v1';
      body = this.encode(n, protocol);
      outcome = await qm.sendWithBackoff(body, protocol, signal, onAttempt, onRetry);
    }
    // Aborted (hard shutdown): the items stay unacknowledged, so the WAL position does not pass them.
    if (outcome === null) return;

    const nS = this.encSamples;
    const nE = this.encExemplars;
    const nH = this.encHistograms;
    m.bytesTotal.inc(labels, body.length);
    qm.samplesOut += nS + nE + nH;
    qm.lastSendAt = qm.clockRef.now();
    // How much the receiver took: RW2 receivers say so in headers; a RW1 receiver that does not
    // is assumed to have taken everything (Prometheus' rule).
    let wS = 0;
    let wE = 0;
    let wH = 0;
    let err = '';
    if (outcome.kind === 'ok') {
      const w = outcome.written;
      const confirmed = w.samples >= 0 || w.exemplars >= 0 || w.histograms >= 0;
      if (protocol === 'v2' || confirmed) {
        wS = Math.max(0, w.samples);
        wE = Math.max(0, w.exemplars);
        wH = Math.max(0, w.histograms);
      } else {
        wS = nS;
        wE = nE;
        wH = nH;
      }
      if (protocol === 'v2' && nS + nE + nH > 0 && wS + wE + wH === 0) {
        err =
          `sent v2 request with ${nS} samples, ${nH} histograms and ${nE} exemplars; got 2xx, but PRW 2.0 response header statistics indicate ` +
          `${wS} samples, ${wH} histograms and ${wE} exemplars were accepted; assuming failure e.g. the target only supports PRW 1.0 prometheus.WriteRequest, ` +
          'but does not check the Content-Type header correctly';
      }
    } else err = outcome.error;
    const fS = Math.max(0, nS - wS);
    const fE = Math.max(0, nE - wE);
    const fH = Math.max(0, nH - wH);
    if (fS > 0) m.samplesFailed.inc(labels, fS);
    if (fE > 0) m.exemplarsFailed.inc(labels, fE);
    if (fH > 0) m.histogramsFailed.inc(labels, fH);
    qm.failed += fS;
    const recovered = qm.failing;
    qm.failing = false;
    // The endpoint is back after failures: the backlog starts to drain now, not at the next tick.
    if (recovered) qm.catchUpCheck();
    if (err !== '') {
      qm.lastError = err;
      qm.lastErrorAt = qm.clockRef.now();
      qm.logRef.error('Non-recoverable error, dropping batch', { remote_name: qm.cfg.name, failedSampleCount: fS, failedHistogramCount: fH, failedExemplarCount: fE, err });
    } else {
      if (fS + fE + fH > 0) {
        qm.logRef.error('we got 2xx status code from the Receiver yet statistics indicate some data was not written; investigation needed', {
          remote_name: qm.cfg.name,
          failedSampleCount: fS,
          failedHistogramCount: fH,
          failedExemplarCount: fE,
        });
      }
      qm.recordSent(Math.min(nS, wS) + Math.min(nE, wE) + Math.min(nH, wH));
    }
    const highest = this.encHighest;
    if (highest > qm.highestSent) {
      qm.highestSent = highest;
      m.highestSent.set(labels, Math.floor(highest / 1000));
    }
    this.release(n);
    qm.shardProgress();
  }

  /** Takes the oldest n items off the ring, letting go of their objects. */
  private release(n: number): void {
    if (this.takenExemplars + this.takenHistograms > 0) {
      for (let k = 0; k < n; k++) {
        const i = (this.head + k) % this.capacity;
        if (this.exLabels) this.exLabels[i] = null;
        if (this.hists) this.hists[i] = null;
      }
      this.exemplarsHeld -= this.takenExemplars;
      this.histogramsHeld -= this.takenHistograms;
    }
    this.head = (this.head + n) % this.capacity;
    this.size -= n;
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

import type { Registry } from 'prom-client';
import type { RemoteWriteConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { RemoteFlushStatus, RemoteStatus } from '../status/types.ts';
import type { Clock } from '../util/clock.ts';
import type { Random } from '../util/random.ts';
import type { Labels } from '../util/labels.ts';
import { redactUrl } from '../config/redact.ts';
import { HttpWriteClient, type WriteClient } from './client.ts';
import { loggingClient } from './client-log.ts';
import { RemoteMetrics } from './metrics.ts';
import { ProgressFile } from './progress.ts';
import { QueueManager, type FlushState } from './queue-manager.ts';
import type { WalPosition } from '../wal/segments.ts';
import type { MetadataSource } from '../storage/metadata.ts';
import type { SharedSeriesLabels } from '../storage/shared-labels.ts';
import { WalWatcher } from './watcher.ts';
import type { RecordTail } from '../wal/tail.ts';

export interface RemoteStorageOptions {
  dataDir: string;
  walDir: string;
  clock: Clock;
  log: Logger;
  registry: Registry;
  userAgent: string;
  /** Where the WAL writer is now: new endpoints start here. */
  walHead: () => WalPosition;
  /** Subscribe to WAL flushes (called with the segment written). */
  subscribe: (fn: (segment: number) => void) => () => void;
  /** The writer's recent records, so watchers that keep up skip reading them back (optional). */
  tail?: RecordTail | null;
  /** Newest sample appended (ms), for lag. */
  highestAppended: () => number;
  /** Total samples appended so far (the shard calculation's "samples in"). */
  samplesAppended?: () => number;
  /** Bytes of WAL after a position, for backlog. */
  bytesAfter: (pos: WalPosition) => number;
  /** How long shutdown and reload wait for queues to drain. */
  flushDeadlineMs: number;
  /** Overridable for tests. */
  makeClient?: ((cfg: RemoteWriteConfig) => WriteClient) | undefined;
  /** Jitter source for retry backoff (default Math.random; tests pass a seeded one). */
  random?: Random | undefined;
  /**
   * Metric metadata of all active targets, for RW1 endpoints with metadata_config.send (read every
   * send_interval). Without it no metadata is sent.
   */
  metadataSource?: MetadataSource | undefined;
  /** The agent's series table, which queues read the labels of its live series from (optional). */
  sharedLabels?: SharedSeriesLabels | undefined;
}

interface Endpoint {
  key: string;
  qm: QueueManager;
  watcher: WalWatcher;
  progress: ProgressFile;
}

/** All remote-write endpoints; each has its own watcher, queue and persisted position. */
export class RemoteStorage {
  private readonly opts: RemoteStorageOptions;
  private readonly metrics: RemoteMetrics;
  private endpoints = new Map<string, Endpoint>();

  constructor(opts: RemoteStorageOptions) {
    this.opts = opts;
    this.metrics = new RemoteMetrics(opts.registry);
  }

  /** Starts new endpoints, stops removed ones, restarts changed ones (resuming from their saved positions). */
  async applyConfig(configs: readonly RemoteWriteConfig[], externalLabels: Labels): Promise<void> {
    const next = new Map<string, Endpoint>();
    const stops: Promise<unknown>[] = [];
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const [name, ep] of this.endpoints) {
      const cfg = wanted.get(name);
      const key = cfg ? JSON.stringify([cfg, externalLabels]) : '';
      if (cfg && key === ep.key) next.set(name, ep);
      else stops.push(this.stopEndpoint(ep));
    }
    await Promise.all(stops);
    for (const cfg of configs) {
      if (next.has(cfg.name)) continue;
      next.set(cfg.name, await this.startEndpoint(cfg, externalLabels));
    }
    this.endpoints = next;
  }

  private async startEndpoint(cfg: RemoteWriteConfig, externalLabels: Labels): Promise<Endpoint> {
    const { log, clock } = this.opts;
    const progress = new ProgressFile(this.opts.dataDir, cfg.name);
    const saved = await progress.load();
    const from = saved ?? this.opts.walHead();
    if (!saved) progress.save(from);
    const qlog = log.child('remote').child(cfg.name);
    const client = loggingClient(
      this.opts.makeClient ? this.opts.makeClient(cfg) : new HttpWriteClient(cfg, this.opts.userAgent),
      qlog,
      () => clock.now(),
    );
    const qm = new QueueManager(cfg, client, {
      clock,
      log: qlog,
      metrics: this.metrics,
      externalLabels,
      samplesIn: this.opts.samplesAppended,
      highestAppended: this.opts.highestAppended,
      metadataSource: this.opts.metadataSource,
      sharedLabels: this.opts.sharedLabels,
      ...(this.opts.random ? { random: this.opts.random } : {}),
      events: { onAcked: (pos) => progress.save(pos) },
    });
    const watcher = new WalWatcher(qm, {
      walDir: this.opts.walDir,
      clock,
      log: qlog,
      subscribe: this.opts.subscribe,
      tail: this.opts.tail,
    });
    qm.start();
    watcher.start(from);
    qlog.info(saved ? 'Resuming remote write from saved WAL position' : 'Starting remote write at the WAL head', {
      url: redactUrl(cfg.url),
      segment: from.segment,
      offset: from.offset,
    });
    return { key: JSON.stringify([cfg, externalLabels]), qm, watcher, progress };
  }

  private async stopEndpoint(ep: Endpoint): Promise<boolean> {
    await ep.watcher.stop();
    const ok = await ep.qm.stop(this.opts.flushDeadlineMs);
    await ep.progress.flush();
    return ok;
  }

  /** The queue of endpoint `name`, read-only use (introspection). */
  queue(name: string): QueueManager | undefined {
    return this.endpoints.get(name)?.qm;
  }

  /** Stops every endpoint, letting queues drain for up to the flush deadline. */
  async stop(): Promise<boolean> {
    const res = await Promise.all([...this.endpoints.values()].map((ep) => this.stopEndpoint(ep)));
    this.endpoints.clear();
    return res.every(Boolean);
  }

  /** The lowest position every endpoint has acknowledged (null with no endpoints): segments before it may go. */
  lowestAcked(): WalPosition | null {
    let low: WalPosition | null = null;
    for (const ep of this.endpoints.values()) {
      const p = ep.progress.position;
      if (!p) return { segment: 0, offset: 0 };
      if (!low || p.segment < low.segment || (p.segment === low.segment && p.offset < low.offset)) low = p;
    }
    return low;
  }

  /**
   * Lowest newest-acknowledged sample timestamp over all endpoints (ms), as Prometheus computes it for
   * series GC: 0 when an endpoint has sent nothing yet, null with no endpoints.
   */
  lowestSentTimestamp(): number | null {
    let low: number | null = null;
    for (const ep of this.endpoints.values()) {
      const t = ep.qm.highestSent;
      if (low === null || t < low) low = t;
    }
    return low;
  }

  /**
   * A forced truncation (disk cap or max age) removed segments below `below`. Endpoints still behind
   * count what they lose as dropped (reason label) and jump past it.
   */
  segmentsDropped(below: number, samplesIn: (fromSegment: number, below: number) => number, reason: string): void {
    for (const ep of this.endpoints.values()) {
      const pos = ep.progress.position;
      if (!pos || pos.segment >= below) continue;
      const lost = samplesIn(pos.segment, below);
      if (lost > 0) this.metrics.samples.dropped.inc({ ...ep.qm.labels(), reason }, lost);
      this.opts.log.warn('WAL data dropped before this endpoint received it', {
        remote_name: ep.qm.cfg.name,
        samples: lost,
        reason,
        resume_segment: below,
      });
      ep.progress.save({ segment: below, offset: 0 });
      ep.watcher.skipTo(below);
    }
  }

  status(): RemoteStatus[] {
    const out: RemoteStatus[] = [];
    const now = this.opts.clock.now();
    for (const ep of this.endpoints.values()) {
      const qm = ep.qm;
      const pos = ep.progress.position;
      const pending = qm.pending();
      const labels = qm.labels();
      const byKind = qm.pendingByKind();
      this.metrics.samples.pending.set(labels, byKind.samples);
      this.metrics.exemplars.pending.set(labels, byKind.exemplars);
      this.metrics.histograms.pending.set(labels, byKind.histograms);
      out.push({
        name: qm.cfg.name,
        url: labels.url,
        health: qm.failing ? 'down' : qm.sent > 0 || pending === 0 ? 'up' : 'unknown',
        lastError: qm.lastError,
        lastErrorAt: qm.lastErrorAt,
        lagSeconds: lagSeconds(qm.oldestPending(), now),
        pendingSamples: pending,
        backlogBytes: pos ? this.opts.bytesAfter(pos) : 0,
        samplesSent: qm.sent,
        samplesRetried: qm.retried,
        samplesDropped: qm.dropped,
        samplesFailed: qm.failed,
        sendRate: qm.sendRate(),
        shards: qm.shardCount,
        ...flushStatus(qm.flushState, qm.flushDeadline),
      });
    }
    return out;
  }
}

function flushStatus(state: FlushState, deadlineAt: number): { flush?: RemoteFlushStatus } {
  return state === 'running' ? {} : { flush: { state, deadlineAt } };
}

/**
 * Lag is the age of the oldest sample not yet acknowledged: it grows for as long as an endpoint
 * takes nothing, from its first sample on. (Newest appended minus newest sent, Prometheus' alerting
 * expression, reads 0 until the first success, because the highest sent timestamp is 0 until then.)
 * The shards hold the oldest unacknowledged samples: the reader feeds them in WAL order, and waits
 * while they are full.
 */
function lagSeconds(oldestPending: number | null, now: number): number {
  return oldestPending === null ? 0 : Math.max(0, (now - oldestPending) / 1000);
}

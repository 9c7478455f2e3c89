import type { Clock, TimerHandle } from '../util/clock.ts';
import type { Logger } from '../log/logger.ts';
import { errorMessage } from '../util/errors.ts';
import { WriteRequestBuilder } from './encoder.ts';
import type { RemoteMetrics } from './metrics.ts';
import { MetricType } from './proto.ts';
import type { MetadataMetricType, MetadataSource, MetricMetadataEntry } from '../storage/metadata.ts';
import type { RetryHooks, RetryingClient } from './retry.ts';
import { SnappyBlockCompressor } from './snappy.ts';

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

export interface MetadataSenderOptions {
  source: MetadataSource;
  /** metadata_config.send_interval and max_samples_per_send. */
  intervalMs: number;
  perSend: number;
  clock: Clock;
  log: Logger;
  metrics: RemoteMetrics;
  labels: { readonly remote_name: string; readonly url: string };
  retrying: RetryingClient;
  /** The queue's retry hooks for a metadata send (health, resharding freeze, shutdown); onRetry counts. */
  hooks: (onRetry: () => void) => RetryHooks;
  /** Whether a tick sends now: the queue speaks RW1 and is not stopping. */
  active: () => boolean;
}

/**
 * RW1 metadata-only requests (metadata_config): every send_interval, every active target's metadata,
 * de-duplicated, in requests of at most max_samples_per_send entries, retried as data is.
 */
export class MetadataSender {
  private readonly opts: MetadataSenderOptions;
  private timer: TimerHandle | null = null;
  private sending: Promise<void> | null = null;
  private retryingNow = false;
  private readonly abortCtl = new AbortController();
  private readonly builder = new WriteRequestBuilder(4096);
  private readonly snappy = new SnappyBlockCompressor();

  constructor(opts: MetadataSenderOptions) {
    this.opts = opts;
  }

  /** The round in progress, null between rounds. */
  get inFlight(): Promise<void> | null {
    return this.sending;
  }

  /** The round in progress is retrying a recoverable failure. */
  get failing(): boolean {
    return this.retryingNow;
  }

  /** Like Prometheus' ticker: the first send happens one send_interval after start. */
  start(): void {
    const h = this.opts.clock.setTimeout(() => {
      this.timer = null;
      if (this.abortCtl.signal.aborted) return;
      // A round still retrying swallows this tick (a Go ticker drops ticks the same way).
      if (!this.sending && this.opts.active()) {
        this.sending = this.sendNow().finally(() => {
          this.sending = null;
        });
      }
      this.start();
    }, this.opts.intervalMs);
    (h as { unref?: () => void }).unref?.();
    this.timer = h;
  }

  /** No more ticks. */
  stopTicking(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Ends a round in progress at its next retry wait, and any later one. */
  abort(): void {
    this.stopTicking();
    this.abortCtl.abort();
  }

  /**
   * One round: collect from the source, de-duplicate by (family, type, help, unit), send. Resolves
   * when every request is done or aborted.
   */
  async sendNow(): Promise<void> {
    const { source, perSend, metrics: m, labels, log } = this.opts;
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
      log.error('Reading metadata for remote write failed', { err: errorMessage(err) });
      return;
    }
    const b = this.builder;
    for (let i = 0; i < entries.length; i += perSend) {
      const end = Math.min(entries.length, i + perSend);
      const n = end - i;
      b.reset();
      for (const e of entries.slice(i, end)) {
        b.addMetadata(METADATA_TYPE_CODES[e.type] ?? MetricType.UNKNOWN, e.metric, e.help, e.unit);
      }
      const body = this.snappy.compress(b.finish());
      const hooks = this.opts.hooks(() => m.metadataRetried.inc(labels, n));
      const outcome = await this.opts.retrying.send(body, 'v1', this.abortCtl.signal, {
        ...hooks,
        failed: (o, attempt, waitMs) => {
          this.retryingNow = true;
          hooks.failed(o, attempt, waitMs);
        },
      });
      this.retryingNow = false;
      if (outcome === null) return;
      if (outcome.kind === 'ok') {
        m.metadataTotal.inc(labels, n);
        m.metadataBytes.inc(labels, body.length);
      } else {
        m.metadataFailed.inc(labels, n);
        log.error('Non-recoverable error while sending metadata', { count: n, err: outcome.error });
      }
    }
  }
}

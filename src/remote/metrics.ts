import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type QL = 'remote_name' | 'url';

/** The series Prometheus keeps for each kind of data a queue sends (samples, exemplars, histograms). */
export interface KindMetrics {
  readonly total: Counter<QL>;
  readonly failed: Counter<QL>;
  readonly retried: Counter<QL>;
  readonly dropped: Counter<QL | 'reason'>;
  readonly pending: Gauge<QL>;
}

/** prometheus_remote_storage_* metrics, shared by all queues (labelled by remote_name and url). */
export class RemoteMetrics {
  readonly samples: KindMetrics;
  readonly exemplars: KindMetrics;
  readonly histograms: KindMetrics;
  /** samples, exemplars and histograms, in that order. */
  readonly kinds: readonly KindMetrics[];
  readonly metadataTotal: Counter<QL>;
  readonly metadataFailed: Counter<QL>;
  readonly metadataRetried: Counter<QL>;
  readonly metadataBytes: Counter<QL>;
  readonly bytesTotal: Counter<QL>;
  readonly enqueueRetries: Counter<QL>;
  readonly sentBatchDuration: Histogram<QL>;
  readonly highestSent: Gauge<QL>;
  readonly highestEnqueued: Gauge<QL>;
  readonly shards: Gauge<QL>;
  readonly shardsDesired: Gauge<QL>;
  readonly shardsMin: Gauge<QL>;
  readonly shardsMax: Gauge<QL>;
  readonly shardCapacity: Gauge<QL>;
  readonly maxSamplesPerSend: Gauge<QL>;

  constructor(reg: Registry) {
    const L: QL[] = ['remote_name', 'url'];
    const LR: (QL | 'reason')[] = [...L, 'reason'];
    const p = 'prometheus_remote_storage_';
    const counter = (name: string, help: string): Counter<QL> =>
      new Counter({ name: p + name, help, labelNames: L, registers: [reg] });
    const gauge = (name: string, help: string): Gauge<QL> =>
      new Gauge({ name: p + name, help, labelNames: L, registers: [reg] });
    const dropped = (what: string): Counter<QL | 'reason'> =>
      new Counter({
        name: `${p}${what}_dropped_total`,
        help: `Total number of ${what} which were dropped after being read from the WAL before being sent via remote write, either via relabelling, due to being too old or unintentionally because of an unknown reference ID.`,
        labelNames: LR,
        registers: [reg],
      });
    // `noun` is how the help text names them: Prometheus says "metadata entries" for metadata.
    const sent = (what: string, noun = what): Counter<QL> =>
      counter(`${what}_total`, `Total number of ${noun} sent to remote storage.`);
    const failed = (what: string, noun = what): Counter<QL> =>
      counter(
        `${what}_failed_total`,
        `Total number of ${noun} which failed on send to remote storage, non-recoverable errors.`,
      );
    const retried = (what: string, noun = what): Counter<QL> =>
      counter(
        `${what}_retried_total`,
        `Total number of ${noun} which failed on send to remote storage but were retried because the send error was recoverable.`,
      );
    const pending = (what: string): Gauge<QL> =>
      gauge(`${what}_pending`, `The number of ${what} pending in the queues shards to be sent to the remote storage.`);

    const kind = (what: string): KindMetrics => ({
      total: sent(what),
      failed: failed(what),
      retried: retried(what),
      dropped: dropped(what),
      pending: pending(what),
    });
    this.samples = kind('samples');
    this.exemplars = kind('exemplars');
    this.histograms = kind('histograms');
    this.kinds = [this.samples, this.exemplars, this.histograms];
    this.metadataTotal = sent('metadata', 'metadata entries');
    this.metadataFailed = failed('metadata', 'metadata entries');
    this.metadataRetried = retried('metadata', 'metadata entries');
    this.metadataBytes = counter(
      'metadata_bytes_total',
      'The total number of bytes of metadata sent by the queue after compression.',
    );
    this.bytesTotal = counter(
      'bytes_total',
      'The total number of bytes of data (not metadata) sent by the queue after compression. Note that when exemplars over remote write is enabled the exemplars included in a remote write request count towards this metric.',
    );
    this.enqueueRetries = counter(
      'enqueue_retries_total',
      'Total number of times enqueue has failed because a shards queue was full.',
    );
    this.sentBatchDuration = new Histogram({
      name: p + 'sent_batch_duration_seconds',
      help: 'Duration of send calls to the remote storage.',
      labelNames: L,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300],
      registers: [reg],
    });
    this.highestSent = gauge(
      'queue_highest_sent_timestamp_seconds',
      'Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.',
    );
    // Prometheus 3.7's per-queue lag metric (the global highest_timestamp_in_seconds stays, in agent/metrics.ts).
    this.highestEnqueued = gauge(
      'queue_highest_timestamp_seconds',
      'Highest timestamp that was enqueued by this queue, in seconds since epoch; samples dropped before the queue (write relabeling, age limit) do not count.',
    );
    this.shards = gauge('shards', 'The number of shards used for parallel sending to the remote storage.');
    this.shardsDesired = gauge(
      'shards_desired',
      'The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.',
    );
    this.shardsMin = gauge('shards_min', 'The minimum number of shards that the queue is allowed to run.');
    this.shardsMax = gauge('shards_max', 'The maximum number of shards that the queue is allowed to run.');
    this.shardCapacity = gauge(
      'shard_capacity',
      'The capacity of each shard of the queue used for parallel sending to the remote storage.',
    );
    this.maxSamplesPerSend = gauge(
      'max_samples_per_send',
      'The maximum number of samples to be sent, in a single request, to the remote storage. Note that, when sending of exemplars over remote write is enabled, exemplars count towards this limit.',
    );
  }
}

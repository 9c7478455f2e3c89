import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type QL = 'remote_name' | 'url';

/** prometheus_remote_storage_* metrics, shared by all queues (labelled by remote_name and url). */
export class RemoteMetrics {
  readonly samplesTotal: Counter<QL>;
  readonly samplesFailed: Counter<QL>;
  readonly samplesRetried: Counter<QL>;
  readonly samplesDropped: Counter<QL | 'reason'>;
  readonly samplesPending: Gauge<QL>;
  readonly bytesTotal: Counter<QL>;
  readonly enqueueRetries: Counter<QL>;
  readonly sentBatchDuration: Histogram<QL>;
  readonly highestSent: Gauge<QL>;
  readonly shards: Gauge<QL>;
  readonly shardsDesired: Gauge<QL>;
  readonly shardsMin: Gauge<QL>;
  readonly shardsMax: Gauge<QL>;
  readonly shardCapacity: Gauge<QL>;
  readonly maxSamplesPerSend: Gauge<QL>;

  constructor(reg: Registry) {
    const L: QL[] = ['remote_name', 'url'];
    const p = 'prometheus_remote_storage_';
    this.samplesTotal = new Counter({ name: p + 'samples_total', help: 'Total number of samples sent to remote storage.', labelNames: L, registers: [reg] });
    this.samplesFailed = new Counter({ name: p + 'samples_failed_total', help: 'Total number of samples which failed on send to remote storage, non-recoverable errors.', labelNames: L, registers: [reg] });
    this.samplesRetried = new Counter({ name: p + 'samples_retried_total', help: 'Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.', labelNames: L, registers: [reg] });
    this.samplesDropped = new Counter({ name: p + 'samples_dropped_total', help: 'Total number of samples which were dropped after being read from the WAL before being sent via remote write, either via relabelling, due to being too old or unintentionally because of an unknown reference ID.', labelNames: [...L, 'reason'], registers: [reg] });
    this.samplesPending = new Gauge({ name: p + 'samples_pending', help: 'The number of samples pending in the queues shards to be sent to the remote storage.', labelNames: L, registers: [reg] });
    this.bytesTotal = new Counter({ name: p + 'bytes_total', help: 'The total number of bytes of data (not metadata) sent by the queue after compression.', labelNames: L, registers: [reg] });
    this.enqueueRetries = new Counter({ name: p + 'enqueue_retries_total', help: 'Total number of times enqueue has failed because a shards queue was full.', labelNames: L, registers: [reg] });
    this.sentBatchDuration = new Histogram({ name: p + 'sent_batch_duration_seconds', help: 'Duration of send calls to the remote storage.', labelNames: L, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300], registers: [reg] });
    this.highestSent = new Gauge({ name: p + 'queue_highest_sent_timestamp_seconds', help: 'Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.', labelNames: L, registers: [reg] });
    this.shards = new Gauge({ name: p + 'shards', help: 'The number of shards used for parallel sending to the remote storage.', labelNames: L, registers: [reg] });
    this.shardsDesired = new Gauge({ name: p + 'shards_desired', help: 'The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.', labelNames: L, registers: [reg] });
    this.shardsMin = new Gauge({ name: p + 'shards_min', help: 'The minimum number of shards that the queue is allowed to run.', labelNames: L, registers: [reg] });
    this.shardsMax = new Gauge({ name: p + 'shards_max', help: 'The maximum number of shards that the queue is allowed to run.', labelNames: L, registers: [reg] });
    this.shardCapacity = new Gauge({ name: p + 'shard_capacity', help: 'The capacity of each shard of the queue used for parallel sending to the remote storage.', labelNames: L, registers: [reg] });
    this.maxSamplesPerSend = new Gauge({ name: p + 'max_samples_per_send', help: 'The maximum number of samples to be sent, in a single request, to the remote storage.', labelNames: L, registers: [reg] });
  }
}

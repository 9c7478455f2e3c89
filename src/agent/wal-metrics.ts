import type { Registry } from 'prom-client';
import { collectedCounter, collectedGauge } from '../metrics/collected.ts';
import type { WalWriterStats } from '../wal/segment-writer.ts';

export interface WalMetricSources {
  /** Writer counters (null before the WAL is open). */
  stats: () => WalWriterStats | null;
  segment: () => number;
  storageBytes: () => number;
  truncations: () => number;
  truncationsFailed: () => number;
  checkpoints: () => { created: number; createFailed: number; deleted: number };
  /** Failures over the process' life (a failed writer is replaced, so its own counter restarts). */
  writeFailures: () => number;
  samplesDropped: () => number;
}

/** Counters read straight from the writer's stats (0 before the WAL is open). */
const WRITER_COUNTERS: readonly (readonly [name: string, help: string, key: keyof WalWriterStats])[] = [
  ['prometheus_tsdb_wal_completed_pages_total', 'Total number of completed pages.', 'pageCompletions'],
  [
    'prometheus_tsdb_wal_record_part_writes_total',
    'Total number of record parts written before flushing.',
    'fragments',
  ],
  [
    'prometheus_tsdb_wal_record_bytes_saved_total',
    'Total number of bytes saved by the optional record compression.',
    'bytesSaved',
  ],
  ['prometheus_tsdb_wal_fsyncs_total', 'Total number of WAL fsyncs (Outpost).', 'fsyncs'],
  ['prometheus_tsdb_wal_fsync_seconds_total', 'Time spent in WAL fsyncs (Outpost).', 'fsyncSeconds'],
];

/**
 * prometheus_tsdb_wal_* and prometheus_agent_checkpoint_* metrics. They read the counters the
 * writer and truncator keep anyway, at scrape time, so the write path pays nothing for them.
 */
export function registerWalMetrics(reg: Registry, src: WalMetricSources): void {
  const counter = (name: string, help: string, get: () => number) => collectedCounter(reg, name, help, get);
  const gauge = (name: string, help: string, get: () => number) => collectedGauge(reg, name, help, get);
  for (const [name, help, key] of WRITER_COUNTERS) {
    counter(name, help, () => src.stats()?.[key] ?? 0);
  }
  counter(
    'prometheus_tsdb_wal_writes_failed_total',
    'Total number of write log writes that failed.',
    src.writeFailures,
  );
  counter(
    'outpost_wal_samples_dropped_total',
    'Samples dropped because the WAL could not be written (e.g. disk full).',
    src.samplesDropped,
  );
  counter('prometheus_tsdb_wal_truncations_total', 'Total number of write log truncations attempted.', src.truncations);
  counter(
    'prometheus_tsdb_wal_truncations_failed_total',
    'Total number of write log truncations that failed.',
    src.truncationsFailed,
  );
  gauge(
    'prometheus_tsdb_wal_segment_current',
    'Write log segment index that TSDB is currently writing to.',
    src.segment,
  );
  gauge('prometheus_tsdb_wal_storage_size_bytes', 'Size of the write log directory.', src.storageBytes);
  counter(
    'prometheus_agent_checkpoint_creations_total',
    'Number of WAL checkpoint creations attempted.',
    () => src.checkpoints().created,
  );
  counter(
    'prometheus_agent_checkpoint_creations_failed_total',
    'Number of WAL checkpoint creations that failed.',
    () => src.checkpoints().createFailed,
  );
  counter(
    'prometheus_agent_checkpoint_deletions_total',
    'Number of WAL checkpoint deletions attempted.',
    () => src.checkpoints().deleted,
  );
}

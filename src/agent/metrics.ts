import { Counter, Gauge, type Registry } from 'prom-client';

/** prometheus_agent_* metrics, named as Prometheus' agent names them. */
export class AgentMetrics {
  readonly activeSeries: Gauge;
  readonly deletedSeries: Gauge;
  readonly samplesAppended: Counter<'type'>;
  readonly exemplarsAppended: Counter;
  readonly outOfOrder: Counter;
  readonly replayDuration: Gauge;
  readonly cleanStart: Gauge;
  readonly corruptions: Counter;
  readonly highestTimestampIn: Gauge;
  readonly samplesIn: Counter;
  readonly exemplarsIn: Counter;
  /** Stays 0: nothing Outpost scrapes yields native histograms (no protobuf scrape format). */
  readonly histogramsIn: Counter;

  constructor(reg: Registry) {
    this.activeSeries = new Gauge({
      name: 'prometheus_agent_active_series',
      help: 'Number of active series being tracked by the WAL storage',
      registers: [reg],
    });
    this.deletedSeries = new Gauge({
      name: 'prometheus_agent_deleted_series',
      help: 'Number of series pending deletion from the WAL',
      registers: [reg],
    });
    this.samplesAppended = new Counter({
      name: 'prometheus_agent_samples_appended_total',
      help: 'Total number of samples appended to the storage',
      labelNames: ['type'],
      registers: [reg],
    });
    this.exemplarsAppended = new Counter({
      name: 'prometheus_agent_exemplars_appended_total',
      help: 'Total number of exemplars appended to the storage',
      registers: [reg],
    });
    this.outOfOrder = new Counter({
      name: 'prometheus_agent_out_of_order_samples_total',
      help: 'Total number of out of order samples ingestion failed attempts.',
      registers: [reg],
    });
    this.replayDuration = new Gauge({
      name: 'prometheus_agent_data_replay_duration_seconds',
      help: 'Time taken to replay the data on disk.',
      registers: [reg],
    });
    this.cleanStart = new Gauge({
      name: 'prometheus_agent_clean_start',
      help:
        '-1: lockfile is disabled. 0: a lockfile from a previous execution was replaced. ' +
        '1: lockfile creation was clean',
      registers: [reg],
    });
    this.corruptions = new Counter({
      name: 'prometheus_agent_corruptions_total',
      help: 'Total number of WAL corruptions.',
      registers: [reg],
    });
    this.highestTimestampIn = new Gauge({
      name: 'prometheus_remote_storage_highest_timestamp_in_seconds',
      help:
        'Highest timestamp that has come into the remote storage via the Appender interface, ' +
        'in seconds since epoch.',
      registers: [reg],
    });
    this.samplesIn = new Counter({
      name: 'prometheus_remote_storage_samples_in_total',
      help: 'Samples in to remote storage, compare to samples out for queue managers.',
      registers: [reg],
    });
    this.exemplarsIn = new Counter({
      name: 'prometheus_remote_storage_exemplars_in_total',
      help: 'Exemplars in to remote storage, compare to exemplars out for queue managers.',
      registers: [reg],
    });
    this.histogramsIn = new Counter({
      name: 'prometheus_remote_storage_histograms_in_total',
      help: 'HistogramSamples in to remote storage, compare to histograms out for queue managers.',
      registers: [reg],
    });
    this.samplesAppended.inc({ type: 'float' }, 0);
    this.samplesAppended.inc({ type: 'histogram' }, 0);
  }
}

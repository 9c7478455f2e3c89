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
  /** Native histograms committed to the WAL (the remote-write side counts what it sends). */
  readonly histogramsIn: Counter;

  constructor(reg: Registry) {
    const counter = (name: string, help: string) => new Counter({ name, help, registers: [reg] });
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [reg] });
    this.activeSeries = gauge(
      'prometheus_agent_active_series',
      'Number of active series being tracked by the WAL storage',
    );
    this.deletedSeries = gauge('prometheus_agent_deleted_series', 'Number of series pending deletion from the WAL');
    this.samplesAppended = new Counter({
      name: 'prometheus_agent_samples_appended_total',
      help: 'Total number of samples appended to the storage',
      labelNames: ['type'],
      registers: [reg],
    });
    this.exemplarsAppended = counter(
      'prometheus_agent_exemplars_appended_total',
      'Total number of exemplars appended to the storage',
    );
    this.outOfOrder = counter(
      'prometheus_agent_out_of_order_samples_total',
      'Total number of out of order samples ingestion failed attempts.',
    );
    this.replayDuration = gauge(
      'prometheus_agent_data_replay_duration_seconds',
      'Time taken to replay the data on disk.',
    );
    this.cleanStart = gauge(
      'prometheus_agent_clean_start',
      '-1: lockfile is disabled. 0: a lockfile from a previous execution was replaced. ' +
        '1: lockfile creation was clean',
    );
    this.corruptions = counter('prometheus_agent_corruptions_total', 'Total number of WAL corruptions.');
    this.highestTimestampIn = gauge(
      'prometheus_remote_storage_highest_timestamp_in_seconds',
      'Highest timestamp that has come into the remote storage via the Appender interface, ' +
        'in seconds since epoch.',
    );
    this.samplesIn = counter(
      'prometheus_remote_storage_samples_in_total',
      'Samples in to remote storage, compare to samples out for queue managers.',
    );
    this.exemplarsIn = counter(
      'prometheus_remote_storage_exemplars_in_total',
      'Exemplars in to remote storage, compare to exemplars out for queue managers.',
    );
    this.histogramsIn = counter(
      'prometheus_remote_storage_histograms_in_total',
      'HistogramSamples in to remote storage, compare to histograms out for queue managers.',
    );
    this.samplesAppended.inc({ type: 'float' }, 0);
    this.samplesAppended.inc({ type: 'histogram' }, 0);
  }
}

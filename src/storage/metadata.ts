/**
 * Metric metadata as the scrape side records it and remote write sends it (Prometheus'
 * scrape.MetricMetadata). Shared by scrape/ (producer) and remote/ (consumer), so it depends on neither.
 */

/** Metric types as scrape metadata names them. */
export type MetadataMetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'unknown';

/** One metric family's metadata as the scrape side knows it. */
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

/**
 * The receiver's self-metrics. Prometheus 3.x's own names where it has them (write_otlp_handler.go:
 * prometheus_api_otlp_*); Outpost's for what 3.x does not count (points received and refused by reason,
 * samples appended). All are read from the receiver's counters at scrape time.
 */
import { Counter } from 'prom-client';
import { collectedCounter } from '../metrics/collected.ts';
import type { Registry } from '../metrics/registry.ts';
import type { OtlpCounters, RejectReason } from './receiver.ts';
import type { WarningCategory } from './translate.ts';

function labelledCounter<K extends string>(
  reg: Registry,
  name: string,
  help: string,
  label: string,
  get: () => Readonly<Record<K, number>>,
): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [reg],
    collect(this: Counter<string>) {
      this.reset();
      for (const [k, v] of Object.entries(get()) as [K, number][]) this.inc({ [label]: k }, v);
    },
  });
}

export function registerOtlpMetrics(reg: Registry, c: OtlpCounters): void {
  labelledCounter<WarningCategory>(
    reg,
    'prometheus_api_otlp_translation_warnings_total',
    'The total number of warnings produced while translating OTLP metrics to the Prometheus model, by category.',
    'category',
    () => c.warnings,
  );
  // Every translated sample carries metadata, so this stays 0; kept under 3.x's name for dashboards.
  collectedCounter(
    reg,
    'prometheus_api_otlp_appended_samples_without_metadata_total',
    'The total number of samples ingested from OTLP without corresponding metadata.',
    () => 0,
  );
  collectedCounter(
    reg,
    'prometheus_api_otlp_out_of_order_exemplars_total',
    'The total number of received OTLP exemplars which were rejected because they were out of order.',
    () => c.exemplarsRejected,
  );
  collectedCounter(reg, 'outpost_otlp_requests_total', 'OTLP export requests received.', () => c.requests);
  collectedCounter(
    reg,
    'outpost_otlp_requests_failed_total',
    'OTLP export requests refused as a whole (malformed, too large, unsupported type, WAL unavailable).',
    () => c.requestsFailed,
  );
  collectedCounter(
    reg,
    'outpost_otlp_points_received_total',
    'OTLP data points received in decoded requests.',
    () => c.pointsReceived,
  );
  collectedCounter(
    reg,
    'outpost_otlp_points_rejected_total',
    'OTLP data points reported as rejected in partial-success responses.',
    () => c.pointsRejected,
  );
  labelledCounter<RejectReason>(
    reg,
    'outpost_otlp_samples_rejected_total',
    'Translated samples refused, by reason (translation counts whole data points).',
    'reason',
    () => c.rejected,
  );
  collectedCounter(
    reg,
    'outpost_otlp_samples_appended_total',
    'Samples (native histograms included) translated from OTLP and appended to the WAL.',
    () => c.samplesAppended,
  );
  collectedCounter(
    reg,
    'outpost_otlp_exemplars_appended_total',
    'Exemplars translated from OTLP and appended to the WAL.',
    () => c.exemplarsAppended,
  );
}

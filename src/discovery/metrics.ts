/**
 * Service-discovery self-metrics with Prometheus' names. Created once per registry and shared by
 * every discoverer, as Prometheus registers one set per mechanism at startup (so they read 0
 * before any discoverer of that kind exists).
 */
import { Counter, Gauge, Summary, type Registry } from 'prom-client';

/** Prometheus' default summary objectives and a 10m sliding window in 5 buckets. */
const SUMMARY = { percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 600, ageBuckets: 5 };

/** The name Prometheus gives the discovery manager that feeds scraping. */
export const MANAGER_NAME = 'scrape';

export interface RefreshMetrics {
  readonly failures: Counter<'mechanism'>;
  readonly duration: Summary<'mechanism'>;
}

export class SdMetrics implements RefreshMetrics {
  // Manager.
  readonly discoveredTargets: Gauge<'config' | 'name'>;
  readonly receivedUpdates: Counter<'name'>;
  readonly updates: Counter<'name'>;
  readonly failedConfigs: Gauge<'name'>;
  // Refresh-driven mechanisms (http, dns).
  readonly failures: Counter<'mechanism'>;
  readonly duration: Summary<'mechanism'>;
  // File.
  readonly fileReadErrors: Counter;
  readonly fileScanDuration: Summary;
  readonly fileWatcherErrors: Counter;
  readonly fileMtime: Gauge<'filename'>;
  // HTTP.
  readonly httpFailures: Counter;
  // DNS.
  readonly dnsLookups: Counter;
  readonly dnsLookupFailures: Counter;
  // Kubernetes.
  readonly kubernetesEvents: Counter<'role' | 'event'>;
  readonly kubernetesFailures: Counter;

  constructor(reg: Registry) {
    const registers = [reg];
    this.discoveredTargets = new Gauge({
      name: 'prometheus_sd_discovered_targets',
      help: 'Current number of discovered targets.',
      labelNames: ['config', 'name'],
      registers,
    });
    this.receivedUpdates = new Counter({
      name: 'prometheus_sd_received_updates_total',
      help: 'Total number of update events received from the SD providers.',
      labelNames: ['name'],
      registers,
    });
    this.updates = new Counter({
      name: 'prometheus_sd_updates_total',
      help: 'Total number of update events sent to the SD consumers.',
      labelNames: ['name'],
      registers,
    });
    this.failedConfigs = new Gauge({
      name: 'prometheus_sd_failed_configs',
      help: 'Current number of service discovery configurations that failed to load.',
      labelNames: ['name'],
      registers,
    });
    this.receivedUpdates.inc({ name: MANAGER_NAME }, 0);
    this.updates.inc({ name: MANAGER_NAME }, 0);
    this.failedConfigs.set({ name: MANAGER_NAME }, 0);

    this.failures = new Counter({
      name: 'prometheus_sd_refresh_failures_total',
      help: 'Number of refresh failures for the given SD mechanism.',
      labelNames: ['mechanism'],
      registers,
    });
    this.duration = new Summary({
      name: 'prometheus_sd_refresh_duration_seconds',
      help: 'The duration of a refresh in seconds for the given SD mechanism.',
      labelNames: ['mechanism'],
      registers,
      ...SUMMARY,
    });

    this.fileReadErrors = new Counter({
      name: 'prometheus_sd_file_read_errors_total',
      help: 'The number of File-SD read errors.',
      registers,
    });
    this.fileScanDuration = new Summary({
      name: 'prometheus_sd_file_scan_duration_seconds',
      help: 'The duration of the File-SD scan in seconds.',
      registers,
      ...SUMMARY,
    });
    this.fileWatcherErrors = new Counter({
      name: 'prometheus_sd_file_watcher_errors_total',
      help: 'The number of File-SD errors caused by filesystem watch failures.',
      registers,
    });
    this.fileMtime = new Gauge({
      name: 'prometheus_sd_file_mtime_seconds',
      help: 'Timestamp (mtime) of files read by FileSD. Timestamp is set at read time.',
      labelNames: ['filename'],
      registers,
    });

    this.httpFailures = new Counter({
      name: 'prometheus_sd_http_failures_total',
      help: 'Number of HTTP service discovery refresh failures.',
      registers,
    });

    this.dnsLookups = new Counter({
      name: 'prometheus_sd_dns_lookups_total',
      help: 'The number of DNS-SD lookups.',
      registers,
    });
    this.dnsLookupFailures = new Counter({
      name: 'prometheus_sd_dns_lookup_failures_total',
      help: 'The number of DNS-SD lookup failures.',
      registers,
    });

    this.kubernetesEvents = new Counter({
      name: 'prometheus_sd_kubernetes_events_total',
      help: 'The number of Kubernetes events handled.',
      labelNames: ['role', 'event'],
      registers,
    });
    // Every role and event at 0 from the start, as discovery/kubernetes/metrics.go initialises them.
    for (const role of ['endpointslice', 'endpoints', 'node', 'pod', 'service', 'ingress'])
      for (const event of ['add', 'delete', 'update']) this.kubernetesEvents.inc({ role, event }, 0);
    this.kubernetesFailures = new Counter({
      name: 'prometheus_sd_kubernetes_failures_total',
      help: 'The number of failed WATCH/LIST requests.',
      registers,
    });
  }
}

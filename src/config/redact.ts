/**
 * The loaded config written back as Prometheus-style YAML (snake_case keys in Prometheus' field
 * order, defaults filled in, zero limits omitted), for /api/v1/status/config. Secrets print as
 * `<secret>`, passwords inside URLs as `xxxxx` (as Prometheus does), and remote_write `headers`
 * values as `<secret>` too: Prometheus prints those verbatim, but they often carry API keys.
 */
import { stringify } from 'yaml';
import { md5Hex } from '../util/md5.ts';
import { formatDuration } from './duration.ts';
import { SECRET_TOKEN, Secret } from './secret.ts';
import { formatByteSize } from './units.ts';
import type {
  Config,
  GlobalConfig,
  HttpClientConfig,
  OtlpConfig,
  ProxyConfig,
  RemoteWriteConfig,
  ScrapeConfig,
  TlsConfig,
} from './types.ts';
import type { RelabelConfig } from '../relabel/types.ts';
import type { Labels } from '../util/labels.ts';

type Obj = Record<string, unknown>;

/** Prometheus' URL.Redacted(): the userinfo password becomes `xxxxx`. */
export function redactUrl(u: string): string {
  try {
    const parsed = new URL(u);
    if (parsed.password === '') return u;
    parsed.password = 'xxxxx';
    return parsed.toString();
  } catch {
    return u;
  }
}

/** Drops undefined values, empty arrays and empty objects, like Go's omitempty. */
function compact(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      !(v instanceof Secret) &&
      Object.keys(v).length === 0
    )
      continue;
    out[k] = v instanceof Secret ? SECRET_TOKEN : v;
  }
  return out;
}

const nonZero = (n: number): number | undefined => (n === 0 ? undefined : n);

function labelsObj(ls: Labels): Obj {
  const o: Obj = {};
  for (let i = 0; i < ls.length; i += 2) o[ls[i]] = ls[i + 1];
  return o;
}

function globalObj(g: GlobalConfig): Obj {
  return compact({
    scrape_interval: formatDuration(g.scrapeInterval),
    scrape_timeout: formatDuration(g.scrapeTimeout),
    scrape_protocols: [...g.scrapeProtocols],
    scrape_failure_log_file: g.scrapeFailureLogFile,
    external_labels: labelsObj(g.externalLabels),
    body_size_limit: g.bodySizeLimit ? formatByteSize(g.bodySizeLimit) : undefined,
    sample_limit: nonZero(g.sampleLimit),
    target_limit: nonZero(g.targetLimit),
    label_limit: nonZero(g.labelLimit),
    label_name_length_limit: nonZero(g.labelNameLengthLimit),
    label_value_length_limit: nonZero(g.labelValueLengthLimit),
    keep_dropped_targets: nonZero(g.keepDroppedTargets),
    metric_name_validation_scheme: g.metricNameValidationScheme,
    metric_name_escaping_scheme: g.metricNameEscapingScheme,
    scrape_native_histograms: g.scrapeNativeHistograms,
    convert_classic_histograms_to_nhcb: g.convertClassicHistogramsToNHCB || undefined,
    always_scrape_classic_histograms: g.alwaysScrapeClassicHistograms || undefined,
    extra_scrape_metrics: g.extraScrapeMetrics || undefined,
  });
}

function tlsObj(t: TlsConfig): Obj {
  return compact({
    ca: t.ca,
    cert: t.cert,
    key: t.key,
    ca_file: t.caFile,
    cert_file: t.certFile,
    key_file: t.keyFile,
    server_name: t.serverName,
    insecure_skip_verify: t.insecureSkipVerify,
    min_version: t.minVersion,
    max_version: t.maxVersion,
  });
}

function proxyObj(p: ProxyConfig): Obj {
  return {
    proxy_url: p.proxyUrl === undefined ? undefined : redactUrl(p.proxyUrl),
    no_proxy: p.noProxy,
    proxy_from_environment: p.proxyFromEnvironment || undefined,
    proxy_connect_header: p.proxyConnectHeader
      ? Object.fromEntries(Object.entries(p.proxyConnectHeader).map(([k, v]) => [k, v.map(() => SECRET_TOKEN)]))
      : undefined,
  };
}

function httpObj(h: HttpClientConfig): Obj {
  return {
    basic_auth:
      h.basicAuth &&
      compact({
        username: h.basicAuth.username,
        username_file: h.basicAuth.usernameFile,
        password: h.basicAuth.password,
        password_file: h.basicAuth.passwordFile,
      }),
    authorization:
      h.authorization &&
      compact({
        type: h.authorization.type,
        credentials: h.authorization.credentials,
        credentials_file: h.authorization.credentialsFile,
      }),
    oauth2:
      h.oauth2 &&
      compact({
        client_id: h.oauth2.clientId,
        client_secret: h.oauth2.clientSecret,
        client_secret_file: h.oauth2.clientSecretFile,
        scopes: [...h.oauth2.scopes],
        token_url: h.oauth2.tokenUrl,
        endpoint_params: { ...h.oauth2.endpointParams },
        tls_config: tlsObj(h.oauth2.tlsConfig),
        ...proxyObj(h.oauth2),
      }),
    tls_config: tlsObj(h.tlsConfig),
    follow_redirects: h.followRedirects,
    enable_http2: h.enableHttp2,
    ...proxyObj(h),
    http_headers:
      h.httpHeaders &&
      Object.fromEntries(
        Object.entries(h.httpHeaders).map(([k, v]) => [
          k,
          compact({
            values: [...v.values],
            secrets: v.secrets.map(() => SECRET_TOKEN),
            files: [...v.files],
          }),
        ]),
      ),
  };
}

function relabelObj(rc: RelabelConfig): Obj {
  return compact({
    source_labels: [...rc.sourceLabels],
    separator: rc.separator,
    regex: rc.regex,
    modulus: nonZero(rc.modulus),
    target_label: rc.targetLabel || undefined,
    replacement: rc.replacement,
    action: rc.action,
  });
}

function scrapeObj(s: ScrapeConfig): Obj {
  return compact({
    job_name: s.jobName,
    honor_labels: s.honorLabels || undefined,
    honor_timestamps: s.honorTimestamps,
    track_timestamps_staleness: s.trackTimestampsStaleness,
    params: Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, [...v]])),
    scrape_interval: formatDuration(s.scrapeInterval),
    scrape_timeout: formatDuration(s.scrapeTimeout),
    scrape_protocols: [...s.scrapeProtocols],
    fallback_scrape_protocol: s.fallbackScrapeProtocol,
    scrape_native_histograms: s.scrapeNativeHistograms,
    always_scrape_classic_histograms: s.alwaysScrapeClassicHistograms,
    convert_classic_histograms_to_nhcb: s.convertClassicHistogramsToNHCB,
    scrape_failure_log_file: s.scrapeFailureLogFile,
    metrics_path: s.metricsPath,
    scheme: s.scheme,
    enable_compression: s.enableCompression,
    body_size_limit: s.bodySizeLimit ? formatByteSize(s.bodySizeLimit) : undefined,
    sample_limit: nonZero(s.sampleLimit),
    target_limit: nonZero(s.targetLimit),
    label_limit: nonZero(s.labelLimit),
    label_name_length_limit: nonZero(s.labelNameLengthLimit),
    label_value_length_limit: nonZero(s.labelValueLengthLimit),
    native_histogram_bucket_limit: nonZero(s.nativeHistogramBucketLimit),
    native_histogram_min_bucket_factor: nonZero(s.nativeHistogramMinBucketFactor),
    keep_dropped_targets: nonZero(s.keepDroppedTargets),
    metric_name_validation_scheme: s.metricNameValidationScheme,
    metric_name_escaping_scheme: s.metricNameEscapingScheme,
    extra_scrape_metrics: s.extraScrapeMetrics || undefined,
    ...httpObj(s),
    static_configs: s.staticConfigs.map((tg) => compact({ targets: [...tg.targets], labels: labelsObj(tg.labels) })),
    file_sd_configs: s.fileSdConfigs.map((c) => ({
      files: [...c.files],
      refresh_interval: formatDuration(c.refreshInterval),
    })),
    http_sd_configs: s.httpSdConfigs.map((c) =>
      compact({
        ...httpObj(c),
        url: redactUrl(c.url),
        refresh_interval: formatDuration(c.refreshInterval),
      }),
    ),
    dns_sd_configs: s.dnsSdConfigs.map((c) =>
      compact({
        names: [...c.names],
        type: c.type,
        port: nonZero(c.port),
        refresh_interval: formatDuration(c.refreshInterval),
      }),
    ),
    relabel_configs: s.relabelConfigs.map(relabelObj),
    metric_relabel_configs: s.metricRelabelConfigs.map(relabelObj),
  });
}

/** `forHash` keeps header values (they are part of an endpoint's identity) and leaves out the generated name. */
function remoteWriteObj(rw: Omit<RemoteWriteConfig, 'hash'>, opts: { forHash?: boolean } = {}): Obj {
  const q = rw.queueConfig;
  const md = rw.metadataConfig;
  return compact({
    url: redactUrl(rw.url),
    remote_timeout: formatDuration(rw.remoteTimeout),
    headers: Object.fromEntries(Object.entries(rw.headers).map(([k, v]) => [k, opts.forHash ? v : SECRET_TOKEN])),
    write_relabel_configs: rw.writeRelabelConfigs.map(relabelObj),
    name: opts.forHash && !rw.nameExplicit ? undefined : rw.name || undefined,
    send_exemplars: rw.sendExemplars || undefined,
    send_native_histograms: rw.sendNativeHistograms || undefined,
    round_robin_dns: rw.roundRobinDns || undefined,
    protobuf_message: rw.protobufMessage,
    ...httpObj(rw),
    queue_config: compact({
      capacity: q.capacity,
      max_shards: q.maxShards,
      min_shards: q.minShards,
      max_samples_per_send: q.maxSamplesPerSend,
      batch_send_deadline: formatDuration(q.batchSendDeadline),
      min_backoff: formatDuration(q.minBackoff),
      max_backoff: formatDuration(q.maxBackoff),
      retry_on_http_429: q.retryOnHttp429 || undefined,
      sample_age_limit: q.sampleAgeLimit ? formatDuration(q.sampleAgeLimit) : undefined,
    }),
    metadata_config: {
      send: md.send,
      send_interval: formatDuration(md.sendInterval),
      max_samples_per_send: md.maxSamplesPerSend,
    },
  });
}

function toYaml(o: unknown): string {
  return stringify(o, { indentSeq: false, lineWidth: 0 });
}

/** md5 hex of an entry's canonical serialisation: the remote queue's identity (as in Prometheus' toHash). */
export function remoteWriteHash(rw: Omit<RemoteWriteConfig, 'hash'>): string {
  return md5Hex(toYaml(remoteWriteObj(rw, { forHash: true })));
}

/** YAML for /api/v1/status/config: no secret value appears in it. */
export function redactedConfigYaml(cfg: Config): string {
  return toYaml(
    compact({
      global: globalObj(cfg.global),
      scrape_config_files: [...cfg.scrapeConfigFiles],
      scrape_configs: cfg.scrapeConfigs.map(scrapeObj),
      storage: cfg.storage.outOfOrderTimeWindow
        ? { tsdb: { out_of_order_time_window: formatDuration(cfg.storage.outOfOrderTimeWindow) } }
        : undefined,
      remote_write: cfg.remoteWrite.map((rw) => remoteWriteObj(rw)),
      otlp: otlpObj(cfg.otlp),
    }),
  );
}

/** The `otlp:` block with the fields that differ from Prometheus' defaults; undefined when none do. */
function otlpObj(o: OtlpConfig): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (o.translationStrategy !== 'UnderscoreEscapingWithSuffixes') out.translation_strategy = o.translationStrategy;
  if (o.promoteAllResourceAttributes) out.promote_all_resource_attributes = true;
  if (o.promoteResourceAttributes.length > 0) out.promote_resource_attributes = [...o.promoteResourceAttributes];
  if (o.ignoreResourceAttributes.length > 0) out.ignore_resource_attributes = [...o.ignoreResourceAttributes];
  if (o.keepIdentifyingResourceAttributes) out.keep_identifying_resource_attributes = true;
  if (o.convertHistogramsToNHCB) out.convert_histograms_to_nhcb = true;
  if (o.promoteScopeMetadata) out.promote_scope_metadata = true;
  if (!o.labelNameUnderscoreSanitization) out.label_name_underscore_sanitization = false;
  if (!o.labelNamePreserveMultipleUnderscores) out.label_name_preserve_multiple_underscores = false;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The loaded config written back as Prometheus-style YAML (snake_case keys in Prometheus' field
 * order, defaults filled in, zero limits omitted), for /api/v1/status/config. Secrets print as
 * `<secret>`, passwords inside URLs as `xxxxx` (as Prometheus does), and remote_write `headers`
 * values as `<secret>` too: Prometheus prints those verbatim, but they often carry API keys.
 */
import { Document, isScalar, isSeq, stringify, visit } from 'yaml';
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
import { labelPairs, type Labels } from '../util/labels.ts';

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

/** DefaultGlobalConfig.EvaluationInterval (config.go 190). */
const DEFAULT_EVALUATION_INTERVAL = 60_000;
/** config.go getGoGC without GOGC set. */
const DEFAULT_GOGC = 75;
function labelsObj(ls: Labels): Obj {
  return Object.fromEntries(labelPairs(ls));
}

/** config.go GlobalConfig field order (3.14: lines 483-541); omitempty fields left out when unset. */
function globalObj(g: GlobalConfig): Obj {
  const src = g.source;
  return compact({
    scrape_interval: formatDuration(g.scrapeInterval),
    scrape_timeout: formatDuration(g.scrapeTimeout),
    // Unset, 3.x keeps the global list nil and lets each job pick its default.
    scrape_protocols: src && !src.scrapeProtocolsGiven ? undefined : [...g.scrapeProtocols],
    evaluation_interval: formatDuration(src?.evaluationInterval ?? DEFAULT_EVALUATION_INTERVAL),
    rule_query_offset: src?.ruleQueryOffset ? formatDuration(src.ruleQueryOffset) : undefined,
    query_log_file: src?.queryLogFile || undefined,
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
    metric_name_escaping_scheme: src && !src.escapingShown ? undefined : g.metricNameEscapingScheme,
    // *bool fields, always set after loading.
    scrape_native_histograms: g.scrapeNativeHistograms,
    convert_classic_histograms_to_nhcb: g.convertClassicHistogramsToNHCB || undefined,
    always_scrape_classic_histograms: g.alwaysScrapeClassicHistograms || undefined,
    extra_scrape_metrics: g.extraScrapeMetrics,
  });
}

/**
 * How an object is written: `api` as Prometheus 3.x prints it, `hash` as Outpost has always
 * serialised a remote_write entry for its identity (an unnamed endpoint's name, and so the file its
 * WAL position is kept in, come from that hash: it must not change between versions).
 */
type Style = 'api' | 'hash';

function tlsObj(t: TlsConfig, style: Style): Obj {
  const o = compact({
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
  // A zero TLSConfig is left out (yaml omitempty); insecure_skip_verify shows whenever anything else does.
  return style === 'api' && Object.keys(o).length === 1 && !t.insecureSkipVerify ? {} : o;
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

/** prometheus/common config.HTTPClientConfig field order (v0.70.1 http_config.go 335-360). */
function httpObj(h: HttpClientConfig, style: Style): Obj {
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
        tls_config: tlsObj(h.oauth2.tlsConfig, style),
        ...proxyObj(h.oauth2),
      }),
    tls_config: tlsObj(h.tlsConfig, style),
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

/** model/relabel Config field order (3.14 relabel.go 89-102); source_labels is a flow list there (apiYaml). */
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

/**
 * The service-discovery lists of a job, by YAML key. 3.x appends them after every other field,
 * sorted by key (discovery/registry.go 61-82 and getConfigType 84-108), static_configs included.
 */
function sdObj(s: ScrapeConfig): Obj {
  const sd: Obj = {
    dns_sd_configs: s.dnsSdConfigs.map((c) => ({
      names: [...c.names],
      refresh_interval: formatDuration(c.refreshInterval),
      type: c.type,
      port: c.port,
    })),
    file_sd_configs: s.fileSdConfigs.map((c) => ({
      files: [...c.files],
      refresh_interval: formatDuration(c.refreshInterval),
    })),
    http_sd_configs: s.httpSdConfigs.map((c) =>
      compact({
        ...httpObj(c, 'api'),
        refresh_interval: formatDuration(c.refreshInterval),
        url: redactUrl(c.url),
      }),
    ),
    // discovery/kubernetes SDConfig field order: api_server, role, kubeconfig_file, the HTTP client, namespaces,
    // selectors, attach_metadata.
    kubernetes_sd_configs: s.kubernetesSdConfigs.map((c) =>
      compact({
        api_server: c.apiServer === undefined ? undefined : redactUrl(c.apiServer),
        role: c.role,
        kubeconfig_file: c.kubeconfigFile ?? '',
        ...httpObj(c, 'api'),
        namespaces: { own_namespace: c.namespaces.ownNamespace, names: [...c.namespaces.names] },
        selectors: c.selectors.map((x) => compact({ role: x.role, label: x.label, field: x.field })),
        attach_metadata: compact({ ...c.attachMetadata }),
      }),
    ),
    // targetgroup.Group MarshalYAML: targets (always), then labels.
    static_configs: s.staticConfigs.map((tg) => ({
      targets: [...tg.targets],
      ...compact({ labels: labelsObj(tg.labels) }),
    })),
  };
  return Object.fromEntries(
    Object.keys(sd)
      .sort()
      .map((k) => [k, sd[k]]),
  );
}

/** config.go ScrapeConfig field order (3.14: lines 766-852), then the SD lists. */
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
    extra_scrape_metrics: s.extraScrapeMetrics,
    ...httpObj(s, 'api'),
    relabel_configs: s.relabelConfigs.map((rc) => relabelObj(rc)),
    metric_relabel_configs: s.metricRelabelConfigs.map((rc) => relabelObj(rc)),
    ...sdObj(s),
  });
}

/**
 * config.go RemoteWriteConfig field order (3.14: lines 1482-1503). The `hash` style keeps header
 * values (they are part of an endpoint's identity) and Outpost's original serialisation.
 */
function remoteWriteObj(rw: Omit<RemoteWriteConfig, 'hash'>, style: Style): Obj {
  const q = rw.queueConfig;
  const md = rw.metadataConfig;
  return compact({
    url: redactUrl(rw.url),
    remote_timeout: formatDuration(rw.remoteTimeout),
    headers: Object.fromEntries(Object.entries(rw.headers).map(([k, v]) => [k, style === 'hash' ? v : SECRET_TOKEN])),
    write_relabel_configs: rw.writeRelabelConfigs.map((rc) => relabelObj(rc)),
    // A generated name is Outpost's, not the config's: 3.x leaves `name` empty then.
    name: rw.nameExplicit ? rw.name || undefined : undefined,
    send_exemplars: rw.sendExemplars || undefined,
    send_native_histograms: rw.sendNativeHistograms || undefined,
    round_robin_dns: rw.roundRobinDns || undefined,
    protobuf_message: rw.protobufMessage,
    ...httpObj(rw, style),
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

/** Outpost's original serialisation, kept byte for byte for remoteWriteHash. */
function hashYaml(o: unknown): string {
  return stringify(o, { indentSeq: false, lineWidth: 0 });
}

/** As Go's yaml.v2 writes it: block style, except the lists Prometheus tags `flow` (relabel source_labels). */
function apiYaml(o: unknown): string {
  const doc = new Document(o);
  visit(doc, {
    Pair(_k, pair) {
      if (isScalar(pair.key) && pair.key.value === 'source_labels' && isSeq(pair.value)) pair.value.flow = true;
    },
  });
  return doc.toString({ indentSeq: false, lineWidth: 0, flowCollectionPadding: false });
}

/** md5 hex of an entry's canonical serialisation: the remote queue's identity (as in Prometheus' toHash). */
export function remoteWriteHash(rw: Omit<RemoteWriteConfig, 'hash'>): string {
  return md5Hex(hashYaml(remoteWriteObj(rw, 'hash')));
}

/** What main.go makes DefaultTSDBRetentionConfig when no retention flag is given (an agent cannot give one). */
const DEFAULT_RETENTION = '15d';

/**
 * YAML for /api/v1/status/config, as a Prometheus 3.x agent serves it (config.go Config.String:
 * the loaded Config with its defaults, in struct order), except that no secret value appears in it.
 */
export function redactedConfigYaml(cfg: Config): string {
  const ooo = cfg.storage.outOfOrderTimeWindow;
  return apiYaml(
    compact({
      global: globalObj(cfg.global),
      // RuntimeConfig: GOGC as the Go runtime default; it means nothing to Outpost, whose runtime is not Go.
      runtime: { gogc: DEFAULT_GOGC },
      scrape_config_files: [...cfg.scrapeConfigFiles],
      scrape_configs: cfg.scrapeConfigs.map(scrapeObj),
      // TSDBConfig: OutOfOrderTimeWindow has no yaml tag, so Go writes it under its lowercased field name.
      storage: {
        tsdb: compact({
          outofordertimewindow: ooo,
          out_of_order_time_window: ooo ? formatDuration(ooo) : undefined,
          retention: { time: DEFAULT_RETENTION },
        }),
      },
      remote_write: cfg.remoteWrite.map((rw) => remoteWriteObj(rw, 'api')),
      otlp: otlpObj(cfg.otlp),
    }),
  );
}

/** config.go OTLPConfig in struct order; its omitempty fields are left out when false or empty. */
function otlpObj(o: OtlpConfig): Obj {
  return compact({
    promote_all_resource_attributes: o.promoteAllResourceAttributes || undefined,
    promote_resource_attributes: o.promoteResourceAttributes.length > 0 ? [...o.promoteResourceAttributes] : undefined,
    ignore_resource_attributes: o.ignoreResourceAttributes.length > 0 ? [...o.ignoreResourceAttributes] : undefined,
    translation_strategy: o.translationStrategy,
    keep_identifying_resource_attributes: o.keepIdentifyingResourceAttributes || undefined,
    convert_histograms_to_nhcb: o.convertHistogramsToNHCB || undefined,
    promote_scope_metadata: o.promoteScopeMetadata || undefined,
    label_name_underscore_sanitization: o.labelNameUnderscoreSanitization || undefined,
    label_name_preserve_multiple_underscores: o.labelNamePreserveMultipleUnderscores || undefined,
  });
}

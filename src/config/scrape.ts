/**
 * scrape_configs entries: defaults (DefaultScrapeConfig), inheritance from global
 * (ScrapeConfig.Validate) and validation, with Prometheus' messages.
 */
import { formatDuration } from './duration.ts';
import { LIMIT_KEYS, NO_LIMITS, readEscapingScheme, readScrapeProtocols, readValidationScheme } from './global.ts';
import type { ParsedGlobal } from './global.ts';
import { HTTP_CLIENT_KEYS, readHttpClientConfig } from './http.ts';
import type { Mutable } from './http.ts';
import {
  joinPath,
  keyError,
  readBool,
  readByteSize,
  readDuration,
  readFloat,
  readInt,
  readMap,
  readPath,
  readString,
  readStringList,
} from './reader.ts';
import type { Ctx, Field } from './reader.ts';
import { readRelabelConfigs } from './relabel.ts';
import {
  readDnsSdConfigs,
  readFileSdConfigs,
  readHttpSdConfigs,
  readStaticConfigs,
  SUPPORTED_SD_KEYS,
  unsupportedSdMessage,
} from './sd.ts';
import { DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, DEFAULT_SCRAPE_PROTOCOLS, SCRAPE_PROTOCOLS } from './types.ts';
import type { NameEscapingScheme, ScrapeConfig, ScrapeProtocol } from './types.ts';

const SCRAPE_KEYS = [
  'job_name',
  'honor_labels',
  'honor_timestamps',
  'track_timestamps_staleness',
  'params',
  'scrape_interval',
  'scrape_timeout',
  'scrape_protocols',
  'fallback_scrape_protocol',
  'scrape_native_histograms',
  'always_scrape_classic_histograms',
  'convert_classic_histograms_to_nhcb',
  'scrape_classic_histograms',
  'scrape_failure_log_file',
  'metrics_path',
  'scheme',
  'enable_compression',
  'body_size_limit',
  ...LIMIT_KEYS.map(([k]) => k),
  'native_histogram_bucket_limit',
  'native_histogram_min_bucket_factor',
  'metric_name_validation_scheme',
  'metric_name_escaping_scheme',
  'extra_scrape_metrics',
  'relabel_configs',
  'metric_relabel_configs',
  ...SUPPORTED_SD_KEYS,
  ...HTTP_CLIENT_KEYS,
];

/**
 * Reads one entry. Returns undefined if it had errors (they are recorded in ctx). `f.node` is
 * non-null (the caller reports null entries). `seenJobs` maps job names to the file that defined
 * them first, across the main file and scrape_config_files.
 */
export function readScrapeConfig(
  ctx: Ctx,
  f: Field,
  global: ParsedGlobal,
  seenJobs: Map<string, string>,
): ScrapeConfig | undefined {
  const m = readMap(ctx, f, { known: SCRAPE_KEYS, unknown: unsupportedSdMessage });
  if (!m) return undefined;
  const before = ctx.issues.length;
  const g = global.config;
  const get = (k: string): Field | undefined => m.get(k);

  const jobName = readString(ctx, get('job_name')) ?? '';
  if (jobName === '') keyError(ctx, m, 'job_name', 'job_name is empty');
  else {
    const first = seenJobs.get(jobName);
    if (first === undefined) seenJobs.set(jobName, ctx.file);
    else {
      const where = first === ctx.file ? '' : `, first found in ${JSON.stringify(first)}`;
      keyError(ctx, m, 'job_name', `found multiple scrape configs with job name ${JSON.stringify(jobName)}${where}`);
    }
  }
  const owner = `scrape config with job name ${JSON.stringify(jobName)}`;

  let interval = readDuration(ctx, get('scrape_interval')) ?? 0;
  if (interval === 0) interval = g.scrapeInterval;
  let timeout = readDuration(ctx, get('scrape_timeout')) ?? 0;
  if (timeout > interval) {
    const at = m.has('scrape_timeout') ? 'scrape_timeout' : 'scrape_interval';
    keyError(
      ctx,
      m,
      at,
      `scrape timeout greater than scrape interval for ${owner} ` +
        `(${formatDuration(timeout)} > ${formatDuration(interval)})`,
    );
  }
  if (timeout === 0) timeout = Math.min(g.scrapeTimeout, interval);

  const scheme = readString(ctx, get('scheme')) ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') {
    keyError(ctx, m, 'scheme', `scheme must be "http" or "https", got ${JSON.stringify(scheme)}`);
  }
  const metricsPath = readString(ctx, get('metrics_path')) ?? '/metrics';

  const params: Record<string, readonly string[]> = {};
  const pf = get('params');
  if (pf) {
    const pm = readMap(ctx, pf);
    if (pm) for (const k of pm.keys) params[k] = readStringList(ctx, pm.get(k)) ?? [];
  }

  const nativeHistograms = readBool(ctx, get('scrape_native_histograms')) ?? g.scrapeNativeHistograms;
  const protocols: readonly ScrapeProtocol[] =
    readScrapeProtocols(ctx, get('scrape_protocols'), owner) ??
    (global.protocolsExplicit
      ? g.scrapeProtocols
      : nativeHistograms
        ? DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS
        : DEFAULT_SCRAPE_PROTOCOLS);
  const fbf = get('fallback_scrape_protocol');
  const fallback = readString(ctx, fbf);
  if (fallback !== undefined && fallback !== '' && !(SCRAPE_PROTOCOLS as readonly string[]).includes(fallback)) {
    ctx.error(
      fbf?.at,
      joinPath(f.path, 'fallback_scrape_protocol'),
      `invalid fallback_scrape_protocol for ${owner}: unknown scrape protocol ${fallback}, ` +
        `supported: [${SCRAPE_PROTOCOLS.join(' ')}]`,
    );
  }

  // The validation/escaping scheme pair follows ScrapeConfig.Validate: a job that sets only the
  // validation scheme gets that scheme's natural escaping instead of inheriting the global one.
  const localValidation = readValidationScheme(ctx, get('metric_name_validation_scheme'));
  const validation = localValidation ?? g.metricNameValidationScheme;
  const escaping: NameEscapingScheme =
    readEscapingScheme(ctx, get('metric_name_escaping_scheme'), 'scrape config') ??
    (localValidation === undefined
      ? g.metricNameEscapingScheme
      : validation === 'legacy'
        ? 'underscores'
        : 'allow-utf-8');
  if (escaping === 'allow-utf-8' && validation !== 'utf8') {
    const message = 'utf8 metric names requested but validation scheme is not set to UTF8';
    if (m.has('metric_name_escaping_scheme')) keyError(ctx, m, 'metric_name_escaping_scheme', message);
    else if (m.has('metric_name_validation_scheme')) keyError(ctx, m, 'metric_name_validation_scheme', message);
    // Both inherited: 3.x reports it on the job too (config.go v3.14.0 line 1023).
    else ctx.error(f.at, f.path, `${message} (both schemes inherited from global)`);
  }

  // 2.x spelling of always_scrape_classic_histograms (renamed in 3.0, which rejects the old key).
  let alwaysClassic = readBool(ctx, get('always_scrape_classic_histograms'));
  if (m.has('scrape_classic_histograms')) {
    ctx.warn(
      m.keyNode('scrape_classic_histograms'),
      joinPath(f.path, 'scrape_classic_histograms'),
      'scrape_classic_histograms was renamed to always_scrape_classic_histograms in Prometheus 3.0',
    );
    alwaysClassic ??= readBool(ctx, get('scrape_classic_histograms'));
  }

  const relabelConfigs = readRelabelConfigs(
    ctx,
    get('relabel_configs'),
    'empty or null target relabeling rule in scrape config',
    validation,
  );
  const hasRelabel = m.has('relabel_configs') && (get('relabel_configs')?.node ?? null) !== null;
  const http = readHttpClientConfig(ctx, m, { enableHttp2: true });

  const cfg: Mutable<ScrapeConfig> = {
    ...http,
    jobName,
    scrapeInterval: interval,
    scrapeTimeout: timeout,
    metricsPath,
    scheme: scheme === 'https' ? 'https' : 'http',
    honorLabels: readBool(ctx, get('honor_labels')) ?? false,
    honorTimestamps: readBool(ctx, get('honor_timestamps')) ?? true,
    trackTimestampsStaleness: readBool(ctx, get('track_timestamps_staleness')) ?? false,
    params,
    scrapeProtocols: protocols,
    enableCompression: readBool(ctx, get('enable_compression')) ?? true,
    bodySizeLimit: readByteSize(ctx, get('body_size_limit')) || g.bodySizeLimit,
    ...NO_LIMITS,
    nativeHistogramBucketLimit: readInt(ctx, get('native_histogram_bucket_limit')) ?? 0,
    nativeHistogramMinBucketFactor: readFloat(ctx, get('native_histogram_min_bucket_factor')) ?? 0,
    scrapeNativeHistograms: nativeHistograms,
    alwaysScrapeClassicHistograms: alwaysClassic ?? g.alwaysScrapeClassicHistograms,
    convertClassicHistogramsToNHCB:
      readBool(ctx, get('convert_classic_histograms_to_nhcb')) ?? g.convertClassicHistogramsToNHCB,
    extraScrapeMetrics: readBool(ctx, get('extra_scrape_metrics')) ?? g.extraScrapeMetrics,
    metricNameValidationScheme: validation,
    metricNameEscapingScheme: escaping,
    relabelConfigs,
    metricRelabelConfigs: readRelabelConfigs(
      ctx,
      get('metric_relabel_configs'),
      'empty or null metric relabeling rule in scrape config',
      validation,
    ),
    // Target group labels are model.LabelSet keys, checked as UTF-8 in 3.x whatever the job's scheme.
    staticConfigs: readStaticConfigs(ctx, get('static_configs'), 'utf8', !hasRelabel),
    fileSdConfigs: readFileSdConfigs(ctx, get('file_sd_configs')),
    httpSdConfigs: readHttpSdConfigs(ctx, get('http_sd_configs')),
    dnsSdConfigs: readDnsSdConfigs(ctx, get('dns_sd_configs')),
    sourceFile: ctx.file,
  };
  // Zero means "inherit" for every limit, exactly as Prometheus does (so a job cannot lift a global limit).
  for (const [yk, ck] of LIMIT_KEYS) cfg[ck] = readInt(ctx, get(yk)) || g[ck];
  if (fallback) cfg.fallbackScrapeProtocol = fallback as ScrapeProtocol;
  const sfl = readPath(ctx, get('scrape_failure_log_file')) ?? g.scrapeFailureLogFile;
  if (sfl) cfg.scrapeFailureLogFile = sfl;

  return ctx.issues.length > before ? undefined : cfg;
}

/**
 * The loaded configuration: camelCase, every default applied, durations in milliseconds, sizes in
 * bytes, relative file paths already resolved against the directory of the file that named them
 * (as Prometheus' SetDirectory does). Objects are deep-frozen by the loader.
 *
 * Defaults follow Prometheus head (3.x); where 2.42 (the installed oracle) differs, the field says so.
 */
import type { Labels } from '../util/labels.ts';
import type { RelabelConfig } from '../relabel/types.ts';
import type { NameValidationScheme } from '../relabel/names.ts';
import type { Secret } from './secret.ts';

import {
  DEFAULT_SCRAPE_PROTOCOLS,
  type NameEscaping,
  SCRAPE_PROTOCOL_TABLE,
  type ScrapeProtocol,
} from '../textparse/protocols.ts';

export { DEFAULT_SCRAPE_PROTOCOLS, type ScrapeProtocol };

/** Every known protocol name, sorted as Prometheus lists them in errors. */
export const SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = (
  Object.keys(SCRAPE_PROTOCOL_TABLE) as ScrapeProtocol[]
).sort();

/** Used when native histograms are scraped and no protocols are configured. */
export const DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = Object.freeze([
  'PrometheusProto',
  'OpenMetricsText1.0.0',
  'OpenMetricsText0.0.1',
  'PrometheusText1.0.0',
  'PrometheusText0.0.4',
] as const);

export type { NameValidationScheme };
export type NameEscapingScheme = NameEscaping;

/** Limits set in global and per job (where 0 inherits the global value); 0 means no limit. */
export interface ScrapeLimits {
  readonly sampleLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  readonly targetLimit: number;
  readonly keepDroppedTargets: number;
}

export interface GlobalConfig extends ScrapeLimits {
  readonly scrapeInterval: number;
  readonly scrapeTimeout: number;
  /** After `${VAR}` expansion (head behaviour; 2.42 only with --enable-feature=expand-external-labels). */
  readonly externalLabels: Labels;
  /** Explicit list, or the default list (proto first when scrapeNativeHistograms). */
  readonly scrapeProtocols: readonly ScrapeProtocol[];
  readonly bodySizeLimit: number;
  /** `utf8` by default, as in Prometheus 3 (2.42 knew only the legacy charset). */
  readonly metricNameValidationScheme: NameValidationScheme;
  readonly metricNameEscapingScheme: NameEscapingScheme;
  readonly scrapeNativeHistograms: boolean;
  readonly alwaysScrapeClassicHistograms: boolean;
  readonly convertClassicHistogramsToNHCB: boolean;
  readonly extraScrapeMetrics: boolean;
  readonly scrapeFailureLogFile?: string;
  /** How the global block was written, which /api/v1/status/config follows (see GlobalSource). */
  readonly source?: GlobalSource | undefined;
}

/**
 * What Prometheus 3.x prints of the global block depends on what was written: the global
 * scrape_protocols only when given, the escaping scheme only when given or when the block is absent
 * or empty, and the server-only settings, which an agent keeps but does not use.
 */
interface GlobalSource {
  readonly scrapeProtocolsGiven: boolean;
  readonly escapingShown: boolean;
  readonly evaluationInterval: number;
  readonly ruleQueryOffset: number;
  readonly queryLogFile: string;
}

export type TlsVersion = 'TLS10' | 'TLS11' | 'TLS12' | 'TLS13';

export interface TlsConfig {
  readonly ca?: string;
  readonly caFile?: string;
  readonly cert?: string;
  readonly certFile?: string;
  readonly key?: Secret;
  readonly keyFile?: string;
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
}

export interface BasicAuth {
  readonly username: string;
  readonly usernameFile?: string;
  readonly password?: Secret;
  readonly passwordFile?: string;
}

export interface Authorization {
  /** Defaults to `Bearer`; `Basic` is rejected (use basic_auth). */
  readonly type: string;
  readonly credentials?: Secret;
  readonly credentialsFile?: string;
}

export interface ProxyConfig {
  readonly proxyUrl?: string;
  readonly noProxy?: string;
  readonly proxyFromEnvironment: boolean;
  readonly proxyConnectHeader?: Readonly<Record<string, readonly Secret[]>>;
}

export interface OAuth2Config extends ProxyConfig {
  readonly clientId: string;
  readonly clientSecret?: Secret;
  readonly clientSecretFile?: string;
  readonly scopes: readonly string[];
  readonly tokenUrl: string;
  readonly endpointParams: Readonly<Record<string, string>>;
  readonly tlsConfig: TlsConfig;
}

/** One entry of `http_headers` (prometheus/common): literal values, secret values, and files read per request. */
export interface HttpHeader {
  readonly values: readonly string[];
  readonly secrets: readonly Secret[];
  readonly files: readonly string[];
}

export interface HttpClientConfig extends ProxyConfig {
  readonly basicAuth?: BasicAuth;
  readonly authorization?: Authorization;
  /**
   * Never set on a loaded config: like Prometheus, the loader folds `bearer_token` and
   * `bearer_token_file` into `authorization` ({type: 'Bearer', ...}). Kept so older readers compile.
   */
  readonly bearerToken?: Secret;
  /** Never set on a loaded config; see bearerToken. */
  readonly bearerTokenFile?: string;
  readonly oauth2?: OAuth2Config;
  readonly tlsConfig: TlsConfig;
  readonly followRedirects: boolean;
  /** Scrape and SD clients default true; remote write defaults false in head (2.42: true). */
  readonly enableHttp2: boolean;
  readonly httpHeaders?: Readonly<Record<string, HttpHeader>>;
  /** remote_write `headers:` only (reserved names rejected). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TargetGroup {
  /** `__address__` values. */
  readonly targets: readonly string[];
  readonly labels: Labels;
  /**
   * Per-target labels (one entry per target, `__address__` included), for mechanisms whose targets
   * carry their own labels (kubernetes_sd). Absent: each target's only label is its `__address__`.
   */
  readonly targetLabels?: readonly Labels[] | undefined;
  /** Static configs: the index in static_configs ("0", "1", ...), as Prometheus sets it. */
  readonly source: string;
}

export interface FileSdConfig {
  /** Patterns, resolved against the config file's directory; `*` only in the last path segment. */
  readonly files: readonly string[];
  readonly refreshInterval: number;
}

export interface HttpSdConfig extends HttpClientConfig {
  readonly url: string;
  readonly refreshInterval: number;
}

export type DnsRecordType = 'SRV' | 'A' | 'AAAA' | 'MX' | 'NS';

export interface DnsSdConfig {
  readonly names: readonly string[];
  readonly type: DnsRecordType;
  /** Required (non-zero) for every type except SRV. */
  readonly port: number;
  readonly refreshInterval: number;
}

export type KubernetesRole = 'node' | 'pod' | 'service' | 'endpoints' | 'endpointslice' | 'ingress';

export interface KubernetesSelector {
  readonly role: KubernetesRole;
  /** Label selector, `${VAR}` / `$VAR` already expanded from the environment (see src/config/kubernetes.ts). */
  readonly label: string;
  readonly field: string;
}

export interface KubernetesSdConfig extends HttpClientConfig {
  readonly role: KubernetesRole;
  /** Unset: in-cluster credentials (or kubeconfig_file). */
  readonly apiServer?: string;
  readonly kubeconfigFile?: string;
  readonly namespaces: { readonly ownNamespace: boolean; readonly names: readonly string[] };
  readonly selectors: readonly KubernetesSelector[];
  readonly attachMetadata: {
    readonly node: boolean;
    readonly namespace: boolean;
    readonly deployment: boolean;
    readonly job: boolean;
    readonly cronjob: boolean;
  };
}

export interface ScrapeConfig extends HttpClientConfig, ScrapeLimits {
  readonly jobName: string;
  readonly scrapeInterval: number;
  readonly scrapeTimeout: number;
  readonly metricsPath: string;
  readonly scheme: 'http' | 'https';
  readonly honorLabels: boolean;
  readonly honorTimestamps: boolean;
  readonly trackTimestampsStaleness: boolean;
  readonly params: Readonly<Record<string, readonly string[]>>;
  readonly scrapeProtocols: readonly ScrapeProtocol[];
  /**
   * Head: used when a target's Content-Type is missing or unknown; unset ⇒ such scrapes fail (2.42: parsed as
   * text).
   */
  readonly fallbackScrapeProtocol?: ScrapeProtocol;
  readonly enableCompression: boolean;
  /** Bytes; 0 = no limit. Inherited from global when 0. */
  readonly bodySizeLimit: number;
  readonly nativeHistogramBucketLimit: number;
  readonly nativeHistogramMinBucketFactor: number;
  readonly scrapeNativeHistograms: boolean;
  readonly alwaysScrapeClassicHistograms: boolean;
  readonly convertClassicHistogramsToNHCB: boolean;
  readonly extraScrapeMetrics: boolean;
  readonly metricNameValidationScheme: NameValidationScheme;
  readonly metricNameEscapingScheme: NameEscapingScheme;
  readonly scrapeFailureLogFile?: string;
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly metricRelabelConfigs: readonly RelabelConfig[];
  readonly staticConfigs: readonly TargetGroup[];
  readonly fileSdConfigs: readonly FileSdConfig[];
  readonly httpSdConfigs: readonly HttpSdConfig[];
  readonly dnsSdConfigs: readonly DnsSdConfig[];
  readonly kubernetesSdConfigs: readonly KubernetesSdConfig[];
  /** The file this job was defined in (the main file or one matched by scrape_config_files). */
  readonly sourceFile: string;
}

export type RemoteWriteProtobufMessage = 'prometheus.WriteRequest' | 'io.prometheus.write.v2.Request';

export interface QueueConfig {
  /** head 10000 (2.42: 2500). */
  readonly capacity: number;
  /** head 50 (2.42: 200). */
  readonly maxShards: number;
  readonly minShards: number;
  /** head 2000 (2.42: 500). */
  readonly maxSamplesPerSend: number;
  readonly batchSendDeadline: number;
  readonly minBackoff: number;
  readonly maxBackoff: number;
  readonly retryOnHttp429: boolean;
  /** 0 = off (head only). */
  readonly sampleAgeLimit: number;
}

export interface MetadataConfig {
  readonly send: boolean;
  readonly sendInterval: number;
  /** head 2000 (2.42: 500). Ignored for remote write 2.0. */
  readonly maxSamplesPerSend: number;
}

export interface RemoteWriteConfig extends HttpClientConfig {
  readonly url: string;
  /**
   * `name:` as given, or the first 6 hex digits of the md5 of the entry's canonical (redacted)
   * YAML. Prometheus hashes its Go struct serialisation, so generated names differ from its own.
   */
  readonly name: string;
  /** True when `name:` was written in the file. */
  readonly nameExplicit: boolean;
  /** Full md5 hex of the canonical serialisation: the queue's identity across reloads. */
  readonly hash: string;
  readonly remoteTimeout: number;
  readonly writeRelabelConfigs: readonly RelabelConfig[];
  readonly sendExemplars: boolean;
  readonly sendNativeHistograms: boolean;
  readonly roundRobinDns: boolean;
  readonly protobufMessage: RemoteWriteProtobufMessage;
  readonly queueConfig: QueueConfig;
  readonly metadataConfig: MetadataConfig;
  readonly headers: Readonly<Record<string, string>>;
}

/** The `otlp:` block (Prometheus 3.x OTLPConfig), for the OTLP receiver. */
export interface OtlpConfig {
  readonly translationStrategy:
    | 'UnderscoreEscapingWithSuffixes'
    | 'UnderscoreEscapingWithoutSuffixes'
    | 'NoUTF8EscapingWithSuffixes'
    | 'NoTranslation';
  readonly promoteAllResourceAttributes: boolean;
  readonly promoteResourceAttributes: readonly string[];
  /** Only with promoteAllResourceAttributes: the resource attributes not promoted. */
  readonly ignoreResourceAttributes: readonly string[];
  readonly keepIdentifyingResourceAttributes: boolean;
  readonly convertHistogramsToNHCB: boolean;
  readonly promoteScopeMetadata: boolean;
  readonly labelNameUnderscoreSanitization: boolean;
  readonly labelNamePreserveMultipleUnderscores: boolean;
}

export interface StorageConfig {
  /** storage.tsdb.out_of_order_time_window in ms (head: the agent's out-of-order window); negative ⇒ 0. */
  readonly outOfOrderTimeWindow: number;
}

/** A position in a config file and what is wrong or noteworthy there. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based; 0 when the problem has no position (e.g. the file cannot be read). */
  readonly line: number;
  readonly column: number;
  /** Field path such as `scrape_configs[0].scrape_timeout`; '' for the whole file. */
  readonly path: string;
  readonly message: string;
}

export interface Config {
  readonly global: GlobalConfig;
  /** From the main file, followed (after loadConfigFile) by those of scrape_config_files in glob order. */
  readonly scrapeConfigs: readonly ScrapeConfig[];
  readonly remoteWrite: readonly RemoteWriteConfig[];
  /** Patterns resolved against the main file's directory. */
  readonly scrapeConfigFiles: readonly string[];
  readonly storage: StorageConfig;
  readonly otlp: OtlpConfig;
  /** Fields accepted for compatibility that do nothing in Outpost (server-only settings, tracing, ...). */
  readonly warnings: readonly ConfigIssue[];
  readonly sourceFile: string;
  /** The raw file text. It contains secrets: never log or serve it (use redactedConfigYaml). */
  readonly sourceText: string;
}

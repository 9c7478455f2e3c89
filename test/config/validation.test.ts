/** Inline table of validation rules not covered by the golden fixtures (HTTP client, SD, queues, names). */
import test from 'ava';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { at } from '../helpers/defined.ts';

const job = (body: string): string => `scrape_configs:\n  - job_name: j\n${body}`;
const rw = (body: string): string => `remote_write:\n  - url: http://rw.local/push\n${body}`;

const CASES: readonly [name: string, yaml: string, error: string][] = [
  [
    'tls max < min',
    job('    tls_config: {min_version: TLS13, max_version: TLS12}\n'),
    '3:51: scrape_configs[0].tls_config.max_version: tls_config.max_version must be greater than or equal to tls_config.min_version if both are specified',
  ],
  [
    'tls unknown version',
    job('    tls_config: {min_version: TLS1.3}\n'),
    '3:31: scrape_configs[0].tls_config.min_version: unknown TLS version: TLS1.3 (expected one of TLS10, TLS11, TLS12, TLS13)',
  ],
  [
    'tls ca and ca_file',
    job('    tls_config: {ca: x, ca_file: y}\n'),
    '3:34: scrape_configs[0].tls_config.ca_file: at most one of ca, ca_file & ca_ref must be configured',
  ],
  [
    'tls key without cert',
    job('    tls_config: {key_file: k}\n'),
    '3:28: scrape_configs[0].tls_config: exactly one of cert or cert_file must be configured when a client key is configured',
  ],
  [
    'secret refs are unsupported',
    job('    tls_config: {ca_ref: vault}\n'),
    '3:18: scrape_configs[0].tls_config.ca_ref: ca_ref is not supported by Outpost (it has no secret manager); use the inline or _file form',
  ],
  [
    'basic_auth password twice',
    job('    basic_auth: {username: u, password: p, password_file: f}\n'),
    '3:59: scrape_configs[0].basic_auth.password_file: at most one of basic_auth password, password_file & password_ref must be configured',
  ],
  [
    'authorization credentials twice',
    job('    authorization: {credentials: c, credentials_file: f}\n'),
    '3:55: scrape_configs[0].authorization.credentials_file: at most one of authorization credentials & credentials_file must be configured',
  ],
  [
    'bearer token twice',
    job('    bearer_token: t\n    bearer_token_file: f\n'),
    '4:24: scrape_configs[0].bearer_token_file: at most one of bearer_token & bearer_token_file must be configured',
  ],
  [
    'authorization with bearer token',
    job('    authorization: {credentials: c}\n    bearer_token: t\n'),
    '4:19: scrape_configs[0].bearer_token: authorization is not compatible with bearer_token & bearer_token_file',
  ],
  [
    'oauth2 and basic_auth',
    job('    basic_auth: {username: u}\n    oauth2: {client_id: i, token_url: "http://t/x"}\n'),
    '4:13: scrape_configs[0].oauth2: at most one of basic_auth, oauth2 & authorization must be configured',
  ],
  [
    'oauth2 without client_id',
    job('    oauth2: {token_url: "http://t/x"}\n'),
    '3:13: scrape_configs[0].oauth2.client_id: oauth2 client_id must be configured',
  ],
  [
    'oauth2 without token_url',
    job('    oauth2: {client_id: i}\n'),
    '3:13: scrape_configs[0].oauth2.token_url: oauth2 token_url must be configured',
  ],
  [
    'oauth2 secret twice',
    job('    oauth2: {client_id: i, token_url: "http://t/x", client_secret: s, client_secret_file: f}\n'),
    '3:91: scrape_configs[0].oauth2.client_secret_file: at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured',
  ],
  [
    'proxy_url with proxy_from_environment',
    job('    proxy_url: http://p:3128\n    proxy_from_environment: true\n'),
    '3:16: scrape_configs[0].proxy_url: if proxy_from_environment is configured, proxy_url must not be configured',
  ],
  [
    'no_proxy without proxy_url',
    job('    no_proxy: localhost\n'),
    '3:15: scrape_configs[0].no_proxy: if no_proxy is configured, proxy_url must also be configured',
  ],
  [
    'proxy_connect_header without proxy',
    job('    proxy_connect_header: {X: [y]}\n'),
    '3:27: scrape_configs[0].proxy_connect_header: if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured',
  ],
  [
    'invalid proxy_url',
    job('    proxy_url: "not a url"\n'),
    '3:16: scrape_configs[0].proxy_url: "not a url" is not a valid proxy URL',
  ],
  [
    'reserved http_headers',
    job('    http_headers:\n      user-agent: {values: [x]}\n'),
    '4:7: scrape_configs[0].http_headers.user-agent: setting header "User-Agent" is not allowed',
  ],
  [
    'dns type',
    job('    dns_sd_configs: [{names: [x], type: TXT}]\n'),
    '3:41: scrape_configs[0].dns_sd_configs[0].type: invalid DNS-SD records type TXT',
  ],
  [
    'refresh interval zero',
    job('    file_sd_configs: [{files: [a.json], refresh_interval: 0s}]\n'),
    '3:59: scrape_configs[0].file_sd_configs[0].refresh_interval: refresh_interval must be greater than 0',
  ],
  [
    'http sd scheme',
    job('    http_sd_configs: [{url: "ftp://sd/x"}]\n'),
    `3:29: scrape_configs[0].http_sd_configs[0].url: http_sd URL scheme must be 'http' or 'https', got "ftp"`,
  ],
  [
    'params must be lists',
    job('    params: {module: http_2xx}\n'),
    '3:22: scrape_configs[0].params.module: expected a list, got "http_2xx"',
  ],
  [
    'quoted boolean',
    job('    honor_labels: "true"\n'),
    '3:19: scrape_configs[0].honor_labels: expected a boolean (true or false), got the quoted string "true"',
  ],
  [
    'duplicate scrape protocol',
    job('    scrape_protocols: [PrometheusProto, prometheusproto]\n'),
    '3:41: scrape_configs[0].scrape_protocols[1]: duplicated protocol in scrape_protocols, got [PrometheusProto prometheusproto] for scrape config with job name "j"',
  ],
  [
    'empty scrape protocols',
    job('    scrape_protocols: []\n'),
    '3:23: scrape_configs[0].scrape_protocols: scrape_protocols cannot be empty for scrape config with job name "j"',
  ],
  [
    'fallback protocol',
    job('    fallback_scrape_protocol: text\n'),
    '3:31: scrape_configs[0].fallback_scrape_protocol: invalid fallback_scrape_protocol for scrape config with job name "j": unknown scrape protocol text, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]',
  ],
  [
    'utf8 escaping with legacy names',
    job('    metric_name_validation_scheme: legacy\n    metric_name_escaping_scheme: allow-utf-8\n'),
    '4:34: scrape_configs[0].metric_name_escaping_scheme: utf8 metric names requested but validation scheme is not set to UTF8',
  ],
  [
    'unknown validation scheme',
    'global:\n  metric_name_validation_scheme: ascii\n',
    // prometheus/common model/metric.go ValidationScheme.Set (v0.70.1), used by 3.x's YAML decoding.
    '2:34: global.metric_name_validation_scheme: unrecognized ValidationScheme: "ascii"',
  ],
  [
    'metadata interval',
    rw('    metadata_config: {send_interval: 0s}\n'),
    '3:38: remote_write[0].metadata_config.send_interval: send_interval must be greater than 0 when metadata is sent',
  ],
  [
    'queue unknown field',
    rw('    queue_config: {max_shard: 3}\n'),
    '3:20: remote_write[0].queue_config.max_shard: unknown field "max_shard" (did you mean "max_shards"?)',
  ],
  ['rw null entry', 'remote_write:\n  -\n', '2:4: remote_write[0]: empty or null remote write config section'],
  [
    'rw write relabel null rule',
    rw('    write_relabel_configs: [~]\n'),
    '3:29: remote_write[0].write_relabel_configs[0]: empty or null relabeling rule in remote write config',
  ],
  [
    'alerting unknown field',
    'alerting:\n  alertmanager: []\n',
    '2:3: alerting.alertmanager: unknown field "alertmanager" (did you mean "alertmanagers"?)',
  ],
  [
    'top-level unknown field',
    'remote_writes: []\n',
    '1:1: remote_writes: unknown field "remote_writes" (did you mean "remote_write"?)',
  ],
];

for (const [name, yaml, error] of CASES) {
  test(`invalid: ${name}`, (t) => {
    const err = t.throws(() => parseConfig(yaml, 'c.yml'), { instanceOf: ConfigError }) as ConfigError;
    t.is(err.message.split('\n')[0], `c.yml:${error}`);
  });
}

test('valid: utf8 validation allows dotted label names and defaults to allow-utf-8 escaping', (t) => {
  const cfg = parseConfig(
    job('    metric_name_validation_scheme: utf8\n    static_configs: [{targets: ["h:1"], labels: {k8s.pod: p}}]\n'),
    'c.yml',
  );
  const s = at(cfg.scrapeConfigs, 0, 'cfg.scrapeConfigs');
  t.is(s.metricNameEscapingScheme, 'allow-utf-8');
  t.deepEqual(at(s.staticConfigs, 0, 's.staticConfigs').labels, ['k8s.pod', 'p']);
});

test('valid: remote write HTTP options and 2.x spelling of always_scrape_classic_histograms', (t) => {
  const cfg = parseConfig(
    `${rw('    enable_http2: true\n    follow_redirects: false\n')}scrape_configs: [{job_name: j, scrape_classic_histograms: true}]\n`,
    'c.yml',
  );
  t.true(at(cfg.remoteWrite, 0, 'cfg.remoteWrite').enableHttp2);
  t.false(at(cfg.remoteWrite, 0, 'cfg.remoteWrite').followRedirects);
  t.true(at(cfg.scrapeConfigs, 0, 'cfg.scrapeConfigs').alwaysScrapeClassicHistograms);
  t.deepEqual(
    cfg.warnings.map((w) => w.path),
    ['scrape_configs[0].scrape_classic_histograms'],
  );
});

/**
 * Golden *.bad.yml fixtures, à la Prometheus' config_test.go expectedErrors: each file with the
 * exact first problem (line:column, field path, message). `prom` records whether Prometheus
 * 2.42's `promtool check config --agent` rejects the file too (checked by the oracle test below
 * when promtool is installed): true = also rejected, 'head' = uses a 3.x-only field so 2.42
 * cannot judge it, false = an Outpost-only check (Prometheus accepts it and fails later, or never).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.ts';
import { firstN } from '../helpers/defined.ts';

const DIR = path.join(import.meta.dirname, '../fixtures/config');

interface BadCase {
  readonly file: string;
  /** `line:col: path: message` of the first issue. */
  readonly error: string;
  readonly prom: boolean | 'head';
}

const BAD: readonly BadCase[] = [
  {
    file: 'unknown-field',
    prom: true,
    error:
      '3:5: scrape_configs[0].scrape_intervall: unknown field "scrape_intervall" (did you mean "scrape_interval"?)',
  },
  {
    file: 'camel-case',
    prom: true,
    error:
      '4:9: scrape_configs[0].relabel_configs[0].sourceLabels: unknown field "sourceLabels" (did you mean "source_labels"?)',
  },
  {
    file: 'bad-duration',
    prom: true,
    error: '5:21: scrape_configs[0].scrape_timeout: "5x" is not a valid duration (unknown unit "x")',
  },
  {
    file: 'duration-fraction',
    prom: true,
    error:
      '2:20: global.scrape_interval: "1.5m" is not a valid duration (fractions are not allowed; combine units instead, e.g. 1m30s)',
  },
  {
    file: 'timeout-gt-interval',
    prom: true,
    error:
      '4:21: scrape_configs[0].scrape_timeout: scrape timeout greater than scrape interval for scrape config with job name "node" (15s > 10s)',
  },
  {
    file: 'global-timeout',
    prom: true,
    error: '3:19: global.scrape_timeout: global scrape timeout greater than scrape interval (6s > 5s)',
  },
  {
    file: 'dup-job',
    prom: true,
    error: '4:15: scrape_configs[2].job_name: found multiple scrape configs with job name "node"',
  },
  { file: 'empty-job-name', prom: true, error: '2:5: scrape_configs[0].job_name: job_name is empty' },
  { file: 'null-scrape-config', prom: true, error: '3:4: scrape_configs[1]: empty or null scrape config section' },
  { file: 'rule-files', prom: true, error: '3:1: rule_files: field rule_files is not allowed in agent mode' },
  { file: 'alerting', prom: true, error: '1:1: alerting: field alerting is not allowed in agent mode' },
  { file: 'remote-read', prom: true, error: '1:1: remote_read: field remote_read is not allowed in agent mode' },
  {
    file: 'static-url',
    prom: true,
    error:
      '4:37: scrape_configs[0].static_configs[0].targets[1]: "http://example.com/metrics" is not a valid hostname (a target is host:port; put the path in metrics_path or rewrite __address__ with relabel_configs)',
  },
  {
    file: 'static-bad-port',
    prom: false,
    error:
      '4:19: scrape_configs[0].static_configs[0].targets[0]: "localhost:91OO" is not a valid host:port (bad port "91OO")',
  },
  {
    file: 'unsupported-sd',
    prom: true,
    error:
      '3:5: scrape_configs[0].consul_sd_configs: consul_sd_configs is not supported by Outpost (supported: static_configs, file_sd_configs, http_sd_configs, dns_sd_configs, kubernetes_sd_configs)',
  },
  {
    file: 'relabel-unknown-action',
    prom: true,
    error: '5:17: scrape_configs[0].metric_relabel_configs[0].action: unknown relabel action "delete"',
  },
  {
    file: 'relabel-hashmod',
    prom: true,
    error:
      '4:9: scrape_configs[0].relabel_configs[0].modulus: relabel configuration for hashmod requires non-zero modulus',
  },
  {
    file: 'relabel-null-rule',
    prom: true,
    error: '4:8: scrape_configs[0].relabel_configs[0]: empty or null target relabeling rule in scrape config',
  },
  {
    file: 'relabel-source-label',
    prom: true,
    // 3.x checks source labels as UTF-8 (prometheus/common model.LabelName): only "" is refused.
    error: '4:24: remote_write[0].write_relabel_configs[0].source_labels: "" is not a valid label name',
  },
  {
    file: 'relabel-lowercase-replacement',
    prom: true,
    error: "7:22: scrape_configs[0].relabel_configs[0].replacement: 'replacement' can not be set for lowercase action",
  },
  {
    file: 'label-name',
    prom: true,
    // 3.x accepts any UTF-8 target label name ("data-center" included); an empty one is still refused.
    error: '6:11: scrape_configs[0].static_configs[0].labels[""]: "" is not a valid label name',
  },
  {
    file: 'external-label-name',
    // Only the legacy scheme refuses "0region" (3.x config.go GlobalConfig.UnmarshalYAML, v3.14.0 line 652).
    prom: 'head',
    error:
      '4:5: global.external_labels.0region: "0region" is not a valid label name (metric_name_validation_scheme: legacy)',
  },
  { file: 'rw-no-url', prom: true, error: '2:5: remote_write[0].url: url for remote_write is empty' },
  {
    file: 'rw-bad-url',
    prom: false,
    error: `2:10: remote_write[0].url: remote_write URL scheme must be 'http' or 'https', got "ftp"`,
  },
  {
    file: 'rw-reserved-header',
    prom: true,
    error: '5:7: remote_write[0].headers.content-type: content-type is a reserved header. It must not be changed',
  },
  {
    file: 'rw-authorization-header',
    prom: true,
    error:
      '4:7: remote_write[0].headers.Authorization: authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter',
  },
  {
    file: 'rw-auth-conflict',
    prom: true,
    error: '7:7: remote_write[0].authorization: at most one of basic_auth, oauth2 & authorization must be configured',
  },
  {
    file: 'rw-bearer-basic',
    prom: true,
    error:
      '5:19: remote_write[0].bearer_token: at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured',
  },
  {
    file: 'rw-dup-name',
    prom: true,
    error: '5:11: remote_write[1].name: found multiple remote write configs with job name "main"',
  },
  // Prometheus refuses this only when it applies the config (storage/remote), so promtool passes it.
  {
    file: 'rw-dup-config',
    prom: false,
    error:
      '3:5: remote_write[1]: duplicate remote write configs are not allowed, found duplicate for URL: http://a:9201/write',
  },
  {
    file: 'rw-protobuf',
    prom: 'head',
    error:
      '3:23: remote_write[0].protobuf_message: invalid protobuf_message value: unknown type for remote write protobuf message prometheus.WriteRequestV3, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request',
  },
  {
    file: 'rw-shards',
    prom: false,
    error: '5:19: remote_write[0].queue_config.min_shards: min_shards (4) must not be greater than max_shards (2)',
  },
  {
    file: 'rw-capacity',
    prom: false,
    error: '4:17: remote_write[0].queue_config.capacity: capacity must be greater than 0, got 0',
  },
  {
    file: 'rw-backoff',
    prom: false,
    error: '5:20: remote_write[0].queue_config.max_backoff: max_backoff must be greater than or equal to min_backoff',
  },
  { file: 'rw-sigv4', prom: false, error: '3:5: remote_write[0].sigv4: sigv4 is not supported by Outpost' },
  {
    file: 'tls-cert-no-key',
    prom: true,
    error:
      '4:18: scrape_configs[0].tls_config: exactly one of key or key_file must be configured when a client certificate is configured',
  },
  {
    file: 'authorization-basic',
    prom: true,
    error:
      '4:13: scrape_configs[0].authorization.type: authorization type cannot be set to "basic", use "basic_auth" instead',
  },
  {
    file: 'bad-bool',
    prom: true,
    error: '3:19: scrape_configs[0].honor_labels: expected a boolean (true or false), got "maybe"',
  },
  {
    file: 'negative-limit',
    prom: true,
    error: '3:19: scrape_configs[0].sample_limit: expected a non-negative integer, got "-1"',
  },
  {
    file: 'body-size',
    prom: 'head',
    error: '2:20: global.body_size_limit: "10kB" is not a valid size: unknown unit "kB" in size "10kB"',
  },
  {
    file: 'scrape-protocol',
    prom: 'head',
    error:
      '3:46: scrape_configs[0].scrape_protocols[1]: scrape_protocols: unknown scrape protocol PrometheusText2.0.0, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0] for scrape config with job name "node"',
  },
  {
    file: 'file-sd-ext',
    prom: true,
    error: `4:17: scrape_configs[0].file_sd_configs[0].files[0]: path name "targets/*.txt" is not valid for file discovery (it must end in .json, .yml or .yaml; '*' only in the last path segment)`,
  },
  {
    file: 'dns-port',
    prom: true,
    error:
      '4:9: scrape_configs[0].dns_sd_configs[0].port: a port is required in DNS-SD configs for all record types except SRV',
  },
  { file: 'http-sd-no-url', prom: true, error: '4:9: scrape_configs[0].http_sd_configs[0].url: URL is missing' },
  { file: 'scheme', prom: false, error: '3:13: scrape_configs[0].scheme: scheme must be "http" or "https", got "ftp"' },
  {
    file: 'scrape-config-files-pattern',
    prom: 'head',
    error: '2:5: scrape_config_files[0]: invalid scrape config file path "jobs/*/node.yml"',
  },
  { file: 'yaml-syntax', prom: true, error: '3:1: YAML syntax error: Sequence item without - indicator' },
  {
    file: 'yaml-dup-key',
    prom: true,
    error: '3:3: YAML syntax error: duplicate key "scrape_interval" (Map keys must be unique)',
  },
  { file: 'not-a-mapping', prom: true, error: '1:1: expected a mapping, got a list' },
  { file: 'wrong-type', prom: true, error: '2:3: scrape_configs: expected a list, got a mapping' },
  // otlp: Prometheus 3.x config.go (OTLPConfig.UnmarshalYAML, Load); 2.42 has no otlp block to judge.
  {
    file: 'otlp-strategy',
    prom: 'head',
    error: '2:25: otlp.translation_strategy: unsupported OTLP translation strategy "Underscores"',
  },
  {
    file: 'otlp-utf8-legacy',
    prom: 'head',
    error:
      '4:25: otlp.translation_strategy: OTLP translation strategy "NoUTF8EscapingWithSuffixes" is not allowed when ' +
      'UTF8 is disabled (set global.metric_name_validation_scheme: utf8)',
  },
  {
    file: 'otlp-promote-all',
    prom: 'head',
    error:
      "3:32: otlp.promote_resource_attributes: 'promote_all_resource_attributes' and " +
      "'promote_resource_attributes' cannot be configured simultaneously",
  },
  {
    file: 'otlp-promote-dup',
    prom: 'head',
    error: '2:36: otlp.promote_resource_attributes[1]: duplicated promoted OTel resource attribute "a"',
  },
];

const fixture = (name: string): string => path.join(DIR, `${name}.bad.yml`);

test('every *.bad.yml fixture has a row in the table', (t) => {
  const files = fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith('.bad.yml'))
    .map((f) => f.replace(/\.bad\.yml$/, ''))
    .sort();
  const rows = [...BAD.map((c) => c.file), 'many'].sort();
  t.deepEqual(files, rows);
});

for (const c of BAD) {
  test(`bad: ${c.file}`, (t) => {
    const file = `config/${c.file}.bad.yml`;
    const err = t.throws(() => parseConfig(fs.readFileSync(fixture(c.file), 'utf8'), file), {
      instanceOf: ConfigError,
    }) as ConfigError;
    t.is(err.issues.length, 1, err.message);
    t.is(err.message, `${file}:${c.error}`);
    const [line, column] = firstN(c.error.split(':').map(Number), 2, "c.error.split(':').map(Number)");
    t.is(err.line, line);
    t.is(err.column, column);
    t.is(err.file, file);
    t.is(err.code, 'OUTPOST_CONFIG_INVALID');
  });
}

test('bad: many problems are all reported, in file order', async (t) => {
  const file = fixture('many');
  const err = (await t.throwsAsync(loadConfigFile(file), { instanceOf: ConfigError })) as ConfigError;
  t.deepEqual(err.message.split('\n'), [
    `${file}:2:20: global.scrape_interval: "soon" is not a valid duration`,
    `${file}:5:19: scrape_configs[0].sample_limit: expected a non-negative integer, got "lots"`,
    `${file}:6:15: scrape_configs[1].job_name: found multiple scrape configs with job name "a"`,
    `${file}:10:19: remote_write[0].queue_config.max_shards: max_shards must be greater than 0, got 0`,
  ]);
  t.is(err.issues.length, 4);
  t.deepEqual([err.line, err.column, err.path], [2, 20, 'global.scrape_interval']);
});

function promtoolAvailable(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Oracle: Prometheus 2.42 must also reject what we claim it rejects (and accept the others,
// which is what makes them Outpost-only checks). Skipped where promtool is not installed.
const oracle = promtoolAvailable() ? test : test.skip;
oracle('oracle: promtool 2.42 agrees on which fixtures Prometheus rejects', (t) => {
  for (const c of BAD) {
    if (c.prom === 'head') continue;
    let rejected = false;
    try {
      execFileSync('promtool', ['check', 'config', '--agent', '--syntax-only', fixture(c.file)], { stdio: 'pipe' });
    } catch {
      rejected = true;
    }
    t.is(rejected, c.prom, `${c.file}: promtool ${rejected ? 'rejects' : 'accepts'} it`);
  }
});

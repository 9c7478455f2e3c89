/**
 * Prometheus 3 scrape-config fields and their defaulting rules, as table tests. Facts from
 * prometheus/prometheus v3.14.0 config/config.go (line numbers in the comments).
 */
import test from 'ava';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import type { NameEscapingScheme, NameValidationScheme } from '../../src/config/types.ts';

const load = (yaml: string): ReturnType<typeof parseConfig> => parseConfig(yaml, '/etc/outpost/c.yml');

// DefaultGlobalConfig (lines 173-192): utf8 validation, allow-utf-8 escaping. ScrapeConfig.Validate
// (lines 976-1029): a job without a validation scheme takes the global one and the global escaping;
// a job that sets only its validation scheme gets that scheme's escaping (underscores for legacy,
// allow-utf-8 for utf8), not the global escaping; an unset global escaping follows the global scheme.
const schemeCases: [name: string, global: string, job: string, want: [NameValidationScheme, NameEscapingScheme]][] = [
  ['defaults', '', '', ['utf8', 'allow-utf-8']],
  ['global legacy', 'metric_name_validation_scheme: legacy', '', ['legacy', 'underscores']],
  [
    'global legacy, job utf8',
    'metric_name_validation_scheme: legacy',
    'metric_name_validation_scheme: utf8',
    ['utf8', 'allow-utf-8'],
  ],
  ['global dots escaping, job unset', 'metric_name_escaping_scheme: dots', '', ['utf8', 'dots']],
  [
    'global dots escaping, job legacy: the job does not inherit the escaping',
    'metric_name_escaping_scheme: dots',
    'metric_name_validation_scheme: legacy',
    ['legacy', 'underscores'],
  ],
  [
    'global legacy with values escaping',
    'metric_name_validation_scheme: legacy\n  metric_name_escaping_scheme: values',
    '',
    ['legacy', 'values'],
  ],
  [
    'job legacy with dots',
    '',
    'metric_name_validation_scheme: legacy\n    metric_name_escaping_scheme: dots',
    ['legacy', 'dots'],
  ],
  [
    'empty strings mean unset',
    "metric_name_validation_scheme: ''",
    "metric_name_escaping_scheme: ''",
    ['utf8', 'allow-utf-8'],
  ],
];

for (const [name, global, job, [validation, escaping]] of schemeCases) {
  test(`name schemes: ${name}`, (t) => {
    const c = load(`global:\n  ${global}\nscrape_configs:\n  - job_name: j\n    ${job}\n`);
    const s = c.scrapeConfigs[0];
    t.is(s?.metricNameValidationScheme, validation);
    t.is(s?.metricNameEscapingScheme, escaping);
  });
}

const errorCases: [name: string, yaml: string, error: string][] = [
  [
    // Line 1023: checked per job, so an inherited allow-utf-8 fails on the job.
    'global legacy with allow-utf-8 escaping, inherited by a job',
    'global:\n  metric_name_validation_scheme: legacy\n  metric_name_escaping_scheme: allow-utf-8\n' +
      'scrape_configs:\n  - job_name: j\n',
    'scrape_configs[0]: utf8 metric names requested but validation scheme is not set to UTF8 (both schemes inherited from global)',
  ],
  [
    'job escaping scheme unknown (line 1028)',
    'scrape_configs:\n  - job_name: j\n    metric_name_escaping_scheme: ascii\n',
    `scrape_configs[0].metric_name_escaping_scheme: unknown scrape config name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got "ascii"`,
  ],
  [
    'global escaping scheme unknown (line 1002)',
    'global:\n  metric_name_escaping_scheme: Dots\n',
    `global.metric_name_escaping_scheme: unknown global name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got "Dots"`,
  ],
  [
    'job validation scheme unknown (prometheus/common ValidationScheme.Set)',
    'scrape_configs:\n  - job_name: j\n    metric_name_validation_scheme: UTF8\n',
    'scrape_configs[0].metric_name_validation_scheme: unrecognized ValidationScheme: "UTF8"',
  ],
  [
    // relabel.go Config.Validate line 140 under the job's scheme.
    'relabel target with a dot under a legacy job',
    'scrape_configs:\n  - job_name: j\n    metric_name_validation_scheme: legacy\n' +
      '    relabel_configs: [{source_labels: [a], target_label: k8s.pod}]\n',
    `scrape_configs[0].relabel_configs[0].target_label: "k8s.pod" is invalid 'target_label' for replace action (metric_name_validation_scheme: legacy)`,
  ],
  [
    // RemoteWriteConfig.Validate (line 1547) checks write relabeling under the global scheme.
    'write relabel labelmap to a dotted name under global legacy',
    'global:\n  metric_name_validation_scheme: legacy\nremote_write:\n  - url: http://rw.local/push\n' +
      '    write_relabel_configs: [{action: labelmap, regex: "(.+)", replacement: "x.$1"}]\n',
    `remote_write[0].write_relabel_configs[0].replacement: "x.$1" is invalid 'replacement' for labelmap action (metric_name_validation_scheme: legacy)`,
  ],
  [
    'fallback protocol spelled in lower case (validated like scrape_protocols, case-sensitive)',
    'scrape_configs:\n  - job_name: j\n    fallback_scrape_protocol: prometheustext0.0.4\n',
    'scrape_configs[0].fallback_scrape_protocol: invalid fallback_scrape_protocol for scrape config with job name "j": ' +
      'unknown scrape protocol prometheustext0.0.4, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]',
  ],
];

for (const [name, yaml, error] of errorCases) {
  test(`invalid: ${name}`, (t) => {
    const err = t.throws(() => parseConfig(yaml, 'c.yml'), { instanceOf: ConfigError }) as ConfigError;
    t.is(err.message.split('\n')[0]?.replace(/^c\.yml:\d+:\d+: /, ''), error);
  });
}

test('UTF-8 names are valid everywhere under the default scheme', (t) => {
  const c = load(
    'global:\n  external_labels: {service.name: api}\n' +
      'scrape_configs:\n  - job_name: j\n' +
      '    static_configs: [{targets: ["h:1"], labels: {k8s.pod: p}}]\n' +
      '    relabel_configs:\n' +
      '      - {source_labels: [k8s.pod], target_label: "pod name"}\n' +
      '      - {action: labelmap, regex: "k8s\\\\.(.+)", replacement: "kubernetes.$1"}\n' +
      '      - {action: hashmod, source_labels: [k8s.pod], modulus: 2, target_label: shard.id}\n' +
      '    metric_relabel_configs: [{action: lowercase, source_labels: [a], target_label: a.lower}]\n' +
      'remote_write:\n  - url: http://rw.local/push\n' +
      '    write_relabel_configs: [{source_labels: [x], target_label: "x.y"}]\n',
  );
  t.deepEqual(c.global.externalLabels, ['service.name', 'api']);
  t.deepEqual(c.scrapeConfigs[0]?.staticConfigs[0]?.labels, ['k8s.pod', 'p']);
  t.is(c.scrapeConfigs[0]?.relabelConfigs.length, 3);
});

test('target group labels are UTF-8 checked whatever the job scheme (model.LabelName)', (t) => {
  const c = load(
    'scrape_configs:\n  - job_name: j\n    metric_name_validation_scheme: legacy\n' +
      '    static_configs: [{targets: ["h:1"], labels: {k8s.pod: p}}]\n',
  );
  t.deepEqual(c.scrapeConfigs[0]?.staticConfigs[0]?.labels, ['k8s.pod', 'p']);
});

test('scrape protocol defaults and fallback (lines 589-608, 947-970)', (t) => {
  const c = load(
    'scrape_configs:\n  - job_name: a\n  - job_name: b\n    fallback_scrape_protocol: PrometheusText1.0.0\n' +
      '  - job_name: c\n    scrape_native_histograms: true\n',
  );
  const [a, b, cc] = c.scrapeConfigs;
  t.deepEqual(a?.scrapeProtocols, [
    'OpenMetricsText1.0.0',
    'OpenMetricsText0.0.1',
    'PrometheusText1.0.0',
    'PrometheusText0.0.4',
  ]);
  t.is(a?.fallbackScrapeProtocol, undefined);
  t.is(b?.fallbackScrapeProtocol, 'PrometheusText1.0.0');
  t.is(cc?.scrapeProtocols[0], 'PrometheusProto');
  // An explicit global list wins over the per-job native-histogram default (line 949).
  const g = load(
    'global:\n  scrape_protocols: [PrometheusText0.0.4]\nscrape_configs:\n  - job_name: c\n    scrape_native_histograms: true\n',
  );
  t.deepEqual(g.scrapeConfigs[0]?.scrapeProtocols, ['PrometheusText0.0.4']);
});

// DefaultScrapeConfig (lines 203-211): enable_compression true, HTTPClientConfig =
// DefaultHTTPClientConfig (prometheus/common: enable_http2 true, follow_redirects true);
// DefaultRemoteWriteHTTPClientConfig (lines 220-223): enable_http2 false.
test('enable_compression and enable_http2 defaults', (t) => {
  const c = load(
    'scrape_configs:\n  - job_name: a\n  - job_name: b\n    enable_compression: false\n    enable_http2: false\n' +
      'remote_write:\n  - url: http://rw.local/push\n',
  );
  const [a, b] = c.scrapeConfigs;
  t.true(a?.enableCompression);
  t.true(a?.enableHttp2);
  t.false(b?.enableCompression);
  t.false(b?.enableHttp2);
  t.false(c.remoteWrite[0]?.enableHttp2);
});

// Lines 632 and 857-859, 937-939: relative paths are joined with the config's directory; a job
// without its own file takes the global one.
test('scrape_failure_log_file: global, per job, relative to the config file', (t) => {
  const c = load(
    'global:\n  scrape_failure_log_file: failures.log\n' +
      'scrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_failure_log_file: /var/log/b.log\n',
  );
  t.is(c.global.scrapeFailureLogFile, path.join('/etc/outpost', 'failures.log'));
  t.is(c.scrapeConfigs[0]?.scrapeFailureLogFile, path.join('/etc/outpost', 'failures.log'));
  t.is(c.scrapeConfigs[1]?.scrapeFailureLogFile, '/var/log/b.log');
  t.is(load('scrape_configs:\n  - job_name: a\n').scrapeConfigs[0]?.scrapeFailureLogFile, undefined);
});

// Lines 187-188 and 1031-1039: both default false and jobs inherit the global value. 3.0 renamed
// scrape_classic_histograms, which Outpost still reads with a warning.
test('always_scrape_classic_histograms and convert_classic_histograms_to_nhcb inherit the global value', (t) => {
  const c = load(
    'global:\n  always_scrape_classic_histograms: true\n' +
      'scrape_configs:\n  - job_name: a\n  - job_name: b\n    always_scrape_classic_histograms: false\n' +
      '  - job_name: c\n    scrape_classic_histograms: false\n',
  );
  t.deepEqual(
    c.scrapeConfigs.map((s) => s.alwaysScrapeClassicHistograms),
    [true, false, false],
  );
  t.deepEqual(
    c.warnings.map((w) => w.path),
    ['scrape_configs[2].scrape_classic_histograms'],
  );
  const d = load('scrape_configs:\n  - job_name: a\n');
  t.false(d.scrapeConfigs[0]?.alwaysScrapeClassicHistograms);
  t.false(d.scrapeConfigs[0]?.convertClassicHistogramsToNHCB);
});

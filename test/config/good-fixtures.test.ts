/** Golden *.good.yml fixtures: every parsed value that matters is asserted. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfigFile, parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { at, defined, firstN } from '../helpers/defined.ts';

const DIR = path.join(import.meta.dirname, '../fixtures/config');
const ENV = { OUTPOST_TEST_BOX: 'edge-7' };

function load(name: string): Config {
  return parseConfig(fs.readFileSync(path.join(DIR, `${name}.good.yml`), 'utf8'), path.join(DIR, `${name}.good.yml`), {
    env: ENV,
  });
}

test('every *.good.yml fixture parses', (t) => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.good.yml'));
  t.true(files.length >= 7);
  for (const f of files) t.notThrows(() => parseConfig(fs.readFileSync(path.join(DIR, f), 'utf8'), f, { env: ENV }), f);
});

test('empty file: all defaults (head values)', (t) => {
  const c = load('empty');
  t.is(c.global.scrapeInterval, 60_000);
  t.is(c.global.scrapeTimeout, 10_000);
  t.deepEqual(c.global.externalLabels, []);
  t.deepEqual(c.global.scrapeProtocols, [
    'OpenMetricsText1.0.0',
    'OpenMetricsText0.0.1',
    'PrometheusText1.0.0',
    'PrometheusText0.0.4',
  ]);
  t.is(c.global.bodySizeLimit, 0);
  t.is(c.global.sampleLimit, 0);
  t.is(c.global.metricNameValidationScheme, 'utf8'); // 3.x DefaultGlobalConfig (config.go v3.14.0 line 190)
  t.deepEqual(c.scrapeConfigs, []);
  t.deepEqual(c.remoteWrite, []);
  t.deepEqual(c.scrapeConfigFiles, []);
  t.deepEqual(c.storage, { outOfOrderTimeWindow: 0 });
  t.deepEqual(c.warnings, []);
  t.is(c.sourceText, '');
});

test('minimal: scrape and remote-write defaults', (t) => {
  const c = load('minimal');
  const [s] = firstN(c.scrapeConfigs, 1, 'c.scrapeConfigs');
  t.is(s.jobName, 'self');
  t.is(s.scrapeInterval, 60_000);
  t.is(s.scrapeTimeout, 10_000);
  t.is(s.metricsPath, '/metrics');
  t.is(s.scheme, 'http');
  t.false(s.honorLabels);
  t.true(s.honorTimestamps);
  t.false(s.trackTimestampsStaleness);
  t.true(s.enableCompression);
  t.true(s.followRedirects);
  t.true(s.enableHttp2);
  t.deepEqual(s.params, {});
  t.deepEqual(s.tlsConfig, { insecureSkipVerify: false });
  t.is(s.fallbackScrapeProtocol, undefined);
  t.deepEqual(s.staticConfigs, [{ targets: ['localhost:9090'], labels: [], source: '0' }]);
  t.deepEqual(
    [s.relabelConfigs, s.metricRelabelConfigs, s.fileSdConfigs, s.httpSdConfigs, s.dnsSdConfigs],
    [[], [], [], [], []],
  );
  t.is(s.sourceFile, path.join(DIR, 'minimal.good.yml'));

  const [rw] = firstN(c.remoteWrite, 1, 'c.remoteWrite');
  t.is(rw.url, 'http://localhost:9201/write');
  t.regex(rw.name, /^[0-9a-f]{6}$/);
  t.is(rw.hash.slice(0, 6), rw.name);
  t.false(rw.nameExplicit);
  t.is(rw.remoteTimeout, 30_000);
  t.is(rw.protobufMessage, 'prometheus.WriteRequest');
  t.false(rw.sendExemplars);
  t.false(rw.sendNativeHistograms);
  t.false(rw.enableHttp2, 'head: remote write does not use HTTP/2 by default');
  t.true(rw.followRedirects);
  t.deepEqual(rw.headers, {});
  t.deepEqual(rw.queueConfig, {
    capacity: 10000,
    maxShards: 50,
    minShards: 1,
    maxSamplesPerSend: 2000,
    batchSendDeadline: 5000,
    minBackoff: 30,
    maxBackoff: 5000,
    retryOnHttp429: false,
    sampleAgeLimit: 0,
  });
  t.deepEqual(rw.metadataConfig, { send: true, sendInterval: 60_000, maxSamplesPerSend: 2000 });
});

test('full: global section', (t) => {
  const g = load('full').global;
  t.is(g.scrapeInterval, 30_000);
  t.is(g.scrapeTimeout, 20_000);
  // ${VAR} expanded from the environment, $$ kept as a literal $; labels sorted by name.
  t.deepEqual(g.externalLabels, ['box', 'edge-7', 'literal', 'cost$center', 'region', 'eu-west']);
  t.is(g.bodySizeLimit, 10 * 1024 * 1024);
  t.is(g.sampleLimit, 5000);
  t.is(g.labelLimit, 64);
  t.is(g.labelNameLengthLimit, 128);
  t.is(g.labelValueLengthLimit, 2048);
  t.is(g.targetLimit, 100);
  t.is(g.keepDroppedTargets, 10);
});

test('full: scrape config fields, HTTP client, SD', (t) => {
  const s = at(load('full').scrapeConfigs, 0, "load('full').scrapeConfigs");
  t.is(s.jobName, 'node');
  t.true(s.honorLabels);
  t.false(s.honorTimestamps);
  t.true(s.trackTimestampsStaleness);
  t.is(s.scrapeInterval, 90_000);
  t.is(s.scrapeTimeout, 45_000);
  t.is(s.metricsPath, '/probe');
  t.is(s.scheme, 'https');
  t.deepEqual(s.params, { module: ['http_2xx', 'tcp'] });
  t.deepEqual(s.scrapeProtocols, ['PrometheusText0.0.4', 'OpenMetricsText1.0.0']);
  t.is(s.fallbackScrapeProtocol, 'PrometheusText0.0.4');
  t.false(s.enableCompression);
  t.is(s.bodySizeLimit, 1536);
  t.is(s.sampleLimit, 100);
  t.is(s.labelLimit, 64, 'unset limits inherit from global');
  t.is(s.targetLimit, 100);
  t.is(s.keepDroppedTargets, 10);
  t.false(s.followRedirects);
  t.is(s.basicAuth?.username, 'scraper');
  t.is(s.basicAuth?.password?.reveal(), 's3cr3t-basic');
  t.deepEqual(s.tlsConfig, {
    caFile: path.join(DIR, 'certs/ca.pem'),
    serverName: 'node.internal',
    insecureSkipVerify: true,
    minVersion: 'TLS12',
  });

  t.deepEqual(s.staticConfigs, [
    { targets: ['10.0.0.1:9100', 'node-2.local:9100'], labels: ['rack', 'r1'], source: '0' },
    { targets: ['[2001:db8::1]:9100'], labels: [], source: '1' },
  ]);
  t.deepEqual(s.fileSdConfigs, [
    { files: [path.join(DIR, 'targets/*.json'), '/etc/outpost/extra.yml'], refreshInterval: 60_000 },
  ]);
  t.is(s.httpSdConfigs.length, 1);
  const [sd] = firstN(s.httpSdConfigs, 1, 'http_sd_configs');
  t.is(sd.url, 'https://sd.example.com/targets');
  t.is(sd.refreshInterval, 120_000);
  t.is(sd.authorization?.type, 'Bearer');
  t.is(sd.authorization?.credentials?.reveal(), 's3cr3t-sd');
  t.true(sd.enableHttp2);
  t.deepEqual(s.dnsSdConfigs, [
    { names: ['_node._tcp.example.com'], type: 'SRV', port: 0, refreshInterval: 30_000 },
    { names: ['db.example.com'], type: 'A', port: 9187, refreshInterval: 30_000 },
  ]);
});

test('full: relabel configs get defaults, explicit fields and lowercased actions', (t) => {
  const s = at(load('full').scrapeConfigs, 0, "load('full').scrapeConfigs");
  const rc = s.relabelConfigs.map(({ explicit, ...r }) => ({ ...r, explicit: [...explicit].sort() }));
  t.deepEqual(rc, [
    {
      sourceLabels: ['__address__'],
      separator: ';',
      regex: '(.*):\\d+',
      modulus: 0,
      targetLabel: 'host',
      replacement: '${1}',
      action: 'replace',
      nameValidation: 'utf8',
      explicit: ['regex', 'replacement', 'source_labels', 'target_label'],
    },
    {
      sourceLabels: ['host'],
      separator: ';',
      regex: '(.*)',
      modulus: 4,
      targetLabel: '__tmp_shard',
      replacement: '$1',
      action: 'hashmod',
      nameValidation: 'utf8',
      explicit: ['action', 'modulus', 'source_labels', 'target_label'],
    },
    {
      sourceLabels: ['__tmp_shard'],
      separator: ';',
      regex: '0',
      modulus: 0,
      targetLabel: '',
      replacement: '$1',
      action: 'keep',
      nameValidation: 'utf8',
      explicit: ['action', 'regex', 'source_labels'],
    },
    {
      sourceLabels: [],
      separator: ';',
      regex: '__meta_(.+)',
      modulus: 0,
      targetLabel: '',
      replacement: '$1',
      action: 'labelmap',
      nameValidation: 'utf8',
      explicit: ['action', 'regex'],
    },
    {
      sourceLabels: ['rack'],
      separator: ';',
      regex: '(.*)',
      modulus: 0,
      targetLabel: 'rack_lc',
      replacement: '$1',
      action: 'lowercase',
      nameValidation: 'utf8',
      explicit: ['action', 'source_labels', 'target_label'],
    },
  ]);
  t.deepEqual(
    s.metricRelabelConfigs.map((r) => [r.action, r.separator, r.regex]),
    [
      ['drop', ',', 'go_.*'],
      ['labeldrop', ';', 'tmp_.*'],
    ],
  );
});

test('full: remote write entries', (t) => {
  const [a, b] = firstN(load('full').remoteWrite, 2, "load('full').remoteWrite");
  t.is(a.url, 'https://metrics.example.com/api/v1/write');
  t.is(a.name, 'primary');
  t.true(a.nameExplicit);
  t.is(a.remoteTimeout, 10_000);
  t.deepEqual(a.headers, { 'X-Scope-OrgID': 'edge-42' });
  t.true(a.sendExemplars);
  t.true(a.sendNativeHistograms);
  t.is(a.protobufMessage, 'io.prometheus.write.v2.Request');
  t.is(a.authorization?.type, 'Bearer');
  t.is(a.authorization?.credentials?.reveal(), 's3cr3t-rw-token');
  t.is(a.bearerToken, undefined, 'bearer_token is folded into authorization');
  t.deepEqual(
    a.writeRelabelConfigs.map((r) => [r.action, r.sourceLabels, r.regex]),
    [['drop', ['__name__'], 'scrape_.*']],
  );
  t.deepEqual(a.queueConfig, {
    capacity: 2500,
    maxShards: 4,
    minShards: 2,
    maxSamplesPerSend: 500,
    batchSendDeadline: 10_000,
    minBackoff: 100,
    maxBackoff: 10_000,
    retryOnHttp429: true,
    sampleAgeLimit: 3_600_000,
  });
  t.deepEqual(a.metadataConfig, { send: false, sendInterval: 120_000, maxSamplesPerSend: 100 });
  t.is(b.url, 'http://127.0.0.1:9201/write');
  t.regex(b.name, /^[0-9a-f]{6}$/);
  t.not(a.hash, b.hash);
});

test('inherit: interval, timeout and limits come from global; timeout never exceeds interval', (t) => {
  const byJob = Object.fromEntries(load('inherit').scrapeConfigs.map((s) => [s.jobName, s]));
  const job = (name: string) => defined(byJob[name], `job ${name}`);
  t.is(load('inherit').global.scrapeTimeout, 5_000, 'global timeout = min(10s, interval)');
  t.deepEqual([job('inherits').scrapeInterval, job('inherits').scrapeTimeout], [5_000, 5_000]);
  t.deepEqual([job('short').scrapeInterval, job('short').scrapeTimeout], [2_000, 2_000]);
  t.deepEqual([job('long').scrapeInterval, job('long').scrapeTimeout], [120_000, 5_000]);
  t.is(job('inherits').sampleLimit, 1000);
  t.is(job('inherits').bodySizeLimit, 1024 * 1024);
  t.is(job('zero-limit').sampleLimit, 1000, 'an explicit 0 inherits, as in Prometheus');
  t.is(job('zero-limit').labelLimit, 7);
});

test('agent-allowed: empty server sections pass; inert sections produce warnings, not errors', (t) => {
  const c = load('agent-allowed');
  t.is(c.storage.outOfOrderTimeWindow, 600_000);
  t.deepEqual(
    c.warnings.map((w) => `${w.line}: ${w.path}: ${w.message}`),
    [
      '4: global.evaluation_interval: evaluation_interval has no effect in agent mode',
      '8: runtime: runtime settings (gogc) have no effect in Outpost',
      '13: storage.exemplars: storage.exemplars has no effect in agent mode',
      '15: tracing: tracing is not supported by Outpost; the section is ignored',
    ],
  );
  // The otlp block configures the OTLP receiver (Prometheus 3.x OTLPConfig); absent fields keep 3.x defaults.
  t.deepEqual(c.otlp.promoteResourceAttributes, ['service.name']);
  t.is(c.otlp.translationStrategy, 'UnderscoreEscapingWithSuffixes');
  t.true(c.otlp.labelNameUnderscoreSanitization);
});

test('yaml-features: anchors, merge keys, YAML 1.1 scalars as go-yaml v2 reads them', (t) => {
  const [base, merged] = firstN(load('yaml-features').scrapeConfigs, 2, "load('yaml-features').scrapeConfigs");
  t.is(base.jobName, 'base');
  t.true(base.honorLabels, 'yes is true');
  t.is(base.sampleLimit, 16, '0x10');
  t.is(base.labelLimit, 8, '010 is octal in YAML 1.1');
  t.is(merged.jobName, '0123', 'a plain scalar keeps its text in a string field');
  t.false(merged.honorLabels, 'off is false and overrides the merged value');
  t.is(merged.scrapeInterval, 10_000, 'merged from the anchor');
  t.is(merged.sampleLimit, 16);
  t.deepEqual(
    merged.metricRelabelConfigs.map((r) => r.targetLabel),
    ['addr'],
  );
  t.deepEqual(
    merged.relabelConfigs.map((r) => r.targetLabel),
    ['addr'],
  );
});

test('bearer: token and token file become authorization; paths resolve against the config dir', (t) => {
  const c = load('bearer');
  const [tok, file] = firstN(c.scrapeConfigs, 2, 'c.scrapeConfigs');
  t.is(tok.authorization?.type, 'Bearer');
  t.is(tok.authorization?.credentials?.reveal(), 's3cr3t-bearer');
  t.is(tok.bearerToken, undefined);
  t.deepEqual(file.authorization, { type: 'Bearer', credentialsFile: path.join(DIR, 'secrets/token') });
  t.is(file.oauth2, undefined, 'a null oauth2 block is absent');
  const [rw] = firstN(c.remoteWrite, 1, 'c.remoteWrite');
  t.deepEqual(rw.basicAuth, { username: 'user', passwordFile: '/run/secrets/rw-password' });
  t.deepEqual(rw.tlsConfig, {
    certFile: path.join(DIR, 'client.crt'),
    keyFile: path.join(DIR, 'client.key'),
    insecureSkipVerify: false,
  });
});

test('loadConfigFile reads a fixture from disk the same way', async (t) => {
  const file = path.join(DIR, 'full.good.yml');
  const fromDisk = await loadConfigFile(file, { env: ENV });
  t.deepEqual(fromDisk, load('full'));
  t.is(fromDisk.sourceFile, file);
});

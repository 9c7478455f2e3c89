import test from 'ava';
import { parse } from 'yaml';
import { parseConfig, redactedConfigYaml } from '../../src/config/load.ts';

/**
 * /api/v1/status/config as a Prometheus 3.x agent serves it: config.go Config.String() marshals the
 * loaded Config (defaults filled in) with yaml.v2, so keys follow the Go struct field order and
 * `omitempty` fields are left out when zero. No 3.x binary is installed here, so the shape is
 * checked against the field lists of prometheus/prometheus v3.14.0 (config/config.go unless
 * named) and prometheus/common v0.70.1 (config/http_config.go). `always` marks fields without
 * omitempty, or whose defaults are never zero, which a 3.x agent always prints.
 */
type Fields = readonly (readonly [key: string, always?: 'always'])[];

const SECTIONS: Record<string, { cite: string; fields: Fields }> = {
  top: {
    // Config, config.go 293-304 (alerting, rule_files, tracing, remote_read: refused or empty in an agent).
    cite: 'config.go 293-304',
    fields: [
      ['global', 'always'],
      ['runtime', 'always'],
      ['alerting'],
      ['rule_files'],
      ['scrape_config_files'],
      ['scrape_configs'],
      ['storage', 'always'],
      ['tracing'],
      ['remote_write'],
      ['remote_read'],
      ['otlp', 'always'],
    ],
  },
  global: {
    cite: 'config.go 483-541 (defaults 184-205, UnmarshalYAML 636-704)',
    fields: [
      ['scrape_interval', 'always'],
      ['scrape_timeout', 'always'],
      ['scrape_protocols'],
      ['evaluation_interval', 'always'],
      ['rule_query_offset'],
      ['query_log_file'],
      ['scrape_failure_log_file'],
      ['external_labels'],
      ['body_size_limit'],
      ['sample_limit'],
      ['target_limit'],
      ['label_limit'],
      ['label_name_length_limit'],
      ['label_value_length_limit'],
      ['keep_dropped_targets'],
      ['metric_name_validation_scheme', 'always'],
      ['metric_name_escaping_scheme'],
      ['scrape_native_histograms', 'always'],
      ['convert_classic_histograms_to_nhcb'],
      ['always_scrape_classic_histograms'],
      ['extra_scrape_metrics', 'always'],
    ],
  },
  runtime: { cite: 'config.go 734-737', fields: [['gogc', 'always']] },
  scrape: {
    // ScrapeConfig 766-852 with HTTPClientConfig inlined at 847; the SD lists follow, sorted
    // (discovery/registry.go 61-108). Validate (901-1052) fills the *bool and scheme fields.
    cite: 'config.go 766-852, discovery/registry.go 61-108',
    fields: [
      ['job_name', 'always'],
      ['honor_labels'],
      ['honor_timestamps', 'always'],
      ['track_timestamps_staleness', 'always'],
      ['params'],
      ['scrape_interval', 'always'],
      ['scrape_timeout', 'always'],
      ['scrape_protocols', 'always'],
      ['fallback_scrape_protocol'],
      ['scrape_native_histograms', 'always'],
      ['always_scrape_classic_histograms', 'always'],
      ['convert_classic_histograms_to_nhcb', 'always'],
      ['scrape_failure_log_file'],
      ['metrics_path', 'always'],
      ['scheme', 'always'],
      ['enable_compression', 'always'],
      ['body_size_limit'],
      ['sample_limit'],
      ['target_limit'],
      ['label_limit'],
      ['label_name_length_limit'],
      ['label_value_length_limit'],
      ['native_histogram_bucket_limit'],
      ['native_histogram_min_bucket_factor'],
      ['keep_dropped_targets'],
      ['metric_name_validation_scheme', 'always'],
      ['metric_name_escaping_scheme', 'always'],
      ['extra_scrape_metrics', 'always'],
      ['basic_auth'],
      ['authorization'],
      ['oauth2'],
      ['bearer_token'],
      ['bearer_token_file'],
      ['tls_config'],
      ['follow_redirects', 'always'],
      ['enable_http2', 'always'],
      ['proxy_url'],
      ['no_proxy'],
      ['proxy_from_environment'],
      ['proxy_connect_header'],
      ['http_headers'],
      ['relabel_configs'],
      ['metric_relabel_configs'],
      ['dns_sd_configs'],
      ['file_sd_configs'],
      ['http_sd_configs'],
      ['static_configs'],
    ],
  },
  tls_config: {
    cite: 'common http_config.go 1326-1353',
    fields: [
      ['ca'],
      ['cert'],
      ['key'],
      ['ca_file'],
      ['cert_file'],
      ['key_file'],
      ['ca_ref'],
      ['cert_ref'],
      ['key_ref'],
      ['server_name'],
      ['insecure_skip_verify', 'always'],
      ['min_version'],
      ['max_version'],
    ],
  },
  oauth2: {
    cite: 'common http_config.go 242-278',
    fields: [
      ['client_id', 'always'],
      ['client_secret'],
      ['client_secret_file'],
      ['client_secret_ref'],
      ['client_certificate_key_id'],
      ['client_certificate_key'],
      ['client_certificate_key_file'],
      ['client_certificate_key_ref'],
      ['grant_type'],
      ['signature_algorithm'],
      ['iss'],
      ['audience'],
      ['claims'],
      ['scopes'],
      ['token_url', 'always'],
      ['endpoint_params'],
      ['tls_config'],
      ['proxy_url'],
      ['no_proxy'],
      ['proxy_from_environment'],
      ['proxy_connect_header'],
    ],
  },
  relabel: {
    cite: 'model/relabel/relabel.go 89-102',
    fields: [
      ['source_labels'],
      ['separator', 'always'],
      ['regex'],
      ['modulus'],
      ['target_label'],
      ['replacement', 'always'],
      ['action', 'always'],
    ],
  },
  dns_sd: {
    cite: 'discovery/dns/dns.go 65-68',
    fields: [
      ['names', 'always'],
      ['refresh_interval', 'always'],
      ['type', 'always'],
      ['port', 'always'],
    ],
  },
  file_sd: {
    cite: 'discovery/file/file.go 57-58',
    fields: [
      ['files', 'always'],
      ['refresh_interval', 'always'],
    ],
  },
  http_sd: {
    cite: 'discovery/http/http.go 56-58',
    fields: [
      ['basic_auth'],
      ['authorization'],
      ['oauth2'],
      ['tls_config'],
      ['follow_redirects', 'always'],
      ['enable_http2', 'always'],
      ['proxy_url'],
      ['http_headers'],
      ['refresh_interval', 'always'],
      ['url', 'always'],
    ],
  },
  static: { cite: 'discovery/targetgroup/targetgroup.go 59-71', fields: [['targets', 'always'], ['labels']] },
  storage: { cite: 'config.go 1100-1103', fields: [['tsdb', 'always'], ['exemplars']] },
  tsdb: {
    // OutOfOrderTimeWindow has no yaml tag: yaml.v2 writes it under the lowercased field name.
    cite: 'config.go 1149-1169 (retention filled at 418-423 and 1201-1204; 15d from main.go 143)',
    fields: [
      ['outofordertimewindow', 'always'],
      ['out_of_order_time_window'],
      ['stale_series_compaction_threshold'],
      ['chunk_encoding'],
      ['retention', 'always'],
    ],
  },
  remote_write: {
    cite: 'config.go 1482-1503 (defaults 226-232)',
    fields: [
      ['url', 'always'],
      ['remote_timeout', 'always'],
      ['headers'],
      ['write_relabel_configs'],
      ['name'],
      ['send_exemplars'],
      ['send_native_histograms'],
      ['round_robin_dns'],
      ['protobuf_message', 'always'],
      ['basic_auth'],
      ['authorization'],
      ['oauth2'],
      ['bearer_token'],
      ['bearer_token_file'],
      ['tls_config'],
      ['follow_redirects', 'always'],
      ['enable_http2', 'always'],
      ['proxy_url'],
      ['no_proxy'],
      ['proxy_from_environment'],
      ['proxy_connect_header'],
      ['http_headers'],
      ['queue_config', 'always'],
      ['metadata_config', 'always'],
      ['sigv4'],
      ['azuread'],
      ['google_iam'],
    ],
  },
  queue_config: {
    cite: 'config.go 1613-1633 (defaults 234-251)',
    fields: [
      ['capacity', 'always'],
      ['max_shards', 'always'],
      ['min_shards', 'always'],
      ['max_samples_per_send', 'always'],
      ['batch_send_deadline', 'always'],
      ['min_backoff', 'always'],
      ['max_backoff', 'always'],
      ['retry_on_http_429'],
      ['sample_age_limit'],
    ],
  },
  metadata_config: {
    cite: 'config.go 1663-1667',
    fields: [
      ['send', 'always'],
      ['send_interval', 'always'],
      ['max_samples_per_send', 'always'],
    ],
  },
  otlp: {
    cite: 'config.go 1750-1767 (defaults 279-285)',
    fields: [
      ['promote_all_resource_attributes'],
      ['promote_resource_attributes'],
      ['ignore_resource_attributes'],
      ['translation_strategy', 'always'],
      ['keep_identifying_resource_attributes'],
      ['convert_histograms_to_nhcb'],
      ['promote_scope_metadata'],
      ['label_name_underscore_sanitization', 'always'],
      ['label_name_preserve_multiple_underscores', 'always'],
    ],
  },
};

const RICH = `
global:
  scrape_interval: 15s
  external_labels: {site: edge1}
  sample_limit: 5000
scrape_config_files: []
scrape_configs:
  - job_name: node
    honor_labels: true
    params: {module: [m]}
    basic_auth: {username: u, password: pw-secret}
    tls_config: {insecure_skip_verify: true, server_name: node.local}
    proxy_url: http://127.0.0.1:3128
    relabel_configs:
      - source_labels: [__address__, job]
        target_label: x
      - action: labelmap
        regex: __meta_(.+)
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
    static_configs:
      - targets: ['127.0.0.1:9100']
        labels: {role: node}
    file_sd_configs:
      - files: [targets/*.json]
    http_sd_configs:
      - url: http://127.0.0.1:8000/sd
        authorization: {credentials: sd-token}
    dns_sd_configs:
      - names: [_prom._tcp.example]
  - job_name: other
    scheme: https
    oauth2:
      client_id: id
      client_secret: oauth-secret
      token_url: http://127.0.0.1:1/token
      scopes: [a]
    static_configs:
      - targets: ['127.0.0.1:1']
storage:
  tsdb:
    out_of_order_time_window: 10m
remote_write:
  - url: http://127.0.0.1:9009/api/v1/push
    name: main
    headers: {X-Scope-OrgID: tenant-secret}
    send_exemplars: true
    round_robin_dns: true
    protobuf_message: io.prometheus.write.v2.Request
    authorization: {credentials: rw-token}
    write_relabel_configs:
      - source_labels: [__name__]
        regex: up
        action: keep
    queue_config: {max_shards: 10, retry_on_http_429: true}
  - url: http://127.0.0.1:9010/write
`;

/** Parses YAML keeping key order (object keys keep insertion order for string keys). */
type Node = Record<string, unknown>;

function checkSection(t: import('ava').ExecutionContext, name: string, obj: unknown): void {
  const spec = SECTIONS[name];
  if (!spec) throw new Error(`no section ${name}`);
  const keys = Object.keys(obj as Node);
  const order = spec.fields.map(([k]) => k);
  const unknown = keys.filter((k) => !order.includes(k));
  t.deepEqual(unknown, [], `${name}: fields 3.x does not have (${spec.cite})`);
  const positions = keys.map((k) => order.indexOf(k));
  t.deepEqual(
    positions,
    [...positions].sort((a, b) => a - b),
    `${name}: keys out of 3.x order (${spec.cite}): ${keys.join(', ')}`,
  );
  for (const [k, always] of spec.fields)
    if (always) t.true(keys.includes(k), `${name}: 3.x always prints ${k} (${spec.cite})`);
}

test('every section has the 3.x fields, in 3.x order, with the ones 3.x always prints', (t) => {
  const yaml = redactedConfigYaml(parseConfig(RICH, '/etc/outpost/agent.yml'));
  const doc = parse(yaml) as Node;
  checkSection(t, 'top', doc);
  checkSection(t, 'global', doc.global);
  checkSection(t, 'runtime', doc.runtime);
  checkSection(t, 'storage', doc.storage);
  checkSection(t, 'tsdb', (doc.storage as Node).tsdb);
  checkSection(t, 'otlp', doc.otlp);
  const jobs = doc.scrape_configs as Node[];
  t.is(jobs.length, 2);
  for (const job of jobs) {
    checkSection(t, 'scrape', job);
    for (const rc of [...((job.relabel_configs as Node[]) ?? []), ...((job.metric_relabel_configs as Node[]) ?? [])])
      checkSection(t, 'relabel', rc);
  }
  const [node, other] = jobs as [Node, Node];
  checkSection(t, 'tls_config', node.tls_config);
  checkSection(t, 'oauth2', other.oauth2);
  for (const c of node.dns_sd_configs as Node[]) checkSection(t, 'dns_sd', c);
  for (const c of node.file_sd_configs as Node[]) checkSection(t, 'file_sd', c);
  for (const c of node.http_sd_configs as Node[]) checkSection(t, 'http_sd', c);
  for (const c of node.static_configs as Node[]) checkSection(t, 'static', c);
  const rws = doc.remote_write as Node[];
  t.is(rws.length, 2);
  for (const rw of rws) {
    checkSection(t, 'remote_write', rw);
    checkSection(t, 'queue_config', rw.queue_config);
    checkSection(t, 'metadata_config', rw.metadata_config);
  }
});

test('defaults are filled in as a 3.x agent fills them', (t) => {
  const doc = parse(redactedConfigYaml(parseConfig(RICH, '/etc/outpost/agent.yml'))) as Node;
  const g = doc.global as Node;
  // UnmarshalYAML 674-676: evaluation_interval defaults to 1m; 683-694: the global protocol list stays unset.
  t.is(g.evaluation_interval, '1m');
  t.false('scrape_protocols' in g);
  // An escaping scheme is only in a written global block when written (645-649 set only validation).
  t.false('metric_name_escaping_scheme' in g);
  t.is(g.extra_scrape_metrics, false);
  t.deepEqual(doc.runtime, { gogc: 75 });
  t.deepEqual(doc.storage, {
    tsdb: { outofordertimewindow: 600000, out_of_order_time_window: '10m', retention: { time: '15d' } },
  });
  t.deepEqual(doc.otlp, {
    translation_strategy: 'UnderscoreEscapingWithSuffixes',
    label_name_underscore_sanitization: true,
    label_name_preserve_multiple_underscores: true,
  });
  const [node, other] = doc.scrape_configs as [Node, Node];
  // Validate 919-921: limits come from global.
  t.is(node.sample_limit, 5000);
  t.is(other.sample_limit, 5000);
  // A zero tls_config is left out (omitempty); a set one shows insecure_skip_verify.
  t.false('tls_config' in other);
  t.deepEqual(node.tls_config, { server_name: 'node.local', insecure_skip_verify: true });
  // dns.go 54-57: SRV with port 0 by default, both printed.
  t.deepEqual((node.dns_sd_configs as Node[])[0], {
    names: ['_prom._tcp.example'],
    refresh_interval: '30s',
    type: 'SRV',
    port: 0,
  });
  const [main, unnamed] = doc.remote_write as [Node, Node];
  t.is(main.name, 'main');
  t.is(main.protobuf_message, 'io.prometheus.write.v2.Request');
  t.is(main.round_robin_dns, true);
  t.is(main.enable_http2, false);
  // 226-232: the default protobuf_message is printed; a generated name is not (it is not in the config).
  t.is(unnamed.protobuf_message, 'prometheus.WriteRequest');
  t.false('name' in unnamed);
  t.deepEqual(unnamed.metadata_config, { send: true, send_interval: '1m', max_samples_per_send: 2000 });
});

test('an absent global block prints DefaultGlobalConfig, escaping scheme included (config.go 184-205, 406-410)', (t) => {
  const g = (parse(redactedConfigYaml(parseConfig('scrape_configs: []\n', 'a.yml'))) as Node).global as Node;
  t.deepEqual(Object.keys(g), [
    'scrape_interval',
    'scrape_timeout',
    'evaluation_interval',
    'metric_name_validation_scheme',
    'metric_name_escaping_scheme',
    'scrape_native_histograms',
    'extra_scrape_metrics',
  ]);
  const given = parse(
    redactedConfigYaml(parseConfig('global: {scrape_protocols: [PrometheusText0.0.4]}\n', 'a.yml')),
  ) as Node;
  t.deepEqual((given.global as Node).scrape_protocols, ['PrometheusText0.0.4']);
});

test('lists Go writes in flow style stay in flow style; secrets stay <secret>', (t) => {
  const yaml = redactedConfigYaml(parseConfig(RICH, '/etc/outpost/agent.yml'));
  // relabel.go 89: `yaml:"source_labels,flow,omitempty"`.
  t.regex(yaml, /\n {2}- source_labels: \[__address__, job\]\n/);
  t.regex(yaml, /\n {2}- targets:\n {4}- 127\.0\.0\.1:9100\n/);
  for (const secret of ['pw-secret', 'oauth-secret', 'sd-token', 'rw-token', 'tenant-secret'])
    t.false(yaml.includes(secret), secret);
  t.regex(yaml, /password: <secret>/);
  t.regex(yaml, /client_secret: <secret>/);
  t.regex(yaml, /credentials: <secret>/);
  // 3.x prints remote_write header values verbatim; Outpost keeps them secret (they often hold API keys).
  t.regex(yaml, /X-Scope-OrgID: <secret>/);
});

test('the served YAML loads again and serves the same YAML (what promtool check config --agent reads)', (t) => {
  const first = redactedConfigYaml(parseConfig(RICH, '/etc/outpost/agent.yml'));
  const again = parseConfig(first, '/etc/outpost/agent.yml');
  // Secrets come back as the literal "<secret>", so only compare the shape of the text.
  t.is(redactedConfigYaml(again), first);
});

test('an unnamed endpoint keeps the name it had before (its WAL position file is named after it)', (t) => {
  const cfg = parseConfig(
    [
      'remote_write:',
      '  - url: http://127.0.0.1:9/w',
      '    write_relabel_configs:',
      '      - source_labels: [a, b]',
      '        regex: x',
      '        action: drop',
      "    oauth2: {client_id: c, client_secret: s, token_url: 'http://127.0.0.1:3/t'}",
      '    headers: {X-A: b}',
      '  - url: http://127.0.0.1:9/w2',
      '    tls_config: {insecure_skip_verify: true}',
      '',
    ].join('\n'),
    '/tmp/x.yml',
  );
  // Values computed before the 3.x output change; the hash serialisation must not move.
  t.deepEqual(
    cfg.remoteWrite.map((rw) => rw.hash),
    ['e92992e2ca0522574c9fa9b2963ec1ce', '87997401f6590ab34ad2648c91e30e11'],
  );
});

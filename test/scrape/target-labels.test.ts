import test from 'ava';
import { compileRelabelConfigs } from '../../src/relabel/relabel.ts';
import {
  populateTargetLabels,
  targetURL,
  type TargetDefaults,
  type TargetLabelOptions,
  type TargetResult,
} from '../../src/scrape/target-labels.ts';
import { labelsFromRecord, type Labels } from '../../src/util/labels.ts';
import { rule, type RuleSpec } from '../relabel/helpers.ts';
import { at } from '../helpers/defined.ts';

type Rec = Record<string, string>;

const defaults: TargetDefaults = {
  jobName: 'node',
  scrapeInterval: '15s',
  scrapeTimeout: '10s',
  metricsPath: '/metrics',
  scheme: 'http',
  params: {},
};

function rec(ls: Labels): Rec {
  const out: Rec = {};
  for (let i = 0; i < ls.length; i += 2) out[at(ls, i, 'labels')] = at(ls, i + 1, 'labels');
  return out;
}

function populate(
  group: Rec,
  target: Rec,
  d: Partial<TargetDefaults> = {},
  rules: RuleSpec[] = [],
  options?: TargetLabelOptions,
): TargetResult {
  return populateTargetLabels(
    labelsFromRecord(group),
    labelsFromRecord(target),
    { ...defaults, ...d },
    compileRelabelConfigs(rules.map(rule)),
    options,
  );
}

function active(t: { fail: (m: string) => void }, r: TargetResult): Extract<TargetResult, { kind: 'active' }> {
  if (r.kind !== 'active') {
    t.fail(`expected an active target, got ${JSON.stringify(r)}`);
    throw new Error('unreachable');
  }
  return r;
}

test('defaults are added, instance defaults to the address, __ labels stay private', (t) => {
  const r = active(t, populate({ env: 'prod' }, { __address__: 'a:9100' }));
  t.deepEqual(rec(r.labels), {
    __address__: 'a:9100',
    __metrics_path__: '/metrics',
    __scheme__: 'http',
    __scrape_interval__: '15s',
    __scrape_timeout__: '10s',
    env: 'prod',
    instance: 'a:9100',
    job: 'node',
  });
  t.deepEqual(rec(r.publicLabels), { env: 'prod', instance: 'a:9100', job: 'node' });
  t.is(r.url, 'http://a:9100/metrics');
  t.is(r.interval, 15_000);
  t.is(r.timeout, 10_000);
});

test('target labels override group labels; an empty target label masks the group value', (t) => {
  // Built by hand: a LabelsBuilder would already have dropped the empty value.
  const target: Labels = ['__address__', 'a:1', 'env', 'dev', 'team', ''];
  const r = active(t, populateTargetLabels(labelsFromRecord({ env: 'prod', team: 'a' }), target, defaults, []));
  t.is(rec(r.publicLabels).env, 'dev');
  t.false('team' in rec(r.publicLabels));
});

test('discovered labels win over the scrape defaults (set only when absent)', (t) => {
  const r = active(
    t,
    populate({ job: 'custom', __metrics_path__: '/probe', __scheme__: 'https' }, { __address__: 'a:1' }),
  );
  t.is(rec(r.publicLabels).job, 'custom');
  t.is(r.url, 'https://a:1/probe');
});

test('relabeling: host label from the address (oracle case 33)', (t) => {
  const r = active(
    t,
    populate({}, { __address__: '127.0.0.1:8080' }, {}, [
      { source_labels: ['__address__'], regex: '(.*):.*', target_label: 'host', replacement: 'h-$1' },
    ]),
  );
  t.is(rec(r.publicLabels).host, 'h-127.0.0.1');
});

test('relabeling: labelmap of a __tmp label (oracle case 34); __tmp itself stays private', (t) => {
  const r = active(
    t,
    populate({ __tmp_foo: 'bar' }, { __address__: 'a:1' }, {}, [
      { action: 'labelmap', regex: '__tmp_(.*)', replacement: 'mapped_$1' },
    ]),
  );
  t.is(rec(r.publicLabels).mapped_foo, 'bar');
  t.is(rec(r.labels).__tmp_foo, 'bar');
  t.false('__tmp_foo' in rec(r.publicLabels));
});

test('__meta_* labels are removed after relabeling but usable during it', (t) => {
  const r = active(
    t,
    populate({ __meta_dc: 'fra' }, { __address__: 'a:1' }, {}, [{ source_labels: ['__meta_dc'], target_label: 'dc' }]),
  );
  t.is(rec(r.labels).dc, 'fra');
  t.false(Object.keys(rec(r.labels)).some((n) => n.startsWith('__meta_')));
});

test('an instance set by relabeling is kept', (t) => {
  const r = active(t, populate({}, { __address__: 'a:1' }, {}, [{ target_label: 'instance', replacement: 'edge-1' }]));
  t.is(rec(r.publicLabels).instance, 'edge-1');
});

test('relabeling can change address, scheme, path and interval', (t) => {
  const r = active(
    t,
    populate({}, { __address__: 'a:1' }, {}, [
      { target_label: '__address__', replacement: 'b:2' },
      { target_label: '__scheme__', replacement: 'https' },
      { target_label: '__metrics_path__', replacement: 'federate' },
      { target_label: '__scrape_interval__', replacement: '1m30s' },
    ]),
  );
  t.is(r.url, 'https://b:2/federate');
  t.is(r.interval, 90_000);
  t.is(rec(r.publicLabels).instance, 'b:2');
});

test('a dropped target reports its discovered labels (with defaults)', (t) => {
  const r = populate({}, { __address__: 'a:1' }, {}, [
    { action: 'drop', source_labels: ['__address__'], regex: 'a:.*' },
  ]);
  t.is(r.kind, 'dropped');
  if (r.kind === 'dropped') t.is(rec(r.discovered).job, 'node');
});

const errors: [string, Rec, Partial<TargetDefaults>, RuleSpec[], string][] = [
  ['no address', {}, {}, [], 'no address'],
  [
    'address emptied by relabeling',
    { __address__: 'a:1' },
    {},
    [{ source_labels: ['nope'], target_label: '__address__' }],
    'no address',
  ],
  ['address with a slash', { __address__: 'http://a:1' }, {}, [], '"http://a:1" is not a valid hostname'],
  [
    'bad interval',
    { __address__: 'a:1', __scrape_interval__: '1x' },
    {},
    [],
    'error parsing scrape interval: unknown unit "x" in duration "1x"',
  ],
  [
    'interval not a duration',
    { __address__: 'a:1', __scrape_interval__: 'abc' },
    {},
    [],
    'error parsing scrape interval: not a valid duration string: "abc"',
  ],
  ['zero interval', { __address__: 'a:1', __scrape_interval__: '0s' }, {}, [], 'scrape interval cannot be 0'],
  [
    'bad timeout',
    { __address__: 'a:1', __scrape_timeout__: '5' },
    {},
    [],
    'error parsing scrape timeout: not a valid duration string: "5"',
  ],
  ['zero timeout', { __address__: 'a:1', __scrape_timeout__: '0' }, {}, [], 'scrape timeout cannot be 0'],
  [
    'timeout above interval',
    { __address__: 'a:1' },
    { scrapeInterval: '5s', scrapeTimeout: '10s' },
    [],
    'scrape timeout cannot be greater than scrape interval ("10s" > "5s")',
  ],
  ['invalid UTF-8 value', { __address__: 'a:1', bad: 'x\ud800' }, {}, [], 'invalid label value for "bad": "x\\ufffd"'],
];

for (const [name, target, d, rules, message] of errors) {
  test(`error: ${name}`, (t) => {
    const r = populate({}, target, d, rules);
    t.is(r.kind, 'error');
    if (r.kind === 'error') {
      t.is(r.error, message);
      t.is(rec(r.discovered).job, 'node');
    }
  });
}

test('URL: config params, overridden and extended by __param_ labels, keys sorted, Go query escaping', (t) => {
  const r = active(
    t,
    populate(
      { __param_module: 'icmp', __param_extra: 'a b&c' },
      { __address__: 'a:1' },
      {
        params: { module: ['http_2xx', 'second'], target: ['x/y?z'] },
        metricsPath: '/probe',
      },
    ),
  );
  t.is(r.url, 'http://a:1/probe?extra=a+b%26c&module=icmp&module=second&target=x%2Fy%3Fz');
  // head: the label discovered with the target wins over the configured first value.
  t.is(rec(r.labels).__param_module, 'icmp');
});

test('params: head sets __param_ only when absent, 2.42 overwrote it', (t) => {
  const d = { params: { module: ['http_2xx'] } };
  const head = active(t, populate({ __param_module: 'icmp' }, { __address__: 'a:1' }, d));
  t.is(rec(head.labels).__param_module, 'icmp');
  const old = active(t, populate({ __param_module: 'icmp' }, { __address__: 'a:1' }, d, [], { overwriteParams: true }));
  t.is(rec(old.labels).__param_module, 'http_2xx');
  t.is(old.url, 'http://a:1/metrics?module=http_2xx');
});

test('URL: path escaping and a missing leading slash', (t) => {
  t.is(
    targetURL(labelsFromRecord({ __scheme__: 'http', __address__: 'a:1', __metrics_path__: 'a b/c?d;e' }), {}),
    'http://a:1/a%20b/c%3Fd;e',
  );
  t.is(
    targetURL(labelsFromRecord({ __scheme__: 'https', __address__: '[::1]:9100', __metrics_path__: '/métrics' }), {}),
    'https://[::1]:9100/m%C3%A9trics',
  );
  t.is(
    targetURL(labelsFromRecord({ __scheme__: 'http', __address__: 'a:1', __metrics_path__: '' }), { q: ['~x-y_z.'] }),
    'http://a:1?q=~x-y_z.',
  );
});

const ports: [string, string, string | null][] = [
  // [address, scheme, address after (null = error)]
  ['edgebox', 'https', 'edgebox:443'],
  ['edgebox', 'http', 'edgebox:80'],
  ['edgebox:9100', 'https', 'edgebox:9100'],
  ['[::1]', 'http', '[::1]:80'],
  ['[::1]:9', 'http', '[::1]:9'],
  ['::1', 'http', '::1'],
  ['edgebox', 'ftp', null],
];

for (const [addr, scheme, want] of ports) {
  test(`2.42 default port: ${addr} ${scheme}`, (t) => {
    const r = populate({}, { __address__: addr }, { scheme }, [], { addDefaultPort: true });
    if (want === null) {
      t.deepEqual(r.kind === 'error' ? r.error : r.kind, `invalid scheme: "${scheme}"`);
      return;
    }
    const a = active(t, r);
    t.is(rec(a.labels).__address__, want);
    t.is(rec(a.publicLabels).instance, want);
  });
}

// Prometheus 3 keeps __address__ as relabeling left it (scrape/target.go v3.14.0 PopulateLabels,
// lines 637-645: only "no address" and CheckTargetAddress), so the URL has no explicit port.
test('head adds no default port', (t) => {
  const r = active(t, populate({}, { __address__: 'edgebox' }, { scheme: 'https' }));
  t.is(r.url, 'https://edgebox/metrics');
  t.is(rec(r.publicLabels).instance, 'edgebox');
});

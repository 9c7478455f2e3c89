import test from 'ava';
import {
  compileRelabelConfigs,
  expandTemplate,
  goToLower,
  goToUpper,
  hashmod,
  relabel,
  RelabelConfigError,
} from '../../src/relabel/relabel.ts';
import { compileRe2Detailed } from '../../src/relabel/re2.ts';
import { LabelsBuilder, labelsFromRecord, type Labels } from '../../src/util/labels.ts';
import { rule, type RuleSpec } from './helpers.ts';
import { at } from '../helpers/defined.ts';

type Rec = Record<string, string>;

function run(rules: RuleSpec[], input: Rec): Rec | null {
  const lb = new LabelsBuilder(labelsFromRecord(input));
  if (!relabel(compileRelabelConfigs(rules.map(rule)), lb)) return null;
  return toRec(lb.labels());
}

function toRec(ls: Labels): Rec {
  const out: Rec = {};
  for (let i = 0; i < ls.length; i += 2) out[at(ls, i, 'labels')] = at(ls, i + 1, 'labels');
  return out;
}

interface Case {
  name: string;
  rules: RuleSpec[];
  input: Rec;
  /** null = dropped */
  want: Rec | null;
}

const cases: Case[] = [
  // replace
  {
    name: 'replace with defaults copies the source',
    rules: [{ source_labels: ['a'], target_label: 'b' }],
    input: { a: 'x' },
    want: { a: 'x', b: 'x' },
  },
  {
    name: 'replace joins sources with the separator',
    rules: [{ source_labels: ['a', 'b'], separator: '-', target_label: 'c' }],
    input: { a: 'x', b: 'y' },
    want: { a: 'x', b: 'y', c: 'x-y' },
  },
  {
    name: 'replace: missing sources join as empty strings',
    rules: [{ source_labels: ['a', 'nope', 'b'], target_label: 'c' }],
    input: { a: 'x', b: 'y' },
    want: { a: 'x', b: 'y', c: 'x;;y' },
  },
  {
    name: 'replace: empty result deletes the target (missing source, defaults)',
    rules: [{ source_labels: ['nonexistent'], target_label: 'team' }],
    input: { team: 'ops' },
    want: {},
  },
  {
    name: 'replace: regex is anchored, f does not match boo',
    rules: [{ source_labels: ['x'], regex: 'f', target_label: 'y', replacement: 'bar' }],
    input: { x: 'boo' },
    want: { x: 'boo' },
  },
  {
    name: 'replace: f|o does not match foo',
    rules: [{ source_labels: ['x'], regex: 'f|o', target_label: 'y', replacement: 'bar' }],
    input: { x: 'foo' },
    want: { x: 'foo' },
  },
  {
    name: 'replace: .*o.* matches foo',
    rules: [{ source_labels: ['x'], regex: '.*o.*', target_label: 'y', replacement: 'bar' }],
    input: { x: 'foo' },
    want: { x: 'foo', y: 'bar' },
  },
  {
    name: 'replace: non-participating group expands to "" and deletes',
    rules: [{ source_labels: ['b'], regex: '(x)?(.*)', target_label: 'b', replacement: '$1' }],
    input: { b: 'y' },
    want: {},
  },
  {
    name: 'replace: target ${3} of a missing group is a no-op',
    rules: [{ source_labels: ['a'], regex: '(.*)', target_label: '${3}', replacement: 'v' }],
    input: { a: 'x' },
    want: { a: 'x' },
  },
  {
    name: 'replace: templated target from a group',
    rules: [{ source_labels: ['a'], regex: '(.*)=(.*)', target_label: '${1}', replacement: '$2' }],
    input: { a: 'k=v' },
    want: { a: 'k=v', k: 'v' },
  },
  {
    name: 'replace: expanded target that is not a legacy name is a no-op under legacy (3.x)',
    rules: [{ source_labels: ['a'], regex: '(.*)', target_label: '${1}', replacement: 'v', scheme: 'legacy' }],
    input: { a: '0bad' },
    want: { a: '0bad' },
  },
  {
    // model/relabel/relabel.go v3.14.0 line 326: the expanded target is checked by the rule's scheme.
    name: 'replace: an expanded UTF-8 target is set under utf8 (3.x default)',
    rules: [{ source_labels: ['a'], regex: '(.*)', target_label: '${1}', replacement: 'v' }],
    input: { a: '0bad.name' },
    want: { a: '0bad.name', '0bad.name': 'v' },
  },
  {
    name: 'replace: an expanded empty target is a no-op under utf8',
    rules: [{ source_labels: ['a'], regex: '(.*)', target_label: '${1}', replacement: 'v' }],
    input: { b: 'x' },
    want: { b: 'x' },
  },
  {
    // labelmap sets whatever name the replacement makes (relabel.go lines 344-350); a legacy job
    // then fails the scrape on it, a utf8 job keeps it.
    name: 'labelmap: maps UTF-8 names to UTF-8 names',
    rules: [{ action: 'labelmap', regex: '__meta_(.+)', replacement: 'k8s.$1' }],
    input: { __meta_pod: 'p', 'x.y': 'z' },
    want: { __meta_pod: 'p', 'k8s.pod': 'p', 'x.y': 'z' },
  },
  {
    name: 'labelmap: matches UTF-8 source names',
    rules: [{ action: 'labelmap', regex: 'service\\.(.+)', replacement: 'svc_$1' }],
    input: { 'service.name': 'api', 'service.version': '1' },
    want: { 'service.name': 'api', 'service.version': '1', svc_name: 'api', svc_version: '1' },
  },
  {
    name: 'labeldrop: drops UTF-8 names',
    rules: [{ action: 'labeldrop', regex: '.*\\..*' }],
    input: { 'a.b': '1', c: '2' },
    want: { c: '2' },
  },
  {
    name: 'replace: blank replacement deletes the expanded target (head)',
    rules: [{ source_labels: ['a'], regex: '(f)(.*)', target_label: '$1', replacement: '$2' }],
    input: { a: 'f', f: 'baz' },
    want: { a: 'f' },
  },
  {
    name: 'replace: $1_host is group "1_host" (empty) => delete',
    rules: [{ source_labels: ['a'], regex: '(.*)', target_label: 'h', replacement: '$1_host' }],
    input: { a: 'Host-A.example', h: 'old' },
    want: { a: 'Host-A.example' },
  },
  {
    name: 'replace: ${1}_host',
    rules: [{ source_labels: ['a'], regex: '(.*)', target_label: 'h', replacement: '${1}_host' }],
    input: { a: 'Host-A.example' },
    want: { a: 'Host-A.example', h: 'Host-A.example_host' },
  },
  {
    name: 'replace: address host part',
    rules: [{ source_labels: ['__address__'], regex: '(.*):.*', target_label: 'host', replacement: 'h-$1' }],
    input: { __address__: '127.0.0.1:9100' },
    want: { __address__: '127.0.0.1:9100', host: 'h-127.0.0.1' },
  },
  {
    name: 'replace: dot matches newline',
    rules: [{ source_labels: ['a'], regex: 'x.y', target_label: 'b', replacement: 'ok' }],
    input: { a: 'x\ny' },
    want: { a: 'x\ny', b: 'ok' },
  },
  {
    name: 'replace: named groups',
    rules: [
      { source_labels: ['a'], regex: '(?P<host>[^:]+):(?<port>\\d+)', target_label: 'b', replacement: '$port@${host}' },
    ],
    input: { a: 'h:80' },
    want: { a: 'h:80', b: '80@h' },
  },
  {
    name: 'replace: $$ is a literal dollar',
    rules: [{ source_labels: ['a'], target_label: 'b', replacement: '$$1' }],
    input: { a: 'x' },
    want: { a: 'x', b: '$1' },
  },
  {
    name: 'replace: no match keeps the target untouched',
    rules: [{ source_labels: ['a'], regex: 'zzz', target_label: 'b', replacement: '' }],
    input: { a: 'x', b: 'keep' },
    want: { a: 'x', b: 'keep' },
  },
  {
    name: 'replace: empty regex matches only ""',
    rules: [{ source_labels: ['a'], regex: '', target_label: 'b', replacement: 'empty' }],
    input: { a: 'x' },
    want: { a: 'x' },
  },
  {
    name: 'replace: empty regex on a missing label',
    rules: [{ source_labels: ['a'], regex: '', target_label: 'b', replacement: 'empty' }],
    input: { c: 'x' },
    want: { c: 'x', b: 'empty' },
  },
  // keep / drop
  {
    name: 'keep on match',
    rules: [{ action: 'keep', source_labels: ['a'], regex: 'x|y' }],
    input: { a: 'y' },
    want: { a: 'y' },
  },
  {
    name: 'keep drops on no match',
    rules: [{ action: 'keep', source_labels: ['a'], regex: 'x|y' }],
    input: { a: 'xy' },
    want: null,
  },
  {
    name: 'drop on match',
    rules: [{ action: 'drop', source_labels: ['__name__'], regex: 'a|up' }],
    input: { __name__: 'a' },
    want: null,
  },
  {
    name: 'drop keeps on no match',
    rules: [{ action: 'drop', source_labels: ['__name__'], regex: 'a|up' }],
    input: { __name__: 'b' },
    want: { __name__: 'b' },
  },
  {
    name: 'drop with empty regex drops targets lacking the label',
    rules: [{ action: 'drop', source_labels: ['a'], regex: '' }],
    input: { b: '1' },
    want: null,
  },
  {
    name: 'first drop ends processing',
    rules: [
      { action: 'drop', source_labels: ['a'], regex: '1' },
      { source_labels: ['a'], target_label: 'b' },
    ],
    input: { a: '1' },
    want: null,
  },
  // keepequal / dropequal
  {
    name: 'keepequal keeps equal',
    rules: [{ action: 'keepequal', source_labels: ['p'], target_label: 'q' }],
    input: { p: '1', q: '1' },
    want: { p: '1', q: '1' },
  },
  {
    name: 'keepequal drops different',
    rules: [{ action: 'keepequal', source_labels: ['p'], target_label: 'q' }],
    input: { p: '1', q: '2' },
    want: null,
  },
  {
    name: 'dropequal drops equal',
    rules: [{ action: 'dropequal', source_labels: ['p'], target_label: 'q' }],
    input: { p: '1', q: '1' },
    want: null,
  },
  {
    name: 'dropequal keeps different',
    rules: [{ action: 'dropequal', source_labels: ['p'], target_label: 'q' }],
    input: { p: '1', q: '2' },
    want: { p: '1', q: '2' },
  },
  {
    name: 'dropequal: both missing compare equal',
    rules: [{ action: 'dropequal', source_labels: ['p'], target_label: 'q' }],
    input: { r: '1' },
    want: null,
  },
  // hashmod
  {
    name: 'hashmod of baz mod 1000',
    rules: [{ action: 'hashmod', source_labels: ['c'], modulus: 1000, target_label: 'd' }],
    input: { c: 'baz' },
    want: { c: 'baz', d: '976' },
  },
  {
    name: 'hashmod of job;address',
    rules: [{ action: 'hashmod', source_labels: ['job', '__address__'], modulus: 7, target_label: 'h' }],
    input: { job: 'hm', __address__: 'a:1' },
    want: { job: 'hm', __address__: 'a:1', h: '6' },
  },
  // labelmap
  {
    name: 'labelmap copies matching names, keeps originals',
    rules: [{ action: 'labelmap', regex: '__tmp_(.*)', replacement: 'mapped_$1' }],
    input: { __tmp_foo: 'bar', other: 'x' },
    want: { __tmp_foo: 'bar', mapped_foo: 'bar', other: 'x' },
  },
  {
    name: 'labelmap default replacement',
    rules: [{ action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)' }],
    input: { __meta_kubernetes_pod_label_app: 'web', __meta_x: '1' },
    want: { __meta_kubernetes_pod_label_app: 'web', __meta_x: '1', app: 'web' },
  },
  {
    name: 'labelmap is anchored on names',
    rules: [{ action: 'labelmap', regex: 'a', replacement: 'b' }],
    input: { ab: '1', a: '2' },
    want: { ab: '1', a: '2', b: '2' },
  },
  // labeldrop / labelkeep
  {
    name: 'labeldrop',
    rules: [{ action: 'labeldrop', regex: 'b.*' }],
    input: { b1: 'x', b2: 'y', c: 'z' },
    want: { c: 'z' },
  },
  {
    name: 'labelkeep can strip __name__',
    rules: [{ action: 'labelkeep', regex: 'job|c' }],
    input: { __name__: 'a', job: 'j', c: 'z', d: 'w' },
    want: { job: 'j', c: 'z' },
  },
  // lowercase / uppercase
  {
    name: 'uppercase',
    rules: [{ action: 'uppercase', source_labels: ['foo'], target_label: 'up_foo' }],
    input: { foo: 'bAr123Foo' },
    want: { foo: 'bAr123Foo', up_foo: 'BAR123FOO' },
  },
  {
    name: 'lowercase',
    rules: [{ action: 'lowercase', source_labels: ['foo'], target_label: 'low_foo' }],
    input: { foo: 'bAr123Foo' },
    want: { foo: 'bAr123Foo', low_foo: 'bar123foo' },
  },
  {
    name: 'lowercase of a missing label deletes the target',
    rules: [{ action: 'lowercase', source_labels: ['nope'], target_label: 't' }],
    input: { t: 'x' },
    want: {},
  },
  {
    name: 'rules apply in order to the previous result',
    rules: [
      { source_labels: ['a'], target_label: 'b', replacement: 'B$1' },
      { source_labels: ['b'], target_label: 'c' },
    ],
    input: { a: '1' },
    want: { a: '1', b: 'B1', c: 'B1' },
  },
];

for (const c of cases) {
  test(`relabel: ${c.name}`, (t) => {
    t.deepEqual(run(c.rules, c.input), c.want);
  });
}

// Vectors from `promtool check service-discovery` (2.42) and observed on the wire.
const hashVectors: [string, number, number][] = [
  ['Host-A.example:9100', 10, 5],
  ['a:1', 3, 1],
  ['a:1', 1000, 176],
  ['127.0.0.1:9100', 3, 1],
  ['127.0.0.1:9100', 1000, 150],
  ['node-01.edge.local:9100', 3, 1],
  ['node-01.edge.local:9100', 1000, 732],
  ['hm;a:1', 7, 6],
  ['hm;127.0.0.1:9100', 7, 5],
  ['baz', 1000, 976],
  ['foo\nbar', 1000, 734],
];
for (const [value, mod, want] of hashVectors) {
  test(`hashmod(${JSON.stringify(value)}) mod ${mod} = ${want}`, (t) => {
    t.is(hashmod(value, BigInt(mod)), BigInt(want));
  });
}

test('hashmod uses all 64 bits of md5[8:16] (value cross-checked with Python hashlib)', (t) => {
  t.is(hashmod('a:1', 2n ** 64n), 2014116905846636176n);
});

const templates: [string, string, string, string][] = [
  // [regex, value, template, expected]
  ['(a)(b)', 'ab', '$1-$2', 'a-b'],
  ['(a)(b)', 'ab', '${1}x', 'ax'],
  ['(a)(b)', 'ab', '$1x', ''],
  ['(a)(b)', 'ab', '$0', 'ab'],
  ['(a)(b)', 'ab', '${0}', 'ab'],
  ['(a)(b)', 'ab', '$01', ''],
  ['(a)(b)', 'ab', '$3', ''],
  ['(a)(b)', 'ab', '$$1', '$1'],
  ['(a)(b)', 'ab', '$', '$'],
  ['(a)(b)', 'ab', '${', '${'],
  ['(a)(b)', 'ab', '${1', '${1'],
  ['(a)(b)', 'ab', '$-', '$-'],
  ['(?P<x>a)(?P<y_1>b)', 'ab', '$y_1.$x', 'b.a'],
  ['(?P<x>a)(b)', 'ab', '$x_', ''],
  ['(?P<x>a)|(?P<x>b)', 'b', '[$x]', '[b]'],
  ['(?P<1x>a)', 'a', '$1x', 'a'],
];
for (const [re, value, tpl, want] of templates) {
  test(`expandTemplate ${JSON.stringify(tpl)} with ${re} on ${JSON.stringify(value)}`, (t) => {
    const c = compileRe2Detailed(re);
    const m = c.regexp.exec(value);
    t.not(m, null);
    t.is(expandTemplate(tpl, m as RegExpExecArray, c.groupNames), want);
  });
}

test('expandTemplate: names run over Unicode letters and digits, as in Go', (t) => {
  t.is(expandTemplate('$é!', ['a', 'a'], ['', 'é']), 'a!');
  t.is(expandTemplate('$1é', ['a', 'a'], ['', '']), '');
});

test('Go case mapping: simple mappings, no final-sigma rule', (t) => {
  t.is(goToUpper('straße'), 'STRAßE');
  t.is(goToLower('İx'), 'ix');
  t.is(goToLower('ΟΔΟΣ'), 'οδοσ');
  t.is(goToUpper('ᾳ'), 'ᾼ');
  t.is(goToUpper('ﬀ'), 'ﬀ');
  t.is(goToUpper('émile'), 'ÉMILE');
  t.is(goToLower('ÀB'), 'àb');
});

test('compileRelabelConfigs reports the rule index and field', (t) => {
  const err = t.throws(
    () => compileRelabelConfigs([rule({ target_label: 'ok' }), rule({ regex: 'a**', target_label: 'x' })]),
    {
      instanceOf: RelabelConfigError,
    },
  );
  t.is(err.index, 1);
  t.is(err.field, 'regex');
  t.regex(err.message, /invalid nested repetition operator: `\*\*`/);
});

test('compiled rules are frozen', (t) => {
  const [r] = compileRelabelConfigs([rule({ target_label: 'x' })]);
  t.true(Object.isFrozen(r));
});

test('labelmap sees a snapshot: mapped names are not mapped again', (t) => {
  t.deepEqual(run([{ action: 'labelmap', regex: '(.*)', replacement: 'x_$1' }], { a: '1' }), { a: '1', x_a: '1' });
});

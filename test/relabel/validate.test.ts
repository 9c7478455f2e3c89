import test from 'ava';
import { parseRelabelAction, unknownRelabelActionMessage, validateRelabelConfig } from '../../src/relabel/validate.ts';
import { rule, type RuleSpec } from './helpers.ts';

test('parseRelabelAction is case-insensitive and rejects unknown names', (t) => {
  t.is(parseRelabelAction('Replace'), 'replace');
  t.is(parseRelabelAction('LABELMAP'), 'labelmap');
  t.is(parseRelabelAction('keepEqual'), 'keepequal');
  t.is(parseRelabelAction('hashmod'), 'hashmod');
  t.is(parseRelabelAction(''), null);
  t.is(parseRelabelAction('delete'), null);
  t.is(unknownRelabelActionMessage('delete'), 'unknown relabel action "delete"');
});

const valid: [string, RuleSpec][] = [
  ['defaults with a target', { target_label: 'x' }],
  ['replace target with templates', { target_label: 'label${1}' }],
  ['replace target ${1}', { target_label: '${1}' }],
  ['replace target _${1}_', { target_label: '_${1}_' }],
  ['replace target foo${bar}foo', { target_label: 'foo${bar}foo' }],
  ['replace target $1', { target_label: '$1' }],
  ['keep needs nothing', { action: 'keep', source_labels: ['a'], regex: 'x' }],
  ['drop with empty regex', { action: 'drop', source_labels: ['a'], regex: '' }],
  ['hashmod', { action: 'hashmod', source_labels: ['a'], modulus: 3, target_label: 'h' }],
  ['labelmap default replacement', { action: 'labelmap', regex: '__meta_(.*)' }],
  ['labelmap templated replacement', { action: 'labelmap', regex: '__tmp_(.*)', replacement: 'mapped_$1' }],
  ['labeldrop with regex only', { action: 'labeldrop', regex: 'b.*' }],
  ['labelkeep with regex only', { action: 'labelkeep', regex: '__name__|job' }],
  ['lowercase', { action: 'lowercase', source_labels: ['a'], target_label: 'b' }],
  [
    'uppercase with default replacement written out',
    { action: 'uppercase', source_labels: ['a'], target_label: 'b', replacement: '$1' },
  ],
  [
    'labeldrop with the default separator written out (2.42 accepts it)',
    { action: 'labeldrop', separator: ';', regex: 'a' },
  ],
  ['keepequal', { action: 'keepequal', source_labels: ['p'], target_label: 'q' }],
  ['dropequal', { action: 'dropequal', source_labels: ['p'], target_label: 'q' }],
];

for (const [name, spec] of valid) {
  test(`valid: ${name}`, (t) => {
    t.is(validateRelabelConfig(rule(spec)), null);
  });
}

const invalid: [string, RuleSpec, string, string][] = [
  [
    'hashmod without modulus',
    { action: 'hashmod', source_labels: ['a'], target_label: 'h' },
    'modulus',
    'relabel configuration for hashmod requires non-zero modulus',
  ],
  [
    'replace without target',
    {},
    'target_label',
    "relabel configuration for replace action requires 'target_label' value",
  ],
  [
    'hashmod without target',
    { action: 'hashmod', modulus: 2 },
    'target_label',
    "relabel configuration for hashmod action requires 'target_label' value",
  ],
  [
    'lowercase without target',
    { action: 'lowercase' },
    'target_label',
    "relabel configuration for lowercase action requires 'target_label' value",
  ],
  [
    'uppercase without target',
    { action: 'uppercase' },
    'target_label',
    "relabel configuration for uppercase action requires 'target_label' value",
  ],
  [
    'keepequal without target',
    { action: 'keepequal' },
    'target_label',
    "relabel configuration for keepequal action requires 'target_label' value",
  ],
  [
    'dropequal without target',
    { action: 'dropequal' },
    'target_label',
    "relabel configuration for dropequal action requires 'target_label' value",
  ],
  [
    'replace target -label (legacy)',
    { scheme: 'legacy', target_label: '-label' },
    'target_label',
    `"-label" is invalid 'target_label' for replace action (metric_name_validation_scheme: legacy)`,
  ],
  [
    'replace target ${ (legacy)',
    { scheme: 'legacy', target_label: '${' },
    'target_label',
    `"\${" is invalid 'target_label' for replace action (metric_name_validation_scheme: legacy)`,
  ],
  [
    'replace target $ (legacy)',
    { scheme: 'legacy', target_label: '$' },
    'target_label',
    `"$" is invalid 'target_label' for replace action (metric_name_validation_scheme: legacy)`,
  ],
  [
    'replace target bar.foo${1} (legacy)',
    { scheme: 'legacy', target_label: 'bar.foo${1}' },
    'target_label',
    `"bar.foo\${1}" is invalid 'target_label' for replace action (metric_name_validation_scheme: legacy)`,
  ],
  [
    'replace target 0abc (legacy)',
    { scheme: 'legacy', target_label: '0abc' },
    'target_label',
    `"0abc" is invalid 'target_label' for replace action (metric_name_validation_scheme: legacy)`,
  ],
  [
    'lowercase target with template (legacy)',
    { scheme: 'legacy', action: 'lowercase', target_label: '${1}' },
    'target_label',
    `"\${1}" is invalid 'target_label' for lowercase action (metric_name_validation_scheme: legacy)`,
  ],
  [
    'hashmod target invalid (legacy)',
    { scheme: 'legacy', action: 'hashmod', modulus: 2, target_label: 'a-b' },
    'target_label',
    `"a-b" is invalid 'target_label' for hashmod action (metric_name_validation_scheme: legacy)`,
  ],
  [
    'lowercase with replacement',
    { action: 'lowercase', target_label: 'x', replacement: 'y' },
    'replacement',
    "'replacement' can not be set for lowercase action",
  ],
  [
    'keepequal with replacement',
    { action: 'keepequal', target_label: 'x', replacement: 'y' },
    'replacement',
    "'replacement' can not be set for keepequal action",
  ],
  [
    'labelmap replacement invalid (legacy)',
    { scheme: 'legacy', action: 'labelmap', replacement: 'a.b' },
    'replacement',
    `"a.b" is invalid 'replacement' for labelmap action (metric_name_validation_scheme: legacy)`,
  ],
  [
    'keepequal with explicit regex',
    { action: 'keepequal', target_label: 'x', regex: '(.*)' },
    'regex',
    "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
  ],
  [
    'dropequal with modulus',
    { action: 'dropequal', target_label: 'x', modulus: 3 },
    'modulus',
    "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
  ],
  [
    'dropequal with separator',
    { action: 'dropequal', target_label: 'x', separator: ',' },
    'separator',
    "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
  ],
  [
    'labeldrop with source_labels',
    { action: 'labeldrop', source_labels: ['a'] },
    'source_labels',
    "labeldrop action requires only 'regex', and no other fields",
  ],
  [
    'labeldrop with empty source_labels written',
    { action: 'labeldrop', source_labels: [] },
    'source_labels',
    "labeldrop action requires only 'regex', and no other fields",
  ],
  [
    'labelkeep with target',
    { action: 'labelkeep', target_label: 'a' },
    'target_label',
    "labelkeep action requires only 'regex', and no other fields",
  ],
  [
    'labelkeep with replacement',
    { action: 'labelkeep', replacement: 'x' },
    'replacement',
    "labelkeep action requires only 'regex', and no other fields",
  ],
  [
    'labeldrop with separator',
    { action: 'labeldrop', separator: '' },
    'separator',
    "labeldrop action requires only 'regex', and no other fields",
  ],
  [
    'empty source label name',
    { source_labels: [''], target_label: 'x' },
    'source_labels',
    '"" is not a valid label name',
  ],
  [
    'regex that does not parse',
    { regex: '(a', target_label: 'x' },
    'regex',
    'error parsing regexp: missing closing ): `^(?s:(a)$`',
  ],
  [
    'regex with a lookahead',
    { regex: '(?=a)', target_label: 'x' },
    'regex',
    'error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
  ],
  [
    'negative modulus',
    { action: 'hashmod', modulus: -1, target_label: 'x' },
    'modulus',
    'modulus must be a non-negative integer, got -1',
  ],
];

for (const [name, spec, field, message] of invalid) {
  test(`invalid: ${name}`, (t) => {
    t.deepEqual(validateRelabelConfig(rule(spec)), { field, message });
  });
}

// Prometheus 3 validates target labels by the job's scheme (model/relabel/relabel.go v3.14.0 lines
// 131-170): under utf8 (the default) any non-empty UTF-8 name is valid, `$` templates included, and
// source labels are model.LabelName values checked as UTF-8 whatever the scheme. 2.42 refused all
// of these (the legacy cases above keep its behaviour).
const validUtf8: [string, RuleSpec][] = [
  ['replace target -label', { target_label: '-label' }],
  ['replace target ${', { target_label: '${' }],
  ['replace target $', { target_label: '$' }],
  ['replace target bar.foo${1}', { target_label: 'bar.foo${1}' }],
  ['replace target 0abc', { target_label: '0abc' }],
  ['replace target with a dot, explicit utf8', { target_label: 'service.name', scheme: 'utf8' }],
  ['lowercase target with template', { action: 'lowercase', target_label: '${1}' }],
  ['hashmod target a-b', { action: 'hashmod', modulus: 2, target_label: 'a-b' }],
  ['labelmap replacement a.b', { action: 'labelmap', replacement: 'a.b' }],
  ['source label with a dash', { source_labels: ['a-b'], target_label: 'x' }],
  ['source label with a dot under legacy', { source_labels: ['a.b'], target_label: 'x', scheme: 'legacy' }],
];
for (const [name, spec] of validUtf8) {
  test(`valid under utf8: ${name}`, (t) => {
    t.is(validateRelabelConfig(rule(spec)), null);
  });
}

test('an empty target is refused under either scheme', (t) => {
  for (const scheme of ['utf8', 'legacy'] as const) {
    t.deepEqual(validateRelabelConfig(rule({ action: 'hashmod', modulus: 2, target_label: '', scheme })), {
      field: 'target_label',
      message: "relabel configuration for hashmod action requires 'target_label' value",
    });
  }
});

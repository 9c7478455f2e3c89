import test from 'ava';
import { DiscoveryError } from '../../src/discovery/discoverer.ts';
import { parseGroupsJson, parseGroupsYaml, toTargetGroups, type RawGroup } from '../../src/discovery/targetgroups.ts';

const good: { name: string; json?: string; yaml?: string; want: RawGroup[] }[] = [
  {
    name: 'two groups, labels in any order',
    json: '[{"targets":["a:1","b:2"],"labels":{"zone":"x","env":"prod"}},{"targets":["c:3"]}]',
    yaml: '- targets: [a:1, b:2]\n  labels: {zone: x, env: prod}\n- targets: [c:3]\n',
    want: [
      {
        targets: ['a:1', 'b:2'],
        labels: [
          ['zone', 'x'],
          ['env', 'prod'],
        ],
      },
      { targets: ['c:3'], labels: [] },
    ],
  },
  { name: 'empty list', json: '[]', yaml: '[]', want: [] },
  { name: 'null document', json: 'null', yaml: '', want: [] },
  {
    name: 'null targets and labels',
    json: '[{"targets":null,"labels":null}]',
    yaml: '- targets:\n  labels:\n',
    want: [{ targets: [], labels: [] }],
  },
  // Go's encoding/json matches field names case-insensitively.
  {
    name: 'JSON field names ignore case',
    json: '[{"Targets":["a:1"],"LABELS":{"k":"v"}}]',
    want: [{ targets: ['a:1'], labels: [['k', 'v']] }],
  },
  // go-yaml stores the scalar's text in a string field.
  {
    name: 'YAML scalars keep their text',
    yaml: '- targets: [10.0.0.1:9100, 8080]\n  labels: {rack: 042, up: true}\n',
    want: [
      {
        targets: ['10.0.0.1:9100', '8080'],
        labels: [
          ['rack', '042'],
          ['up', 'true'],
        ],
      },
    ],
  },
  {
    name: 'YAML anchors',
    yaml: '- targets: &t [a:1]\n- targets: *t\n',
    want: [
      { targets: ['a:1'], labels: [] },
      { targets: ['a:1'], labels: [] },
    ],
  },
];

for (const c of good) {
  if (c.json !== undefined)
    test(`json: ${c.name}`, (t) => t.deepEqual(parseGroupsJson(c.json as string, 'legacy'), c.want));
  if (c.yaml !== undefined)
    test(`yaml: ${c.name}`, (t) => t.deepEqual(parseGroupsYaml(c.yaml as string, 'legacy'), c.want));
}

const bad: { name: string; json?: string; yaml?: string; message: RegExp }[] = [
  {
    name: 'unknown field',
    json: '[{"targets":[],"lable":{}}]',
    yaml: '- targets: []\n  lable: {}\n',
    message: /lable/,
  },
  { name: 'nil item', json: '[null]', yaml: '- \n', message: /nil target group item found/ },
  { name: 'not a list', json: '{"targets":[]}', yaml: 'targets: []\n', message: /list of target groups/ },
  {
    name: 'targets not strings',
    json: '[{"targets":[1]}]',
    yaml: '- targets: {a: 1}\n',
    message: /"targets" must be a list of strings/,
  },
  {
    name: 'label value not a string',
    json: '[{"labels":{"a":1}}]',
    yaml: '- labels: {a: [1]}\n',
    message: /label "a" must have a string value/,
  },
  {
    name: 'invalid label name (legacy)',
    json: '[{"labels":{"a-b":"x"}}]',
    yaml: '- labels: {a-b: x}\n',
    message: /"a-b" is not a valid label name/,
  },
  { name: 'syntax error', json: '[{"targets":', yaml: '- targets: [a\n', message: /invalid (JSON|YAML)/ },
  { name: 'duplicate key (YAML strict)', yaml: '- targets: [a]\n  targets: [b]\n', message: /invalid YAML at line 2/ },
];

for (const c of bad) {
  if (c.json !== undefined) {
    test(`json rejects: ${c.name}`, (t) => {
      const e = t.throws(() => parseGroupsJson(c.json as string, 'legacy'), { instanceOf: DiscoveryError });
      t.regex(e.message, c.message);
    });
  }
  if (c.yaml !== undefined) {
    test(`yaml rejects: ${c.name}`, (t) => {
      const e = t.throws(() => parseGroupsYaml(c.yaml as string, 'legacy'), { instanceOf: DiscoveryError });
      t.regex(e.message, c.message);
    });
  }
}

test('yaml errors name the line', (t) => {
  const e = t.throws(() => parseGroupsYaml('- targets: [a:1]\n- targets: [b:2]\n  bogus: 1\n', 'legacy'));
  t.regex(e.message, /^line 3: target group 1: field "bogus" not found/);
});

test('utf8 scheme accepts any label name', (t) => {
  t.deepEqual(parseGroupsJson('[{"labels":{"a-b.c":"x"}}]', 'utf8'), [{ targets: [], labels: [['a-b.c', 'x']] }]);
});

test('toTargetGroups: sorted labels, meta label wins, empty values dropped, sources numbered', (t) => {
  const raw: RawGroup[] = [
    {
      targets: ['a:1'],
      labels: [
        ['z', '1'],
        ['__meta_filepath', 'spoofed'],
        ['empty', ''],
        ['a', '2'],
      ],
    },
    { targets: [], labels: [] },
  ];
  t.deepEqual(toTargetGroups(raw, '/sd/x.json', '__meta_filepath', '/sd/x.json'), [
    { targets: ['a:1'], labels: ['__meta_filepath', '/sd/x.json', 'a', '2', 'z', '1'], source: '/sd/x.json:0' },
    { targets: [], labels: ['__meta_filepath', '/sd/x.json'], source: '/sd/x.json:1' },
  ]);
});

import test from 'ava';
import { Entry, MetricType, OpenMetricsParser, ParseError } from '../../src/textparse/parser.ts';
import { parseAll, parseError } from './helpers.ts';
import { loadFixtures, loadJson } from './fixtures.ts';
import { at } from '../helpers/defined.ts';

interface GoodMeta {
  /** Case of the official OpenMetrics suite this fixture restates, or null for Prometheus extras. */
  suite: string | null;
  /** Whether a strict OpenMetrics 1.0 parser accepts it too. */
  strict: boolean;
}
interface BadMeta {
  suite: string | null;
  /** What Prometheus' own parser (plus its duplicate-label check) does with it. */
  prometheus: 'accept' | 'reject';
}

const good = loadFixtures('good', 'openmetrics');
const bad = loadFixtures('bad', 'openmetrics');
const goodMeta = loadJson<Record<string, GoodMeta>>('good', 'openmetrics', 'manifest.json');
const badMeta = loadJson<Record<string, BadMeta>>('bad', 'openmetrics', 'manifest.json');

test('manifests list exactly the fixture files', (t) => {
  t.deepEqual(good.map((f) => f.name).sort(), Object.keys(goodMeta).sort());
  t.deepEqual(bad.map((f) => f.name).sort(), Object.keys(badMeta).sort());
});

test('the corpus restates every case of the OpenMetrics suite (44 good, 167 bad)', (t) => {
  const goodSuite = new Set(Object.values(goodMeta).flatMap((m) => (m.suite === null ? [] : [m.suite])));
  const badSuite = new Set(Object.values(badMeta).flatMap((m) => (m.suite === null ? [] : [m.suite])));
  t.is(goodSuite.size, 44);
  t.is(badSuite.size, 167);
  t.true([...badSuite].every((s) => s.startsWith('bad_')));
  t.false([...goodSuite].some((s) => s.startsWith('bad_')));
  const families = new Set([...badSuite].map((s) => s.replace(/^bad_/, '').replace(/_\d+$/, '')));
  for (const family of [
    'blank_line',
    'clashing_names',
    'counter_values',
    'exemplar_complex_chars',
    'exemplar_timestamp',
    'exemplars',
    'exemplars_on_unallowed_metric_types',
    'exemplars_on_unallowed_samples',
    'grouping_or_ordering',
    'help',
    'histograms',
    'info_and_stateset_values',
    'invalid_labels',
    'metadata',
    'metadata_in_wrong_place',
    'metric_names',
    'missing_equal_or_label_value',
    'missing_or_extra_commas',
    'missing_or_invalid_labels_for_a_type',
    'missing_or_wrong_quotes_on_label_value',
    'missing_value',
    'no_eof',
    'repeated_metadata',
    'stateset_info_values',
    'text_after_eof',
    'timestamp',
    'type',
    'unit',
    'value',
  ]) {
    t.true(families.has(family), family);
  }
});

for (const fx of good) {
  const meta = goodMeta[fx.name];
  test(`om good fixture ${fx.name} parses to its golden entries`, (t) => {
    t.truthy(fx.golden, `missing ${fx.name}.golden`);
    t.deepEqual(parseAll(new OpenMetricsParser(), fx.body), fx.golden);
  });
  test(`om good fixture ${fx.name} under strict OpenMetrics: ${meta?.strict ? 'same entries' : 'rejected'}`, (t) => {
    if (meta?.strict) t.deepEqual(parseAll(new OpenMetricsParser({ strict: true }), fx.body), fx.golden);
    else t.true(parseError(new OpenMetricsParser({ strict: true }), fx.body) instanceof ParseError);
  });
}

for (const fx of bad) {
  const meta = badMeta[fx.name];
  test(`om bad fixture ${fx.name}: strict rejects, Prometheus mode ${meta?.prometheus}s`, (t) => {
    const strictErr = parseError(new OpenMetricsParser({ strict: true }), fx.body);
    t.true(strictErr instanceof ParseError, 'strict mode accepted it');
    const promErr = parseError(new OpenMetricsParser(), fx.body);
    if (meta?.prometheus === 'reject') t.true(promErr instanceof ParseError, 'Prometheus mode accepted it');
    else t.is(promErr, undefined, promErr?.message);
  });
}

function first(p: OpenMetricsParser, body: string): void {
  const buf = Buffer.from(body);
  p.reset(buf, buf.length);
}

test('series fields: value, seconds timestamp as truncated ms, exemplar with and without timestamp', (t) => {
  const p = new OpenMetricsParser();
  const body =
    'a_total{x="1"} 3.5 1520879607.789 # {id="q"} 0.67 1520879606.5\na_total{x="2"} 4 # {id="r"} 8\nb 1\n# EOF\n';
  first(p, body);
  t.is(p.next(), Entry.Series);
  t.is(p.value, 3.5);
  t.true(p.hasTimestamp);
  t.is(p.timestamp, 1520879607789);
  t.true(p.hasExemplar);
  t.deepEqual(p.exemplarLabels(), ['id', 'q']);
  t.is(p.exemplarValue, 0.67);
  t.true(p.exemplarHasTimestamp);
  t.is(p.exemplarTimestamp, 1520879606500);
  t.is(Buffer.from(body).toString('utf8', p.seriesStart, p.seriesEnd), 'a_total{x="1"}');
  t.is(p.next(), Entry.Series);
  t.false(p.hasTimestamp);
  t.true(p.hasExemplar);
  t.false(p.exemplarHasTimestamp);
  t.is(p.next(), Entry.Series);
  t.false(p.hasExemplar, 'exemplar state does not leak to the next series');
  t.deepEqual(p.exemplarLabels(), []);
  t.is(p.next(), Entry.EOF);
  t.is(p.next(), Entry.EOF, 'EOF is sticky');
});

test('metadata entries expose family, type code, unit and unescaped help', (t) => {
  const p = new OpenMetricsParser();
  first(
    p,
    '# TYPE s_seconds stateset\n# HELP s_seconds a \\"b\\"\n# UNIT s_seconds seconds\n# TYPE g gaugehistogram\n# TYPE i info\n# EOF\n',
  );
  t.is(p.next(), Entry.Type);
  t.is(p.family, 's_seconds');
  t.is(p.metricType, MetricType.stateset);
  t.is(p.next(), Entry.Help);
  t.is(p.text, 'a "b"');
  t.is(p.next(), Entry.Unit);
  t.is(p.text, 'seconds');
  t.is(p.next(), Entry.Type);
  t.is(p.metricType, MetricType.gaugehistogram);
  t.is(p.next(), Entry.Type);
  t.is(p.metricType, MetricType.info);
  t.is(p.next(), Entry.EOF);
});

test('_created samples are ordinary series, as in Prometheus without created-timestamp ingestion', (t) => {
  t.deepEqual(parseAll(new OpenMetricsParser(), '# TYPE c counter\nc_total 1\nc_created 1700000000.5\n# EOF\n'), [
    'TYPE c counter',
    'SERIES {__name__="c_total"} 1',
    'SERIES {__name__="c_created"} 1700000000.5',
  ]);
});

test('errors name the line', (t) => {
  const err = parseError(new OpenMetricsParser(), '# TYPE a gauge\na 1\na{b=1} 2\n# EOF\n') as ParseError;
  t.is(err.line, 3);
  t.regex(err.message, /^line 3: expected label value/);
  const eof = parseError(new OpenMetricsParser(), 'a 1\n') as ParseError;
  t.regex(eof.message, /data does not end with # EOF/);
});

test('reset clears EOF and strict state so a parser serves many scrapes', (t) => {
  const p = new OpenMetricsParser({ strict: true });
  const body = '# TYPE a gauge\na 1\n# EOF\n';
  t.deepEqual(parseAll(p, body), ['TYPE a gauge', 'SERIES {__name__="a"} 1']);
  t.deepEqual(
    parseAll(p, body),
    ['TYPE a gauge', 'SERIES {__name__="a"} 1'],
    'family "a" from the previous scrape is forgotten',
  );
});

const strictAccepts: [string, string][] = [
  [
    'histogram repeated as a second MetricPoint at a later time',
    '# TYPE h histogram\nh_bucket{le="1"} 0 1\nh_bucket{le="+Inf"} 1 1\nh_count 1 1\nh_sum 0.5 1\nh_bucket{le="1"} 1 2\nh_bucket{le="+Inf"} 2 2\nh_count 2 2\nh_sum 1 2\n# EOF\n',
  ],
  ['a gauge literally named _created', '# TYPE fizz_created gauge\nfizz_created 17\n# EOF\n'],
  [
    'label groups each contiguous',
    '# TYPE c counter\nc_total{a="1"} 1\nc_created{a="1"} 5\nc_total{a="2"} 2\nc_created{a="2"} 5\n# EOF\n',
  ],
  [
    'stateset with extra labels, grouped',
    '# TYPE s stateset\ns{s="a",dev="x"} 1\ns{s="b",dev="x"} 0\ns{s="a",dev="y"} 0\ns{s="b",dev="y"} 1\n# EOF\n',
  ],
  [
    'family with metadata only, then another family',
    '# TYPE a counter\n# HELP a nothing yet\n# TYPE a_b gauge\na_b 1\n# EOF\n',
  ],
  ['summary quantiles at the edges', '# TYPE q summary\nq{quantile="0"} 1\nq{quantile="1.0"} NaN\n# EOF\n'],
  [
    'exemplar on a counter total and a gaugehistogram bucket',
    '# TYPE c counter\nc_total 1 # {a="b"} 1\n# TYPE g gaugehistogram\ng_bucket{le="+Inf"} 1 # {} 2\n# EOF\n',
  ],
];

for (const [name, body] of strictAccepts) {
  test(`strict accepts: ${name}`, (t) => {
    t.is(parseError(new OpenMetricsParser({ strict: true }), body)?.message, undefined);
  });
}

const strictRejects: [string, string, RegExp][] = [
  ['counter sample without _total', '# TYPE c counter\nc 1\n# EOF\n', /not a sample name of counter/],
  ['histogram point repeated with an older timestamp', '# TYPE g gauge\ng 1 5\ng 2 4\n# EOF\n', /go backwards/],
  ['quoted metric name', '{"a.b"} 1\n# EOF\n', /expected a valid start token/],
  ['quoted name in metadata', '# TYPE "a.b" gauge\n# EOF\n', /expected metric name after TYPE/],
  ['trailing comma in exemplar labels', '# TYPE c counter\nc_total 1 # {a="b",} 1\n# EOF\n', /expected label name/],
  [
    'metadata for a family whose samples were interrupted',
    '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# HELP a again\n# EOF\n',
    /appears twice/,
  ],
  [
    'duplicate bucket bound',
    '# TYPE h histogram\nh_bucket{le="1"} 0\nh_bucket{le="1.0"} 0\nh_bucket{le="+Inf"} 0\n# EOF\n',
    /increasing le order/,
  ],
  ['le not a number', '# TYPE h histogram\nh_bucket{le="x"} 0\n# EOF\n', /invalid le/],
];

for (const [name, body, re] of strictRejects) {
  test(`strict rejects: ${name}`, (t) => {
    const err = parseError(new OpenMetricsParser({ strict: true }), body);
    t.true(err instanceof ParseError);
    t.regex(err?.message ?? '', re);
  });
}

test('exemplar problems Prometheus only logs (duplicate names, over 128 characters) do not fail the scrape', (t) => {
  const body = `# TYPE c counter\nc_total 1 # {a="1",a="2"} 1\nc_total{x="y"} 2 # {k="${'z'.repeat(200)}"} 1\n# EOF\n`;
  const p = new OpenMetricsParser();
  first(p, body);
  t.is(p.next(), Entry.Type);
  t.is(p.next(), Entry.Series);
  t.deepEqual(p.exemplarLabels(), ['a', '1', 'a', '2']);
  t.is(p.next(), Entry.Series);
  t.is(at(p.exemplarLabels(), 1, 'p.exemplarLabels()').length, 200);
  t.is(p.next(), Entry.EOF);
  t.regex(
    parseError(new OpenMetricsParser({ strict: true }), body)?.message ?? '',
    /exemplar label name "a" is not unique/,
  );
});

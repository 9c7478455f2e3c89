import test from 'ava';
import { formatOpenMetricsFloat, normalizeFloatLabelValue } from '../../src/textparse/normalize.ts';
import { Entry, MetricType, OpenMetricsParser, PromTextParser, type TextParser } from '../../src/textparse/parser.ts';
import { labelsToString } from '../../src/util/labels.ts';

// model/labels/float.go FormatOpenMetricsFloat (v3.14.0): Go's strconv 'g' with the shortest
// precision (%e below 1e-4 and from 1e6 on, two-digit exponents) plus ".0" when neither "." nor "e".
const formatCases: [number, string][] = [
  [1, '1.0'],
  [0, '0.0'],
  [-0, '0.0'],
  [-1, '-1.0'],
  [0.5, '0.5'],
  [10, '10.0'],
  [100, '100.0'],
  [123456, '123456.0'],
  [1e6, '1e+06'],
  [2500000, '2.5e+06'],
  [1e21, '1e+21'],
  [0.0001, '0.0001'],
  [0.00001, '1e-05'],
  [2.5e-7, '2.5e-07'],
  [0.1, '0.1'],
  [0.995, '0.995'],
  [-2.5, '-2.5'],
  [1.7976931348623157e308, '1.7976931348623157e+308'],
  [5e-324, '5e-324'],
  [NaN, 'NaN'],
  [Infinity, '+Inf'],
  [-Infinity, '-Inf'],
];
for (const [f, want] of formatCases) {
  test(`FormatOpenMetricsFloat(${Object.is(f, -0) ? '-0' : String(f)}) = ${want}`, (t) => {
    t.is(formatOpenMetricsFloat(f), want);
  });
}

// openmetricsparse.go normalizeFloatsInLabelValues (v3.14.0 lines 773-783): only `le` of a
// histogram and `quantile` of a summary, only when strconv.ParseFloat accepts the value.
const valueCases: [number, string, string, string][] = [
  [MetricType.histogram, 'le', '1', '1.0'],
  [MetricType.histogram, 'le', '+inf', '+Inf'],
  [MetricType.histogram, 'le', 'Infinity', '+Inf'],
  [MetricType.histogram, 'le', '0.50', '0.5'],
  [MetricType.histogram, 'le', '1e3', '1000.0'],
  [MetricType.histogram, 'le', '1000000', '1e+06'],
  [MetricType.histogram, 'le', 'abc', 'abc'],
  [MetricType.histogram, 'le', '', ''],
  [MetricType.histogram, 'le', '1e400', '1e400'],
  [MetricType.histogram, 'le', '1_000', '1_000'],
  [MetricType.histogram, 'le', '١', '١'],
  [MetricType.histogram, 'quantile', '1', '1'],
  [MetricType.summary, 'quantile', '0.9900', '0.99'],
  [MetricType.summary, 'quantile', '1', '1.0'],
  [MetricType.summary, 'le', '1', '1'],
  [MetricType.gaugehistogram, 'le', '1', '1'],
  [MetricType.gauge, 'le', '1', '1'],
  [MetricType.unknown, 'quantile', '1', '1'],
];
for (const [type, name, value, want] of valueCases) {
  test(`normalize type ${type} ${name}=${JSON.stringify(value)} -> ${JSON.stringify(want)}`, (t) => {
    t.is(normalizeFloatLabelValue(type, name, value), want);
  });
}

function seriesOf(p: TextParser, body: string): string[] {
  const buf = Buffer.from(body);
  p.reset(buf, buf.length);
  const out: string[] = [];
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) if (e === Entry.Series) out.push(labelsToString(p.labels()));
  return out;
}

const TEXT = [
  '# TYPE h histogram',
  'h_bucket{le="1"} 1',
  'h_bucket{le="2.50"} 2',
  'h_bucket{le="+inf"} 3',
  // The TYPE applies to what follows whatever its name (the "windspeed" case in promparse.go).
  'other{le="1"} 1',
  '# TYPE s summary',
  's{quantile="0.50",le="1"} 1',
  '# TYPE g gauge',
  'g{le="1",quantile="1"} 1',
  '',
].join('\n');

const WANT = [
  '{__name__="h_bucket", le="1.0"}',
  '{__name__="h_bucket", le="2.5"}',
  '{__name__="h_bucket", le="+Inf"}',
  '{__name__="other", le="1.0"}',
  '{__name__="s", quantile="0.5", le="1"}',
  '{__name__="g", le="1", quantile="1"}',
];

test('the text parser normalises le and quantile by the current TYPE', (t) => {
  t.deepEqual(seriesOf(new PromTextParser(), TEXT), WANT);
});

test('the OpenMetrics parser normalises le and quantile by the current TYPE', (t) => {
  t.deepEqual(seriesOf(new OpenMetricsParser(), `${TEXT}# EOF\n`), WANT);
});

test('a reused parser starts each body untyped', (t) => {
  const p = new PromTextParser();
  seriesOf(p, '# TYPE h histogram\nh_bucket{le="1"} 1\n');
  t.deepEqual(seriesOf(p, 'h_bucket{le="1"} 1\n'), ['{__name__="h_bucket", le="1"}']);
});

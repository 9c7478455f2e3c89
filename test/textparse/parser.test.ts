import test from 'ava';
import { ParseError, PromTextParser, ProtobufParser, createParser } from '../../src/textparse/parser.ts';
import { NhcbTextParser } from '../../src/textparse/nhcb-text.ts';
import { parseError } from './helpers.ts';

test('protobuf responses get the protobuf parser, whatever the fallback; PrometheusProto as fallback reads protobuf', (t) => {
  const ct = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
  t.true(createParser(ct) instanceof ProtobufParser);
  t.true(createParser(ct, 'OpenMetricsText1.0.0') instanceof ProtobufParser);
  t.true(createParser('', 'PrometheusProto') instanceof ProtobufParser);
  t.true(createParser('text/html', 'PrometheusProto') instanceof ProtobufParser);
});

test('convert_classic_histograms_to_nhcb wraps the text parsers, not the protobuf one', (t) => {
  const histograms = { ignoreNativeHistograms: true, keepClassicHistograms: false, convertClassicToNhcb: true };
  t.true(createParser('text/plain; version=0.0.4', undefined, { histograms }) instanceof NhcbTextParser);
  t.true(createParser('application/openmetrics-text', undefined, { histograms }) instanceof NhcbTextParser);
  t.true(createParser('application/vnd.google.protobuf', undefined, { histograms }) instanceof ProtobufParser);
  t.true(createParser('text/plain; version=0.0.4') instanceof PromTextParser);
});

test('strict OpenMetrics is opt-in through createParser', (t) => {
  const body = '# TYPE a counter\na_total -1\n# EOF\n';
  t.is(parseError(createParser('application/openmetrics-text'), body), undefined);
  t.true(
    parseError(createParser('application/openmetrics-text', undefined, { strictOpenMetrics: true }), body) instanceof
      ParseError,
  );
});

test('the same exposition read as text or OpenMetrics gives the same series', (t) => {
  const body = '# HELP up Is it up.\n# TYPE up gauge\nup{job="x"} 1\n';
  const text = createParser('text/plain');
  const om = createParser('application/openmetrics-text');
  const tb = Buffer.from(body);
  const ob = Buffer.from(body + '# EOF\n');
  text.reset(tb, tb.length);
  om.reset(ob, ob.length);
  for (;;) {
    const a = text.next();
    const b = om.next();
    t.is(a, b);
    if (a === 0) break;
    if (a === 1) t.deepEqual(text.labels(), om.labels());
  }
});

import test from 'ava';
import {
  DEFAULT_SCRAPE_PROTOCOLS,
  OpenMetricsParser,
  ParseError,
  PromTextParser,
  ProtobufParser,
  SCRAPE_ACCEPT_HEADER,
  buildAcceptHeader,
  createParser,
  mediaTypeOf,
  selectFormat,
  type TextFormat,
} from '../../src/textparse/parser.ts';
import { parseError } from './helpers.ts';

const formatCases: [string | undefined, TextFormat | undefined, TextFormat][] = [
  ['application/openmetrics-text; version=1.0.0; charset=utf-8', undefined, 'openmetrics'],
  ['application/openmetrics-text;version=0.0.1', undefined, 'openmetrics'],
  ['Application/OpenMetrics-Text', undefined, 'openmetrics'],
  ['text/plain; version=0.0.4; charset=utf-8', undefined, 'text'],
  ['text/plain;version=1.0.0;escaping=allow-utf-8', 'openmetrics', 'text'],
  ['TEXT/PLAIN', undefined, 'text'],
  ['text/plain;', undefined, 'text'],
  // 2.42: anything unknown, blank or malformed is read as text unless a fallback is configured.
  [undefined, undefined, 'text'],
  ['', undefined, 'text'],
  ['text/html', undefined, 'text'],
  ['application/json', 'openmetrics', 'openmetrics'],
  ['', 'openmetrics', 'openmetrics'],
  ['application/openmetrics-text; version', undefined, 'text'],
  ['application/openmetrics-text; version', 'openmetrics', 'openmetrics'],
  ['application/openmetrics-text; a=1; a=2', undefined, 'text'],
  ['/plain', undefined, 'text'],
];

for (const [ct, fallback, want] of formatCases) {
  test(`Content-Type ${JSON.stringify(ct)} with fallback ${fallback ?? 'none'} -> ${want}`, (t) => {
    t.is(selectFormat(ct, fallback), want);
    const p = createParser(ct, fallback);
    t.true(want === 'openmetrics' ? p instanceof OpenMetricsParser : p instanceof PromTextParser);
  });
}

test('media type parsing keeps only a well-formed type/subtype', (t) => {
  t.is(mediaTypeOf('text/plain; version="0.0.4"'), 'text/plain');
  t.is(mediaTypeOf('text/plain; version=0.0.4 ; charset=UTF-8'), 'text/plain');
  t.is(mediaTypeOf('text/plain; =x'), undefined);
  t.is(mediaTypeOf('text/ plain'), undefined);
  t.is(mediaTypeOf(undefined), undefined);
});

test('protobuf responses get the protobuf parser, whatever the fallback', (t) => {
  const ct = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
  t.is(selectFormat(ct), 'protobuf');
  t.is(selectFormat(ct, 'openmetrics'), 'protobuf');
  t.true(createParser(ct) instanceof ProtobufParser);
  t.true(createParser('', 'protobuf') instanceof ProtobufParser, 'fallback_scrape_protocol: PrometheusProto');
});

test('the Accept header is Prometheus 3.x default list with UTF-8 names allowed', (t) => {
  t.is(
    SCRAPE_ACCEPT_HEADER,
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,' +
      'application/openmetrics-text;version=0.0.1;q=0.5,' +
      'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,' +
      'text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
  );
  t.is(DEFAULT_SCRAPE_PROTOCOLS.length, 4);
});

test('Accept header weights count down from 0.6 and escaping follows the validation scheme', (t) => {
  t.is(buildAcceptHeader(['PrometheusText0.0.4'], 'underscores'), 'text/plain;version=0.0.4;q=0.6,*/*;q=0.5');
  t.is(
    buildAcceptHeader(['PrometheusProto', 'PrometheusText1.0.0'], 'underscores'),
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,' +
      'text/plain;version=1.0.0;escaping=underscores;q=0.5,*/*;q=0.4',
  );
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

import test from 'ava';
import {
  buildAcceptHeader,
  chooseFormat,
  DEFAULT_SCRAPE_PROTOCOLS,
  mediaTypeOf,
  parseMediaType,
  SCRAPE_ACCEPT_HEADER,
  type ExpositionFormat,
  type NameEscaping,
  type ScrapeProtocol,
} from '../../src/textparse/protocols.ts';
import { OpenMetricsParser, ParseError, PromTextParser, createParser } from '../../src/textparse/parser.ts';

// Prometheus 3.x (v3.14.0) model/textparse/interface.go extractMediaType, lines 93-123: a blank,
// unparsable or unknown Content-Type fails the scrape unless fallback_scrape_protocol is set; the
// fallback is then used and the reason logged. 2.42 read all of these as text: the old cases that
// asserted that now assert 3.x's errors.
type Want = ExpositionFormat | { error: string };
const formatCases: [string | undefined, ScrapeProtocol | undefined, Want][] = [
  ['application/openmetrics-text; version=1.0.0; charset=utf-8', undefined, 'openmetrics'],
  ['application/openmetrics-text;version=0.0.1', undefined, 'openmetrics'],
  ['Application/OpenMetrics-Text', undefined, 'openmetrics'],
  ['text/plain; version=0.0.4; charset=utf-8', undefined, 'text'],
  // A recognised type wins over the fallback.
  ['text/plain;version=1.0.0;escaping=allow-utf-8', 'OpenMetricsText1.0.0', 'text'],
  ['TEXT/PLAIN', undefined, 'text'],
  ['text/plain;', undefined, 'text'],
  ['application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily', undefined, 'protobuf'],
  [
    undefined,
    undefined,
    {
      error:
        'non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target',
    },
  ],
  [
    '',
    undefined,
    {
      error:
        'non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target',
    },
  ],
  ['', 'OpenMetricsText0.0.1', 'openmetrics'],
  [undefined, 'PrometheusText0.0.4', 'text'],
  [
    'text/html',
    undefined,
    { error: 'received unsupported Content-Type "text/html" and no fallback_scrape_protocol specified for target' },
  ],
  ['application/json', 'OpenMetricsText1.0.0', 'openmetrics'],
  ['application/json', 'PrometheusText1.0.0', 'text'],
  [
    'application/openmetrics-text; version',
    undefined,
    {
      error:
        'cannot parse Content-Type "application/openmetrics-text; version" and no fallback_scrape_protocol for target\n' +
        'mime: invalid media parameter',
    },
  ],
  ['application/openmetrics-text; version', 'OpenMetricsText1.0.0', 'openmetrics'],
  [
    'application/openmetrics-text; a=1; a=2',
    undefined,
    {
      error:
        'cannot parse Content-Type "application/openmetrics-text; a=1; a=2" and no fallback_scrape_protocol for target\n' +
        'mime: duplicate parameter name',
    },
  ],
  [
    '/plain',
    undefined,
    { error: 'cannot parse Content-Type "/plain" and no fallback_scrape_protocol for target\nmime: no media type' },
  ],
];

for (const [ct, fallback, want] of formatCases) {
  test(`Content-Type ${JSON.stringify(ct)} with fallback ${fallback ?? 'none'}`, (t) => {
    if (typeof want === 'string') {
      t.is(chooseFormat(ct, fallback).format, want);
      if (want === 'protobuf') return;
      const p = createParser(ct, fallback);
      t.true(want === 'openmetrics' ? p instanceof OpenMetricsParser : p instanceof PromTextParser);
    } else {
      t.throws(() => chooseFormat(ct, fallback), { instanceOf: ParseError, message: want.error });
      t.throws(() => createParser(ct, fallback), { instanceOf: ParseError, message: want.error });
    }
  });
}

test('a fallback says why it was used, with the fallback media type as 3.x logs it', (t) => {
  t.is(
    chooseFormat('', 'OpenMetricsText1.0.0').fallbackReason,
    'non-compliant scrape target sending blank Content-Type, using fallback_scrape_protocol "application/openmetrics-text"',
  );
  t.is(
    chooseFormat('text/html', 'PrometheusText0.0.4').fallbackReason,
    'received unsupported Content-Type "text/html", using fallback_scrape_protocol "text/plain"',
  );
  t.is(
    chooseFormat('text/plain; x', 'PrometheusText0.0.4').fallbackReason,
    'could not parse received Content-Type "text/plain; x", using fallback_scrape_protocol "text/plain"\n' +
      'mime: invalid media parameter',
  );
  t.is(chooseFormat('text/plain', 'OpenMetricsText1.0.0').fallbackReason, undefined);
});

// Go's mime.ParseMediaType errors, which 3.x appends to its own.
const mediaTypeCases: [string, string][] = [
  ['text/plain; version="0.0.4"', 'text/plain'],
  ['text/plain; version=0.0.4 ; charset=UTF-8', 'text/plain'],
  ['text', 'text'],
  ['text/plain; =x', 'mime: invalid media parameter'],
  ['text/ plain', 'mime: expected token after slash'],
  ['text/plain x', 'mime: unexpected content after media subtype'],
  ['text/', 'mime: expected token after slash'],
  ['te(xt/plain', 'mime: expected slash after first token'],
  [' ', 'mime: no media type'],
];
for (const [ct, want] of mediaTypeCases) {
  test(`media type of ${JSON.stringify(ct)}`, (t) => {
    const r = parseMediaType(ct);
    t.is('mediaType' in r ? r.mediaType : r.error, want);
  });
}

test('mediaTypeOf is undefined for absent, blank and malformed types', (t) => {
  t.is(mediaTypeOf(undefined), undefined);
  t.is(mediaTypeOf(''), undefined);
  t.is(mediaTypeOf('text/ plain'), undefined);
  t.is(mediaTypeOf('Text/Plain; charset=utf-8'), 'text/plain');
});

// scrape/scrape.go acceptHeader (v3.14.0 lines 705-721): weights count down from 0.(protocols + 1),
// `escaping=<scheme>` only on PrometheusText1.0.0 and OpenMetricsText1.0.0, then */* last.
const acceptCases: [readonly ScrapeProtocol[], NameEscaping, string][] = [
  [
    DEFAULT_SCRAPE_PROTOCOLS,
    'allow-utf-8',
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,' +
      'application/openmetrics-text;version=0.0.1;q=0.5,' +
      'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,' +
      'text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
  ],
  [
    DEFAULT_SCRAPE_PROTOCOLS,
    'underscores',
    'application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,' +
      'application/openmetrics-text;version=0.0.1;q=0.5,' +
      'text/plain;version=1.0.0;escaping=underscores;q=0.4,' +
      'text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
  ],
  [['PrometheusText0.0.4'], 'underscores', 'text/plain;version=0.0.4;q=0.6,*/*;q=0.5'],
  [['PrometheusText1.0.0'], 'dots', 'text/plain;version=1.0.0;escaping=dots;q=0.6,*/*;q=0.5'],
  [
    ['OpenMetricsText1.0.0', 'PrometheusText0.0.4'],
    'values',
    'application/openmetrics-text;version=1.0.0;escaping=values;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4',
  ],
  [
    ['PrometheusProto', 'PrometheusText1.0.0'],
    'underscores',
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,' +
      'text/plain;version=1.0.0;escaping=underscores;q=0.5,*/*;q=0.4',
  ],
];
for (const [protocols, escaping, want] of acceptCases) {
  test(`Accept header for [${protocols.join(' ')}] escaping=${escaping}`, (t) => {
    t.is(buildAcceptHeader(protocols, escaping), want);
  });
}

test('the default Accept header is 3.x default list with UTF-8 names allowed', (t) => {
  t.is(SCRAPE_ACCEPT_HEADER, buildAcceptHeader(DEFAULT_SCRAPE_PROTOCOLS, 'allow-utf-8'));
  t.deepEqual(
    [...DEFAULT_SCRAPE_PROTOCOLS],
    ['OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4'],
  );
});

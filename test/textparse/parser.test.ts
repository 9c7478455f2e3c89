import test from 'ava';
import { ParseError, createParser } from '../../src/textparse/parser.ts';
import { parseError } from './helpers.ts';

test('protobuf responses cannot be parsed and say so', (t) => {
  t.throws(
    () => createParser('application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited'),
    {
      instanceOf: ParseError,
      message: /protobuf exposition is not supported/,
    },
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

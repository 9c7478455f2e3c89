import test from 'ava';
import { ParseError } from '../../src/textparse/parser.ts';
import { formatOpenMetricsFloat, ProtobufParser } from '../../src/textparse/protobuf.ts';
import { Entry } from '../../src/textparse/types.ts';
import { BAD, GOOD, NATIVE } from '../fixtures/protobuf/corpus.ts';
import { encodeFamilies } from '../helpers/metrics-proto.ts';
import { parseAll } from './helpers.ts';
import { at, firstN } from '../helpers/defined.ts';

for (const c of GOOD) {
  test(`corpus: ${c.name}`, (t) => {
    t.deepEqual(parseAll(new ProtobufParser(c.opts), c.body), c.want);
  });
}

for (const c of BAD) {
  test(`corpus, broken: ${c.name}`, (t) => {
    const err = t.throws(() => parseAll(new ProtobufParser(c.opts), c.body), { instanceOf: ParseError });
    t.regex(err?.message ?? '', c.error);
  });
}

test('every corpus body parses again the same after reset (one parser, reused)', (t) => {
  const p = new ProtobufParser(NATIVE);
  const first = at(GOOD, 0, 'corpus');
  const body = first.body;
  t.deepEqual(parseAll(p, body), parseAll(p, body));
  // Only `length` bytes count: the rest of a pooled buffer is garbage from an earlier scrape.
  const padded = Buffer.concat([body, Buffer.from([0xff, 0xff, 0xff])]);
  p.reset(padded, body.length);
  let n = 0;
  while (p.next() !== Entry.EOF) n++;
  t.is(n, first.want.length);
});

test('le and quantile values are written as Go writes OpenMetrics floats', (t) => {
  const cases: [number, string][] = [
    [1, '1.0'],
    [0, '0.0'],
    [-1, '-1.0'],
    [0.25, '0.25'],
    [2.5, '2.5'],
    [10, '10.0'],
    [100000, '100000.0'],
    [1e6, '1e+06'],
    [1234567, '1.234567e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e21, '1e+21'],
    [1e100, '1e+100'],
    [-0.005, '-0.005'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NaN, 'NaN'],
  ];
  for (const [v, want] of cases) t.is(formatOpenMetricsFloat(v), want, String(v));
});

test('the scrape cache hint: the same series key again is an expected hit, another is not', (t) => {
  const body = encodeFamilies([
    {
      name: 'm',
      type: 'GAUGE',
      metric: [
        // Long values: compared 8 bytes at a time, and different only in their last byte.
        { label: [{ name: 'a', value: `${'x'.repeat(40)}1` }], gauge: { value: 1 } },
        { label: [{ name: 'a', value: `${'x'.repeat(40)}2` }], gauge: { value: 2 } },
      ],
    },
  ]);
  const p = new ProtobufParser(NATIVE);
  p.reset(body, body.length);
  const keys: Buffer[] = [];
  for (let e = p.next(); e !== Entry.EOF; e = p.next())
    if (e === Entry.Series) keys.push(Buffer.from(p.seriesBuf.subarray(p.seriesStart, p.seriesEnd)));
  const [k0, k1] = firstN(keys, 2, 'series keys');
  t.is(keys.length, 2);
  t.notDeepEqual(k0, k1);
  // Second pass: hint each series with the first key.
  p.reset(body, body.length);
  const hits: boolean[] = [];
  for (;;) {
    p.expect(k0, 0, k0.length);
    const e = p.next();
    if (e === Entry.EOF) break;
    if (e === Entry.Series) hits.push(p.expectedHit);
  }
  t.deepEqual(hits, [true, false]);
  t.throws(
    () => {
      p.reset(body, body.length);
      p.expect(k0, 0, k0.length);
      while (p.next() !== Entry.Series);
      p.labels();
    },
    { message: /expected-series hit/ },
  );
});

import test from 'ava';
import { Entry, ParseError } from '../../src/textparse/types.ts';
import { PromTextParser } from '../../src/textparse/prom-text.ts';
import { OpenMetricsParser } from '../../src/textparse/openmetrics.ts';

/** Parses the first series of body with `hint` as the expected series text. */
function first(body: string, hint: string, p: PromTextParser | OpenMetricsParser = new PromTextParser()) {
  const buf = Buffer.from(body, 'utf8');
  const h = Buffer.from(`##${hint}`, 'utf8');
  p.reset(buf, buf.length);
  p.expect(h, 2, hint === '' ? -1 : h.length - 2);
  let e = p.next();
  while (e !== Entry.Series && e !== Entry.EOF) e = p.next();
  return { p, text: buf.toString('utf8', p.seriesStart, p.seriesEnd) };
}

const hits: [string, string, string, number, number | null][] = [
  // body, hint, series text, value, timestamp
  ['a{x="1"} 5 100\n', 'a{x="1"}', 'a{x="1"}', 5, 100],
  ['a{x="1"}7\n', 'a{x="1"}', 'a{x="1"}', 7, null],
  ['up 1\n', 'up', 'up', 1, null],
  ['up\t\t1\n', 'up', 'up', 1, null],
  ['# HELP up x\n# TYPE up gauge\nup{job="a b"} 0\n', 'up{job="a b"}', 'up{job="a b"}', 0, null],
  ['{"my.metric",a="1"} 2\n', '{"my.metric",a="1"}', '{"my.metric",a="1"}', 2, null],
];
for (const [body, hint, text, value, ts] of hits) {
  test(`hint hit: ${JSON.stringify(body)}`, (t) => {
    const { p, text: got } = first(body, hint);
    t.true(p.expectedHit);
    t.is(got, text);
    t.is(p.value, value);
    t.is(p.hasTimestamp, ts !== null);
    if (ts !== null) t.is(p.timestamp, ts);
    t.throws(() => p.labels(), { message: /not scanned/ });
  });
}

const misses: [string, string, string][] = [
  // body, hint, what the full parse yields as series text
  ['name {a="b"} 1\n', 'name', 'name {a="b"}'],
  ['name{} 1\n', 'name', 'name{}'],
  ['name_total 1\n', 'name', 'name_total'],
  ['a{x="2"} 1\n', 'a{x="1"}', 'a{x="2"}'],
  ['a{x="1",y="2"} 1\n', 'a{x="1"', 'a{x="1",y="2"}'],
  ['up', 'up 1', 'up'],
];
for (const [body, hint, text] of misses) {
  test(`hint miss parses in full: ${JSON.stringify(body)} with hint ${JSON.stringify(hint)}`, (t) => {
    const buf = Buffer.from(body, 'utf8');
    const p = new PromTextParser();
    p.reset(buf, buf.length);
    p.expect(Buffer.from(hint), 0, hint.length);
    let err: unknown = null;
    try {
      t.is(p.next(), Entry.Series);
    } catch (e) {
      err = e;
    }
    if (body === 'up') {
      t.true(err instanceof ParseError, 'a body ending in the name has no value');
      return;
    }
    t.false(p.expectedHit);
    t.is(buf.toString('utf8', p.seriesStart, p.seriesEnd), text);
    t.notThrows(() => p.labels());
  });
}

test('an invalid value after an expected series fails exactly as without the hint', (t) => {
  const body = 'a{x="1"} abc\n';
  const withHint = t.throws(() => first(body, 'a{x="1"}'));
  const without = t.throws(() => first(body, ''));
  t.is(withHint?.message, without?.message);
});

test('the OpenMetrics parser ignores hints', (t) => {
  const { p } = first('a{x="1"} 5\n# EOF\n', 'a{x="1"}', new OpenMetricsParser());
  t.false(p.expectedHit);
  t.deepEqual(p.labels(), ['__name__', 'a', 'x', '1']);
});

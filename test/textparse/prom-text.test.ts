import test from 'ava';
import { Entry, MetricType, ParseError, PromTextParser } from '../../src/textparse/parser.ts';
import { OutpostError } from '../../src/util/errors.ts';
import { parseAll, parseError } from './helpers.ts';
import { loadFixtures, loadJson } from './fixtures.ts';
import { at, defined, firstN } from '../helpers/defined.ts';

for (const fx of loadFixtures('good', 'text')) {
  test(`text good fixture ${fx.name} parses to its golden entries`, (t) => {
    t.truthy(fx.golden, `missing ${fx.name}.golden`);
    t.deepEqual(parseAll(new PromTextParser(), fx.body), fx.golden);
  });
}

const expectedErrors = loadJson<Record<string, string>>('bad', 'text', 'expected-errors.json');
const badText = loadFixtures('bad', 'text');

test('every bad text fixture has an expected error and vice versa', (t) => {
  t.deepEqual(badText.map((f) => f.name).sort(), Object.keys(expectedErrors).sort());
});

for (const fx of badText) {
  test(`text bad fixture ${fx.name} is rejected`, (t) => {
    const err = parseError(new PromTextParser(), fx.body);
    t.true(err instanceof ParseError, `accepted: ${fx.name}`);
    t.true(
      err?.message.includes(defined(expectedErrors[fx.name], `expected error of ${fx.name}`)),
      `${err?.message} should mention ${expectedErrors[fx.name]}`,
    );
  });
}

test('errors are typed, carry the line and a stable code', (t) => {
  const err = parseError(new PromTextParser(), 'ok 1\n\n# c\nbad{1="x"} 1\n');
  t.true(err instanceof ParseError);
  t.true(err instanceof OutpostError);
  const pe = err as ParseError;
  t.is(pe.line, 4);
  t.is(pe.code, 'OUTPOST_TEXTPARSE_INVALID');
  t.regex(pe.message, /^line 4: expected label name, got "1"/);
});

test('line numbers count newlines inside label values and quoted names', (t) => {
  const p = new PromTextParser();
  const body = Buffer.from('a{x="1\n2"} 1\n{"b\nc"} 2\nd 3\n');
  p.reset(body, body.length);
  const lines: number[] = [];
  while (p.next() !== Entry.EOF) lines.push(p.line);
  t.deepEqual(lines, [1, 3, 5]);
});

test('series offsets cover name and labels, not value or timestamp', (t) => {
  const p = new PromTextParser();
  const body = Buffer.from('  up 1\nfoo {a="b"} 2 3\n{"x.y",z="1"} 4\n');
  p.reset(body, body.length);
  const raw: string[] = [];
  while (p.next() !== Entry.EOF) raw.push(body.toString('utf8', p.seriesStart, p.seriesEnd));
  t.deepEqual(raw, ['up', 'foo {a="b"}', '{"x.y",z="1"}']);
});

test('the steady-state loop reads values without touching labels', (t) => {
  const p = new PromTextParser();
  const body = Buffer.from('a{x="1"} 1 100\nb 2\nc{y="\\"q\\""} NaN 300\n');
  p.reset(body, body.length);
  const got: [string, number, boolean, number][] = [];
  while (p.next() === Entry.Series) {
    got.push([
      body.toString('latin1', p.seriesStart, p.seriesEnd),
      p.value,
      p.hasTimestamp,
      p.hasTimestamp ? p.timestamp : -1,
    ]);
  }
  t.is(got.length, 3);
  t.deepEqual(got[0], ['a{x="1"}', 1, true, 100]);
  t.deepEqual(got[1], ['b', 2, false, -1]);
  t.is(at(got, 2, 'got')[0], 'c{y="\\"q\\""}');
  t.true(Number.isNaN(at(got, 2, 'got')[1]));
  t.is(at(got, 2, 'got')[3], 300);
});

test('reset honours length and the parser is reusable', (t) => {
  const p = new PromTextParser();
  const body = Buffer.from('a 1\nb 2\ngarbage that is not parsed {{{');
  p.reset(body, 8);
  t.deepEqual(parseAllFrom(p), ['a=1', 'b=2']);
  const other = Buffer.from('c 3');
  p.reset(other, other.length);
  t.deepEqual(parseAllFrom(p), ['c=3']);
  t.is(p.next(), Entry.EOF, 'EOF is sticky');
});

function parseAllFrom(p: PromTextParser): string[] {
  const out: string[] = [];
  while (p.next() === Entry.Series) out.push(`${p.labels()[1]}=${p.value}`);
  return out;
}

test('TYPE maps to the WAL metric type codes', (t) => {
  const p = new PromTextParser();
  const body = Buffer.from(
    '# TYPE a counter\n# TYPE b gauge\n# TYPE c histogram\n# TYPE d summary\n# TYPE e untyped\n',
  );
  p.reset(body, body.length);
  const codes: number[] = [];
  while (p.next() === Entry.Type) codes.push(p.metricType);
  t.deepEqual(codes, [
    MetricType.counter,
    MetricType.gauge,
    MetricType.histogram,
    MetricType.summary,
    MetricType.unknown,
  ]);
});

test('duplicate label names are only an error with two non-empty values, as after Prometheus drops empty labels', (t) => {
  t.deepEqual(parseAll(new PromTextParser(), 'a{b="",b="1"} 1\n'), ['SERIES {__name__="a", b="", b="1"} 1']);
  t.truthy(parseError(new PromTextParser(), 'a{b="1",c="2",b="3"} 1\n'));
  // next() alone does not materialise labels; the error comes from labels().
  const p = new PromTextParser();
  const body = Buffer.from('a{b="1",b="2"} 1\n');
  p.reset(body, body.length);
  t.is(p.next(), Entry.Series);
  t.throws(() => p.labels(), { instanceOf: ParseError, message: /label name "b" is not unique/ });
});

test('text format has no exemplars', (t) => {
  const p = new PromTextParser();
  const body = Buffer.from('a 1\n');
  p.reset(body, body.length);
  p.next();
  t.false(p.hasExemplar);
  t.deepEqual(p.exemplarLabels(), []);
});

test('a label value longer than the offset table grows it', (t) => {
  const many = Array.from({ length: 40 }, (_, k) => `l${k}="v${k}"`).join(',');
  const [line] = firstN(parseAll(new PromTextParser(), `wide{${many}} 1\n`), 1, 'parseAll(...)');
  t.true(line.includes('l39="v39"'));
  t.is(line.split('=').length - 1, 41);
});

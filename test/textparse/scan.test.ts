import test from 'ava';
import {
  FloatScanner,
  FloatStatus,
  codePointCount,
  parseDigitsInt64,
  secondsToMillis,
  unescapeBytes,
  validUtf8,
} from '../../src/textparse/scan.ts';

function parse(s: string): number | 'syntax' | 'unsupported' | 'range' {
  const f = new FloatScanner();
  const b = Buffer.from(s, 'latin1');
  if (f.parse(b, 0, b.length)) return f.value;
  if (f.status === FloatStatus.unsupported) return 'unsupported';
  if (f.status === FloatStatus.range) return 'range';
  return 'syntax';
}

// Each row is what Go's strconv.ParseFloat does once Prometheus has refused p, P and _.
const floatCases: [string, number | 'syntax' | 'unsupported' | 'range'][] = [
  ['0', 0],
  ['-0', -0],
  ['+0', 0],
  ['1', 1],
  ['+1', 1],
  ['-1', -1],
  ['123456789', 123456789],
  ['4.9351e-05', 4.9351e-5],
  ['7.424100000000001e-05', 7.424100000000001e-5],
  ['1e+05', 1e5],
  ['1E5', 1e5],
  ['1e-4', 1e-4],
  ['.5', 0.5],
  ['5.', 5],
  ['-.5e-3', -0.0005],
  ['0000000000000000000000000000000000000000001.2e-1', 0.12],
  ['0000000000000000000000000000000000000000001', 1],
  ['0.0000000001', 1e-10],
  ['9223372036854775808', 2 ** 63],
  ['18446744073709551615', 2 ** 64],
  ['0.1', 0.1],
  ['0.30000000000000004', 0.30000000000000004],
  ['123456789012345678901234567890', 1.2345678901234568e29],
  ['1.7976931348623157e308', 1.7976931348623157e308],
  ['4.9e-324', 5e-324],
  ['1e-400', 0],
  ['-1e-400', -0],
  ['0e999999999', 0],
  ['2.2250738585072011e-308', 2.225073858507201e-308],
  ['NaN', NaN],
  ['nan', NaN],
  ['NAN', NaN],
  ['Inf', Infinity],
  ['+Inf', Infinity],
  ['-Inf', -Infinity],
  ['inf', Infinity],
  ['+INF', Infinity],
  ['infinity', Infinity],
  ['-Infinity', -Infinity],
  ['+iNfInItY', Infinity],
  ['1e400', 'range'],
  ['-1e400', 'range'],
  ['1.8e308', 'range'],
  ['', 'syntax'],
  [' 1', 'syntax'],
  ['1 ', 'syntax'],
  ['\t1', 'syntax'],
  ['+', 'syntax'],
  ['-', 'syntax'],
  ['.', 'syntax'],
  ['e5', 'syntax'],
  ['1e', 'syntax'],
  ['1e+', 'syntax'],
  ['1.5.3', 'syntax'],
  ['1..5', 'syntax'],
  ['--1', 'syntax'],
  ['+-1', 'syntax'],
  ['0x10', 'syntax'],
  ['0X1', 'syntax'],
  ['0b1', 'syntax'],
  ['0B1', 'syntax'],
  ['0o1', 'syntax'],
  ['0O1', 'syntax'],
  ['true', 'syntax'],
  ['a', 'syntax'],
  ['+nan', 'syntax'],
  ['-NaN', 'syntax'],
  ['nana', 'syntax'],
  ['infin', 'syntax'],
  ['infinit', 'syntax'],
  ['infinityy', 'syntax'],
  ['Infx', 'syntax'],
  ['1z', 'syntax'],
  ['1\r', 'syntax'],
  ['1,5', 'syntax'],
  ['1_2', 'unsupported'],
  ['0x1p-3', 'unsupported'],
  ['0x1P-3', 'unsupported'],
  ['1p', 'unsupported'],
  ['_1', 'unsupported'],
];

for (const [input, want] of floatCases) {
  test(`float ${JSON.stringify(input)} -> ${typeof want === 'number' ? String(want) : want}`, (t) => {
    const got = parse(input);
    if (typeof want === 'number' && typeof got === 'number') {
      t.true(Object.is(got, want), `got ${got}, want ${want}`);
    } else {
      t.is(got, want);
    }
  });
}

test('fast path and Number() agree on every short decimal of a sweep', (t) => {
  const f = new FloatScanner();
  let checked = 0;
  for (let m = 1; m < 100000; m += 7) {
    for (const e of [-25, -22, -12, -3, 0, 3, 15, 22, 25]) {
      const s = `${m}e${e}`;
      const b = Buffer.from(s);
      t.true(f.parse(b, 0, b.length));
      if (f.value !== Number(s)) t.fail(`${s}: ${f.value} != ${Number(s)}`);
      checked++;
    }
  }
  t.true(checked > 100000);
});

test('int64 millisecond timestamps: leading zeros, the int64 edge and overflow', (t) => {
  const d = (s: string): number => parseDigitsInt64(Buffer.from(s), 0, s.length);
  t.is(d('0'), 0);
  t.is(d('000123'), 123);
  t.is(d('1700000000123'), 1700000000123);
  t.is(d('9223372036854775807'), 2 ** 63);
  t.is(d('00009223372036854775807'), 2 ** 63);
  t.true(Number.isNaN(d('9223372036854775808')));
  t.true(Number.isNaN(d('99999999999999999999')));
});

test('OpenMetrics seconds become milliseconds by truncation, out of range like Go on amd64', (t) => {
  t.is(secondsToMillis(1.1), 1100);
  t.is(secondsToMillis(123.123), 123123);
  t.is(secondsToMillis(1e-10), 0);
  t.is(secondsToMillis(-1.5e-3), -1);
  t.true(Object.is(secondsToMillis(-1e-10), 0));
  t.is(secondsToMillis(1.5e3), 1500000);
  t.is(secondsToMillis(1.2345678901234567e19), -(2 ** 63));
});

test('UTF-8 validation rejects what Go rejects', (t) => {
  const v = (bytes: number[]): boolean => validUtf8(Uint8Array.from(bytes), 0, bytes.length);
  t.true(v([]));
  t.true(v([0x61, 0x00, 0x7f]));
  t.true(v([...Buffer.from('Heizölrückstoß ☃ 😀 €')]));
  t.false(v([0xff]));
  t.false(v([0x80]));
  t.false(v([0xc0, 0xaf]), 'overlong 2-byte');
  t.false(v([0xe0, 0x80, 0xaf]), 'overlong 3-byte');
  t.false(v([0xed, 0xa0, 0x80]), 'surrogate');
  t.false(v([0xf4, 0x90, 0x80, 0x80]), 'above U+10FFFF');
  t.false(v([0xe2, 0x98]), 'truncated');
  t.true(v([0xf0, 0x9f, 0x98, 0x80]));
});

test('unescaping follows the replacers: only known escapes, left to right', (t) => {
  const u = (s: string, quote: boolean): string => unescapeBytes(Buffer.from(s), 0, Buffer.byteLength(s), quote);
  t.is(u('plain', true), 'plain');
  t.is(u('a\\"b', true), 'a"b');
  t.is(u('a\\"b', false), 'a\\"b');
  t.is(u('\\\\n', true), '\\n');
  t.is(u('\\\\\\n', true), '\\\n');
  t.is(u('\\z\\', true), '\\z\\');
  t.is(u('é\\nü', true), 'é\nü');
});

test('code points, not UTF-16 units or bytes', (t) => {
  t.is(codePointCount('abc'), 3);
  t.is(codePointCount('☃'), 1);
  t.is(codePointCount('😀x'), 2);
});

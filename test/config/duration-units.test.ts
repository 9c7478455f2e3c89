import test from 'ava';
import { DurationError, formatDuration, parseDuration } from '../../src/config/duration.ts';
import { ByteSizeError, formatByteSize, parseByteSize } from '../../src/config/units.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test('parseDuration: Prometheus grammar', (t) => {
  const cases: [string, number][] = [
    ['0', 0],
    ['0s', 0],
    ['1ms', 1],
    ['15s', 15 * S],
    ['1m30s', 90 * S],
    ['1h30m', 90 * M],
    ['90d', 90 * D],
    ['2w', 14 * D],
    ['1y', 365 * D],
    ['1y2w3d4h5m6s7ms', 365 * D + 14 * D + 3 * D + 4 * H + 5 * M + 6 * S + 7],
    ['100ms', 100],
    ['0015s', 15 * S],
    ['292y', 292 * 365 * D],
  ];
  for (const [s, ms] of cases) t.is(parseDuration(s), ms, s);
});

test('parseDuration: rejects what Prometheus rejects', (t) => {
  const cases: [string, string][] = [
    ['', 'empty duration string'],
    ['5x', 'unknown unit "x" in duration "5x"'],
    ['1.5m', 'not a valid duration string: "1.5m"'],
    ['-1s', 'not a valid duration string: "-1s"'],
    ['1s1m', 'not a valid duration string: "1s1m"'],
    ['1m1m', 'not a valid duration string: "1m1m"'],
    ['s', 'not a valid duration string: "s"'],
    ['15', 'not a valid duration string: "15"'],
    [' 15s', 'not a valid duration string: " 15s"'],
    ['15s ', 'unknown unit "s " in duration "15s "'],
    ['300y', 'duration out of range'],
    ['99999999999999999999ms', 'duration out of range'],
  ];
  for (const [s, msg] of cases) {
    const err = t.throws(() => parseDuration(s), { instanceOf: DurationError }, s);
    t.is(err?.message, msg, s);
  }
});

test('formatDuration: Prometheus String() form', (t) => {
  const cases: [number, string][] = [
    [0, '0s'],
    [1, '1ms'],
    [100, '100ms'],
    [15 * S, '15s'],
    [90 * S, '1m30s'],
    [90 * M, '1h30m'],
    [D, '1d'],
    [90 * D, '90d'],
    [14 * D, '2w'],
    [365 * D, '1y'],
    [366 * D, '366d'],
    [D + 1, '1d1ms'],
    [5 * M + 500, '5m500ms'],
  ];
  for (const [ms, s] of cases) t.is(formatDuration(ms), s, String(ms));
});

test('durations round-trip through their canonical form', (t) => {
  for (const s of ['1ms', '15s', '1m30s', '2h', '90d', '2w', '1y', '1d2h3m4s5ms'])
    t.is(formatDuration(parseDuration(s)), s);
});

test('parseByteSize: Base2Bytes (KB and KiB are both 1024)', (t) => {
  const cases: [string, number][] = [
    ['0', 0],
    ['10B', 10],
    ['1KB', 1024],
    ['1KiB', 1024],
    ['10MB', 10 * 1024 ** 2],
    ['10MiB', 10 * 1024 ** 2],
    ['1GB', 1024 ** 3],
    ['2TiB', 2 * 1024 ** 4],
    ['1.5KiB', 1536],
    ['1MB512KB', 1024 ** 2 + 512 * 1024],
    ['+1KB', 1024],
    ['.5KB', 512],
  ];
  for (const [s, n] of cases) t.is(parseByteSize(s), n, s);
});

test('parseByteSize: rejects unitless, SI kB, negatives and junk', (t) => {
  for (const s of ['', '10', '10kB', '10mb', '-1MB', 'MB', '1.5', '10 MB', '.KB']) {
    t.throws(() => parseByteSize(s), { instanceOf: ByteSizeError }, s);
  }
});

test('formatByteSize: Base2Bytes String() form', (t) => {
  const cases: [number, string][] = [
    [0, '0B'],
    [10, '10B'],
    [1024, '1KiB'],
    [1536, '1KiB512B'],
    [10 * 1024 ** 2, '10MiB'],
    [1024 ** 3 + 1, '1GiB1B'],
  ];
  for (const [n, s] of cases) t.is(formatByteSize(n), s);
  for (const [n] of cases) t.is(parseByteSize(formatByteSize(n)), n);
});

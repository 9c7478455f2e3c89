import test from 'ava';
import { fitColumns, type ColumnSpec } from '../../tui/columns.ts';
import { lastScrapeText } from '../../tui/components/TargetsPanel.tsx';
import {
  cell,
  formatAge,
  formatAgeAgo,
  formatAgo,
  formatBytes,
  formatCount,
  formatDuration,
  formatRate,
  formatSeconds,
  oneLine,
  percent,
  progressBar,
  sparkline,
  truncate,
} from '../../tui/format.ts';
import { computeLayout, scrollWindow } from '../../tui/layout.ts';
import { colorFromEnv } from '../../tui/theme.ts';

const cases: readonly [string, () => string, string][] = [
  ['bytes 0', () => formatBytes(0), '0 B'],
  ['bytes 1023', () => formatBytes(1023), '1023 B'],
  ['bytes 1.5 KiB', () => formatBytes(1536), '1.5 KiB'],
  ['bytes 48 MiB', () => formatBytes(48 * 1024 * 1024), '48 MiB'],
  ['bytes negative', () => formatBytes(-1), '-'],
  ['count small', () => formatCount(9999), '9999'],
  ['count k', () => formatCount(12_345), '12.3k'],
  ['count 100k', () => formatCount(123_456), '123k'],
  ['count M', () => formatCount(4_200_000), '4.20M'],
  ['count G', () => formatCount(3_000_000_000), '3.00G'],
  ['rate zero', () => formatRate(0), '0/s'],
  ['rate small', () => formatRate(2.25), '2.3/s'],
  ['rate big', () => formatRate(25_000), '25.0k/s'],
  ['duration ms', () => formatDuration(850), '850ms'],
  ['duration s', () => formatDuration(12_000), '12s'],
  ['duration m', () => formatDuration(184_000), '3m04s'],
  ['duration h', () => formatDuration(3_723_000), '1h02m'],
  ['duration d', () => formatDuration(2 * 86_400_000 + 3 * 3_600_000), '2d03h'],
  ['seconds', () => formatSeconds(1.54), '1.5s'],
  ['seconds long', () => formatSeconds(340), '5m40s'],
  ['ago never', () => formatAgo(0, 1000), 'never'],
  ['ago', () => formatAgo(1000, 6000), '5s ago'],
  ['ago future clamps', () => formatAgo(7000, 6000), '0ms ago'],
  ['age under 10s', () => formatAge(9_999), '<10s'],
  ['age at start', () => formatAge(0), '<10s'],
  ['age in ten-second steps', () => formatAge(59_999), '50s'],
  ['age in whole minutes', () => formatAge(184_000), '3m'],
  ['age just under an hour', () => formatAge(3_599_999), '59m'],
  ['age hours', () => formatAge(3_723_000), '1h02m'],
  ['age days', () => formatAge(2 * 86_400_000 + 3 * 3_600_000 + 59_000), '2d03h'],
  ['age negative', () => formatAge(-1), '-'],
  ['age ago never', () => formatAgeAgo(0, 1000), 'never'],
  ['age ago just now', () => formatAgeAgo(1000, 10_999), 'just now'],
  ['age ago', () => formatAgeAgo(1000, 11_000), '10s ago'],
  ['age ago future clamps', () => formatAgeAgo(7000, 6000), 'just now'],
  ['last scrape never', () => lastScrapeText(0, 5000), 'never'],
  ['last scrape under 10s', () => lastScrapeText(1000, 10_999), '<10s'],
  ['last scrape 10s', () => lastScrapeText(1000, 11_000), '10s'],
  ['last scrape minutes', () => lastScrapeText(1000, 1000 + 754_000), '12m'],
  ['last scrape in the future (clock step)', () => lastScrapeText(9000, 5000), '<10s'],
  ['percent', () => percent(1, 4), '25%'],
  ['percent no max', () => percent(1, 0), '-'],
  ['bar half', () => progressBar(5, 10, 10), '█████░░░░░'],
  ['bar over', () => progressBar(20, 10, 4), '████'],
  ['bar zero max', () => progressBar(0, 0, 3), '░░░'],
  ['spark rising', () => sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8), '▁▂▃▄▅▆▇█'],
  ['spark padded', () => sparkline([5], 3), '  █'],
  ['spark keeps the tail', () => sparkline([100, 0, 7], 2), '▁█'],
  ['spark all zero', () => sparkline([0, 0], 2), '▁▁'],
  ['truncate', () => truncate('abcdef', 4), 'abc…'],
  ['truncate fits', () => truncate('abc', 3), 'abc'],
  ['cell left', () => cell('ab', 4), 'ab  '],
  ['cell right', () => cell('ab', 4, 'right'), '  ab'],
  ['cell cut', () => cell('abcdef', 4, 'right'), 'abc…'],
  ['oneLine', () => oneLine('a\n  b\r\nc'), 'a b c'],
];

for (const [name, fn, want] of cases) {
  test(`format: ${name}`, (t) => {
    t.is(fn(), want);
  });
}

test('NO_COLOR: present and non-empty disables colour', (t) => {
  t.true(colorFromEnv({}));
  t.true(colorFromEnv({ NO_COLOR: '' }));
  t.false(colorFromEnv({ NO_COLOR: '1' }));
  t.false(colorFromEnv({ NO_COLOR: 'yes' }));
});

type C = 'a' | 'b' | 'c' | 'd';
const specs: readonly ColumnSpec<C>[] = [
  { id: 'a', title: 'A', width: 10, priority: 0, flex: true, maxWidth: 15 },
  { id: 'b', title: 'B', width: 5, priority: 2 },
  { id: 'c', title: 'C', width: 5, priority: 1 },
  { id: 'd', title: 'D', width: 8, priority: 3, flex: true },
];

test('fitColumns: everything fits, flex columns share the rest evenly, capped by maxWidth', (t) => {
  const got = fitColumns(specs, 36);
  t.deepEqual(
    got.map((c) => [c.id, c.width]),
    [
      ['a', 13],
      ['b', 5],
      ['c', 5],
      ['d', 10],
    ],
  );
  t.is(got.reduce((n, c) => n + c.width, 0) + got.length - 1, 36);
  const wide = fitColumns(specs, 60);
  t.deepEqual(
    wide.map((c) => [c.id, c.width]),
    [
      ['a', 15],
      ['b', 5],
      ['c', 5],
      ['d', 32],
    ],
  );
});

test('fitColumns: narrow terminals drop the highest priority number first, never priority 0', (t) => {
  t.deepEqual(
    fitColumns(specs, 25).map((c) => c.id),
    ['a', 'b', 'c'],
  );
  t.deepEqual(
    fitColumns(specs, 20).map((c) => c.id),
    ['a', 'c'],
  );
  t.deepEqual(
    fitColumns(specs, 5).map((c) => c.id),
    ['a'],
  );
});

test('layout: 80x24 is compact and the frame fits with one spare line', (t) => {
  const l = computeLayout(80, 24, 2, false);
  t.true(l.compact);
  // header 2 + targets (2 + rows) + series 1 + wal 1 + remote (2 + rows) + footer 1
  t.is(2 + 2 + l.targetRows + 1 + 1 + 2 + l.remoteRows + 1, 23);
  t.is(l.remoteRows, 2);
});

test('layout: large terminals get bordered panels and more rows', (t) => {
  const l = computeLayout(160, 50, 3, false);
  t.false(l.compact);
  t.is(2 + 4 + l.targetRows + 7 + 4 + l.remoteRows + 1, 49);
  t.is(l.remoteRows, 3);
});

test('layout: many endpoints take at most a third of the free lines', (t) => {
  const l = computeLayout(80, 24, 50, false);
  t.true(l.remoteRows <= 5);
  t.true(l.targetRows >= 2 * l.remoteRows);
});

test('layout: the replay line is budgeted while replaying', (t) => {
  const a = computeLayout(80, 24, 1, false);
  const b = computeLayout(80, 24, 1, true);
  t.is(a.targetRows + a.remoteRows - (b.targetRows + b.remoteRows), 1);
});

test('layout: the OTLP receiver line is budgeted when the receiver is on', (t) => {
  for (const [cols, rows] of [
    [80, 24],
    [160, 50],
  ] as const) {
    const a = computeLayout(cols, rows, 1, false);
    const b = computeLayout(cols, rows, 1, false, 1);
    t.is(a.targetRows + a.remoteRows - (b.targetRows + b.remoteRows), 1, `${cols}x${rows}`);
  }
});

test('scrollWindow keeps the selection visible', (t) => {
  t.is(scrollWindow(5, 10, 4), 0);
  t.is(scrollWindow(100, 10, 0), 0);
  t.is(scrollWindow(100, 10, 50), 45);
  t.is(scrollWindow(100, 10, 99), 90);
});

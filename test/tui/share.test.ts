import test from 'ava';
import { RateHistory } from '../../tui/history.ts';
import { share } from '../../tui/share.ts';
import { initialUiState } from '../../tui/state.ts';
import { buildScreen, type ScreenInput } from '../../tui/view.ts';
import { makeSnapshot } from './fixtures.ts';

test('share: deeply equal data gives back the previous object itself', (t) => {
  const prev = { a: 1, b: ['x', { c: null, d: undefined }], e: { f: true } };
  const next = structuredClone(prev);
  t.is(share(prev, next), prev);
  t.is(share([1, 'a'], [1, 'a']).length, 2);
  t.is(share(Number.NaN, Number.NaN), Number.NaN);
});

test('share: a change keeps every equal branch from the previous object', (t) => {
  const prev = { header: { up: '1h02m' }, rows: [{ k: 'a' }, { k: 'b' }], n: 1 };
  const next = { header: { up: '1h02m' }, rows: [{ k: 'a' }, { k: 'B' }], n: 1 };
  const got = share(prev, next);
  t.not(got, prev);
  t.deepEqual(got, next);
  t.is(got.header, prev.header);
  t.is(got.rows[0], prev.rows[0]);
  t.not(got.rows[1], prev.rows[1]);
});

const differ: readonly [string, unknown, unknown][] = [
  ['an added key', { a: 1 }, { a: 1, b: 2 }],
  ['a removed key', { a: 1, b: 2 }, { a: 1 }],
  ['an undefined value against a missing key', { a: 1 }, { a: 1, b: undefined }],
  ['a longer array', [1, 2], [1, 2, 3]],
  ['a shorter array', [1, 2, 3], [1, 2]],
  ['an array against an object', { 0: 'a', length: 1 }, ['a']],
  ['null against an object', null, {}],
  ['a number against its string', 1, '1'],
];

for (const [name, prev, next] of differ) {
  test(`share: ${name} is a change`, (t) => {
    const got = share(prev, next);
    t.not(got, prev);
    t.deepEqual(got, next);
  });
}

test('share: class instances and functions compare by identity only', (t) => {
  const d1 = new Date(0);
  const d2 = new Date(0);
  t.is(share({ d: d1 }, { d: d2 }).d, d2);
  const f = () => 1;
  const prev = { f };
  t.is(share(prev, { f }), prev);
  t.not(share(prev, { f: () => 1 }), prev);
});

function input(): ScreenInput {
  return { ui: initialUiState, columns: 100, rows: 30, history: new RateHistory() };
}

test('screen model: an idle refresh one second later derives an equal screen', (t) => {
  const inp = input();
  const s = makeSnapshot({ targets: [], remote: [] });
  const a = buildScreen(s, inp);
  const b = buildScreen({ ...structuredClone(s), at: s.at + 1000 }, inp);
  t.is(share(a, b), a);
});

test('screen model: one changed panel leaves the other panels identical by reference', (t) => {
  const inp = input();
  const s = makeSnapshot({ targets: [], remote: [] });
  const a = buildScreen(s, inp);
  const b = share(a, buildScreen({ ...structuredClone(s), at: s.at + 1000, series: { ...s.series, active: 99 } }, inp));
  t.not(b, a);
  t.is(b.header, a.header);
  t.is(b.footer, a.footer);
  if (a.main.kind !== 'dashboard' || b.main.kind !== 'dashboard') throw new Error('dashboard expected');
  t.not(b.main.dashboard.series, a.main.dashboard.series);
  t.is(b.main.dashboard.series.active, '99');
  t.is(b.main.dashboard.targets, a.main.dashboard.targets);
  t.is(b.main.dashboard.wal, a.main.dashboard.wal);
  t.is(b.main.dashboard.remote, a.main.dashboard.remote);
});

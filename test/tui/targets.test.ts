import test from 'ava';
import { RateHistory } from '../../tui/history.ts';
import { initialUiState, uiReducer, type UiState } from '../../tui/state.ts';
import { matchesFilter, sortTargets, visibleTargets } from '../../tui/targets.ts';
import { makeRemote, makeSnapshot, makeTarget, NOW } from './fixtures.ts';

const targets = [
  makeTarget({
    pool: 'node',
    instance: 'b:9100',
    health: 'up',
    samples: 10,
    lastDurationMs: 30,
    lastScrape: NOW - 1000,
  }),
  makeTarget({
    pool: 'node',
    instance: 'a:9100',
    health: 'down',
    samples: 0,
    lastDurationMs: 90,
    lastScrape: NOW - 3000,
    lastError: 'connection refused',
  }),
  makeTarget({
    pool: 'app',
    instance: 'c:8080',
    health: 'unknown',
    samples: 500,
    lastDurationMs: 10,
    lastScrape: 0,
    labels: { env: 'prod' },
  }),
];

const order = (ts: readonly { instance: string }[]) => ts.map((x) => x.instance).join(',');

const sortCases = [
  ['pool', false, 'c:8080,a:9100,b:9100'],
  ['instance', false, 'a:9100,b:9100,c:8080'],
  ['health', false, 'a:9100,c:8080,b:9100'],
  ['samples', true, 'c:8080,b:9100,a:9100'],
  ['duration', false, 'c:8080,b:9100,a:9100'],
  ['lastScrape', true, 'b:9100,a:9100,c:8080'],
] as const;

for (const [key, desc, want] of sortCases) {
  test(`sort by ${key}${desc ? ' desc' : ''}`, (t) => {
    t.is(order(sortTargets(targets, { key, desc })), want);
  });
}

test('filter matches pool, instance, health, error and labels; all terms must match', (t) => {
  const f = (q: string) => order(visibleTargets(targets, q, { key: 'instance', desc: false }));
  t.is(f(''), 'a:9100,b:9100,c:8080');
  t.is(f('APP'), 'c:8080');
  t.is(f('refused'), 'a:9100');
  t.is(f('env=prod'), 'c:8080');
  t.is(f('node down'), 'a:9100');
  t.is(f('nothing-like-this'), '');
  t.true(matchesFilter(targets[0]!, '  '));
});

test('reducer: Tab cycles through the four panels both ways', (t) => {
  let s: UiState = initialUiState;
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    s = uiReducer(s, { type: 'focusNext' });
    seen.push(s.focus);
  }
  t.deepEqual(seen, ['series', 'wal', 'remote', 'targets']);
  t.is(uiReducer(initialUiState, { type: 'focusPrev' }).focus, 'remote');
});

test('reducer: moves add up before a re-render and clamp at the ends', (t) => {
  const lists = { targets: ['a', 'b', 'c'], remote: ['x'] };
  let s = uiReducer(initialUiState, { type: 'move', lists, by: 1 });
  s = uiReducer(s, { type: 'move', lists, by: 1 });
  t.is(s.selectedTarget, 'c');
  s = uiReducer(s, { type: 'move', lists, by: 5 });
  t.is(s.selectedTarget, 'c');
  s = uiReducer(s, { type: 'moveTo', lists, where: 'top' });
  t.is(s.selectedTarget, 'a');
  // Series has no list: moving there changes nothing.
  const onSeries = uiReducer(s, { type: 'focusNext' });
  t.is(uiReducer(onSeries, { type: 'move', lists, by: 1 }), onSeries);
});

test('reducer: Esc during a filter edit restores the previous filter', (t) => {
  let s = uiReducer({ ...initialUiState, filter: 'old' }, { type: 'filterStart' });
  s = uiReducer(s, { type: 'filterInput', text: 'x' });
  t.is(s.filter, 'oldx');
  s = uiReducer(s, { type: 'filterCancel' });
  t.is(s.filter, 'old');
  t.false(s.editingFilter);
});

test('rate history: one point per second of snapshot time, latest value wins within a second', (t) => {
  const h = new RateHistory(3, 1000);
  const snap = (at: number, rate: number) => makeSnapshot({ at, remote: [makeRemote({ name: 'p', sendRate: rate })] });
  h.observe(snap(0, 1));
  h.observe(snap(500, 2));
  t.deepEqual(h.get('p'), [2]);
  for (const [i, r] of [3, 4, 5, 6].entries()) h.observe(snap(1000 * (i + 1), r));
  t.deepEqual(h.get('p'), [4, 5, 6]);
  const same = snap(9000, 9);
  h.observe(same);
  h.observe(same);
  t.deepEqual(h.get('p'), [5, 6, 9]);
  h.observe(makeSnapshot({ at: 10_000, remote: [] }));
  t.deepEqual(h.get('p'), [], 'endpoints removed by a reload are forgotten');
});

import test from 'ava';
import type { StatusSnapshot } from '../../src/status/types.ts';
import { makeRemote, makeSnapshot, tick } from './fixtures.ts';
import { mount } from './helpers.tsx';

/**
 * The hub rebuilds its snapshot every second: new objects, a new `at`, usually the same numbers. Each Ink frame
 * re-lays out and re-draws the whole screen, so an idle agent must not cost one per refresh. ink-testing-library
 * runs Ink in debug mode, which writes every frame it renders, so frames.length counts renders.
 */
function refresh(base: StatusSnapshot, offsetMs: number, over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  // structuredClone: like the hub, fresh arrays and objects even when nothing changed.
  return { ...structuredClone(base), at: base.at + offsetMs, ...over };
}

const seconds = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => (from + i) * 1000);

// Fixture ages at NOW: up 1h02m03s, reload 1m00s ago, oldest WAL data 2h00m. Nothing scraped, no endpoint.
const idle = makeSnapshot({ targets: [], remote: [] });

interface Case {
  readonly name: string;
  readonly base: StatusSnapshot;
  /** Snapshot time of each refresh, relative to the base snapshot. */
  readonly offsets: readonly number[];
  /** What else differs in the refresh at that offset. */
  readonly change?: (offsetMs: number) => Partial<StatusSnapshot>;
  readonly frames: (n: number) => boolean;
  readonly want: string;
  readonly shows?: RegExp;
}

const cases: readonly Case[] = [
  {
    name: 'the same snapshot rebuilt ten times',
    base: idle,
    offsets: Array<number>(10).fill(0),
    frames: (n) => n === 0,
    want: 'no frame',
  },
  {
    name: 'fifty idle one-second refreshes (uptime, reload age and WAL age are coarse)',
    base: idle,
    offsets: seconds(1, 50),
    frames: (n) => n === 0,
    want: 'no frame',
  },
  {
    name: 'the uptime reaching the next minute',
    base: idle,
    offsets: seconds(56, 57),
    frames: (n) => n === 1,
    want: 'one frame',
    shows: /up 1h03m/,
  },
  // Scraped 5 s before NOW: LAST reads "<10s" for the next four seconds, then "10s".
  {
    name: 'one-second refreshes with targets on screen',
    base: makeSnapshot({ remote: [] }),
    offsets: seconds(1, 5),
    frames: (n) => n === 1,
    want: 'one frame',
    shows: /node-1:9100 +up +10s/,
  },
  // Control, with the same timing: a displayed number that changes on every refresh.
  {
    name: 'five refreshes that each change a displayed number',
    base: idle,
    offsets: seconds(1, 5),
    change: (off) => ({ series: { ...idle.series, samplesAppended: off / 1000 } }),
    frames: (n) => n === 5,
    want: 'five frames',
    shows: /samples appended +5\b/,
  },
];

for (const c of cases) {
  test.serial(`idle: ${c.name} draws ${c.want}`, async (t) => {
    const m = await mount({ snapshot: c.base });
    await tick(20);
    const before = m.frames.length;
    for (const off of c.offsets) {
      m.store.set(refresh(c.base, off, c.change?.(off)));
      await tick(5);
    }
    await tick(30);
    const drawn = m.frames.length - before;
    t.true(c.frames(drawn), `frames drawn: ${drawn}`);
    if (c.shows !== undefined) t.regex(m.frame(), c.shows);
    m.unmount();
  });
}

test.serial('idle: a changed number draws exactly one frame, and only while it keeps changing', async (t) => {
  const m = await mount({ snapshot: idle });
  await tick(20);
  const before = m.frames.length;
  m.store.set(refresh(idle, 1000, { series: { ...idle.series, active: 1501 } }));
  await m.until('active            1501');
  t.is(m.frames.length - before, 1);
  for (const off of seconds(2, 6)) {
    m.store.set(refresh(idle, off, { series: { ...idle.series, active: 1501 } }));
    await tick(5);
  }
  await tick(30);
  t.is(m.frames.length - before, 1, 'the same number again draws nothing');
  m.unmount();
});

test.serial('idle: a key press still draws at once while the data is unchanged', async (t) => {
  const m = await mount({ snapshot: idle });
  await tick(20);
  const before = m.frames.length;
  m.store.set(refresh(idle, 1000));
  await tick(10);
  t.is(m.frames.length, before);
  await m.press('\t');
  await m.until('▸Series');
  t.is(m.frames.length - before, 1);
  m.unmount();
});

test.serial('idle: the send-rate sparkline draws while it fills, then a steady rate draws nothing', async (t) => {
  const base = makeSnapshot({ targets: [], remote: [makeRemote({ sendRate: 0 })] });
  const m = await mount({ snapshot: base });
  await tick(20);
  const drawn: number[] = [];
  for (const off of seconds(1, 45)) {
    const before = m.frames.length;
    m.store.set(refresh(base, off));
    await tick(5);
    drawn.push(m.frames.length - before);
  }
  // One new point per second of snapshot time until the TREND column is full (at most 30 cells wide).
  t.true(
    drawn.slice(0, 5).every((n) => n === 1),
    drawn.join(','),
  );
  t.deepEqual(drawn.slice(30), Array<number>(15).fill(0), drawn.join(','));
  t.regex(m.frame(), /primary .* ▁{8,} /);
  m.unmount();
});

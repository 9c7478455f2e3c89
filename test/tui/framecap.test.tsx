import test from 'ava';
import { makeSnapshot, tick } from './fixtures.ts';
import { mount } from './helpers.tsx';

async function flood(maxFps: number, updates: number): Promise<{ renders: number; elapsed: number }> {
  const m = await mount({ maxFps, columns: 80, rows: 24 });
  await tick(100);
  const before = m.frames.length;
  const start = performance.now();
  const base = makeSnapshot();
  for (let i = 1; i <= updates; i++) {
    m.store.set({ ...base, at: base.at + i, series: { ...base.series, active: i } });
    await tick(1);
  }
  const elapsed = performance.now() - start;
  // The trailing update still arrives: nothing is lost, only coalesced.
  await m.until(`active ${updates} `);
  const renders = m.frames.length - before;
  m.unmount();
  return { renders, elapsed };
}

test.serial('a burst of hub notifications is coalesced to the frame cap', async (t) => {
  const { renders, elapsed } = await flood(20, 200);
  // One frame per 50 ms interval, plus the leading frame and the trailing one after the burst.
  const cap = Math.ceil(elapsed / 50) + 3;
  t.true(renders >= 2, `renders=${renders}`);
  t.true(renders <= cap, `renders=${renders} in ${elapsed.toFixed(0)} ms, cap ${cap}`);
});

test.serial('control: without a meaningful cap the same burst renders many times', async (t) => {
  const { renders } = await flood(1000, 100);
  t.true(renders > 30, `renders=${renders}`);
});

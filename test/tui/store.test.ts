import test from 'ava';
import { throttleStore, type Scheduler } from '../../tui/store.ts';

/** Manual clock: timers fire only when the test advances time. */
class ManualScheduler implements Scheduler {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
  get pending(): number {
    return this.timers.length;
  }
}

function source() {
  let value = 0;
  const listeners = new Set<() => void>();
  return {
    getSnapshot: () => value,
    subscribe: (fn: () => void) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    bump() {
      value++;
      for (const fn of listeners) fn();
    },
    get listeners() {
      return listeners.size;
    },
  };
}

test('1000 notifications in one interval give one leading and one trailing update', (t) => {
  const sched = new ManualScheduler();
  const src = source();
  const store = throttleStore(src, 100, sched);
  const seen: number[] = [];
  store.subscribe(() => seen.push(store.getSnapshot()));
  for (let i = 0; i < 1000; i++) {
    src.bump();
    sched.advance(0.05);
  }
  t.deepEqual(seen, [1], 'leading edge only so far');
  t.is(store.getSnapshot(), 1, 'getSnapshot stays on the published value between frames');
  sched.advance(100);
  t.deepEqual(seen, [1, 1000], 'trailing edge carries the newest snapshot');
  t.is(store.notifications(), 2);
});

test('a steady stream is capped at one update per interval', (t) => {
  const sched = new ManualScheduler();
  const src = source();
  const store = throttleStore(src, 50, sched);
  let renders = 0;
  store.subscribe(() => renders++);
  // 2000 notifications over one second (one per 0.5 ms).
  for (let i = 0; i < 2000; i++) {
    src.bump();
    sched.advance(0.5);
  }
  sched.advance(50);
  t.true(renders >= 19 && renders <= 21, `renders=${renders}`);
  t.is(store.getSnapshot(), 2000);
});

test('quiet sources publish immediately, and unchanged snapshots notify nobody', (t) => {
  const sched = new ManualScheduler();
  const src = source();
  const store = throttleStore(src, 100, sched);
  let renders = 0;
  store.subscribe(() => renders++);
  src.bump();
  t.is(renders, 1);
  sched.advance(500);
  src.bump();
  t.is(renders, 2, 'no delay after a quiet period');
  sched.advance(500);
  // Notification without a new snapshot (same value): no re-render.
  const same = throttleStore({ getSnapshot: () => 7, subscribe: src.subscribe }, 100, sched);
  let sameRenders = 0;
  same.subscribe(() => sameRenders++);
  src.bump();
  sched.advance(200);
  t.is(sameRenders, 0);
});

test('subscribes to the source lazily and lets go of it (and its timer) with the last listener', (t) => {
  const sched = new ManualScheduler();
  const src = source();
  const store = throttleStore(src, 100, sched);
  t.is(src.listeners, 0);
  src.bump();
  const off = store.subscribe(() => {});
  t.is(src.listeners, 1);
  t.is(store.getSnapshot(), 1, 'picks up changes made before the first subscriber');
  src.bump();
  src.bump();
  t.is(sched.pending, 1);
  off();
  t.is(src.listeners, 0);
  t.is(sched.pending, 0);
});

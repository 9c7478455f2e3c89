/** Time source injected everywhere time matters, so tests can drive it. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (sample timestamps). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(h: TimerHandle): void;
  /**
   * A high-resolution monotonic reading (ms) for measuring how long something took. Optional: a clock
   * without it measures durations with now(), which is what a fake clock wants.
   */
  monotonic?(): number;
}

/** Opaque: only ever passed back to clearTimeout. */
export type TimerHandle = object;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  monotonic: () => performance.now(),
};

/** Milliseconds for measuring durations on `clock`: its monotonic reading when it has one. */
export function elapsedSource(clock: Clock): () => number {
  return clock.monotonic ? clock.monotonic.bind(clock) : clock.now.bind(clock);
}

/** A manually advanced clock for tests: timers fire in order when advance() passes their due time. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: { id: number; due: number; fn: () => void }[] = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const h = { id: ++this.seq, due: this.t + Math.max(0, ms), fn };
    this.timers.push(h);
    return h;
  }

  clearTimeout(h: TimerHandle): void {
    this.timers = this.timers.filter((x) => x !== h);
  }

  /** Moves time forward, firing due timers in due order (timers set while firing are honoured). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: { id: number; due: number; fn: () => void } | undefined;
      for (const x of this.timers) if (x.due <= end && (!next || x.due < next.due || (x.due === next.due && x.id < next.id))) next = x;
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.due);
      next.fn();
    }
    this.t = end;
  }

  get pending(): number {
    return this.timers.length;
  }
}

/** Promise that resolves after ms on the given clock. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const h = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(h);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

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

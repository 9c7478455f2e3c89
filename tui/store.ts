/**
 * Frame cap for the data path. The hub may notify many times a second (every reload, phase change, refresh);
 * React must not re-render for each one. This wrapper forwards at most one notification per interval
 * (leading edge, then one trailing), and between notifications getSnapshot() keeps returning the snapshot
 * it last published, which is what useSyncExternalStore needs to stay consistent.
 */
export interface SnapshotSource<T> {
  getSnapshot(): T;
  subscribe(fn: () => void): () => void;
}

export interface Scheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface ThrottledStore<T> extends SnapshotSource<T> {
  /** How many times listeners were notified (tests and diagnostics). */
  readonly notifications: () => number;
}

export function throttleStore<T>(
  source: SnapshotSource<T>,
  intervalMs: number,
  scheduler: Scheduler = realScheduler,
): ThrottledStore<T> {
  const listeners = new Set<() => void>();
  let current = source.getSnapshot();
  let lastEmit = Number.NEGATIVE_INFINITY;
  let timer: unknown = null;
  let unsubscribeSource: (() => void) | null = null;
  let count = 0;

  const emit = (): void => {
    timer = null;
    lastEmit = scheduler.now();
    const next = source.getSnapshot();
    if (Object.is(next, current)) return;
    current = next;
    count++;
    for (const fn of listeners) fn();
  };

  const onSource = (): void => {
    if (timer !== null) return;
    const wait = lastEmit + intervalMs - scheduler.now();
    if (wait <= 0) emit();
    else timer = scheduler.setTimeout(emit, wait);
  };

  return {
    getSnapshot: () => current,
    subscribe(fn) {
      listeners.add(fn);
      if (unsubscribeSource === null) {
        unsubscribeSource = source.subscribe(onSource);
        // The source may have moved on before anyone listened; pick that up without waiting for its next tick.
        current = source.getSnapshot();
      }
      return () => {
        listeners.delete(fn);
        if (listeners.size === 0 && unsubscribeSource !== null) {
          unsubscribeSource();
          unsubscribeSource = null;
          if (timer !== null) scheduler.clearTimeout(timer);
          timer = null;
        }
      };
    },
    notifications: () => count,
  };
}

/**
 * Driving async code on a FakeClock: advance() fires due timers synchronously, and what they
 * resolve continues on the microtask queue. These helpers interleave the two so a test can run
 * minutes of retries, backoffs and resharding in milliseconds of real time.
 */
import type { FakeClock } from './fake-clock.ts';

/** Lets every pending promise continuation run (a macrotask turn drains the microtask queue). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Advances the clock by ms in steps, settling after each. */
export async function runFor(clock: FakeClock, ms: number, stepMs = 10): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Math.min(stepMs, ms - t));
    await settle();
  }
}

/**
 * Advances the clock in steps until `p` settles; throws if it has not after maxMs of virtual time.
 * Returns p's value.
 */
export async function runUntil<T>(
  clock: FakeClock,
  p: Promise<T>,
  opts: { stepMs?: number; maxMs?: number } = {},
): Promise<T> {
  const step = opts.stepMs ?? 10;
  const max = opts.maxMs ?? 600_000;
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  await settle();
  for (let t = 0; !done; t += step) {
    if (t >= max) throw new Error(`still pending after ${max} ms of virtual time`);
    clock.advance(step);
    await settle();
  }
  return watched;
}

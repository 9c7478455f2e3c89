/**
 * Opt-in (OUTPOST_CODE_FLUSH=1): drops, once, 2 s after the agent is ready, the bytecode of every
 * function not running at that moment.
 *
 * V8 keeps a function's bytecode until it has gone unused through bytecode-old-age (6) full GCs. An
 * edge agent (1k series) does about one full GC a minute or fewer, so the bytecode of what only ran
 * at start-up (flag parsing, YAML, config checks, module set-up) stays for good: about 1.8 MB of a
 * ~10 MB heap (bundle under node, 15 s in: used heap after GC 10.4 -> 8.6 MB). Forced GCs do not age
 * functions, so the flush is V8's own stress-flush mode switched on for one full GC; code that runs
 * again is compiled again on its next call, lazily as at start-up.
 *
 * Not on by default because of its CPU cost. At the edge (SEA, T=2 S=500 every 10 s, window 30-90 s
 * after start, as the benchmark's warm-up and window): RssAnon 28.6-32.1 -> 23.9-26.0 MiB, but CPU in the
 * window 7-12 -> 16 ticks: the hot code is compiled, and tiered up, again. Whether that cost fades
 * after the first minutes was not measured.
 *
 * v8.setFlagsFromString after start-up is allowed but unsupported territory ("may do nothing"); any
 * failure leaves the agent as it was.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

export const CODE_FLUSH_ENV = 'OUTPOST_CODE_FLUSH';

/** Once the start-up's promise chains have settled. */
const FLUSH_DELAY_MS = 2_000;

type GcFn = (opts: { type: 'major'; execution: 'sync' }) => void;

/** Flushes now; false when V8 did not let it. */
export function flushUnusedBytecode(): boolean {
  try {
    v8.setFlagsFromString('--expose-gc');
    // A fresh context gets the gc() the flag exposes; the agent's own global stays without it.
    const gc = vm.runInNewContext('gc') as GcFn | undefined;
    if (typeof gc !== 'function') return false;
    v8.setFlagsFromString('--stress-flush-code');
    try {
      gc({ type: 'major', execution: 'sync' });
    } finally {
      // --stress-flush-code also turned on --flush-baseline-code (a V8 implication), which would
      // drop the baseline code of the hot loops at every full GC from then on.
      v8.setFlagsFromString('--no-stress-flush-code');
      v8.setFlagsFromString('--no-flush-baseline-code');
    }
    return true;
  } catch {
    return false;
  }
}

/** Schedules the one flush when asked for; the timer does not keep the process alive. */
export function scheduleBytecodeFlush(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (env[CODE_FLUSH_ENV] !== '1') return false;
  setTimeout(flushUnusedBytecode, FLUSH_DELAY_MS).unref();
  return true;
}

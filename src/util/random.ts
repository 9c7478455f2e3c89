/** A source of uniform numbers in [0, 1), injected where jitter matters so tests can fix it. */
export type Random = () => number;

export const systemRandom: Random = Math.random;

/**
 * A small deterministic generator (mulberry32): the same seed gives the same sequence, so tests of
 * jittered backoff run the same way every time. Not for anything that needs unpredictability.
 */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

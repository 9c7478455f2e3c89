/**
 * Structural sharing for plain view data (primitives, arrays, plain objects): returns `prev` itself when `next`
 * is deeply equal to it, otherwise `next` with every deeply equal branch swapped for the one from `prev`.
 *
 * The dashboard derives its whole display model from each snapshot. Sharing makes "nothing on screen changed"
 * an identity check: the store selector hands React the previous model (no re-render, so no Ink frame), and
 * when one panel changes, the memoised panels beside it still get props that are identical by reference.
 * Anything that is not a plain object or array (class instances, functions) is compared by identity only.
 */
export function share<T>(prev: T, next: T): T {
  return shareValue(prev, next) as T;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function shareValue(prev: unknown, next: unknown): unknown {
  if (Object.is(prev, next)) return prev;
  if (typeof prev !== 'object' || typeof next !== 'object' || prev === null || next === null) return next;
  if (Array.isArray(prev)) {
    if (!Array.isArray(next)) return next;
    return shareArray(prev, next);
  }
  if (Array.isArray(next) || !isPlainObject(prev) || !isPlainObject(next)) return next;
  return shareObject(prev as Record<string, unknown>, next as Record<string, unknown>);
}

function shareArray(prev: readonly unknown[], next: readonly unknown[]): readonly unknown[] {
  let same = prev.length === next.length;
  const out: unknown[] = new Array<unknown>(next.length);
  for (let i = 0; i < next.length; i++) {
    const v = i < prev.length ? shareValue(prev[i], next[i]) : next[i];
    out[i] = v;
    if (same && v !== prev[i]) same = false;
  }
  return same ? prev : out;
}

function shareObject(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(next);
  let same = keys.length === Object.keys(prev).length;
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const had = Object.hasOwn(prev, k);
    const v = had ? shareValue(prev[k], next[k]) : next[k];
    out[k] = v;
    if (same && (!had || v !== prev[k])) same = false;
  }
  return same ? prev : out;
}

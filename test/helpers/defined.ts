/**
 * Presence checks for tests and benchmarks under `noUncheckedIndexedAccess`. A missing element or key fails
 * the test at once with a message naming what was missing, instead of a `!` that lets `undefined` through to
 * a later "Cannot read properties of undefined" far from the cause.
 */

/** A value a test expected to be there is not. */
class MissingValueError extends Error {
  override name = 'MissingValueError';
}

/** `value`, or a MissingValueError naming `what` when it is undefined. */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new MissingValueError(`expected ${what}, got undefined`);
  return value;
}

/** `list[index]`, or a MissingValueError naming `what` and the actual length when the list is shorter. */
export function at<T>(list: ArrayLike<T>, index: number, what: string): T {
  if (!Number.isInteger(index) || index < 0 || index >= list.length) {
    throw new MissingValueError(`expected ${what}[${index}], but it has ${list.length} element(s)`);
  }
  return list[index] as T;
}

type Tuple<T, N extends number, R extends T[] = []> = R['length'] extends N ? R : Tuple<T, N, [...R, T]>;

/**
 * The first `n` elements as a tuple, for `const [a, b] = firstN(list, 2, 'series')`: a MissingValueError when
 * the list has fewer. Longer lists are fine, like plain destructuring; assert the length where it matters.
 */
export function firstN<T, N extends number>(list: readonly T[], n: N, what: string): Tuple<T, N> {
  if (list.length < n) {
    throw new MissingValueError(`expected ${what} to have at least ${n} element(s), but it has ${list.length}`);
  }
  return list.slice(0, n) as Tuple<T, N>;
}

/**
 * Prometheus durations (common/model.Duration): a sequence of `<digits><unit>` with units
 * y w d h m s ms, biggest first, each at most once (`1h30m`, `90d`, `100ms`). A bare `0` is
 * allowed; fractions, signs and spaces are not. A year is 365 days, a week 7 days.
 * Values are milliseconds (Prometheus keeps nanoseconds, but the grammar cannot express less
 * than 1ms, so nothing is lost).
 */
import { OutpostError } from '../util/errors.ts';

export class DurationError extends OutpostError {
  /** Short reason without the input, for messages that quote the input themselves. */
  readonly reason: string;
  constructor(message: string, reason: string) {
    super('OUTPOST_DURATION_INVALID', message);
    this.reason = reason;
  }
}

const MS = 1;
const SECOND = 1000 * MS;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const YEAR = 365 * DAY;

/** Unit → [position (must strictly increase), milliseconds]. */
const UNITS: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['y', [1, YEAR]],
  ['w', [2, WEEK]],
  ['d', [3, DAY]],
  ['h', [4, HOUR]],
  ['m', [5, MINUTE]],
  ['s', [6, SECOND]],
  ['ms', [7, MS]],
] as const);

/** Go's time.Duration is int64 nanoseconds; Prometheus rejects anything longer (~292 years). */
const MAX_DURATION_MS = Math.floor(2 ** 63 / 1e6);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Parses a Prometheus duration into milliseconds; throws DurationError. */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new DurationError('empty duration string', 'empty duration string');
  const bad = (): DurationError =>
    new DurationError(`not a valid duration string: ${JSON.stringify(s)}`, 'not a valid duration string');
  let total = 0;
  let lastPos = 0;
  let i = 0;
  while (i < s.length) {
    const numStart = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i === numStart) throw bad();
    const digits = s.slice(numStart, i);
    const unitStart = i;
    while (i < s.length && !isDigit(s.charCodeAt(i))) i++;
    if (i === unitStart) throw bad();
    const unitName = s.slice(unitStart, i);
    const unit = UNITS.get(unitName);
    if (!unit) {
      if (unitName.startsWith('.')) {
        throw new DurationError(
          `not a valid duration string: ${JSON.stringify(s)}`,
          'fractions are not allowed; combine units instead, e.g. 1m30s',
        );
      }
      throw new DurationError(
        `unknown unit ${JSON.stringify(unitName)} in duration ${JSON.stringify(s)}`,
        `unknown unit ${JSON.stringify(unitName)}`,
      );
    }
    if (unit[0] <= lastPos) throw bad();
    lastPos = unit[0];
    // BigInt keeps the overflow check exact for absurd digit strings.
    const v = BigInt(digits) * BigInt(unit[1]);
    total += Number(v > BigInt(MAX_DURATION_MS) ? BigInt(MAX_DURATION_MS) + 1n : v);
    if (total > MAX_DURATION_MS) throw new DurationError('duration out of range', 'duration out of range');
  }
  return total;
}

/**
 * Prometheus' Duration.String(): years and weeks only when they divide the rest exactly (so 90d
 * stays 90d, not 12w6d), then d h m s ms greedily; zero is "0s".
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`formatDuration: ${ms} is not finite`);
  let rest = Math.trunc(ms);
  if (rest === 0) return '0s';
  let out = '';
  if (rest < 0) {
    out = '-';
    rest = -rest;
  }
  const part = (unit: string, mult: number, exact: boolean): void => {
    if (exact && rest % mult !== 0) return;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${unit}`;
      rest -= v * mult;
    }
  };
  part('y', YEAR, true);
  part('w', WEEK, true);
  part('d', DAY, false);
  part('h', HOUR, false);
  part('m', MINUTE, false);
  part('s', SECOND, false);
  part('ms', MS, false);
  return out;
}

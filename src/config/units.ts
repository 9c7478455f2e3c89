/**
 * Byte sizes as Prometheus reads `body_size_limit` (alecthomas/units.Base2Bytes): every prefix is
 * a power of 1024 whether written KB or KiB (`10MB` = 10 MiB = 10485760). A lowercase `kB` is
 * rejected, a unit is required except for a bare `0`, fractions (`1.5KB`) and sequences
 * (`1MB512KB`) are allowed, the result is truncated to whole bytes.
 */
import { OutpostError } from '../util/errors.ts';

export class ByteSizeError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_BYTE_SIZE_INVALID', message);
  }
}

const PREFIXES = ['', 'K', 'M', 'G', 'T', 'P', 'E'] as const;

const UNITS: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>([['B', 1]]);
  for (let i = 1; i < PREFIXES.length; i++) {
    m.set(`${PREFIXES[i]}B`, 1024 ** i);
    m.set(`${PREFIXES[i]}iB`, 1024 ** i);
  }
  return m;
})();

function isNumChar(c: string): boolean {
  return c === '.' || (c >= '0' && c <= '9');
}

/** Parses a Base2Bytes size into bytes; throws ByteSizeError. Negative sizes are rejected. */
export function parseByteSize(input: string): number {
  let s = input;
  if (s.startsWith('+')) s = s.slice(1);
  else if (s.startsWith('-')) throw new ByteSizeError(`${JSON.stringify(input)} is negative`);
  if (s === '0') return 0;
  if (s === '') throw new ByteSizeError(`invalid size ${JSON.stringify(input)}`);
  let total = 0;
  let i = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
    const whole = s.slice(start, i);
    let frac = '';
    if (s[i] === '.') {
      i++;
      const fs = i;
      while (i < s.length && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
      frac = s.slice(fs, i);
    }
    if (whole === '' && frac === '') throw new ByteSizeError(`invalid size ${JSON.stringify(input)}`);
    const us = i;
    while (i < s.length && !isNumChar(s.charAt(i))) i++;
    const unit = s.slice(us, i);
    const mult = UNITS.get(unit);
    if (mult === undefined) {
      throw new ByteSizeError(
        unit === ''
          ? `size ${JSON.stringify(input)} needs a unit (B, KB, MB, GB, ... or KiB, MiB, ...)`
          : `unknown unit ${JSON.stringify(unit)} in size ${JSON.stringify(input)}`,
      );
    }
    total += Number(`${whole || '0'}.${frac || '0'}`) * mult;
  }
  if (total > Number.MAX_SAFE_INTEGER) throw new ByteSizeError(`size ${JSON.stringify(input)} is too large`);
  return Math.trunc(total);
}

/** Base2Bytes.String(): `0B`, `10MiB`, `1KiB512B`. */
export function formatByteSize(bytes: number): string {
  let n = Math.trunc(bytes);
  if (n === 0) return '0B';
  const parts: string[] = [];
  for (let i = 0; i < PREFIXES.length && n !== 0; i++) {
    const r = n % 1024;
    if (r !== 0) parts.unshift(`${r}${PREFIXES[i]}${i === 0 ? 'B' : 'iB'}`);
    n = Math.floor(n / 1024);
  }
  return parts.join('');
}

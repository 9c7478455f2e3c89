/**
 * Byte-level helpers shared by both exposition parsers: Go-compatible number syntax, UTF-8
 * validation and unescaping. Everything takes (buffer, start, end) so the hot path never slices.
 */

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];

export const FloatStatus = { ok: 0, syntax: 1, unsupported: 2, range: 3 } as const;
export type FloatStatusCode = (typeof FloatStatus)[keyof typeof FloatStatus];

/** Lower-cases an ASCII letter byte; other bytes pass through. */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function matchesIgnoreCase(b: Uint8Array, s: number, e: number, word: string): boolean {
  if (e - s !== word.length) return false;
  for (let k = 0; k < word.length; k++) {
    const c = b[s + k];
    if (c === undefined || lower(c) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Parses numbers exactly as Prometheus does: Go's strconv.ParseFloat after refusing any `p`, `P`
 * or `_` (so hex floats and digit separators fail). Accepts an optional sign, decimal mantissa,
 * optional exponent, `inf`/`infinity` with optional sign and `nan` without one (case-insensitive).
 * Finite literals that round beyond float64 are a range error, as in Go. Results land in fields
 * so that parsing allocates nothing.
 */
export class FloatScanner {
  value = 0;
  status: FloatStatusCode = FloatStatus.ok;

  parse(b: Buffer, s: number, e: number): boolean {
    if (this.scan(b, s, e)) return true;
    for (let k = s; k < e; k++) {
      const c = b[k];
      if (c === 0x70 || c === 0x50 || c === 0x5f) {
        this.status = FloatStatus.unsupported;
        return false;
      }
    }
    if (this.status !== FloatStatus.range) this.status = FloatStatus.syntax;
    return false;
  }

  private scan(b: Buffer, s: number, e: number): boolean {
    this.status = FloatStatus.ok;
    let i = s;
    if (i >= e) return false;
    let neg = false;
    let signed = false;
    let c = b[i];
    if (c === 0x2b || c === 0x2d) {
      neg = c === 0x2d;
      signed = true;
      i++;
      if (i >= e) return false;
      c = b[i];
    }
    if (c === undefined) return false;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e) {
      let mant = 0;
      let nd = 0;
      let frac = 0;
      let digits = false;
      let dot = false;
      let slow = false;
      for (; i < e; i++) {
        const d = b[i];
        if (d === undefined) break;
        if (d >= 0x30 && d <= 0x39) {
          digits = true;
          // 15 significant digits always fit a double exactly; more go the slow way.
          if (mant === 0 && d === 0x30) {
            if (dot) frac++;
          } else if (nd < 15) {
            mant = mant * 10 + (d - 0x30);
            nd++;
            if (dot) frac++;
          } else {
            slow = true;
          }
        } else if (d === 0x2e && !dot) {
          dot = true;
        } else {
          break;
        }
      }
      if (!digits) return false;
      let exp = 0;
      if (i < e && (b[i] === 0x65 || b[i] === 0x45)) {
        i++;
        if (i >= e) return false;
        let eneg = false;
        let digitsE = false;
        if (b[i] === 0x2b || b[i] === 0x2d) {
          eneg = b[i] === 0x2d;
          i++;
        }
        for (; i < e; i++) {
          const d = b[i];
          if (d === undefined || d < 0x30 || d > 0x39) break;
          if (exp < 100000) exp = exp * 10 + (d - 0x30);
          digitsE = true;
        }
        if (!digitsE) return false;
        if (eneg) exp = -exp;
      }
      if (i !== e) return false;
      if (!slow) {
        if (mant === 0) {
          this.value = neg ? -0 : 0;
          return true;
        }
        // Clinger's fast path: both operands are exact, so one IEEE operation rounds correctly.
        // It holds for |e10| <= 22, the powers POW10 has; beyond them the lookup misses.
        const e10 = exp - frac;
        if (e10 >= 0 && e10 <= 22) {
          const p10 = POW10[e10] as number;
          this.value = neg ? -(mant * p10) : mant * p10;
          return true;
        }
        if (e10 < 0 && e10 >= -22) {
          const p10 = POW10[-e10] as number;
          this.value = neg ? -(mant / p10) : mant / p10;
          return true;
        }
      }
      // The bytes were checked against Go's grammar above, so Number() sees only plain decimals.
      const v = Number(b.toString('latin1', s, e));
      if (v === Infinity || v === -Infinity) {
        this.status = FloatStatus.range;
        return false;
      }
      this.value = v;
      return true;
    }
    if (c === 0x69 || c === 0x49) {
      if (matchesIgnoreCase(b, i, e, 'inf') || matchesIgnoreCase(b, i, e, 'infinity')) {
        this.value = neg ? -Infinity : Infinity;
        return true;
      }
      return false;
    }
    if ((c === 0x6e || c === 0x4e) && !signed && matchesIgnoreCase(b, i, e, 'nan')) {
      this.value = NaN;
      return true;
    }
    return false;
  }
}

/** Go's error text for a rejected number, after the prefix Prometheus adds. */
export function floatErrorMessage(status: FloatStatusCode, b: Buffer, s: number, e: number): string {
  if (status === FloatStatus.unsupported) return 'unsupported character in float';
  const lit = quoteBytes(b, s, e);
  return status === FloatStatus.range
    ? `strconv.ParseFloat: parsing ${lit}: value out of range`
    : `strconv.ParseFloat: parsing ${lit}: invalid syntax`;
}

const INT64_MAX_DIGITS = '9223372036854775807';

/**
 * Parses a run of ASCII digits as Go's strconv.ParseInt(s, 10, 64) would; returns NaN when the
 * value overflows int64. Values above 2^53 come back rounded to the nearest double.
 */
export function parseDigitsInt64(b: Buffer, s: number, e: number): number {
  while (s < e - 1 && b[s] === 0x30) s++;
  const n = e - s;
  if (n <= 15) {
    let v = 0;
    for (let i = s; i < e; i++) {
      const d = b[i];
      if (d === undefined) return NaN;
      v = v * 10 + (d - 0x30);
    }
    return v;
  }
  if (n > 19) return NaN;
  const str = b.toString('latin1', s, e);
  if (n === 19 && str > INT64_MAX_DIGITS) return NaN;
  return Number(str);
}

/**
 * Go's float64 -> int64 conversion of `seconds * 1000` as done on amd64 (the platform Prometheus
 * ships for): truncation toward zero, and the "integer indefinite" value -2^63 when out of range.
 */
export function secondsToMillis(seconds: number): number {
  const ms = Math.trunc(seconds * 1000);
  if (!(ms > -(2 ** 63) && ms < 2 ** 63)) return -(2 ** 63);
  return ms === 0 ? 0 : ms;
}

/** Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF), like Go's utf8.Valid. */
export function validUtf8(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e) {
    const c = b[i];
    if (c === undefined) return false;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c < 0xc2) return false;
    if (c < 0xe0) {
      if (i + 1 >= e || !isContinuation(b[i + 1])) return false;
      i += 2;
      continue;
    }
    if (c < 0xf5) {
      // Three bytes from 0xe0, four from 0xf0. The second byte's range rules out overlongs (after e0
      // and f0), surrogates (after ed) and code points above U+10FFFF (after f4).
      const n = c < 0xf0 ? 3 : 4;
      const c1 = b[i + 1];
      if (i + n - 1 >= e || c1 === undefined) return false;
      if (c1 < (c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80) || c1 > (c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf))
        return false;
      if (!isContinuation(b[i + 2]) || (n === 4 && !isContinuation(b[i + 3]))) return false;
      i += n;
      continue;
    }
    return false;
  }
  return true;
}

/** Whether c is a UTF-8 continuation byte (10xxxxxx). */
function isContinuation(c: number | undefined): boolean {
  return c !== undefined && (c & 0xc0) === 0x80;
}

/**
 * Decodes b[s,e) as UTF-8 and resolves backslash escapes the way Prometheus' replacers do:
 * `\\` and `\n` always, `\"` only when `quote` is set; any other backslash stays literal.
 */
export function unescapeBytes(b: Buffer, s: number, e: number, quote: boolean): string {
  const raw = b.toString('utf8', s, e);
  let k = raw.indexOf('\\');
  if (k < 0) return raw;
  let out = raw.slice(0, k);
  const n = raw.length;
  while (k < n) {
    const ch = raw.charCodeAt(k);
    if (ch === 0x5c && k + 1 < n) {
      const nx = raw.charCodeAt(k + 1);
      if (nx === 0x5c) {
        out += '\\';
        k += 2;
        continue;
      }
      if (nx === 0x6e) {
        out += '\n';
        k += 2;
        continue;
      }
      if (nx === 0x22 && quote) {
        out += '"';
        k += 2;
        continue;
      }
    }
    out += raw[k];
    k++;
  }
  return out;
}

/** Go-%q-like rendering of raw bytes for error messages, cut short on very long input. */
export function quoteBytes(b: Buffer, s: number, e: number): string {
  const max = 160;
  const cut = e - s > max;
  const str = b.toString('utf8', s, cut ? s + max : e);
  return JSON.stringify(cut ? str + '…' : str);
}

/** Number of Unicode code points in a JS string. */
export function codePointCount(str: string): number {
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

function charTable(ranges: string): Uint8Array {
  const t = new Uint8Array(256);
  for (let k = 0; k < ranges.length; k += 2) {
    for (let c = ranges.charCodeAt(k); c <= ranges.charCodeAt(k + 1); c++) t[c] = 1;
  }
  return t;
}

/** First byte of a metric name: [a-zA-Z_:]. */
export const METRIC_NAME_START = charTable('azAZ__::');
/** Later bytes of a metric name: [a-zA-Z0-9_:]. */
export const METRIC_NAME_CHAR = charTable('azAZ__::09');
/** First byte of a label name: [a-zA-Z_]. */
export const LABEL_NAME_START = charTable('azAZ__');
/** Later bytes of a label name: [a-zA-Z0-9_]. */
export const LABEL_NAME_CHAR = charTable('azAZ__09');

/** Index of the first `\n` in b[s,e), or e. */
export function lineEnd(b: Buffer, s: number, e: number): number {
  if (s >= e) return e;
  const k = b.indexOf(0x0a, s);
  return k < 0 || k > e ? e : k;
}

/**
 * Direct-mapped cache from short ASCII byte runs to strings. Label names and most label values
 * repeat across series and scrapes; reusing one string instance skips the decode call (the
 * dominant cost of materialising labels) and lets every cached series share it. Bounded: a slot
 * is simply overwritten on collision.
 */
class StringCache {
  private readonly slots: (string | undefined)[];
  private readonly mask: number;
  static readonly MAX_LEN = 64;

  constructor(bits = 13) {
    this.slots = new Array<string | undefined>(1 << bits).fill(undefined);
    this.mask = (1 << bits) - 1;
  }

  /**
   * The string for b[s,e) with label-value unescaping applied; bytes with escapes, non-ASCII or
   * long runs bypass the cache.
   */
  get(b: Buffer, s: number, e: number): string {
    const n = e - s;
    if (n > StringCache.MAX_LEN) return unescapeBytes(b, s, e, true);
    let h = 0x811c9dc5 ^ n;
    for (let k = s; k < e; k++) {
      const c = b[k];
      if (c === undefined || c >= 0x80 || c === 0x5c) return unescapeBytes(b, s, e, true);
      h = Math.imul(h ^ c, 0x01000193);
    }
    const slot = (h ^ (h >>> 15)) & this.mask;
    const hit = this.slots[slot];
    if (hit !== undefined && hit.length === n) {
      let k = 0;
      while (k < n && hit.charCodeAt(k) === b[s + k]) k++;
      if (k === n) return hit;
    }
    let str: string;
    if (n <= 16) {
      str = '';
      // biome-ignore lint/style/noNonNullAssertion: the hash loop above read every byte of [s, e).
      for (let k = s; k < e; k++) str += String.fromCharCode(b[k]!);
    } else {
      str = b.toString('latin1', s, e);
    }
    this.slots[slot] = str;
    return str;
  }
}

/** One cache for all parsers: bounded, and sharing across targets is the point. */
export const sharedStrings = new StringCache();

/** Byte-matchable keyword table (metric type names) so matching allocates no string. */
export class KeywordTable {
  private readonly keywords: readonly { readonly word: Uint8Array; readonly code: number }[];

  constructor(entries: Readonly<Record<string, number>>) {
    this.keywords = Object.entries(entries).map(([w, code]) => ({ word: Buffer.from(w, 'latin1'), code }));
  }

  /** Code of the keyword equal to b[s,e), or -1. */
  match(b: Uint8Array, s: number, e: number): number {
    const n = e - s;
    for (const { word, code } of this.keywords) {
      if (word.length !== n) continue;
      let k = 0;
      while (k < n && word[k] === b[s + k]) k++;
      if (k === n) return code;
    }
    return -1;
  }
}

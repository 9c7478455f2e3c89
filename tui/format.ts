/**
 * Pure text formatting for the TUI: every cell is built here so panels stay declarative and tests can pin
 * exact text.
 */

// Durations look the same in the dashboard and the web UI: one shared module (src/status, which tui may read).
import { formatDuration } from '../src/status/format.ts';
export { formatDuration, formatSeconds } from '../src/status/format.ts';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '-';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${BYTE_UNITS[u]}`;
}

/** 1234 → "1234", 12345 → "12.3k", 1.5e6 → "1.50M": keeps table cells at most 6 characters wide. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a < 10_000) return String(Math.round(n));
  if (a < 1_000_000) return `${(n / 1000).toFixed(a < 100_000 ? 1 : 0)}k`;
  if (a < 1_000_000_000) return `${(n / 1e6).toFixed(a < 10_000_000 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0/s';
  if (perSecond < 10) return `${perSecond.toFixed(1)}/s`;
  return `${formatCount(perSecond)}/s`;
}

/** Age of an event relative to the snapshot time, so rendering stays a pure function of the snapshot. */
export function formatAgo(then: number, now: number): string {
  if (then <= 0) return 'never';
  return `${formatDuration(Math.max(0, now - then))} ago`;
}

/**
 * Coarse age for texts that stay on screen all the time (uptime, "reload ok … ago", oldest WAL data, last scrape):
 * ten-second steps under a minute, whole minutes under an hour, then as formatDuration ("1h02m", "2d03h").
 * Every change of such a text costs a full Ink frame (layout and the whole screen re-drawn), so with these steps
 * an idle dashboard redraws at most every 10 s in its first minute and once a minute after that.
 */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  // '0s' for the first ten seconds would read as wrong; '<10s' is true and changes no more often.
  if (s < 10) return '<10s';
  if (s < 60) return `${s - (s % 10)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return formatDuration(ms);
}

/** formatAge of an event relative to the snapshot time; the first ten seconds read "just now". */
export function formatAgeAgo(then: number, now: number): string {
  if (then <= 0) return 'never';
  const age = Math.max(0, now - then);
  return age < 10_000 ? 'just now' : `${formatAge(age)} ago`;
}

const SPARK = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** The last `width` values scaled to the largest one; left-padded with spaces while history is short. */
export function sparkline(values: readonly number[], width: number): string {
  if (width <= 0) return '';
  const start = Math.max(0, values.length - width);
  const shown = values.slice(start);
  let max = 0;
  for (const v of shown) max = Math.max(max, v);
  let out = ' '.repeat(Math.max(0, width - shown.length));
  for (const v of shown) {
    const level = max <= 0 || v <= 0 ? 0 : Math.min(SPARK.length - 1, Math.round((v / max) * (SPARK.length - 1)));
    out += SPARK[level];
  }
  return out;
}

export function progressBar(current: number, max: number, width: number): string {
  if (width <= 0) return '';
  const ratio = max > 0 ? Math.min(1, Math.max(0, current / max)) : 0;
  const filled = Math.round(ratio * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export function percent(current: number, max: number): string {
  if (max <= 0) return '-';
  return `${Math.round((Math.min(current, max) / max) * 100)}%`;
}

/** Cuts to `width` code points, marking the cut with an ellipsis. */
export function truncate(s: string, width: number): string {
  if (width <= 0) return '';
  const cps = Array.from(s);
  if (cps.length <= width) return s;
  if (width === 1) return '…';
  return cps.slice(0, width - 1).join('') + '…';
}

/** Fixed-width table cell: truncated, then padded on the side away from `align`. */
export function cell(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  const t = truncate(s, width);
  const pad = width - Array.from(t).length;
  if (pad <= 0) return t;
  return align === 'left' ? t + ' '.repeat(pad) : ' '.repeat(pad) + t;
}

/** Newlines in error texts would break a one-line table row. */
export function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

export function formatLabels(labels: Readonly<Record<string, string>>): string[] {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
}

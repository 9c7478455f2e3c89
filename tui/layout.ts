/**
 * Line budget for one frame. Everything is sized from the terminal so the frame never exceeds it: Ink clears
 * the whole screen on every frame once output reaches the terminal height, which flickers.
 */
export interface Layout {
  readonly columns: number;
  readonly rows: number;
  /** Single-line panel titles instead of bordered boxes (80×24 and other small terminals). */
  readonly compact: boolean;
  /** Visible target rows (the list scrolls around the selection). */
  readonly targetRows: number;
  /** Visible remote endpoint rows. */
  readonly remoteRows: number;
  /** Lines available to the help / detail views between header and footer. */
  readonly mainRows: number;
}

const HEADER_LINES = 2;
const FOOTER_LINES = 1;
/** Series and WAL boxes in the roomy layout: border (2) + title + 4 content lines. */
const ROOMY_STATS_LINES = 7;
/** Bordered list panel: border (2) + title + column header. */
const ROOMY_LIST_CHROME = 4;
/** Compact list panel: title + column header. */
const COMPACT_LIST_CHROME = 2;

/** `extraLines`: one-line sources shown under the stats (the OTLP receiver). */
export function computeLayout(
  columns: number,
  rows: number,
  remotes: number,
  replaying: boolean,
  extraLines = 0,
): Layout {
  const cols = Math.max(40, columns);
  // One spare line: a frame as tall as the terminal makes Ink fall back to clearing the screen.
  const budget = Math.max(12, rows) - 1;
  const compact = cols < 100 || rows < 30;
  const mainRows = budget - HEADER_LINES - FOOTER_LINES;
  const stats = compact ? 2 + (replaying ? 1 : 0) : ROOMY_STATS_LINES;
  const chrome = compact ? COMPACT_LIST_CHROME : ROOMY_LIST_CHROME;
  const free = mainRows - stats - extraLines - 2 * chrome;
  // Remote endpoints are few; give them up to a third of the free lines, targets get the rest.
  const remoteRows = Math.max(1, Math.min(Math.max(1, remotes), Math.floor(free / 3)));
  const targetRows = Math.max(1, free - remoteRows);
  return { columns: cols, rows, compact, targetRows, remoteRows, mainRows };
}

/** First row of a window of `size` rows over `count` items that keeps `selected` visible, roughly centred. */
export function scrollWindow(count: number, size: number, selected: number): number {
  if (count <= size) return 0;
  const half = Math.floor(size / 2);
  return Math.max(0, Math.min(count - size, selected - half));
}

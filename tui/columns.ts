/** Column fitting shared by the targets and remote tables: drop the least important columns until the row fits. */
export interface ColumnSpec<Id extends string> {
  readonly id: Id;
  readonly title: string;
  readonly width: number;
  readonly align?: 'left' | 'right';
  /** 0 = never dropped; higher numbers are dropped first when the terminal is narrow. */
  readonly priority: number;
  /** Flexible columns start at `width` and share whatever is left evenly, each up to its `maxWidth`. */
  readonly flex?: boolean;
  readonly maxWidth?: number;
}

export interface FittedColumn<Id extends string> {
  readonly id: Id;
  readonly title: string;
  readonly width: number;
  readonly align: 'left' | 'right';
}

export function fitColumns<Id extends string>(
  specs: readonly ColumnSpec<Id>[],
  total: number,
  gap = 1,
): FittedColumn<Id>[] {
  let cols = specs.slice();
  const need = (cs: readonly ColumnSpec<Id>[]) =>
    cs.reduce((n, c) => n + c.width, 0) + gap * Math.max(0, cs.length - 1);
  while (need(cols) > total) {
    let drop = -1;
    let dropPriority = 0;
    for (const [i, c] of cols.entries()) {
      if (c.priority > 0 && (drop < 0 || c.priority >= dropPriority)) {
        drop = i;
        dropPriority = c.priority;
      }
    }
    if (drop < 0) break;
    cols = cols.filter((_, i) => i !== drop);
  }
  let spare = Math.max(0, total - need(cols));
  const widths = cols.map((c) => c.width);
  // Round robin, one cell at a time: every flexible column gets a fair share before any reaches its cap.
  let grew = true;
  while (spare > 0 && grew) {
    grew = false;
    for (const [i, c] of cols.entries()) {
      if (spare <= 0) break;
      const w = widths[i] ?? c.width;
      if (!c.flex || (c.maxWidth !== undefined && w >= c.maxWidth)) continue;
      widths[i] = w + 1;
      spare--;
      grew = true;
    }
  }
  return cols.map((c, i) => ({ id: c.id, title: c.title, width: widths[i] ?? c.width, align: c.align ?? 'left' }));
}

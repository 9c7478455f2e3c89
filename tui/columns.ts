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

export function fitColumns<Id extends string>(specs: readonly ColumnSpec<Id>[], total: number, gap = 1): FittedColumn<Id>[] {
  let cols = specs.slice();
  const need = (cs: readonly ColumnSpec<Id>[]) => cs.reduce((n, c) => n + c.width, 0) + gap * Math.max(0, cs.length - 1);
  while (need(cols) > total) {
    let drop = -1;
    for (let i = 0; i < cols.length; i++) {
      const p = cols[i]!.priority;
      if (p > 0 && (drop < 0 || p >= cols[drop]!.priority)) drop = i;
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
    for (let i = 0; i < cols.length && spare > 0; i++) {
      const c = cols[i]!;
      if (!c.flex || (c.maxWidth !== undefined && widths[i]! >= c.maxWidth)) continue;
      widths[i]!++;
      spare--;
      grew = true;
    }
  }
  return cols.map((c, i) => ({ id: c.id, title: c.title, width: widths[i]!, align: c.align ?? 'left' }));
}

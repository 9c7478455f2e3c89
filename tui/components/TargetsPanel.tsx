import { Text } from 'ink';
import { memo } from 'react';
import type { TargetStatus } from '../../src/status/types.ts';
import { fitColumns, type ColumnSpec } from '../columns.ts';
import { formatAge, formatCount, oneLine } from '../format.ts';
import { formatScrapeDuration as formatScrape } from '../../src/status/format.ts';
import { scrollWindow } from '../layout.ts';
import { SORT_LABELS, targetKey, type SortSpec } from '../targets.ts';
import { healthRole } from '../theme.ts';
import { PANEL_FRAME_WIDTH, Panel } from './Panel.tsx';
import { TableHeader, TableRow, headerLine, rowView, tableWidth, type CellValue, type RowView } from './Table.tsx';

type TargetColumn = 'pool' | 'instance' | 'health' | 'last' | 'duration' | 'samples' | 'hist' | 'series' | 'error';

const COLUMNS: readonly ColumnSpec<TargetColumn>[] = [
  { id: 'pool', title: 'POOL', width: 12, priority: 2, flex: true, maxWidth: 20 },
  { id: 'instance', title: 'INSTANCE', width: 18, priority: 0, flex: true, maxWidth: 36 },
  { id: 'health', title: 'HEALTH', width: 6, priority: 0 },
  { id: 'last', title: 'LAST', width: 9, align: 'right', priority: 3 },
  { id: 'duration', title: 'DUR', width: 6, align: 'right', priority: 4 },
  { id: 'samples', title: 'SAMPLES', width: 7, align: 'right', priority: 5 },
  { id: 'series', title: 'SERIES', width: 7, align: 'right', priority: 6 },
  // Native histograms among the samples (floats are the rest); first to go on a narrow terminal.
  { id: 'hist', title: 'HIST', width: 5, align: 'right', priority: 7 },
  { id: 'error', title: 'LAST ERROR', width: 12, priority: 1, flex: true },
];

export { formatScrapeDuration } from '../../src/status/format.ts';

/**
 * Coarse (formatAge), because an agent always scrapes something: in seconds this column would change, and cost a
 * full frame, every second. Ten-second steps still tell a 15 s target that is on time from one that is late.
 */
export function lastScrapeText(lastScrape: number, now: number): string {
  if (lastScrape <= 0) return 'never';
  const age = Math.max(0, now - lastScrape);
  return age < 10_000 ? '<10s' : formatAge(age);
}

function rowValues(t: TargetStatus, now: number): Record<TargetColumn, CellValue> {
  return {
    pool: { text: t.pool },
    instance: { text: t.instance },
    health: { text: t.health === 'unknown' ? 'unk' : t.health, role: healthRole(t.health) },
    last: { text: lastScrapeText(t.lastScrape, now) },
    duration: { text: formatScrape(t.lastDurationMs) },
    samples: { text: formatCount(t.samples) },
    series: { text: formatCount(t.series) },
    hist: { text: t.histograms > 0 ? formatCount(t.histograms) : '-' },
    error: t.lastError ? { text: oneLine(t.lastError), role: 'bad' } : { text: '' },
  };
}

export interface TargetsInput {
  /** Already filtered and sorted. */
  readonly targets: readonly TargetStatus[];
  readonly total: number;
  readonly selected: number;
  readonly sort: SortSpec;
  readonly filter: string;
  readonly editingFilter: boolean;
  readonly focused: boolean;
  readonly compact: boolean;
  readonly width: number;
  readonly rows: number;
  readonly now: number;
}

/** What the targets panel shows: only the visible window of rows, every cell already formatted. */
export interface TargetsView {
  readonly info: string;
  readonly focused: boolean;
  readonly compact: boolean;
  readonly header: string;
  readonly rows: readonly RowView[];
  /** Shown instead of rows when there are none. */
  readonly empty: string;
  /** Blank lines after the rows, so the panels below do not jump as the list changes size. */
  readonly pad: number;
}

export function targetsView(p: TargetsInput): TargetsView {
  const inner = p.compact ? p.width : p.width - PANEL_FRAME_WIDTH;
  const columns = fitColumns(COLUMNS, tableWidth(inner));
  const start = scrollWindow(p.targets.length, p.rows, p.selected);
  const shown = p.targets.slice(start, start + p.rows);
  let up = 0;
  for (const t of p.targets) if (t.health === 'up') up++;
  const count = p.filter === '' ? `${p.total}` : `${p.targets.length}/${p.total}`;
  const filter = p.filter !== '' || p.editingFilter ? `  filter: ${p.filter}${p.editingFilter ? '▏' : ''}` : '';
  return {
    info: `${count} (${up} up)  sort: ${SORT_LABELS[p.sort.key]} ${p.sort.desc ? '↓' : '↑'}${filter}`,
    focused: p.focused,
    compact: p.compact,
    header: headerLine(columns),
    rows: shown.map((t, i) => rowView(targetKey(t), columns, rowValues(t, p.now), start + i === p.selected)),
    empty: p.total === 0 ? '  no targets yet' : '  no target matches the filter',
    pad: Math.max(0, p.rows - Math.max(1, shown.length)),
  };
}

export const TargetsPanel = memo(function TargetsPanel({ view: v }: { readonly view: TargetsView }) {
  return (
    <Panel title="Targets" info={v.info} focused={v.focused} compact={v.compact}>
      <TableHeader line={v.header} />
      {v.rows.length === 0 ? (
        <Text dimColor>{v.empty}</Text>
      ) : (
        v.rows.map((r) => <TableRow key={r.key} row={r} focused={v.focused} />)
      )}
      {Array.from({ length: v.pad }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: padding lines are identical and only counted.
        <Text key={`pad${i}`}> </Text>
      ))}
    </Panel>
  );
});

import { Text } from 'ink';
import type { TargetStatus } from '../../src/status/types.ts';
import { fitColumns, type ColumnSpec } from '../columns.ts';
import { formatAgo, formatCount, formatDuration, oneLine } from '../format.ts';
import { scrollWindow } from '../layout.ts';
import { SORT_LABELS, targetKey, type SortSpec } from '../targets.ts';
import { healthRole } from '../theme.ts';
import { PANEL_FRAME_WIDTH, Panel } from './Panel.tsx';
import { TableHeader, TableRow, tableWidth, type CellValue } from './Table.tsx';

type TargetColumn = 'pool' | 'instance' | 'health' | 'last' | 'duration' | 'samples' | 'series' | 'error';

const COLUMNS: readonly ColumnSpec<TargetColumn>[] = [
  { id: 'pool', title: 'POOL', width: 12, priority: 2, flex: true, maxWidth: 20 },
  { id: 'instance', title: 'INSTANCE', width: 18, priority: 0, flex: true, maxWidth: 36 },
  { id: 'health', title: 'HEALTH', width: 6, priority: 0 },
  { id: 'last', title: 'LAST', width: 9, align: 'right', priority: 3 },
  { id: 'duration', title: 'DUR', width: 6, align: 'right', priority: 4 },
  { id: 'samples', title: 'SAMPLES', width: 7, align: 'right', priority: 5 },
  { id: 'series', title: 'SERIES', width: 7, align: 'right', priority: 6 },
  { id: 'error', title: 'LAST ERROR', width: 12, priority: 1, flex: true },
];

export function formatScrapeDuration(ms: number): string {
  if (ms <= 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  return formatDuration(ms);
}

function rowValues(t: TargetStatus, now: number): Record<TargetColumn, CellValue> {
  return {
    pool: { text: t.pool },
    instance: { text: t.instance },
    health: { text: t.health === 'unknown' ? 'unk' : t.health, role: healthRole(t.health) },
    last: { text: t.lastScrape > 0 ? formatAgo(t.lastScrape, now).replace(' ago', '') : 'never' },
    duration: { text: formatScrapeDuration(t.lastDurationMs) },
    samples: { text: formatCount(t.samples) },
    series: { text: formatCount(t.series) },
    error: t.lastError ? { text: oneLine(t.lastError), role: 'bad' } : { text: '' },
  };
}

export interface TargetsPanelProps {
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

export function TargetsPanel(p: TargetsPanelProps) {
  const inner = p.compact ? p.width : p.width - PANEL_FRAME_WIDTH;
  const columns = fitColumns(COLUMNS, tableWidth(inner));
  const start = scrollWindow(p.targets.length, p.rows, p.selected);
  const shown = p.targets.slice(start, start + p.rows);
  const up = p.targets.filter((t) => t.health === 'up').length;
  const count = p.filter === '' ? `${p.total}` : `${p.targets.length}/${p.total}`;
  const filter = p.filter !== '' || p.editingFilter ? `  filter: ${p.filter}${p.editingFilter ? '▏' : ''}` : '';
  const info = `${count} (${up} up)  sort: ${SORT_LABELS[p.sort.key]} ${p.sort.desc ? '↓' : '↑'}${filter}`;
  return (
    <Panel title="Targets" info={info} focused={p.focused} compact={p.compact}>
      <TableHeader columns={columns} />
      {shown.length === 0 ? (
        <Text dimColor>{p.total === 0 ? '  no targets yet' : '  no target matches the filter'}</Text>
      ) : (
        shown.map((t, i) => (
          <TableRow
            key={targetKey(t)}
            columns={columns}
            values={rowValues(t, p.now)}
            selected={start + i === p.selected}
            focused={p.focused}
          />
        ))
      )}
      {/* Pad to a fixed height so the panels below do not jump as the list changes size. */}
      {Array.from({ length: Math.max(0, p.rows - Math.max(1, shown.length)) }, (_, i) => (
        <Text key={`pad${i}`}> </Text>
      ))}
    </Panel>
  );
}

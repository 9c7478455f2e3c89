import { Text } from 'ink';
import { memo } from 'react';
import type { RemoteStatus } from '../../src/status/types.ts';
import { fitColumns, type ColumnSpec } from '../columns.ts';
import { formatAgeAgo, formatBytes, formatCount, formatRate, formatSeconds, oneLine, sparkline } from '../format.ts';
import type { RateHistory } from '../history.ts';
import { scrollWindow } from '../layout.ts';
import { healthRole, type Role } from '../theme.ts';
import { PANEL_FRAME_WIDTH, Panel } from './Panel.tsx';
import { TableHeader, TableRow, headerLine, rowView, tableWidth, type CellValue, type RowView } from './Table.tsx';

type RemoteColumn = 'name' | 'health' | 'lag' | 'pending' | 'backlog' | 'rate' | 'trend' | 'retries' | 'error';

const COLUMNS: readonly ColumnSpec<RemoteColumn>[] = [
  { id: 'name', title: 'ENDPOINT', width: 10, priority: 0, flex: true, maxWidth: 24 },
  { id: 'health', title: 'HEALTH', width: 6, priority: 0 },
  { id: 'lag', title: 'LAG', width: 7, align: 'right', priority: 0 },
  { id: 'pending', title: 'PENDING', width: 7, align: 'right', priority: 2 },
  { id: 'backlog', title: 'BACKLOG', width: 9, align: 'right', priority: 1 },
  { id: 'rate', title: 'RATE', width: 8, align: 'right', priority: 3 },
  { id: 'trend', title: 'TREND', width: 8, priority: 4, flex: true, maxWidth: 30 },
  // Both count samples (Prometheus' samples_retried_total and dropped + failed), not attempts: the title says so.
  { id: 'retries', title: 'SAMPLES RETRY/DROP', width: 18, align: 'right', priority: 5 },
  { id: 'error', title: 'LAST ERROR', width: 12, priority: 6, flex: true },
];

/** Lag in the minutes is worth a glance, in the tens of minutes it is an outage. */
function lagRole(seconds: number): Role | undefined {
  return seconds >= 600 ? 'bad' : seconds >= 60 ? 'warn' : undefined;
}

function rowValues(
  r: RemoteStatus,
  history: readonly number[],
  trendWidth: number,
  now: number,
): Record<RemoteColumn, CellValue> {
  const lr = lagRole(r.lagSeconds);
  const dr: Role | undefined =
    r.samplesDropped + r.samplesFailed > 0 ? 'bad' : r.samplesRetried > 0 ? 'warn' : undefined;
  return {
    name: { text: r.name },
    health: { text: r.health === 'unknown' ? 'unk' : r.health, role: healthRole(r.health) },
    lag: { text: formatSeconds(r.lagSeconds), role: lr },
    pending: { text: formatCount(r.pendingSamples) },
    backlog: { text: formatBytes(r.backlogBytes) },
    rate: { text: formatRate(r.sendRate) },
    trend: { text: sparkline(history, trendWidth), role: 'accent' },
    retries: { text: `${formatCount(r.samplesRetried)}/${formatCount(r.samplesDropped + r.samplesFailed)}`, role: dr },
    // With its age, and no longer in red once the endpoint is up again: an old error must not read as a current one.
    error: r.lastError
      ? {
          text:
            r.lastErrorAt > 0 ? `${formatAgeAgo(r.lastErrorAt, now)}: ${oneLine(r.lastError)}` : oneLine(r.lastError),
          role: r.health === 'up' ? undefined : 'bad',
        }
      : { text: '' },
  };
}

export interface RemoteInput {
  readonly remotes: readonly RemoteStatus[];
  readonly selected: number;
  readonly history: RateHistory;
  readonly focused: boolean;
  readonly compact: boolean;
  readonly width: number;
  readonly rows: number;
  /** Snapshot time, for the age of the last error. */
  readonly now: number;
}

export interface RemoteView {
  readonly info: string;
  readonly focused: boolean;
  readonly compact: boolean;
  readonly header: string;
  readonly rows: readonly RowView[];
}

export function remoteView(p: RemoteInput): RemoteView {
  const inner = p.compact ? p.width : p.width - PANEL_FRAME_WIDTH;
  const columns = fitColumns(COLUMNS, tableWidth(inner));
  const trendWidth = columns.find((c) => c.id === 'trend')?.width ?? 0;
  const start = scrollWindow(p.remotes.length, p.rows, p.selected);
  const shown = p.remotes.slice(start, start + p.rows);
  let healthy = 0;
  for (const r of p.remotes) if (r.health === 'up') healthy++;
  return {
    info: `${p.remotes.length} endpoint${p.remotes.length === 1 ? '' : 's'} (${healthy} up)`,
    focused: p.focused,
    compact: p.compact,
    header: headerLine(columns),
    rows: shown.map((r, i) =>
      rowView(r.name, columns, rowValues(r, p.history.get(r.name), trendWidth, p.now), start + i === p.selected),
    ),
  };
}

export const RemotePanelView = memo(function RemotePanelView({ view: v }: { readonly view: RemoteView }) {
  return (
    <Panel title="Remote write" info={v.info} focused={v.focused} compact={v.compact}>
      <TableHeader line={v.header} />
      {v.rows.length === 0 ? (
        <Text dimColor> no remote_write endpoints configured</Text>
      ) : (
        v.rows.map((r) => <TableRow key={r.key} row={r} focused={v.focused} />)
      )}
    </Panel>
  );
});

/** The panel straight from endpoint statuses (the dashboard passes a shared RemoteView instead). */
export function RemotePanel(p: RemoteInput) {
  return <RemotePanelView view={remoteView(p)} />;
}

import { Box } from 'ink';
import type { StatusSnapshot, TargetStatus } from '../../src/status/types.ts';
import type { RateHistory } from '../history.ts';
import type { Layout } from '../layout.ts';
import type { UiState } from '../state.ts';
import { RemotePanel } from './RemotePanel.tsx';
import { SeriesPanel } from './SeriesPanel.tsx';
import { TargetsPanel } from './TargetsPanel.tsx';
import { WalPanel } from './WalPanel.tsx';

export interface DashboardProps {
  readonly snapshot: StatusSnapshot;
  readonly ui: UiState;
  /** Filtered and sorted. */
  readonly targets: readonly TargetStatus[];
  readonly targetIndex: number;
  readonly remoteIndex: number;
  readonly layout: Layout;
  readonly history: RateHistory;
}

/** Arranges the four panels: stacked one-liners on small terminals, Series and WAL side by side on large ones. */
export function Dashboard({ snapshot: s, ui, targets, targetIndex, remoteIndex, layout, history }: DashboardProps) {
  const { compact, columns } = layout;
  const stats = (
    <>
      <SeriesPanel series={s.series} focused={ui.focus === 'series'} compact={compact} width={compact ? columns : '50%'} />
      <WalPanel wal={s.wal} phase={s.phase} now={s.at} focused={ui.focus === 'wal'} compact={compact} width={compact ? columns : '50%'} />
    </>
  );
  return (
    <Box flexDirection="column" width={columns}>
      <TargetsPanel
        targets={targets}
        total={s.targets.length}
        selected={targetIndex}
        sort={ui.sort}
        filter={ui.filter}
        editingFilter={ui.editingFilter}
        focused={ui.focus === 'targets'}
        compact={compact}
        width={columns}
        rows={layout.targetRows}
        now={s.at}
      />
      {compact ? stats : <Box flexDirection="row" width={columns}>{stats}</Box>}
      <RemotePanel
        remotes={s.remote}
        selected={remoteIndex}
        history={history}
        focused={ui.focus === 'remote'}
        compact={compact}
        width={columns}
        rows={layout.remoteRows}
      />
    </Box>
  );
}

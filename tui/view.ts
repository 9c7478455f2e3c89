import type { Phase, StatusSnapshot } from '../src/status/types.ts';
import type { DashboardView } from './components/Dashboard.tsx';
import { remoteDetailView, targetDetailView, type DetailView } from './components/Detail.tsx';
import { flushText, type FooterProps } from './components/Footer.tsx';
import { headerView, type HeaderView } from './components/Header.tsx';
import { otlpView } from './components/OtlpLine.tsx';
import { remoteView } from './components/RemotePanel.tsx';
import { seriesView } from './components/SeriesPanel.tsx';
import { targetsView } from './components/TargetsPanel.tsx';
import { isReplaying, walView } from './components/WalPanel.tsx';
import type { RateHistory } from './history.ts';
import { computeLayout } from './layout.ts';
import type { Lists, UiState } from './state.ts';
import { remoteKey, selectedIndex, targetKey, visibleTargets } from './targets.ts';

type MainView =
  | { readonly kind: 'dashboard'; readonly dashboard: DashboardView }
  | { readonly kind: 'help'; readonly compact: boolean; readonly rows: number; readonly logFile: string }
  | { readonly kind: 'detail'; readonly detail: DetailView };

/**
 * Everything the dashboard draws, as plain data: strings already formatted, colours as roles. Two snapshots that
 * give equal screens (after `share`) give the identical object, so no re-render and no Ink frame follows.
 */
export interface ScreenView {
  readonly columns: number;
  readonly phase: Phase;
  readonly header: HeaderView;
  readonly main: MainView;
  /** Fixed height of the main area for the full-screen views; the dashboard sizes itself. */
  readonly mainRows: number | undefined;
  readonly footer: FooterProps;
  /** Keys of the visible targets and of the endpoints, in display order, for key navigation. */
  readonly lists: Lists;
  readonly pageSize: { readonly targets: number; readonly remotes: number };
}

export interface ScreenInput {
  readonly ui: UiState;
  readonly columns: number;
  readonly rows: number;
  /** Fed with every snapshot (idempotent per snapshot), for the send-rate sparklines. */
  readonly history: RateHistory;
  /** Where log lines go while the dashboard is up; '' when unknown. */
  readonly logFile?: string;
}

export function buildScreen(s: StatusSnapshot, { ui, columns, rows, history, logFile = '' }: ScreenInput): ScreenView {
  history.observe(s);
  const targets = visibleTargets(s.targets, ui.filter, ui.sort);
  const lists: Lists = { targets: targets.map(targetKey), remote: s.remote.map(remoteKey) };
  const layout = computeLayout(columns, rows, s.remote.length, isReplaying(s.wal, s.phase), s.otlp ? 1 : 0);
  const { compact } = layout;

  let main: MainView;
  switch (ui.overlay.kind) {
    case 'help':
      main = { kind: 'help', compact, rows: layout.mainRows, logFile };
      break;
    case 'target': {
      const key = ui.overlay.key;
      const target = s.targets.find((t) => targetKey(t) === key);
      main = { kind: 'detail', detail: targetDetailView(target, s.at, compact, layout.mainRows) };
      break;
    }
    case 'remote': {
      const key = ui.overlay.key;
      const remote = s.remote.find((r) => remoteKey(r) === key);
      main = { kind: 'detail', detail: remoteDetailView(remote, s.at, compact, layout.mainRows) };
      break;
    }
    default: {
      const statsWidth = compact ? layout.columns : '50%';
      main = {
        kind: 'dashboard',
        dashboard: {
          columns: layout.columns,
          compact,
          targets: targetsView({
            targets,
            total: s.targets.length,
            selected: selectedIndex(lists.targets, ui.selectedTarget),
            sort: ui.sort,
            filter: ui.filter,
            editingFilter: ui.editingFilter,
            focused: ui.focus === 'targets',
            compact,
            width: layout.columns,
            rows: layout.targetRows,
            now: s.at,
          }),
          series: seriesView(s.series, ui.focus === 'series', compact, statsWidth),
          wal: walView(s.wal, s.phase, s.at, ui.focus === 'wal', compact, statsWidth),
          remote: remoteView({
            remotes: s.remote,
            selected: selectedIndex(lists.remote, ui.selectedRemote),
            history,
            focused: ui.focus === 'remote',
            compact,
            width: layout.columns,
            rows: layout.remoteRows,
            now: s.at,
          }),
          otlp: s.otlp ? otlpView(s.otlp, s.at) : undefined,
        },
      };
    }
  }

  return {
    columns: layout.columns,
    phase: s.phase,
    header: headerView(s, ui.reload, ui.quitRequested),
    main,
    mainRows: ui.overlay.kind === 'none' ? undefined : layout.mainRows,
    footer: {
      phase: s.phase,
      reload: ui.reload,
      quitRequested: ui.quitRequested,
      editingFilter: ui.editingFilter,
      filter: ui.filter,
      overlay: ui.overlay.kind !== 'none',
      flush: flushText(s),
    },
    lists,
    pageSize: { targets: layout.targetRows, remotes: layout.remoteRows },
  };
}

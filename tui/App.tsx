import { Box, useApp, useWindowSize } from 'ink';
import { useEffect, useMemo, useReducer, useSyncExternalStore } from 'react';
import type { StatusActions, StatusSnapshot } from '../src/status/types.ts';
import { Dashboard } from './components/Dashboard.tsx';
import { RemoteDetail, TargetDetail } from './components/Detail.tsx';
import { Footer } from './components/Footer.tsx';
import { Header } from './components/Header.tsx';
import { Help } from './components/Help.tsx';
import { isReplaying } from './components/WalPanel.tsx';
import { useKeyBindings } from './hooks/useKeyBindings.ts';
import { useRateHistory } from './hooks/useRateHistory.ts';
import { computeLayout } from './layout.ts';
import { initialUiState, uiReducer } from './state.ts';
import { realScheduler, throttleStore, type Scheduler, type SnapshotSource } from './store.ts';
import { remoteKey, selectedIndex, targetKey, visibleTargets } from './targets.ts';
import { ThemeContext, makeTheme } from './theme.ts';

export interface AppProps {
  readonly store: SnapshotSource<StatusSnapshot>;
  readonly actions: StatusActions;
  /** Upper bound on data-driven re-renders per second (keypresses render immediately). */
  readonly maxFps: number;
  readonly color: boolean;
  /** Fixed terminal size (tests); otherwise the real one, following resizes. */
  readonly size?: { readonly columns: number; readonly rows: number };
  readonly scheduler?: Scheduler;
}

/**
 * Wires state to panels and nothing else: data comes from the throttled store, view state from the reducer,
 * keys from useKeyBindings, and each panel renders its own slice.
 */
export function App({ store, actions, maxFps, color, size, scheduler = realScheduler }: AppProps) {
  const throttled = useMemo(() => throttleStore(store, 1000 / Math.max(1, maxFps), scheduler), [store, maxFps, scheduler]);
  const snapshot = useSyncExternalStore(throttled.subscribe, throttled.getSnapshot);
  const [ui, dispatch] = useReducer(uiReducer, initialUiState);
  const history = useRateHistory(snapshot);
  const theme = useMemo(() => makeTheme(color), [color]);
  const terminal = useWindowSize();
  const { columns, rows } = size ?? terminal;

  const targets = useMemo(() => visibleTargets(snapshot.targets, ui.filter, ui.sort), [snapshot.targets, ui.filter, ui.sort]);
  const lists = useMemo(
    () => ({ targets: targets.map(targetKey), remote: snapshot.remote.map(remoteKey) }),
    [targets, snapshot.remote],
  );
  const layout = computeLayout(columns, rows, snapshot.remote.length, isReplaying(snapshot.wal, snapshot.phase));

  useKeyBindings({
    ui,
    dispatch,
    actions,
    lists,
    pageSize: { targets: layout.targetRows, remotes: layout.remoteRows },
  });

  const { exit } = useApp();
  useEffect(() => {
    // The agent has finished its ordered shutdown; nothing more will change on screen.
    if (snapshot.phase === 'stopped') exit();
  }, [snapshot.phase, exit]);

  let main;
  switch (ui.overlay.kind) {
    case 'help':
      main = <Help compact={layout.compact} rows={layout.mainRows} />;
      break;
    case 'target': {
      const key = ui.overlay.key;
      main = <TargetDetail target={snapshot.targets.find((t) => targetKey(t) === key)} now={snapshot.at} compact={layout.compact} rows={layout.mainRows} />;
      break;
    }
    case 'remote': {
      const key = ui.overlay.key;
      main = <RemoteDetail remote={snapshot.remote.find((r) => remoteKey(r) === key)} now={snapshot.at} compact={layout.compact} rows={layout.mainRows} />;
      break;
    }
    default:
      main = (
        <Dashboard
          snapshot={snapshot}
          ui={ui}
          targets={targets}
          targetIndex={selectedIndex(lists.targets, ui.selectedTarget)}
          remoteIndex={selectedIndex(lists.remote, ui.selectedRemote)}
          layout={layout}
          history={history}
        />
      );
  }

  return (
    <ThemeContext.Provider value={theme}>
      <Box flexDirection="column" width={layout.columns}>
        <Header snapshot={snapshot} reload={ui.reload} quitRequested={ui.quitRequested} />
        <Box flexDirection="column" height={ui.overlay.kind === 'none' ? undefined : layout.mainRows}>
          {main}
        </Box>
        <Footer
          phase={snapshot.phase}
          reload={ui.reload}
          quitRequested={ui.quitRequested}
          editingFilter={ui.editingFilter}
          filter={ui.filter}
          overlay={ui.overlay.kind !== 'none'}
        />
      </Box>
    </ThemeContext.Provider>
  );
}

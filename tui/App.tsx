import { Box, useApp, useWindowSize } from 'ink';
import { memo, type ReactNode, useCallback, useEffect, useMemo, useReducer, useState } from 'react';
import type { StatusActions, StatusSnapshot } from '../src/status/types.ts';
import { Dashboard } from './components/Dashboard.tsx';
import { Detail } from './components/Detail.tsx';
import { Footer } from './components/Footer.tsx';
import { Header } from './components/Header.tsx';
import { Help } from './components/Help.tsx';
import { RateHistory } from './history.ts';
import { useKeyBindings } from './hooks/useKeyBindings.ts';
import { useSharedSelection } from './hooks/useSharedSelection.ts';
import { initialUiState, uiReducer } from './state.ts';
import { realScheduler, throttleStore, type Scheduler, type SnapshotSource } from './store.ts';
import { ThemeContext, makeTheme } from './theme.ts';
import { buildScreen, type ScreenView } from './view.ts';

export interface AppProps {
  readonly store: SnapshotSource<StatusSnapshot>;
  readonly actions: StatusActions;
  /** Upper bound on data-driven re-renders per second (keypresses render immediately). */
  readonly maxFps: number;
  readonly color: boolean;
  /** Fixed terminal size (tests); otherwise the real one, following resizes. */
  readonly size?: { readonly columns: number; readonly rows: number };
  readonly scheduler?: Scheduler;
  /** Where the log lines go while the dashboard is up (shown in the help view). */
  readonly logFile?: string | undefined;
}

/**
 * Wires state to the screen and nothing else: data comes from the throttled store, view state from the reducer,
 * keys from useKeyBindings. Both are turned into one plain display model (view.ts), and React only hears about
 * a snapshot when that model changes: an idle agent's refreshes (same numbers, same coarse ages) draw nothing.
 */
export function App({ store, actions, maxFps, color, size, scheduler = realScheduler, logFile = '' }: AppProps) {
  const throttled = useMemo(
    () => throttleStore(store, 1000 / Math.max(1, maxFps), scheduler),
    [store, maxFps, scheduler],
  );
  const [ui, dispatch] = useReducer(uiReducer, initialUiState);
  const [history] = useState(() => new RateHistory());
  const theme = useMemo(() => makeTheme(color), [color]);
  const terminal = useWindowSize();
  const { columns, rows } = size ?? terminal;

  const select = useCallback(
    (s: StatusSnapshot) => buildScreen(s, { ui, columns, rows, history, logFile }),
    [ui, columns, rows, history, logFile],
  );
  const screen = useSharedSelection(throttled, select);

  useKeyBindings({ ui, dispatch, actions, lists: screen.lists, pageSize: screen.pageSize });

  const { exit } = useApp();
  useEffect(() => {
    // The agent has finished its ordered shutdown; nothing more will change on screen.
    if (screen.phase === 'stopped') exit();
  }, [screen.phase, exit]);

  return (
    <ThemeContext.Provider value={theme}>
      <Screen view={screen} />
    </ThemeContext.Provider>
  );
}

const Screen = memo(function Screen({ view: v }: { readonly view: ScreenView }) {
  let main: ReactNode;
  switch (v.main.kind) {
    case 'help':
      main = <Help compact={v.main.compact} rows={v.main.rows} logFile={v.main.logFile} />;
      break;
    case 'detail':
      main = <Detail view={v.main.detail} />;
      break;
    default:
      main = <Dashboard view={v.main.dashboard} />;
  }
  return (
    <Box flexDirection="column" width={v.columns}>
      <Header view={v.header} />
      <Box flexDirection="column" height={v.mainRows}>
        {main}
      </Box>
      <Footer {...v.footer} />
    </Box>
  );
});

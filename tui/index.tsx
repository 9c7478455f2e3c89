import { render } from 'ink';
import type { StatusActions, StatusSnapshot } from '../src/status/types.ts';
import { App } from './App.tsx';
import { colorFromEnv } from './theme.ts';

export interface TuiStore {
  getSnapshot(): StatusSnapshot;
  subscribe(fn: () => void): () => void;
}

export interface TuiOptions {
  /** Cap on frames per second, for both data-driven re-renders and terminal writes. Default 10. */
  maxFps?: number;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  /** Draw on the terminal's alternate screen (like htop) and restore the shell's screen on exit. Default true. */
  alternateScreen?: boolean;
  /** Where the log lines go while the dashboard is up, shown in the help view. */
  logFile?: string;
}

export interface TuiHandle {
  /** Settles once the UI is gone: after unmount(), or by itself when the snapshot phase reaches 'stopped'. */
  waitUntilExit(): Promise<void>;
  unmount(): void;
}

const DEFAULT_MAX_FPS = 10;

/**
 * Starts the interactive dashboard. Keys act only through `actions`; q and Ctrl-C call actions.quit() and the
 * UI stays up, showing "flushing…", until the agent reports phase 'stopped' (or the caller unmounts it).
 */
export function runTui(store: TuiStore, actions: StatusActions, opts: TuiOptions = {}): TuiHandle {
  const maxFps = opts.maxFps ?? DEFAULT_MAX_FPS;
  const instance = render(
    <App store={store} actions={actions} maxFps={maxFps} color={colorFromEnv(process.env)} logFile={opts.logFile} />,
    {
      stdout: opts.stdout ?? process.stdout,
      stdin: opts.stdin ?? process.stdin,
      maxFps,
      // Ctrl-C is a quit request the agent must turn into an ordered shutdown, not an immediate unmount.
      exitOnCtrlC: false,
      alternateScreen: opts.alternateScreen ?? true,
      // Rewrite only the lines that changed: an uptime tick is a few bytes to the terminal instead of the whole screen.
      incrementalRendering: true,
    },
  );
  return {
    waitUntilExit: async () => {
      await instance.waitUntilExit();
    },
    unmount: () => instance.unmount(),
  };
}

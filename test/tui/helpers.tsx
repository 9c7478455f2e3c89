import { render } from 'ink-testing-library';
import type { StatusSnapshot } from '../../src/status/types.ts';
import { App } from '../../tui/App.tsx';
import type { Scheduler } from '../../tui/store.ts';
import {
  FakeStore,
  KEYS,
  makeSnapshot,
  recordingActions,
  stripAnsi,
  tick,
  waitFor,
  type RecordingActions,
} from './fixtures.ts';

export interface Mounted {
  readonly store: FakeStore;
  readonly actions: RecordingActions;
  readonly frames: string[];
  /** Last frame without escape codes. */
  frame(): string;
  rawFrame(): string;
  press(...keys: string[]): Promise<void>;
  /** Waits until the frame contains (or, with `absent`, no longer contains) the text. */
  until(text: string, absent?: boolean): Promise<void>;
  unmount(): void;
}

export interface MountOptions {
  snapshot?: StatusSnapshot;
  columns?: number;
  rows?: number;
  color?: boolean;
  maxFps?: number;
  scheduler?: Scheduler;
  logFile?: string;
}

/** Renders the whole App through ink-testing-library at a fixed terminal size (≤ 100 columns, its stdout width). */
export async function mount(o: MountOptions = {}): Promise<Mounted> {
  const store = new FakeStore(o.snapshot ?? makeSnapshot());
  const actions = recordingActions();
  const size = { columns: o.columns ?? 100, rows: o.rows ?? 30 };
  const r = render(
    <App
      store={store}
      actions={actions}
      maxFps={o.maxFps ?? 1000}
      color={o.color ?? false}
      size={size}
      {...(o.scheduler ? { scheduler: o.scheduler } : {})}
      {...(o.logFile ? { logFile: o.logFile } : {})}
    />,
  );
  // ink-testing-library's stdout has no `rows`, so Ink would spawn `tput` (terminal-size) on every frame; that
  // costs ~40 ms a frame. Only the first frame pays it.
  Object.defineProperty(r.stdout, 'rows', { value: size.rows });
  const frame = () => stripAnsi(r.lastFrame() ?? '');
  const m: Mounted = {
    store,
    actions,
    frames: r.frames,
    frame,
    rawFrame: () => r.lastFrame() ?? '',
    async press(...keys) {
      for (const k of keys) {
        const before = r.frames.length;
        r.stdin.write(k);
        // A lone Escape is held by Ink ~20 ms in case it starts a sequence; other keys parse at once.
        await tick(k === KEYS.escape ? 40 : 1);
        // Most keys change the view; give React a moment to commit, but don't require a new frame.
        if (r.frames.length === before) await tick(5);
      }
    },
    until: (text, absent = false) => waitFor(() => frame().includes(text) !== absent, frame),
    unmount: () => r.unmount(),
  };
  await waitFor(() => frame().includes('Outpost'), frame);
  return m;
}

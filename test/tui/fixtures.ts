import { EventEmitter } from 'node:events';
import type { RemoteStatus, StatusActions, StatusSnapshot, TargetStatus } from '../../src/status/types.ts';

/** Snapshot time used by all fixtures, so "ago" texts are exact. */
export const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

export function makeTarget(over: Partial<TargetStatus> = {}): TargetStatus {
  const instance = over.instance ?? 'node-1:9100';
  return {
    pool: 'node',
    instance,
    url: `http://${instance}/metrics`,
    health: 'up',
    lastScrape: NOW - 5_000,
    lastDurationMs: 42,
    lastError: '',
    samples: 1234,
    series: 1200,
    histograms: 0,
    histogramSeries: 0,
    intervalMs: 15_000,
    labels: { instance, job: over.pool ?? 'node' },
    discoveredLabels: { __address__: instance, __scheme__: 'http', __metrics_path__: '/metrics' },
    ...over,
  };
}

export function makeRemote(over: Partial<RemoteStatus> = {}): RemoteStatus {
  return {
    name: 'primary',
    url: 'https://metrics.example.com/api/v1/write',
    health: 'up',
    lastError: '',
    lastErrorAt: 0,
    lagSeconds: 1.5,
    pendingSamples: 250,
    backlogBytes: 64 * 1024,
    samplesSent: 1_000_000,
    samplesRetried: 12,
    samplesDropped: 0,
    samplesFailed: 0,
    sendRate: 2500,
    shards: 2,
    ...over,
  };
}

export function makeSnapshot(over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    version: '0.1.0',
    startedAt: NOW - 3_723_000,
    at: NOW,
    phase: 'running',
    configFile: '/etc/outpost/agent.yml',
    dataDir: '/var/lib/outpost',
    listenAddress: '0.0.0.0:9090',
    reload: { ok: true, at: NOW - 60_000, error: '' },
    targets: [
      makeTarget({ pool: 'node', instance: 'node-1:9100' }),
      makeTarget({
        pool: 'node',
        instance: 'node-2:9100',
        health: 'down',
        lastError: 'connection refused',
        samples: 0,
        series: 0,
      }),
      makeTarget({ pool: 'outpost', instance: 'localhost:9090', samples: 310, series: 300, lastDurationMs: 3 }),
    ],
    series: { active: 1500, created: 1800, removed: 300, samplesAppended: 4_200_000, histogramsAppended: 0 },
    wal: {
      bytes: 48 * 1024 * 1024,
      segments: 3,
      firstSegment: 7,
      lastSegment: 9,
      capBytes: 512 * 1024 * 1024,
      oldestTimestamp: NOW - 2 * 3600_000,
      replay: { done: true, current: 3, max: 3 },
    },
    remote: [
      makeRemote(),
      makeRemote({
        name: 'backup',
        url: 'http://10.0.0.5:9201/write',
        health: 'down',
        lastError: 'HTTP 503: upstream unavailable',
        lagSeconds: 340,
        samplesDropped: 7,
      }),
    ],
    ...over,
  };
}

/** A hub stand-in: tests push snapshots and see who listens. */
export class FakeStore {
  private snapshot: StatusSnapshot;
  private readonly listeners = new Set<() => void>();

  constructor(initial: StatusSnapshot = makeSnapshot()) {
    this.snapshot = initial;
  }

  getSnapshot = (): StatusSnapshot => this.snapshot;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };

  get listenerCount(): number {
    return this.listeners.size;
  }

  set(next: StatusSnapshot): void {
    this.snapshot = next;
    for (const fn of this.listeners) fn();
  }

  update(over: Partial<StatusSnapshot>): void {
    this.set({ ...this.snapshot, ...over });
  }
}

export interface RecordingActions extends StatusActions {
  readonly calls: string[];
  /** Settles the pending reload() promise. */
  resolveReload(r: { ok: boolean; error?: string }): void;
}

export function recordingActions(): RecordingActions {
  const calls: string[] = [];
  let settle: ((r: { ok: boolean; error?: string }) => void) | null = null;
  return {
    calls,
    reload() {
      calls.push('reload');
      return new Promise((resolve) => {
        settle = resolve;
      });
    },
    quit() {
      calls.push('quit');
    },
    resolveReload(r) {
      if (settle === null) throw new Error('reload() was not called');
      settle(r);
      settle = null;
    },
  };
}

/** Key sequences as a terminal sends them. */
export const KEYS = {
  up: '\u001B[A',
  down: '\u001B[B',
  tab: '\t',
  shiftTab: '\u001B[Z',
  enter: '\r',
  escape: '\u001B',
  backspace: '\u007F',
  ctrlC: '\u0003',
  pageDown: '\u001B[6~',
} as const;

/** Lets Ink parse input and React commit; a lone Escape also waits for Ink's escape-sequence timeout. */
export function tick(ms = 0): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Colour SGR codes (30-37, 39, 40-47, 49, 90-97, 100-107, 38;… and 48;…), not bold/inverse/dim.
const COLOR_SGR = /\u001B\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m/;

export function hasColor(s: string): boolean {
  return COLOR_SGR.test(s);
}

export function stripAnsi(s: string): string {
  return s.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '');
}

/** A terminal of a chosen size for Ink (ink-testing-library's is fixed at 100 columns with no rows). */
export class FakeTerminal extends EventEmitter {
  readonly frames: string[] = [];
  isTTY = false;
  columns: number;
  rows: number;

  constructor(columns: number, rows: number) {
    super();
    this.columns = columns;
    this.rows = rows;
  }

  /** Calls the write callback like a real stream: Ink waits for it before unmount settles. */
  write = (frame: string, encodingOrCb?: unknown, cb?: unknown): boolean => {
    this.frames.push(frame);
    const done = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  };

  lastFrame(): string {
    return this.frames.at(-1) ?? '';
  }

  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export class FakeInput extends EventEmitter {
  isTTY = true;
  private data: string | null = null;

  write(data: string): void {
    this.data = data;
    this.emit('readable');
  }

  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };

  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/** Polls until `check` passes (Ink input parsing and React commits are asynchronous); fails with the last frame. */
export async function waitFor(check: () => boolean, describe: () => string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; last frame:\n${describe()}`);
    await tick(5);
  }
}

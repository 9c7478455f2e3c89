import type { Clock } from '../util/clock.ts';
import type { Phase, ReloadStatus, RemoteStatus, SeriesStatus, StatusSnapshot, TargetStatus, WalStatus } from './types.ts';

/** Each stage contributes one part of the snapshot through a provider; the hub asks them when it refreshes. */
export interface StatusProviders {
  targets?: () => readonly TargetStatus[];
  series?: () => SeriesStatus;
  wal?: () => WalStatus;
  remote?: () => readonly RemoteStatus[];
}

export interface StatusHubInfo {
  version: string;
  configFile: string;
  dataDir: string;
  listenAddress: string;
}

const EMPTY_SERIES: SeriesStatus = { active: 0, created: 0, removed: 0, samplesAppended: 0 };
const EMPTY_WAL: WalStatus = {
  bytes: 0, segments: 0, firstSegment: 0, lastSegment: 0, capBytes: 0, oldestTimestamp: 0,
  replay: { done: false, current: 0, max: 0 },
};

/**
 * Holds the latest immutable snapshot. Snapshots are rebuilt on a coarse timer (not per sample) and on
 * demand with getFresh(); subscribers are told after each rebuild (useSyncExternalStore-compatible).
 */
export class StatusHub {
  private snapshot: StatusSnapshot;
  private readonly listeners = new Set<() => void>();
  private providers: StatusProviders = {};
  private phase: Phase = 'starting';
  private reloadStatus: ReloadStatus;
  private timer: object | null = null;
  private readonly info: StatusHubInfo;
  private readonly clock: Clock;
  private readonly startedAt: number;
  /** Refresh period once started; 0 before. */
  private intervalMs = 0;

  constructor(info: StatusHubInfo, clock: Clock) {
    this.info = info;
    this.clock = clock;
    this.startedAt = clock.now();
    this.reloadStatus = { ok: true, at: this.startedAt, error: '' };
    this.snapshot = this.build();
  }

  setProviders(p: StatusProviders): void {
    this.providers = { ...this.providers, ...p };
  }

  /** The address the web server bound (port 0 resolved), once it listens. */
  setListenAddress(address: string): void {
    this.info.listenAddress = address;
    this.refresh();
  }

  setPhase(phase: Phase): void {
    this.phase = phase;
    this.refresh();
  }

  setReload(r: ReloadStatus): void {
    this.reloadStatus = r;
    this.refresh();
  }

  /**
   * The latest snapshot. With nobody subscribed (headless) the timer builds nothing and a reader
   * (the web API) gets one rebuilt on demand once the last is an interval old: building it walks
   * every target, which for 10,000 targets each second was a good part of the agent's idle CPU.
   */
  getSnapshot = (): StatusSnapshot => {
    if (this.listeners.size === 0 && this.intervalMs > 0 && this.clock.now() - this.snapshot.at >= this.intervalMs) this.snapshot = this.build();
    return this.snapshot;
  };

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** Rebuilds now and notifies subscribers. */
  refresh(): StatusSnapshot {
    this.snapshot = this.build();
    for (const fn of this.listeners) fn();
    return this.snapshot;
  }

  /** Rebuilds every intervalMs while anyone may be watching. */
  start(intervalMs: number): void {
    this.intervalMs = intervalMs;
    const tick = () => {
      if (this.listeners.size > 0) this.refresh();
      this.timer = this.clock.setTimeout(tick, intervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    };
    this.timer = this.clock.setTimeout(tick, intervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private build(): StatusSnapshot {
    const p = this.providers;
    return Object.freeze({
      version: this.info.version,
      startedAt: this.startedAt,
      at: this.clock.now(),
      phase: this.phase,
      configFile: this.info.configFile,
      dataDir: this.info.dataDir,
      listenAddress: this.info.listenAddress,
      reload: this.reloadStatus,
      targets: p.targets ? p.targets() : [],
      series: p.series ? p.series() : EMPTY_SERIES,
      wal: p.wal ? p.wal() : EMPTY_WAL,
      remote: p.remote ? p.remote() : [],
    });
  }
}

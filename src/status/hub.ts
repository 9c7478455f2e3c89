import type { Clock } from '../util/clock.ts';
import type {
  OtlpStatus,
  Phase,
  ReloadStatus,
  RemoteStatus,
  SeriesStatus,
  StatusSnapshot,
  TargetStatus,
  WalStatus,
} from './types.ts';

/** Each stage contributes one part of the snapshot through a provider; the hub asks them when it refreshes. */
export interface StatusProviders {
  targets?: () => readonly TargetStatus[];
  series?: () => SeriesStatus;
  wal?: () => WalStatus;
  remote?: () => readonly RemoteStatus[];
  otlp?: () => OtlpStatus;
}

export interface StatusHubInfo {
  version: string;
  configFile: string;
  dataDir: string;
  listenAddress: string;
}

const EMPTY_SERIES: SeriesStatus = { active: 0, created: 0, removed: 0, samplesAppended: 0, histogramsAppended: 0 };
const EMPTY_WAL: WalStatus = {
  bytes: 0,
  segments: 0,
  firstSegment: 0,
  lastSegment: 0,
  capBytes: 0,
  oldestTimestamp: 0,
  replay: { done: false, current: 0, max: 0 },
};

/**
 * Holds the latest immutable snapshot. Nothing is rebuilt while nobody looks: getSnapshot() rebuilds on
 * demand once the snapshot is older than the refresh interval, and the periodic rebuild runs only while
 * someone is subscribed (the dashboard). A headless agent that nobody queries does no status work at all.
 * Subscribers are told after each rebuild (useSyncExternalStore-compatible).
 */
export class StatusHub {
  private snapshot: StatusSnapshot;
  /** True when something changed since the snapshot was built (phase, reload, address). */
  private stale = false;
  private readonly listeners = new Set<() => void>();
  private providers: StatusProviders = {};
  private phase: Phase = 'starting';
  private reloadStatus: ReloadStatus;
  private timer: object | null = null;
  /** How old a snapshot may get before getSnapshot() rebuilds it, and the subscribers' refresh period. */
  private intervalMs = 1000;
  private running = false;
  private readonly info: StatusHubInfo;
  private readonly clock: Clock;
  private readonly startedAt: number;

  constructor(info: StatusHubInfo, clock: Clock) {
    this.info = info;
    this.clock = clock;
    this.startedAt = clock.now();
    this.reloadStatus = { ok: true, at: this.startedAt, error: '' };
    this.snapshot = this.build();
  }

  setProviders(p: StatusProviders): void {
    this.providers = { ...this.providers, ...p };
    this.stale = true;
  }

  /** The address the web server bound (port 0 resolved), once it listens. */
  setListenAddress(address: string): void {
    this.info.listenAddress = address;
    this.changed();
  }

  setPhase(phase: Phase): void {
    this.phase = phase;
    this.changed();
  }

  setReload(r: ReloadStatus): void {
    this.reloadStatus = r;
    this.changed();
  }

  /** The current snapshot, rebuilt first when something changed or it is older than the refresh interval. */
  getSnapshot = (): StatusSnapshot => {
    // Subscribers get rebuilt snapshots from the timer; between ticks they must see a stable object.
    if (this.listeners.size === 0 && (this.stale || this.clock.now() - this.snapshot.at >= this.intervalMs)) {
      this.snapshot = this.build();
      this.stale = false;
    }
    return this.snapshot;
  };

  /** The remote-write part (fresh) and the last reload, without building the rest: for periodic samplers. */
  sampled(): Pick<StatusSnapshot, 'remote' | 'reload' | 'startedAt'> {
    return {
      remote: this.providers.remote ? this.providers.remote() : [],
      reload: this.reloadStatus,
      startedAt: this.startedAt,
    };
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    this.schedule();
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.cancel();
    };
  };

  /** Rebuilds now and notifies subscribers. */
  refresh(): StatusSnapshot {
    this.snapshot = this.build();
    this.stale = false;
    for (const fn of this.listeners) fn();
    return this.snapshot;
  }

  /** Sets the refresh interval and lets subscribers get a rebuild every intervalMs. */
  start(intervalMs: number): void {
    this.intervalMs = intervalMs;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.cancel();
  }

  /** Subscribers hear of a change at once; without them the next getSnapshot() rebuilds. */
  private changed(): void {
    if (this.listeners.size > 0) this.refresh();
    else this.stale = true;
  }

  private schedule(): void {
    if (this.timer || !this.running || this.listeners.size === 0) return;
    const tick = () => {
      this.timer = null;
      if (!this.running || this.listeners.size === 0) return;
      this.refresh();
      this.schedule();
    };
    this.timer = this.clock.setTimeout(tick, this.intervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private cancel(): void {
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
      ...(p.otlp ? { otlp: p.otlp() } : {}),
    });
  }
}

/**
 * The status snapshot: everything the UI, the web API and logs show about a running agent.
 * Immutable plain data, so readers (the Ink TUI, the web page) never touch the core.
 */
export type Phase = 'starting' | 'replaying' | 'running' | 'stopping' | 'stopped';
export type Health = 'up' | 'down' | 'unknown';

export interface TargetStatus {
  readonly pool: string;
  readonly instance: string;
  readonly url: string;
  readonly health: Health;
  /** ms since epoch of the last scrape start, 0 = never. */
  readonly lastScrape: number;
  readonly lastDurationMs: number;
  readonly lastError: string;
  /** Samples of the last scrape, native histograms included (Prometheus' scrape_samples_scraped). */
  readonly samples: number;
  /** Series after metric relabeling, histogram series included. */
  readonly series: number;
  /** Of `samples`: native histograms (custom-bucket ones included). */
  readonly histograms: number;
  /** Of `series`: native-histogram series. */
  readonly histogramSeries: number;
  readonly intervalMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly discoveredLabels: Readonly<Record<string, string>>;
}

export interface RemoteStatus {
  readonly name: string;
  readonly url: string;
  readonly health: Health;
  readonly lastError: string;
  /** ms since epoch, 0 = none. */
  readonly lastErrorAt: number;
  /** Age of the oldest sample this endpoint has not acknowledged yet, in seconds (0 when nothing waits). */
  readonly lagSeconds: number;
  readonly pendingSamples: number;
  /** WAL bytes this endpoint has not acknowledged yet. */
  readonly backlogBytes: number;
  readonly samplesSent: number;
  readonly samplesRetried: number;
  readonly samplesDropped: number;
  readonly samplesFailed: number;
  /** Samples per second acknowledged, averaged over the last few seconds. */
  readonly sendRate: number;
  readonly shards: number;
  /** Only while the agent stops: how this endpoint's final flush stands. */
  readonly flush?: RemoteFlushStatus;
}

/**
 * An endpoint's shutdown flush: 'draining' while the endpoint takes what is queued, 'done' when all
 * went out, 'gave_up' when it stopped with data unsent (endpoint failing, deadline, or quit now).
 * Unsent data stays in the WAL and is sent after the restart.
 */
export interface RemoteFlushStatus {
  readonly state: 'draining' | 'done' | 'gave_up';
  /** ms since epoch when the flush ends at the latest (--storage.remote.flush-deadline). */
  readonly deadlineAt: number;
}

export interface WalStatus {
  readonly bytes: number;
  readonly segments: number;
  readonly firstSegment: number;
  readonly lastSegment: number;
  /** 0 = no cap. */
  readonly capBytes: number;
  /** ms since epoch of the oldest sample still on disk, 0 = unknown. */
  readonly oldestTimestamp: number;
  readonly replay: { readonly done: boolean; readonly current: number; readonly max: number };
  /** Why the WAL cannot be written right now ('' = healthy); samples are dropped meanwhile. */
  readonly writeError?: string;
  /** Samples dropped because the WAL could not be written. */
  readonly samplesDropped?: number;
}

export interface SeriesStatus {
  readonly active: number;
  readonly created: number;
  readonly removed: number;
  readonly samplesAppended: number;
  /** Of samplesAppended: native histograms. */
  readonly histogramsAppended: number;
}

/** One OTLP resource (service) that pushed to the receiver: job from service.[namespace/]name, instance. */
interface OtlpResourceStatus {
  readonly job: string;
  readonly instance: string;
  /** Data points received from it since start. */
  readonly points: number;
  /** ms since epoch of its last request. */
  readonly lastSeen: number;
}

/** The OTLP receiver as a source of samples (present only with --web.enable-otlp-receiver). */
export interface OtlpStatus {
  readonly requests: number;
  readonly requestsFailed: number;
  readonly pointsReceived: number;
  readonly pointsRejected: number;
  readonly samplesAppended: number;
  /** Data points received per second over the last ten seconds. */
  readonly pointsPerSecond: number;
  readonly lastError: string;
  /** ms since epoch, 0 = none. */
  readonly lastErrorAt: number;
  readonly lastRequestAt: number;
  /** The resources that sent the most points, most first (at most ten). */
  readonly topResources: readonly OtlpResourceStatus[];
}

export interface ReloadStatus {
  readonly ok: boolean;
  readonly at: number;
  readonly error: string;
}

export interface StatusSnapshot {
  readonly version: string;
  readonly startedAt: number;
  readonly at: number;
  readonly phase: Phase;
  readonly configFile: string;
  readonly dataDir: string;
  readonly listenAddress: string;
  readonly reload: ReloadStatus;
  readonly targets: readonly TargetStatus[];
  readonly series: SeriesStatus;
  readonly wal: WalStatus;
  readonly remote: readonly RemoteStatus[];
  /** Absent while the OTLP receiver is off. */
  readonly otlp?: OtlpStatus;
}

/** Commands the UI may send back (the only way it acts on the agent). */
export interface StatusActions {
  reload(): Promise<{ ok: boolean; error?: string }>;
  quit(): void;
}

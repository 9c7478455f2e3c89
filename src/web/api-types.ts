/**
 * JSON shapes of the `/api/v1` answers the UI reads, shared by the server (src/web/api.ts) and the
 * browser script (src/web/ui/client.ts). Types only, with no imports: the browser build type-checks
 * this file without Node's types.
 */

export interface ApiTarget {
  discoveredLabels: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: string;
  scrapeInterval: string;
  scrapeTimeout: string;
  /** Outpost extra: the last scrape's samples, floats and native histograms apart. */
  lastScrapeSamples: { floats: number; histograms: number };
  /** Outpost extra: the last scrape's series after metric relabeling, floats and native histograms apart. */
  lastScrapeSeries: { floats: number; histograms: number };
}

export interface DroppedTargetJson {
  discoveredLabels: Readonly<Record<string, string>>;
  /** Outpost extra: why the target is dropped, when scrape sharding dropped it (relabeled ones have none). */
  dropReason?: string;
}

export interface TargetsJson {
  activeTargets: ApiTarget[];
  droppedTargets: DroppedTargetJson[];
}

export interface RemoteWriteEndpointJson {
  name: string;
  url: string;
  health: string;
  lastError: string;
  lastErrorTime: string | null;
  lagSeconds: number;
  pendingSamples: number;
  backlogBytes: number;
  samplesSent: number;
  samplesRetried: number;
  samplesDropped: number;
  samplesFailed: number;
  sendRate: number;
  shards: number;
  throughput: { intervalSeconds: number; samplesPerSecond: number[] };
}

export interface WalStatusJson {
  phase: string;
  dataDir: string;
  bytes: number;
  segments: number;
  firstSegment: number;
  lastSegment: number;
  capBytes: number;
  oldestTimestamp: string | null;
  replay: { done: boolean; current: number; max: number };
  series: { active: number; created: number; removed: number; samplesAppended: number; histogramsAppended: number };
}

/** GET /api/v1/status/otlp: the OTLP receiver (--web.enable-otlp-receiver). */
export interface OtlpStatusJson {
  enabled: boolean;
  requests: number;
  requestsFailed: number;
  pointsReceived: number;
  pointsRejected: number;
  samplesAppended: number;
  pointsPerSecond: number;
  lastError: string;
  lastErrorTime: string | null;
  lastRequestTime: string | null;
  topResources: { job: string; instance: string; points: number; lastSeen: string }[];
}

export interface WalReplayJson {
  min: number;
  max: number;
  current: number;
}

export interface RuntimeInfoJson {
  startTime: string;
  CWD: string;
  reloadConfigSuccess: boolean;
  lastConfigTime: string;
  corruptionCount: number;
  goroutineCount: number;
  GOMAXPROCS: number;
  GOGC: string;
  GODEBUG: string;
  storageRetention: string;
}

export interface BuildInfoJson {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
  goVersion: string;
}

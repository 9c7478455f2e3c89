import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log/logger.ts';
import type { StatusSnapshot } from '../status/types.ts';
import type { Clock } from '../util/clock.ts';
import type { WebOptions } from './options.ts';
import type { BuildInfoJson } from './api-types.ts';

/** One configured scrape pool (a job), whether or not it has targets right now. */
export interface ScrapePoolInfo {
  readonly name: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** One metric's metadata as a target exposed it (TYPE/HELP/UNIT). */
export interface TargetMetadata {
  readonly target: Readonly<Record<string, string>>;
  readonly metric: string;
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

/** What the HTTP surface needs from the agent; main wires it. */
export interface WebDeps {
  registry: Registry;
  log: Logger;
  isReady: () => boolean;
  snapshot: () => StatusSnapshot;
  /**
   * The remote-write status and the last reload alone, for the throughput sampler that runs every few
   * seconds whether or not anyone looks; absent = taken from snapshot() (which also builds every target).
   */
  sampled?: () => Pick<StatusSnapshot, 'remote' | 'reload' | 'startedAt'>;
  enableLifecycle: boolean;
  reload: () => Promise<{ ok: boolean; error?: string }>;
  quit: () => void;
  /** The loaded config as YAML with secrets already shown as `<secret>`. */
  configYaml: () => string;
  flags: Readonly<Record<string, string>>;
  buildInfo: Readonly<BuildInfoJson>;
  /** `reason`: set when scrape sharding dropped the target (an Outpost extra in the API). */
  droppedTargets: () => { pool: string; discovered: Record<string, string>; reason?: string | undefined }[];
  /** Configured pools (for /api/v1/scrape_pools and scrapeTimeout); absent = pools that have targets. */
  scrapePools?: () => readonly ScrapePoolInfo[];
  /** Metadata seen in scrapes; absent = no metadata source (the metadata endpoints answer empty lists). */
  targetMetadata?: () => readonly TargetMetadata[];
  /**
   * POST /api/v1/otlp/v1/metrics (--web.enable-otlp-receiver); absent = the endpoint answers 404 with
   * Prometheus' hint to enable it.
   */
  otlpWrite?: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  /** The `--web.*` flags; absent = read from `flags` (web.external-url, web.route-prefix, ...). */
  options?: WebOptions;
  /** Drives the throughput-history timer; defaults to the system clock. */
  clock?: Clock;
}

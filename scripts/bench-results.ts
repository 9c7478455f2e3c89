/**
 * What the benchmark reads back: the shared harness' results.json (one per harness scenario) and the
 * self-scrape scenario's results.json (scripts/bench-self-scrape.ts writes the same outer shape, with
 * `config.kind: "idle"`, bench/otlp.ts with `"otlp"`), and where a run directory keeps them.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';

/** The bare runtime measured beside the agents in the idle scenario (bench/node-floor.mjs). */
export const FLOOR_NAME = 'node-floor';

/** One agent's row of a results.json; harness fields, plus the self-scrape ones (sink_*). */
export interface AgentResult {
  agent: string;
  error?: string;
  version?: string;
  samples_per_s?: number;
  delivered?: number;
  expected_incl_auto?: number;
  /** Scrapes the targets answered during the window, from whoever. */
  scrapes?: number;
  window_s?: number;
  /** up, scrape_* series per target, counted in the receiver after the warm-up. */
  auto_series_per_target?: number;
  cpu_pct?: number;
  cpu_s_per_1M?: number;
  rss_avg?: number;
  rss_peak?: number;
  rss_anon_avg?: number;
  pss_end_window?: number;
  rss_bytes_per_series?: number;
  disk_end_window?: number;
  catchup_s?: number | null;
  samples_lost?: number;
  samples_extra?: number;
  rss_peak_outage?: number;
  disk_growth_outage?: number;
  targets_cpu_pct?: number;
  vm_cpu_pct?: number;
  ts_deltas?: { n: number; exact: number; max_abs_dev_ms: number };
  /** Self-scrape scenario: remote-write requests and bytes the sink received during the window. */
  sink_requests?: number;
  sink_bytes?: number;
  /** OTLP scenario (bench/otlp.ts): data points accepted per second through the receiver, and refused. */
  otlp_points_per_s?: number;
  otlp_points_rejected?: number;
}

export interface RunConfig {
  /** "idle" for the self-scrape scenario, "otlp" for bench/otlp.ts; absent in the harness' results. */
  kind?: 'idle' | 'otlp';
  T: number;
  S: number;
  interval: number;
  warmup: number;
  window: number;
  outage: number;
  catchupMax: number;
  runDir: string;
}

export interface Results {
  config: RunConfig;
  results: AgentResult[];
}

export const RESULTS_FILE = 'results.json';

export function readResults(file: string): Results {
  return JSON.parse(readFileSync(file, 'utf8')) as Results;
}

export function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

export function mibOf(b: number | undefined): number | undefined {
  return b === undefined ? undefined : b / 2 ** 20;
}

/** A finite number, or undefined (missing, NaN, or a failed agent). */
export function finite(v: number | null | undefined): number | undefined {
  return v === null || v === undefined || !Number.isFinite(v) ? undefined : v;
}

/**
 * Harness for the remote-write *sender* compliance cases (prometheus/compliance RW1, restated in
 * research/conformance.md §1.2-1.3). One case = a loopback scrape target, an RwReceiver and a sender
 * (Outpost or the real Prometheus agent as reference) run for a few scrapes, stopped with SIGINT.
 * The same case runs against both senders, so every expectation is checked against Prometheus too.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import YAML from 'yaml';
import type { DecodedLabel } from './rw-proto.ts';
import { freePort, startOutpost, startProc, tmpDir, type Proc, type Teardown } from './procs.ts';
import { RwReceiver } from './rw-receiver.ts';
import { at, defined } from './defined.ts';

export type Sender = 'outpost' | 'prometheus';
export const SENDERS: readonly Sender[] = ['outpost', 'prometheus'];

// ---- a small client-library-style exposition --------------------------------------------------

/** Formats a float the way Go's strconv.FormatFloat(v, 'g', -1, 64) does, as client_golang writes values. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, expText] = v.toExponential().split('e');
  const exp = Number(expText);
  // Go switches to exponent form for exp < -4 or exp >= 21 (shortest form uses eprec 21).
  if (exp < -4 || exp >= 21) {
    const abs = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  }
  return String(v);
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: readonly (readonly [string, string])[]): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([n, v]) => `${n}="${escapeLabelValue(v)}"`).join(',')}}`;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  lines(): string[];
}

export interface CounterHandle {
  inc(by?: number): void;
  readonly value: number;
}

export interface ObserverHandle {
  observe(v: number): void;
}

/** Registry of metric families rendered as text format 0.0.4, like a client library's handler. */
export class Exposition {
  private readonly families: Family[] = [];
  private readonly gauges = new Map<string, (() => string)[]>();

  counter(name: string, help: string): CounterHandle {
    let value = 0;
    this.families.push({ name, help, type: 'counter', lines: () => [`${name} ${formatGoFloat(value)}`] });
    return {
      inc(by = 1) {
        value += by;
      },
      get value() {
        return value;
      },
    };
  }

  /** A gauge whose value is computed at every render (client_golang's GaugeFunc); labelled children share a family. */
  gauge(name: string, help: string, fn: () => number, labels: readonly (readonly [string, string])[] = []): void {
    const line = (): string => `${name}${labelText(labels)} ${formatGoFloat(fn())}`;
    const existing = this.gauges.get(name);
    if (existing) {
      existing.push(line);
      return;
    }
    const children = [line];
    this.gauges.set(name, children);
    this.families.push({ name, help, type: 'gauge', lines: () => children.map((c) => c()) });
  }

  /** Removes a family, as unregistering a collector does. */
  unregister(name: string): void {
    const i = this.families.findIndex((f) => f.name === name);
    if (i >= 0) this.families.splice(i, 1);
    this.gauges.delete(name);
  }

  histogram(name: string, help: string, buckets: readonly number[]): ObserverHandle {
    const upper = [...buckets].sort((a, b) => a - b);
    const counts = new Array<number>(upper.length).fill(0);
    let sum = 0;
    let count = 0;
    this.families.push({
      name,
      help,
      type: 'histogram',
      lines: () => [
        ...upper.map((le, i) => `${name}_bucket{le="${formatGoFloat(le)}"} ${counts[i]}`),
        `${name}_bucket{le="+Inf"} ${count}`,
        `${name}_sum ${formatGoFloat(sum)}`,
        `${name}_count ${count}`,
      ],
    });
    return {
      observe(v: number) {
        for (const [i, le] of upper.entries()) if (v <= le) counts[i] = at(counts, i, 'bucket counts') + 1;
        sum += v;
        count++;
      },
    };
  }

  /** A summary with exact quantiles over all observations (enough for a handful of them). */
  summary(name: string, help: string, quantiles: readonly number[]): ObserverHandle {
    const obs: number[] = [];
    const quantile = (q: number): number => {
      if (obs.length === 0) return NaN;
      const sorted = [...obs].sort((a, b) => a - b);
      return at(sorted, Math.max(0, Math.ceil(q * sorted.length) - 1), 'observations');
    };
    this.families.push({
      name,
      help,
      type: 'summary',
      lines: () => [
        ...quantiles.map((q) => `${name}{quantile="${formatGoFloat(q)}"} ${formatGoFloat(quantile(q))}`),
        `${name}_sum ${formatGoFloat(obs.reduce((a, b) => a + b, 0))}`,
        `${name}_count ${obs.length}`,
      ],
    });
    return {
      observe(v: number) {
        obs.push(v);
      },
    };
  }

  render(): string {
    const out: string[] = [];
    for (const f of [...this.families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines());
    }
    return out.join('\n') + '\n';
  }
}

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface ScrapeResponse {
  status?: number;
  contentType?: string;
  body: string;
  /** Sent instead of `body` when set (for bytes a JS string cannot carry, e.g. invalid UTF-8). */
  bytes?: Buffer;
  /** Hold the response this long (a slow target). */
  delayMs?: number;
}

/** Answers one scrape request; `scrape` counts them from 0. */
export type MetricsHandler = (scrape: number) => ScrapeResponse;

export function serveExposition(e: Exposition, after?: (scrape: number) => void): MetricsHandler {
  return (scrape) => {
    const body = e.render();
    after?.(scrape);
    return { body, contentType: TEXT_CONTENT_TYPE };
  };
}

/** A fixed body in text format 0.0.4, as a client library serves it. */
export function serveText(body: string): MetricsHandler {
  return () => ({ body, contentType: TEXT_CONTENT_TYPE });
}

/** The series a scrape adds about itself, whatever the target answered. */
export const REPORT_SERIES = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
] as const;

export function serveStatic(body: string): MetricsHandler {
  // Go's http server sniffs a plain body as text/plain, which is what the original harness served.
  return () => ({ body, contentType: 'text/plain; charset=utf-8' });
}

// ---- running a sender -------------------------------------------------------------------------

export interface CaseSpec {
  metrics: MetricsHandler;
  /** Prepares the receiver (planned statuses, latency) before the sender starts. */
  receiver?: (rx: RwReceiver) => void;
  /** Scrapes the target must have served before SIGINT (default 3); waited for up to 15 s. */
  minScrapes?: number;
  /** Extra condition worth waiting for (up to maxRunMs after the start) once minScrapes were served. */
  until?: (rx: RwReceiver) => boolean;
  /** How long `until` is waited for (default 8000 ms after the sender was started). */
  maxRunMs?: number;
  /** queue_config entries given to both senders (a deviation from the original harness; say why). */
  queue?: Readonly<Record<string, string | number>>;
}

export interface WireSample {
  /** Labels in wire order, duplicates kept. */
  raw: DecodedLabel[];
  /** Last value wins for duplicated names. */
  labels: Record<string, string>;
  value: number;
  stale: boolean;
  timestamp: number;
  /** Index of the accepted request (completion order) that carried it. */
  request: number;
}

export interface CaseRun {
  sender: Sender;
  rx: RwReceiver;
  /** Every sample of every accepted push, in the order pushes completed. */
  samples: WireSample[];
  /** host:port of the scrape target. */
  target: string;
  /** Responses served to the sender, in order (their bodies hold what each scrape saw). */
  served: ScrapeResponse[];
  /** When each of them was sent (ms). */
  servedAt: number[];
  /** Wall clock just before the sender started / just after it exited (ms). */
  startedAt: number;
  stoppedAt: number;
  /** When SIGINT was sent. */
  interruptedAt: number;
  exitCode: number | string;
  output: string;
}

/** Hard cap on waiting for minScrapes: Prometheus 2.42 needs ~5 s (discovery's update tick) before its first scrape. */
const SCRAPE_WAIT_CAP_MS = 15_000;
const SETTLE_MS = 300;

/** How many cases may run at once: each runs one agent process, and 2 cores get crowded fast. */
const PARALLEL = Math.max(1, Number(process.env.RW1_PARALLEL ?? 2));
let running = 0;
const waiting: (() => void)[] = [];

async function acquireSlot(): Promise<void> {
  if (running < PARALLEL) {
    running++;
    return;
  }
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function releaseSlot(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

/** Absolute path of the reference binary, or null. PROMETHEUS_BIN overrides the PATH lookup. */
export function prometheusBinary(): string | null {
  const explicit = process.env.PROMETHEUS_BIN;
  if (explicit) return fs.existsSync(explicit) ? explicit : null;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const p = path.join(dir, 'prometheus');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** The reference binary when it is a 2.x (the 2.42 agent the web tests compare bodies with), else null. */
function prometheus2Binary(): string | null {
  const bin = prometheusBinary();
  if (bin === null) return null;
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /version 2\./.test(out) ? bin : null;
  } catch {
    return null;
  }
}

/** prometheus2Binary(), or null after logging why and passing the test (the caller returns). */
export function prometheus2OrSkip(t: ExecutionContext): string | null {
  const bin = prometheus2Binary();
  if (bin === null) {
    t.log('prometheus 2.x not installed: skipped (apt-get install prometheus)');
    t.pass();
  }
  return bin;
}

/** The reference agent (`--enable-feature=agent` plus args) run in cwd, killed at teardown. */
export function startPrometheusAgent(t: Teardown, bin: string, args: readonly string[], cwd: string): Proc {
  const prom = startProc(bin, ['--enable-feature=agent', ...args], { cwd });
  t.teardown(() => prom.stop('SIGKILL', 5000).then(() => undefined));
  return prom;
}

function configYaml(
  sender: Sender,
  target: string,
  writeUrl: string,
  queue: Readonly<Record<string, string | number>>,
): string {
  const lines = [
    'global:',
    '  scrape_interval: 1s',
    'scrape_configs:',
    '  - job_name: test',
    '    static_configs:',
    `      - targets: ['${target}']`,
    'remote_write:',
    `  - url: ${writeUrl}`,
  ];
  // The original harness left Prometheus' queue defaults alone; Outpost gets a short deadline so
  // batches leave during the run rather than only at shutdown.
  const q: Record<string, string | number> =
    sender === 'outpost' ? { batch_send_deadline: '1s', ...queue } : { ...queue };
  const entries = Object.entries(q);
  if (entries.length > 0) lines.push('    queue_config:', ...entries.map(([k, v]) => `      ${k}: ${v}`));
  return lines.join('\n') + '\n';
}

async function startTarget(
  metrics: MetricsHandler,
  served: ScrapeResponse[],
  servedAt: number[],
): Promise<{ server: http.Server; address: string }> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const r = metrics(served.length);
    served.push(r);
    servedAt.push(Date.now());
    const answer = (): void => {
      if (res.destroyed) return;
      res.writeHead(r.status ?? 200, { 'Content-Type': r.contentType ?? TEXT_CONTENT_TYPE });
      res.end(r.bytes ?? r.body);
    };
    if (r.delayMs !== undefined && r.delayMs > 0) {
      const timer = setTimeout(answer, r.delayMs);
      // A scraper that gives up (scrape timeout) must not keep the timer alive.
      res.once('close', () => clearTimeout(timer));
    } else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function startSender(
  sender: Sender,
  cfg: string,
  dataDir: string,
  extra: readonly string[] = [],
  listen = '127.0.0.1:0',
): Promise<Proc> {
  const common = [
    `--config.file=${cfg}`,
    `--storage.agent.path=${dataDir}`,
    `--web.listen-address=${listen}`,
    ...extra,
  ];
  if (sender === 'outpost') return startOutpost(common);
  const bin = prometheusBinary();
  if (bin === null) throw new Error('prometheus binary not found');
  return Promise.resolve(startProc(bin, ['--enable-feature=agent', ...common]));
}

function flatten(rx: RwReceiver): WireSample[] {
  const out: WireSample[] = [];
  rx.requests.forEach((r, request) => {
    for (const ts of r.decoded.timeseries) {
      const labels: Record<string, string> = {};
      for (const l of ts.labels) labels[l.name] = l.value;
      for (const s of ts.samples)
        out.push({ raw: ts.labels, labels, value: s.value, stale: s.stale, timestamp: s.timestamp, request });
    }
  });
  return out;
}

/**
 * Runs one case against one sender: target + receiver + sender, at least minScrapes scrapes, SIGINT,
 * wait for the exit. Cleans everything up before returning (the receiver is closed; its records stay).
 */
export async function runCase(sender: Sender, spec: CaseSpec): Promise<CaseRun> {
  await acquireSlot();
  const served: ScrapeResponse[] = [];
  const servedAt: number[] = [];
  let rx: RwReceiver | null = null;
  let target: http.Server | null = null;
  let proc: Proc | null = null;
  let dir: string | null = null;
  try {
    dir = await tmpDir(`outpost-rw1-${sender}-`);
    rx = await RwReceiver.start();
    spec.receiver?.(rx);
    const t = await startTarget(spec.metrics, served, servedAt);
    target = t.server;
    const cfg = path.join(dir, 'agent.yml');
    await fsp.writeFile(cfg, configYaml(sender, t.address, rx.url, spec.queue ?? {}));
    const minScrapes = spec.minScrapes ?? 3;
    const maxRunMs = spec.maxRunMs ?? 8000;
    const startedAt = Date.now();
    proc = await startSender(sender, cfg, path.join(dir, 'data'));
    const p = proc;
    const r = rx;
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const elapsed = Date.now() - startedAt;
        const exited = p.child.exitCode !== null || p.child.signalCode !== null;
        const enough = served.length >= minScrapes && (elapsed >= maxRunMs || (spec.until?.(r) ?? true));
        if (enough || exited || elapsed >= SCRAPE_WAIT_CAP_MS) {
          clearInterval(timer);
          // Give the last served scrape time to be parsed and appended before the signal.
          setTimeout(resolve, exited ? 0 : SETTLE_MS);
        }
      };
      const timer = setInterval(check, 25);
    });
    const interruptedAt = Date.now();
    const exitCode = await proc.stop('SIGINT', 60_000);
    const stoppedAt = Date.now();
    return {
      sender,
      rx,
      samples: flatten(rx),
      target: t.address,
      served,
      servedAt,
      startedAt,
      stoppedAt,
      interruptedAt,
      exitCode,
      output: proc.output(),
    };
  } finally {
    await proc?.stop('SIGKILL', 5000);
    await rx?.close();
    if (target) await new Promise<void>((resolve) => target?.close(() => resolve()));
    if (dir !== null) await fsp.rm(dir, { recursive: true, force: true });
    releaseSlot();
  }
}

// ---- matching (label subset, as the original suite does) ----------------------------------------

export type Matcher = Readonly<Record<string, string>>;

function matches(s: WireSample, m: Matcher): boolean {
  for (const [k, v] of Object.entries(m)) if ((s.labels[k] ?? '') !== v) return false;
  return true;
}

export function select(samples: readonly WireSample[], m: Matcher): WireSample[] {
  return samples.filter((s) => matches(s, m));
}

/** Prometheus-style rendering of a sample, for failure messages. */
export function showSample(s: WireSample): string {
  const name = s.labels.__name__ ?? '';
  const rest = s.raw.filter((l) => l.name !== '__name__').map((l) => `${l.name}=${JSON.stringify(l.value)}`);
  const v = s.stale ? 'StaleNaN' : formatGoFloat(s.value);
  return `${name}{${rest.join(',')}} ${v} @${s.timestamp}`;
}

export function showSamples(samples: readonly WireSample[], limit = 20): string {
  const lines = samples.slice(0, limit).map(showSample);
  if (samples.length > limit) lines.push(`… ${samples.length - limit} more`);
  return lines.join('\n');
}

/** Count of samples matching m, and those among them whose value is not `value` (stale markers count as different). */
export function countWithValue(
  samples: readonly WireSample[],
  m: Matcher,
  value: number,
): { count: number; wrong: WireSample[] } {
  const sel = select(samples, m);
  return { count: sel.length, wrong: sel.filter((s) => s.stale || s.value !== value) };
}

// ---- scenarios: several targets, several receivers, scripted runs (black-box suite) ------------

/** One scrape target of a scenario, with everything it served. */
interface TargetState {
  /** host:port (the `instance` label). */
  address: string;
  served: ScrapeResponse[];
  servedAt: number[];
}

/** What a scenario's config and files are built from. */
export interface ScenarioEnv {
  sender: Sender;
  /** Scratch directory of this run (config, file_sd files, data dir under `data/`). */
  dir: string;
  dataDir: string;
  /** Target name -> host:port. */
  targets: Readonly<Record<string, string>>;
  /** Remote-write URL of each receiver, in order. */
  receivers: readonly string[];
  /** A loopback URL nobody listens on (a dead endpoint). */
  deadUrl: string;
  /** The sender's web address (host:port), e.g. for its /metrics. */
  web: string;
}

interface ScenarioControl {
  readonly sender: Sender;
  readonly env: ScenarioEnv;
  readonly rxs: readonly RwReceiver[];
  readonly targets: Readonly<Record<string, TargetState>>;
  /** The running sender (replaced by restart()). */
  readonly proc: Proc;
  writeFile(rel: string, content: string): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  /** Stops the sender with `sig`, starts it again on the same data; resolves with the old exit code. */
  restart(sig?: NodeJS.Signals): Promise<number | string>;
  /** Polls pred every 25 ms; throws naming `what` after timeoutMs (or if the sender exits). */
  waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /** Waits until every target (or the named ones) has served n scrapes. */
  waitScrapes(n: number, timeoutMs?: number, names?: readonly string[]): Promise<void>;
  sleep(ms: number): Promise<void>;
}

export interface ScenarioSpec {
  /** For temp dir names and messages. */
  name: string;
  targets: Readonly<Record<string, MetricsHandler>>;
  /** Number of RwReceivers to start (default 1). */
  receivers?: number;
  /** Prepares the receivers (plans, latency) before the sender starts. */
  prepare?: (rxs: readonly RwReceiver[]) => void;
  /** The config file (YAML text) for this sender. */
  config: (env: ScenarioEnv) => string;
  /** Extra files (path relative to the run dir -> content) written before the start. */
  files?: (env: ScenarioEnv) => Readonly<Record<string, string>>;
  /** Extra command-line flags. */
  flags?: (env: ScenarioEnv) => readonly string[];
  /** The run itself; default: every target serves `minScrapes` scrapes. SIGINT follows. */
  drive?: (ctl: ScenarioControl) => Promise<void>;
  /** Default drive only (default 4). */
  minScrapes?: number;
  /** Waited after drive() before SIGINT so the last scrape is appended (default 300 ms). */
  settleMs?: number;
}

export interface ScenarioRun {
  sender: Sender;
  env: ScenarioEnv;
  rxs: readonly RwReceiver[];
  /** Every accepted sample per receiver, in the order pushes completed. */
  samples: readonly WireSample[][];
  targets: Readonly<Record<string, TargetState>>;
  startedAt: number;
  interruptedAt: number;
  stoppedAt: number;
  exitCode: number | string;
  /** Exit codes of restarts made by drive(), in order. */
  restartExitCodes: (number | string)[];
  /** Output of every process of the run (restarts included). */
  output: string;
  /** Set when drive() threw: the run still ended cleanly, but checks should report this. */
  driveError?: string | undefined;
}

/** Wall-clock cap on waiting for scrapes: Prometheus 2.42 needs ~5 s (discovery's update tick) before its first. */
const SCENARIO_SCRAPE_WAIT_MS = 20_000;

/**
 * Runs one scenario against one sender: starts its targets and receivers, writes the config, runs the
 * sender, lets drive() script the run, SIGINTs it and waits for the exit. Everything is torn down
 * before it resolves (receivers closed; their records stay readable).
 */
async function runScenario(sender: Sender, spec: ScenarioSpec): Promise<ScenarioRun> {
  await acquireSlot();
  const servers: http.Server[] = [];
  const rxs: RwReceiver[] = [];
  let proc: Proc | null = null;
  let dir: string | null = null;
  let output = '';
  try {
    dir = await tmpDir(`outpost-bb-${spec.name}-${sender}-`);
    for (let i = 0; i < (spec.receivers ?? 1); i++) rxs.push(await RwReceiver.start());
    spec.prepare?.(rxs);
    const targets: Record<string, TargetState> = {};
    const addresses: Record<string, string> = {};
    for (const [name, handler] of Object.entries(spec.targets)) {
      const st: TargetState = { address: '', served: [], servedAt: [] };
      const t = await startTarget(handler, st.served, st.servedAt);
      st.address = t.address;
      servers.push(t.server);
      targets[name] = st;
      addresses[name] = t.address;
    }
    const env: ScenarioEnv = {
      sender,
      dir,
      dataDir: path.join(dir, 'data'),
      targets: addresses,
      receivers: rxs.map((r) => r.url),
      deadUrl: `http://127.0.0.1:${await freePort()}/api/v1/write`,
      web: `127.0.0.1:${await freePort()}`,
    };
    const runDir = dir;
    const writeFile = async (rel: string, content: string): Promise<void> => {
      const p = path.join(runDir, rel);
      // Write-then-rename, so a watching sender never reads half a file.
      await fsp.writeFile(p + '.tmp', content);
      await fsp.rename(p + '.tmp', p);
    };
    for (const [rel, content] of Object.entries(spec.files?.(env) ?? {})) await writeFile(rel, content);
    const cfg = path.join(dir, 'agent.yml');
    await fsp.writeFile(cfg, spec.config(env));
    const extra = spec.flags?.(env) ?? [];
    const launch = (): Promise<Proc> => startSender(sender, cfg, env.dataDir, extra, env.web);
    const startedAt = Date.now();
    proc = await launch();
    const restartExitCodes: (number | string)[] = [];
    const exitedEarly = (): boolean =>
      proc !== null && (proc.child.exitCode !== null || proc.child.signalCode !== null);
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    const waitFor = async (pred: () => boolean, timeoutMs: number, what: string): Promise<void> => {
      const end = Date.now() + timeoutMs;
      while (!pred()) {
        if (exitedEarly()) {
          // The summary of a CI run shows this message but not the test's log, so it carries the why.
          const p = proc as Proc;
          const code = await p.exited;
          throw new Error(
            `${sender} exited (${code}) while waiting for ${what}; its last output:\n${outputTail(p.output(), 8)}`,
          );
        }
        if (Date.now() > end) throw new Error(`${sender}: timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(25);
      }
    };
    const ctl: ScenarioControl = {
      sender,
      env,
      rxs,
      targets,
      get proc(): Proc {
        return proc as Proc;
      },
      writeFile,
      signal(sig) {
        proc?.child.kill(sig);
      },
      async restart(sig = 'SIGTERM') {
        const old = proc as Proc;
        const code = await old.stop(sig, 60_000);
        output += old.output();
        restartExitCodes.push(code);
        proc = await launch();
        return code;
      },
      waitFor,
      waitScrapes(n, timeoutMs = SCENARIO_SCRAPE_WAIT_MS, names = Object.keys(targets)) {
        return waitFor(
          () => names.every((k) => defined(targets[k], `target ${k}`).served.length >= n),
          timeoutMs,
          `${n} scrapes of ${names.join(', ')}`,
        );
      },
      sleep,
    };
    let driveError: string | undefined;
    try {
      if (spec.drive) await spec.drive(ctl);
      else await ctl.waitScrapes(spec.minScrapes ?? 4);
      if (!exitedEarly()) await sleep(spec.settleMs ?? SETTLE_MS);
    } catch (err) {
      driveError = err instanceof Error ? err.message : String(err);
    }
    const interruptedAt = Date.now();
    const last = proc;
    const exitCode = await last.stop('SIGINT', 60_000);
    const stoppedAt = Date.now();
    output += last.output();
    return {
      sender,
      env,
      rxs,
      samples: rxs.map(flatten),
      targets,
      startedAt,
      interruptedAt,
      stoppedAt,
      exitCode,
      restartExitCodes,
      output,
      driveError,
    };
  } finally {
    await proc?.stop('SIGKILL', 5000);
    for (const rx of rxs) await rx.close();
    for (const s of servers) {
      const closing = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closing;
    }
    if (dir !== null) await fsp.rm(dir, { recursive: true, force: true });
    releaseSlot();
  }
}

/** Memoizes an async computation (one sender run shared by several test cases). */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= fn());
}

/** Every label of s except the listed ones, as name -> value (for exact label-set checks). */
export function labelsWithout(s: WireSample, ...drop: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of s.raw) if (!drop.includes(l.name)) out[l.name] = l.value;
  return out;
}

/** Samples of m that are not stale markers. */
export function realSamples(samples: readonly WireSample[], m: Matcher): WireSample[] {
  return select(samples, m).filter((s) => !s.stale);
}

/** Stale markers (bits 0x7ff0000000000002) of m. */
export function staleMarkers(samples: readonly WireSample[], m: Matcher): WireSample[] {
  return select(samples, m).filter((s) => s.stale);
}

/** The last lines of a process output, for failure messages. */
function outputTail(output: string, lines = 40): string {
  return output.split('\n').slice(-lines).join('\n');
}

// ---- config and case registration for the black-box suite ---------------------------------------

export type Yaml = Readonly<Record<string, unknown>>;

/** A scrape job with static targets (target names resolved through env). */
export function job(env: ScenarioEnv, name: string, targets: readonly string[], extra: Yaml = {}): Yaml {
  return { job_name: name, static_configs: [{ targets: targets.map((t) => env.targets[t]) }], ...extra };
}

/**
 * A Prometheus config: `scrape_interval: 1s`, the given jobs, and by default one remote_write to the
 * first receiver. Both senders get `batch_send_deadline: 1s` so pushes leave during a short run
 * (Prometheus' 5 s default would leave most data for the shutdown flush).
 */
export function agentConfig(
  env: ScenarioEnv,
  o: { jobs: readonly Yaml[]; global?: Yaml; remoteWrite?: readonly Yaml[] },
): string {
  const remoteWrite = o.remoteWrite ?? [{ url: env.receivers[0], queue_config: { batch_send_deadline: '1s' } }];
  return YAML.stringify({
    global: { scrape_interval: '1s', ...o.global },
    scrape_configs: o.jobs,
    remote_write: remoteWrite,
  });
}

/** A sender run shared by several cases, started on first use. */
export type SharedRuns = Readonly<Record<Sender, () => Promise<ScenarioRun>>>;

/** make() is called once per sender, so stateful targets are never shared between the two runs. */
export function sharedRuns(make: (sender: Sender) => ScenarioSpec): SharedRuns {
  return {
    outpost: once(() => runScenario('outpost', make('outpost'))),
    prometheus: once(() => runScenario('prometheus', make('prometheus'))),
  };
}

export interface BlackBoxCase {
  /** "<number>. <what>" as in research/conformance.md §7. */
  title: string;
  runs: SharedRuns;
  check: (t: ExecutionContext, r: ScenarioRun) => void | Promise<void>;
  /** Prometheus is not run for this case ([Outpost-better] or a deliberate difference); logged. */
  outpostOnly?: string;
  /** A known Outpost bug: the Outpost test is registered as test.failing; this names the bug. */
  outpostFailing?: string;
}

const PROMETHEUS_BIN = prometheusBinary();

/** Registers one ava test per case and sender ("<section> › <title> › <sender>"). */
export function registerBlackBox(section: string, cases: readonly BlackBoxCase[]): void {
  for (const c of cases) {
    for (const sender of SENDERS) {
      if (sender === 'prometheus' && c.outpostOnly !== undefined) continue;
      const title = `${section} › ${c.title} › ${sender}`;
      const body = async (t: ExecutionContext): Promise<void> => {
        if (sender === 'outpost' && c.outpostOnly !== undefined)
          t.log(`Prometheus 2.42 is not run for this case: ${c.outpostOnly}`);
        if (sender === 'outpost' && c.outpostFailing !== undefined) t.log(`known Outpost bug: ${c.outpostFailing}`);
        const r = await c.runs[sender]();
        try {
          t.is(r.driveError, undefined, `the scripted run did not complete`);
          await c.check(t, r);
        } finally {
          // ava stops a test at its first failed assertion by throwing.
          if (!t.passed) t.log(`${sender} output tail:\n${outputTail(r.output)}`);
        }
      };
      if (sender === 'prometheus' && PROMETHEUS_BIN === null) test.skip(title, body);
      else if (sender === 'outpost' && c.outpostFailing !== undefined) test.failing(title, body);
      else test(title, body);
    }
  }
  if (PROMETHEUS_BIN === null && cases.some((c) => c.outpostOnly === undefined)) {
    test(`${section} › prometheus reference`, (t) => {
      t.log('prometheus binary not found on PATH (or PROMETHEUS_BIN): the reference runs are skipped');
      t.pass();
    });
  }
}

/** The common run checks: exit status 0 after SIGINT. */
export function runExitsZero(t: ExecutionContext, r: ScenarioRun): void {
  t.is(r.exitCode, 0, `${r.sender} must exit 0 on SIGINT`);
  t.log(
    `${r.sender}: ran ${r.interruptedAt - r.startedAt} ms, SIGINT→exit ${r.stoppedAt - r.interruptedAt} ms, ${r.samples.map((s) => s.length).join('/')} samples`,
  );
}

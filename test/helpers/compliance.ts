/**
 * Harness for the remote-write *sender* compliance cases (prometheus/compliance RW1, restated in
 * research/conformance.md §1.2-1.3). One case = a loopback scrape target, an RwReceiver and a sender
 * (Outpost or the real Prometheus agent as reference) run for a few scrapes, stopped with SIGINT.
 * The same case runs against both senders, so every expectation is checked against Prometheus too.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { DecodedLabel } from '../../src/remote/proto.ts';
import { startOutpost, startProc, tmpDir, type Proc } from './procs.ts';
import { RwReceiver } from './rw-receiver.ts';

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
        for (let i = 0; i < upper.length; i++) if (v <= upper[i]) counts[i]++;
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
      return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
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

export interface ScrapeResponse {
  status?: number;
  contentType?: string;
  body: string;
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

function configYaml(sender: Sender, target: string, writeUrl: string, queue: Readonly<Record<string, string | number>>): string {
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
  const q: Record<string, string | number> = sender === 'outpost' ? { batch_send_deadline: '1s', ...queue } : { ...queue };
  const entries = Object.entries(q);
  if (entries.length > 0) lines.push('    queue_config:', ...entries.map(([k, v]) => `      ${k}: ${v}`));
  return lines.join('\n') + '\n';
}

async function startTarget(metrics: MetricsHandler, served: ScrapeResponse[], servedAt: number[]): Promise<{ server: http.Server; address: string }> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const r = metrics(served.length);
    served.push(r);
    servedAt.push(Date.now());
    res.writeHead(r.status ?? 200, { 'Content-Type': r.contentType ?? TEXT_CONTENT_TYPE });
    res.end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function startSender(sender: Sender, cfg: string, dataDir: string): Promise<Proc> {
  const common = [`--config.file=${cfg}`, `--storage.agent.path=${dataDir}`, '--web.listen-address=127.0.0.1:0'];
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
      for (const s of ts.samples) out.push({ raw: ts.labels, labels, value: s.value, stale: s.stale, timestamp: s.timestamp, request });
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
    return { sender, rx, samples: flatten(rx), target: t.address, served, servedAt, startedAt, stoppedAt, interruptedAt, exitCode, output: proc.output() };
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

export function matches(s: WireSample, m: Matcher): boolean {
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
export function countWithValue(samples: readonly WireSample[], m: Matcher, value: number): { count: number; wrong: WireSample[] } {
  const sel = select(samples, m);
  return { count: sel.length, wrong: sel.filter((s) => s.stale || s.value !== value) };
}

/**
 * The "idle" scenario of `npm run bench`: each agent, one after another, scrapes only its own /metrics
 * every 15 s, headless, and remote-writes to a tiny sink in this process (it answers 204 and counts the
 * requests, so an agent that never delivers shows up). After a warm-up, CPU % of one core comes from
 * utime+stime in /proc over the window; RSS and RssAnon are averaged from 1 Hz samples, PSS is read from
 * smaps_rollup at the end of the window. Like the harness, every figure sums over the agent's process tree.
 *
 * Agents are started like the harness starts them: `bash -c "exec $CMD"` with CONFIG, DATA_DIR, PORT and
 * RW_URL exported, in their own process group, stopped by PID (SIGTERM, SIGKILL after 30 s).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import type { AgentResult, Results } from './bench-results.ts';

export const SELF_SCRAPE_INTERVAL_S = 15;

export interface SelfScrapeAgent {
  name: string;
  /** Shell command; sees $CONFIG $DATA_DIR $PORT $RW_URL. */
  cmd: string;
  /** Fixed port, or undefined for a free one. */
  port?: number | undefined;
}

export interface SelfScrapeOptions {
  runDir: string;
  agents: SelfScrapeAgent[];
  warmupS: number;
  windowS: number;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function log(msg: string): void {
  console.log(`${new Date().toISOString().slice(11, 19)} ${msg}`);
}

// ---- /proc ---------------------------------------------------------------------------------------

function statOf(pid: number): { ppid: number; ticks: number } {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

function statusKB(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function pssKB(pid: number): number {
  const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function treePids(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const { ppid } = statOf(Number(d));
      const list = kids.get(ppid) ?? [];
      list.push(Number(d));
      kids.set(ppid, list);
    } catch {
      // Exited meanwhile.
    }
  }
  const out = [root];
  // The array iterator also visits what the loop appends: a breadth-first walk of the tree.
  for (const p of out) out.push(...(kids.get(p) ?? []));
  return out;
}

export interface TreeSample {
  t: number;
  cpu: number;
  rss: number;
  anon: number;
}

export function sampleTree(pid: number): TreeSample {
  let ticks = 0;
  let rss = 0;
  let anon = 0;
  for (const p of treePids(pid)) {
    try {
      ticks += statOf(p).ticks;
      rss += statusKB(p, 'VmRSS') * 1024;
      anon += statusKB(p, 'RssAnon') * 1024;
    } catch {
      // Exited meanwhile.
    }
  }
  return { t: Date.now(), cpu: ticks / CLK_TCK, rss, anon };
}

export function pssTree(pid: number): number {
  let kb = 0;
  for (const p of treePids(pid)) {
    try {
      kb += pssKB(p);
    } catch {
      // Exited meanwhile.
    }
  }
  return kb * 1024;
}

/**
 * The window's figures from its 1 Hz samples (w0 at the start, w1 at the end) for the agent's process tree: CPU
 * (seconds and % of one core), RSS and RssAnon averages, peak RSS, PSS now, and what the sink received.
 */
function windowFigures(w0: TreeSample, w1: TreeSample, rows: readonly TreeSample[], pid: number, sink: Sink) {
  const dt = (w1.t - w0.t) / 1000;
  const avg = (k: 'rss' | 'anon'): number => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  return {
    window_s: Number(dt.toFixed(1)),
    cpu_s: w1.cpu - w0.cpu,
    cpu_pct: (100 * (w1.cpu - w0.cpu)) / dt,
    rss_avg: avg('rss'),
    rss_peak: Math.max(...rows.map((r) => r.rss)),
    rss_anon_avg: avg('anon'),
    pss_end_window: pssTree(pid),
    sink_requests: sink.requests,
    sink_bytes: sink.bytes,
  };
}

/**
 * Samples the agent's tree once a second for windowS seconds (into rows, which the caller may keep) with the
 * sink's counters reset at the start, and returns the window's figures. Throws when the agent exits meanwhile.
 */
export async function measureWindow(
  child: ChildProcess,
  pid: number,
  windowS: number,
  sink: Sink,
  rows: TreeSample[],
  hint: string,
): Promise<ReturnType<typeof windowFigures>> {
  sink.requests = 0;
  sink.bytes = 0;
  const w0 = sampleTree(pid);
  rows.push(w0);
  const end = w0.t + windowS * 1000;
  let w1 = w0;
  while (Date.now() < end) {
    await sleep(Math.min(1000, end - Date.now()));
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited during the window (${hint})`);
    w1 = sampleTree(pid);
    rows.push(w1);
  }
  return windowFigures(w0, w1, rows, pid, sink);
}

// ---- helpers -------------------------------------------------------------------------------------

/** A port nothing listens on right now (the agent binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Remote-write sink: 204 for every POST, counts requests and body bytes. */
export class Sink {
  requests = 0;
  bytes = 0;
  private readonly server = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
    });
    req.on('end', () => {
      if (req.method === 'POST') {
        this.requests++;
        this.bytes += n;
      }
      res.writeHead(req.method === 'POST' ? 204 : 404).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v1/write`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

export async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before it answered ${url}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  throw new Error(`not ready at ${url} after ${timeoutMs / 1000} s`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

export async function stopAgent(child: ChildProcess, name: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // Gone already.
  }
  const done = await Promise.race([exited(child).then(() => true), sleep(30_000).then(() => false)]);
  if (!done) {
    log(`${name} pid=${child.pid} did not exit in 30 s, SIGKILL`);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
    await exited(child);
  }
}

function configText(port: number, rwUrl: string): string {
  return `# generated by scripts/bench-self-scrape.ts: the agent scrapes only itself
global:
  scrape_interval: ${SELF_SCRAPE_INTERVAL_S}s
  scrape_timeout: 10s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:${port}']
remote_write:
  - url: ${rwUrl}
`;
}

// ---- one agent -----------------------------------------------------------------------------------

async function measure(a: SelfScrapeAgent, o: SelfScrapeOptions, sink: Sink, rwUrl: string): Promise<AgentResult> {
  const R: AgentResult & Record<string, unknown> = { agent: a.name, cmd: a.cmd };
  const port = a.port ?? (await freePort());
  const config = path.join(o.runDir, `self-${a.name}.yml`);
  const dataDir = path.join(o.runDir, `data-${a.name}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(config, configText(port, rwUrl));
  const logFd = openSync(path.join(o.runDir, `agent-${a.name}.log`), 'a');
  const child = spawn('bash', ['-c', `exec ${a.cmd}`], {
    stdio: ['ignore', logFd, logFd],
    detached: true,
    env: {
      ...process.env,
      CONFIG: config,
      DATA_DIR: dataDir,
      PORT: String(port),
      RW_URL: rwUrl,
      SCRAPE_INTERVAL: `${SELF_SCRAPE_INTERVAL_S}s`,
    },
  });
  closeSync(logFd);
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  log(`started ${a.name} pid=${child.pid}: ${a.cmd} (port ${port})`);
  const rows: TreeSample[] = [];
  const onSignal = (sig: NodeJS.Signals): void => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await Promise.race([waitReady(`http://127.0.0.1:${port}/metrics`, child, 60_000), spawnError]);
    await sleep(o.warmupS * 1000);
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`exited during warm-up (see agent-${a.name}.log)`);
    const pid = child.pid!;
    const fig = await measureWindow(child, pid, o.windowS, sink, rows, `see agent-${a.name}.log`);
    const dt = fig.window_s;
    Object.assign(R, fig);
    log(
      `${a.name}: cpu ${R.cpu_pct!.toFixed(3)} % of a core, rss avg ${(R.rss_avg! / 2 ** 20).toFixed(1)} MiB, anon ${(R.rss_anon_avg! / 2 ** 20).toFixed(1)} MiB, ` +
        `${sink.requests} remote-write requests in ${dt.toFixed(0)} s`,
    );
  } catch (e) {
    R.error = e instanceof Error ? e.message : String(e);
    log(`${a.name} failed: ${R.error}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAgent(child, a.name);
    R.exit = { code: child.exitCode, sig: child.signalCode };
    if (rows.length > 0) {
      writeFileSync(
        path.join(o.runDir, `timeseries-${a.name}.csv`),
        ['t,a_cpu,a_rss,a_anon', ...rows.map((r) => `${r.t},${r.cpu},${r.rss},${r.anon}`)].join('\n') + '\n',
      );
    }
  }
  return R;
}

/** Runs every agent in turn and writes results.json into o.runDir. */
export async function runSelfScrape(o: SelfScrapeOptions): Promise<Results> {
  mkdirSync(o.runDir, { recursive: true });
  const sink = new Sink();
  const rwUrl = await sink.start();
  log(
    `idle: ${o.agents.map((a) => a.name).join(' ')}, each scraping itself every ${SELF_SCRAPE_INTERVAL_S}s; warm-up ${o.warmupS}s, window ${o.windowS}s; sink ${rwUrl}; RUN_DIR=${o.runDir}`,
  );
  const results: AgentResult[] = [];
  try {
    for (const a of o.agents) {
      log(`=== ${a.name} ===`);
      results.push(await measure(a, o, sink, rwUrl));
    }
  } finally {
    await sink.stop();
  }
  const res: Results = {
    config: {
      kind: 'idle',
      T: 1,
      S: 0,
      interval: SELF_SCRAPE_INTERVAL_S,
      warmup: o.warmupS,
      window: o.windowS,
      outage: 0,
      catchupMax: 0,
      runDir: o.runDir,
    },
    results,
  };
  writeFileSync(path.join(o.runDir, 'results.json'), JSON.stringify(res, null, 1));
  return res;
}

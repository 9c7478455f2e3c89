/**
 * Bounds under heavy or hostile input (issue 14), measured on the real bundle and, where it applies,
 * on the Debian Prometheus 2.42 agent side by side. Everything binds to 127.0.0.1.
 *
 *   npm run bench:hostile                       # every scenario, both agents
 *   npm run bench:hostile -- bomb huge          # some scenarios
 *   AGENTS=outpost npm run bench:hostile -- dead
 *
 * Scenarios (each agent runs alone, with no limits configured):
 *   bomb   one target answering a gzip bomb: BOMB_MB compressed (default 2) inflating to BOMB_GB (2).
 *   huge   one target answering a HUGE_MB (300) plain-text body, then normal bodies: peak RSS, and the
 *          RSS left once the agent has scraped small bodies for a while (buffers given back?).
 *   dead   DEAD_TARGETS (10000) file_sd targets on closed 127.0.0.1 ports, DEAD_INTERVAL (15s):
 *          CPU share of one core and RSS after a warm-up of two intervals.
 *   slow   a remote-write receiver answering after SLOW_LATENCY_MS (10000) while the agent scrapes a
 *          SLOW_SERIES (20000)-series target every 5 s: lag and shard count over SLOW_SECONDS (120).
 *
 * Figures depend on the machine and on what else runs on it; say so when you quote them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { RwReceiver } from '../test/helpers/rw-receiver.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BUNDLE = path.join(ROOT, 'dist/outpost.mjs');
const AGENTS = (process.env.AGENTS ?? 'outpost,prometheus').split(/[ ,]+/).filter(Boolean);
const MB = 1024 * 1024;
const TICK = 100; // clock ticks per second in /proc/<pid>/stat (USER_HZ on Linux)

interface Sample {
  t: number;
  rssMb: number;
  cpuS: number;
}

interface Agent {
  proc: ChildProcess;
  port: number;
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function startAgent(kind: string, config: string): Promise<Agent> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `hostile-${kind}-`));
  const cfg = path.join(dir, 'agent.yml');
  await fs.writeFile(cfg, config.replaceAll('$DIR', dir));
  const port = await freePort();
  const common = [`--config.file=${cfg}`, `--web.listen-address=127.0.0.1:${port}`];
  const proc =
    kind === 'outpost'
      ? spawn(process.execPath, [BUNDLE, '--no-tui', `--storage.agent.path=${path.join(dir, 'data')}`, ...common], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(
          'prometheus',
          ['--enable-feature=agent', `--storage.agent.path=${path.join(dir, 'data')}`, '--log.level=warn', ...common],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${kind} did not become ready:\n${out}`);
    await sleep(200);
  }
  return {
    proc,
    port,
    dir,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await Promise.race([new Promise((r) => proc.once('exit', r)), sleep(20_000).then(() => proc.kill('SIGKILL'))]);
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function sample(pid: number): Promise<Sample> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { t: performance.now(), rssMb: rss, cpuS: (Number(f[11]) + Number(f[12])) / TICK };
}

/** Samples RSS and CPU every `everyMs` until stopped. */
function monitor(pid: number, everyMs = 250): { samples: Sample[]; stop(): Promise<Sample[]> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        samples.push(await sample(pid));
      } catch {
        break;
      }
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function scrapeJob(name: string, targets: string[], interval = '5s'): string {
  return `  - job_name: ${name}\n    scrape_interval: ${interval}\n    scrape_timeout: ${interval}\n    static_configs: [{targets: [${targets.map((t) => `'${t}'`).join(', ')}]}]\n`;
}

async function serve(handler: http.RequestListener): Promise<{ addr: string; close(): Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    addr: `127.0.0.1:${(s.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

type Row = Record<string, string | number>;
const results: Row[] = [];

function report(row: Row): void {
  results.push(row);
  console.log(JSON.stringify(row));
}

// ---------------------------------------------------------------------------------------------

/** A gzip body of `gb` GiB of repeated exposition lines, as concatenated gzip members (~compressedMb). */
function bombBody(gb: number): Buffer {
  const line = Buffer.from('bomb_metric{label="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} 1\n');
  const chunk = Buffer.alloc(64 * MB);
  for (let o = 0; o < chunk.length; o += line.length) line.copy(chunk, o);
  const member = zlib.gzipSync(chunk, { level: 9 });
  const members = Math.round((gb * 1024) / 64);
  return Buffer.concat(Array.from({ length: members }, () => member));
}

async function bomb(kind: string): Promise<void> {
  const body = bombBody(Number(process.env.BOMB_GB ?? 2));
  let served = 0;
  const target = await serve((_req, res) => {
    served++;
    res.writeHead(200, {
      'Content-Type': 'text/plain; version=0.0.4',
      'Content-Encoding': 'gzip',
      'Content-Length': body.length,
    });
    res.end(body);
  });
  const agent = await startAgent(kind, `scrape_configs:\n${scrapeJob('bomb', [target.addr])}`);
  const m = monitor(agent.proc.pid as number);
  const seconds = Number(process.env.HOSTILE_SECONDS ?? 30);
  await sleep(seconds * 1000);
  const s = await m.stop();
  report({
    scenario: 'bomb',
    agent: kind,
    compressed_mb: +(body.length / MB).toFixed(1),
    inflated_gb: Number(process.env.BOMB_GB ?? 2),
    scrapes: served,
    peak_rss_mb: Math.round(Math.max(...s.map((x) => x.rssMb))),
    end_rss_mb: Math.round(s.at(-1)?.rssMb ?? 0),
    seconds,
  });
  await agent.stop();
  await target.close();
}

async function huge(kind: string): Promise<void> {
  const hugeBytes = Number(process.env.HUGE_MB ?? 300) * MB;
  // Distinct series within a 1 MiB block, the block repeated: the parse sees duplicates, not millions of series.
  const lines: string[] = [];
  for (let i = 0; lines.join('').length < MB; i++)
    lines.push(`huge_metric{i="${i}",pad="xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"} ${i}\n`);
  const block = Buffer.from(lines.join(''));
  let bigServed = 0;
  let served = 0;
  const target = await serve((_req, res) => {
    served++;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    if (bigServed > 0) {
      res.end('small_metric 1\n');
      return;
    }
    bigServed++;
    let sent = 0;
    const pump = (): void => {
      while (sent < hugeBytes) {
        sent += block.length;
        if (!res.write(block)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  const agent = await startAgent(kind, `scrape_configs:\n${scrapeJob('huge', [target.addr], '5s')}`);
  const m = monitor(agent.proc.pid as number);
  const seconds = Number(process.env.HOSTILE_SECONDS ?? 30);
  await sleep(seconds * 1000);
  const s = await m.stop();
  report({
    scenario: 'huge',
    agent: kind,
    body_mb: hugeBytes / MB,
    scrapes: served,
    peak_rss_mb: Math.round(Math.max(...s.map((x) => x.rssMb))),
    rss_after_small_scrapes_mb: Math.round(s.at(-1)?.rssMb ?? 0),
    seconds,
  });
  await agent.stop();
  await target.close();
}

/** `n` distinct 127.0.0.1 ports nothing listens on. */
async function closedPorts(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let p = 20_000; out.length < n && p < 65_000; p++) {
    const open = await new Promise<boolean>((resolve) => {
      const c = net.connect(p, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (!open) out.push(p);
  }
  return out;
}

async function dead(kind: string): Promise<void> {
  const n = Number(process.env.DEAD_TARGETS ?? 10_000);
  const interval = process.env.DEAD_INTERVAL ?? '15s';
  const intervalS = Number.parseInt(interval, 10);
  const ports = await closedPorts(n);
  const groups = [{ targets: ports.map((p) => `127.0.0.1:${p}`), labels: {} }];
  const config = `global:\n  scrape_interval: ${interval}\n  scrape_timeout: 10s\nscrape_configs:\n  - job_name: dead\n    file_sd_configs: [{files: ['$DIR/targets.json']}]\n`;
  const agent = await startAgentWithFile(kind, config, 'targets.json', JSON.stringify(groups));
  // Warm-up: two intervals, so every target has failed at least once and steady state is reached.
  await sleep(intervalS * 2 * 1000);
  const pid = agent.proc.pid as number;
  const a = await sample(pid);
  const m = monitor(pid, 1000);
  const window = Number(process.env.DEAD_WINDOW ?? intervalS * 2);
  await sleep(window * 1000);
  const s = await m.stop();
  const b = s.at(-1) ?? a;
  report({
    scenario: 'dead',
    agent: kind,
    targets: ports.length,
    interval,
    window_s: window,
    cpu_pct_of_core: +((100 * (b.cpuS - a.cpuS)) / ((b.t - a.t) / 1000)).toFixed(1),
    avg_rss_mb: Math.round(s.reduce((x, y) => x + y.rssMb, 0) / Math.max(1, s.length)),
    peak_rss_mb: Math.round(Math.max(...s.map((x) => x.rssMb))),
  });
  await agent.stop();
}

async function startAgentWithFile(kind: string, config: string, file: string, text: string): Promise<Agent> {
  // The SD file must exist before the agent reads its config; write it into the dir startAgent creates.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `hostile-sd-`));
  await fs.writeFile(path.join(dir, file), text);
  const agent = await startAgent(kind, config.replaceAll('$DIR', dir));
  const stop = agent.stop.bind(agent);
  agent.stop = async () => {
    await stop();
    await fs.rm(dir, { recursive: true, force: true });
  };
  return agent;
}

async function slow(kind: string): Promise<void> {
  if (kind !== 'outpost') return; // lag and shards are read from Outpost's status API
  const series = Number(process.env.SLOW_SERIES ?? 20_000);
  const latency = Number(process.env.SLOW_LATENCY_MS ?? 10_000);
  const lines: string[] = [];
  for (let i = 0; i < series; i++) lines.push(`slow_metric{i="${i}"} ${i}`);
  const text = lines.join('\n') + '\n';
  const target = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(text);
  });
  const rx = await RwReceiver.start();
  rx.setDefault({ status: 204, delayMs: latency });
  const agent = await startAgent(
    kind,
    `scrape_configs:\n${scrapeJob('slow', [target.addr])}remote_write:\n  - url: ${rx.url}\n    name: slow\n`,
  );
  const seconds = Number(process.env.SLOW_SECONDS ?? 120);
  const points: { lag: number; shards: number }[] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    await sleep(2000);
    try {
      const r = (await (await fetch(`http://127.0.0.1:${agent.port}/api/v1/status/remote_write`)).json()) as {
        data: { endpoints: { lagSeconds: number; shards: number }[] };
      };
      const list = r.data.endpoints;
      if (list[0]) points.push({ lag: list[0].lagSeconds, shards: list[0].shards });
    } catch {
      // try again
    }
  }
  const settled = points.slice(Math.floor(points.length / 2));
  const lags = settled.map((p) => p.lag);
  const shards = settled.map((p) => p.shards);
  report({
    scenario: 'slow',
    agent: kind,
    series,
    latency_ms: latency,
    seconds,
    lag_s_min: +Math.min(...lags).toFixed(1),
    lag_s_max: +Math.max(...lags).toFixed(1),
    shards_min: Math.min(...shards),
    shards_max: Math.max(...shards),
    note: 'second half of the run',
  });
  await agent.stop();
  await rx.close();
  await target.close();
}

const SCENARIOS: Record<string, (kind: string) => Promise<void>> = { bomb, huge, dead, slow };

async function main(): Promise<void> {
  await fs.access(BUNDLE).catch(() => {
    throw new Error('dist/outpost.mjs is missing: npm run build first');
  });
  const chosen = Object.entries(SCENARIOS).filter(([name]) => process.argv.slice(2).includes(name));
  for (const [name, scenario] of chosen.length > 0 ? chosen : Object.entries(SCENARIOS)) {
    for (const kind of AGENTS) {
      try {
        await scenario(kind);
      } catch (err) {
        report({ scenario: name, agent: kind, error: (err as Error).message.slice(0, 500) });
      }
    }
  }
  console.log('\n| scenario | agent | figures |\n|---|---|---|');
  for (const r of results) {
    const { scenario, agent, ...rest } = r;
    console.log(
      `| ${scenario} | ${agent} | ${Object.entries(rest)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')} |`,
    );
  }
}

await main();

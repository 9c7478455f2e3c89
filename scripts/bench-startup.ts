/**
 * Start-up benchmark of the single executable: `npm run bench:startup`.
 *
 * Reports the size of every built executable (dist/outpost, dist/outpost-arm64), the time of `--version`, `--help`
 * and `check config` (none of which loads the agent), and, as median (min–max) over several runs after one warm-up, how long it takes
 * from exec to `/-/ready` answering 200: on an empty data directory, and on a WAL holding SERIES × COMMITS samples
 * that must be replayed first. The WAL is written once with the agent's own storage (AgentStorage's appender, as a
 * scrape loop would: one commit per "scrape" of every series) and copied fresh for every run, so each start replays
 * the same thing. Each run also records the replay time the agent reports, its RSS once ready and how long
 * SIGTERM takes to exit.
 *
 *   npm run bench:startup
 *   npm run bench:startup -- --runs 9 --series 20000 --commits 100
 *   npm run bench:startup -- --bin other/outpost --json
 *   npm run bench:startup -- --bin dist/outpost-arm64 --series 1000 --commits 10   # under qemu on x64
 *
 * Options: --runs N (5), --series N (10000), --commits N (100), --bin PATH (dist/outpost; built with
 * `npm run build:sea` when missing), --json (one JSON object instead of the table).
 * The binary runs with an empty environment (as `env -i`), so NODE_OPTIONS and the like cannot skew it.
 * An arm64 binary on an x64 host runs under qemu (scripts/lib/qemu.ts) with OUTPOST_TUNE_RUNTIME=0 (the
 * start-up re-exec cannot exec an arm64 file there); its RSS is then qemu's.
 * Readiness is polled every 10 ms and right after each log line, so `ready` is exact to about that.
 * Timings are wall-clock on whatever else the machine is doing: quote medians, compare runs on one machine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../src/agent/metrics.ts';
import { AgentStorage } from '../src/agent/storage.ts';
import { memoryLogger } from '../src/log/logger.ts';
import { labelsFromRecord, type Labels } from '../src/util/labels.ts';
import { elfArch, emulated, findEmulator } from './lib/qemu.ts';

const root = path.resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    series: { type: 'string', default: '10000' },
    commits: { type: 'string', default: '100' },
    bin: { type: 'string', default: 'dist/outpost' },
    json: { type: 'boolean', default: false },
  },
});

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: "${v}" is not a positive integer`);
  return n;
}

const RUNS = positive('runs', args.runs);
const SERIES = positive('series', args.series);
const COMMITS = positive('commits', args.commits);
const BIN = path.resolve(root, args.bin);
const READY_TIMEOUT_MS = 120_000;
const EXECUTABLES = ['dist/outpost', 'dist/outpost-arm64'];

/** argv and environment that run BIN with `args`: directly, or under qemu when it is for another CPU. */
let runner: (args: string[]) => { file: string; args: string[]; env: NodeJS.ProcessEnv } = (args) => ({
  file: BIN,
  args,
  env: {},
});

async function setRunner(): Promise<string> {
  const header = Buffer.alloc(64);
  const fh = await open(BIN);
  await fh.read(header, 0, 64, 0);
  await fh.close();
  const arch = elfArch(header);
  if (arch === null || arch === process.arch) return 'native';
  const emu = findEmulator();
  if (!('qemu' in emu)) throw new Error(`${BIN} is for ${arch}: ${emu.missing}`);
  runner = (args) => {
    const [file, qargs] = emulated(emu, BIN, args);
    return { file, args: qargs, env: { OUTPOST_TUNE_RUNTIME: '0' } };
  };
  return `under ${emu.qemu} -L ${emu.sysroot}, OUTPOST_TUNE_RUNTIME=0`;
}

interface Run {
  readyMs: number;
  replayMs: number;
  rssBytes: number;
  stopMs: number;
}

interface Stat {
  median: number;
  min: number;
  max: number;
}

function summarize(xs: readonly number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function dirBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    bytes += (await stat(path.join(e.parentPath, e.name))).size;
    files++;
  }
  return { bytes, files };
}

/** SERIES × COMMITS samples through the agent's appender: a scrape of every series per commit, 15 s apart. */
async function generateWal(dataDir: string): Promise<number> {
  const started = performance.now();
  const storage = new AgentStorage({ dataDir, log: memoryLogger('warn'), metrics: new AgentMetrics(new Registry()) });
  await storage.open();
  const labels: Labels[] = [];
  for (let i = 0; i < SERIES; i++) {
    labels.push(
      labelsFromRecord({
        __name__: `bench_metric_${i % 100}`,
        job: 'bench',
        instance: `host-${Math.floor(i / 100)}:9100`,
        series: String(i),
      }),
    );
  }
  const app = storage.appender();
  const refs = labels.map((ls) => app.ref(ls));
  // Recent enough that the default retention (4h) keeps all of it.
  const t0 = Date.now() - COMMITS * 15_000;
  for (let c = 0; c < COMMITS; c++) {
    const t = t0 + c * 15_000;
    for (let i = 0; i < SERIES; i++) app.append(refs[i]!, t, c * 10 + (i % 7));
    await app.commit();
  }
  await storage.close();
  return performance.now() - started;
}

async function waitExit(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode ?? -1;
  return new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** One start: exec → /-/ready 200, then replay time, RSS, and SIGTERM → exit. */
async function startOnce(config: string, dataDir: string): Promise<Run> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let output = '';
  // Polls every 10 ms (each poll costs the agent a request while it replays), and at once whenever it logs,
  // since "Agent is ready" is logged as readiness flips: precise without a busy loop.
  let wake: (() => void) | null = null;
  const nap = () =>
    new Promise<void>((r) => {
      const timer = setTimeout(() => {
        wake = null;
        r();
      }, 10);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        r();
      };
    });
  const t0 = performance.now();
  const run = runner([
    `--config.file=${config}`,
    `--storage.agent.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--no-tui',
  ]);
  const child = spawn(run.file, run.args, {
    env: run.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
    wake?.();
  });
  try {
    let readyMs = -1;
    while (readyMs < 0) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`outpost exited before ready (${child.exitCode ?? child.signalCode}):\n${output}`);
      if (performance.now() - t0 > READY_TIMEOUT_MS)
        throw new Error(`not ready after ${READY_TIMEOUT_MS} ms:\n${output}`);
      try {
        const r = await fetch(`${base}/-/ready`);
        await r.arrayBuffer();
        if (r.status === 200) readyMs = performance.now() - t0;
      } catch {
        // not listening yet
      }
      if (readyMs < 0) await nap();
    }
    const rssBytes = await rssOf(child.pid!);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const m = /^prometheus_agent_data_replay_duration_seconds ([\d.e+-]+)$/m.exec(metrics);
    const replayMs = m ? Number(m[1]) * 1000 : Number.NaN;
    const s0 = performance.now();
    child.kill('SIGTERM');
    const code = await waitExit(child);
    const stopMs = performance.now() - s0;
    if (code !== 0) throw new Error(`SIGTERM: exit ${code}:\n${output}`);
    return { readyMs, replayMs, rssBytes, stopMs };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await waitExit(child);
    }
  }
}

/** One warm-up (page cache for the ~120 MB binary, the copied WAL), then RUNS counted starts on fresh copies. */
async function bench(config: string, work: string, seed: string | null): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = -1; i < RUNS; i++) {
    const dataDir = path.join(work, `run-${i + 1}`);
    if (seed !== null) await cp(seed, dataDir, { recursive: true });
    const r = await startOnce(config, dataDir);
    if (i >= 0) runs.push(r);
    await rm(dataDir, { recursive: true, force: true });
  }
  return runs;
}

/** Exec to exit of a command that must not load the agent (one warm-up, then RUNS). */
function commandTimes(args: string[]): number[] {
  const out: number[] = [];
  const run = runner(args);
  for (let i = -1; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(run.file, run.args, { env: run.env, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${BIN} ${args.join(' ')} exited ${r.status ?? r.signal}`);
    if (i >= 0) out.push(performance.now() - t0);
  }
  return out;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const ms = (s: Stat) => `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
const mibStat = (s: Stat) =>
  `${(s.median / 1024 / 1024).toFixed(0)} (${(s.min / 1024 / 1024).toFixed(0)}–${(s.max / 1024 / 1024).toFixed(0)})`;

async function main(): Promise<void> {
  try {
    await stat(BIN);
  } catch {
    if (args.bin !== 'dist/outpost') throw new Error(`${BIN} does not exist`);
    process.stderr.write('dist/outpost is missing: running npm run build:sea\n');
    const r = spawnSync('npm', ['run', 'build:sea'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build:sea failed');
  }
  const binBytes = (await stat(BIN)).size;
  const how = await setRunner();
  const sizes: { path: string; bytes: number | null }[] = [];
  for (const e of EXECUTABLES)
    sizes.push({
      path: e,
      bytes: await stat(path.join(root, e)).then(
        (st) => st.size,
        () => null,
      ),
    });
  const work = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-startup-'));
  try {
    const config = path.join(work, 'agent.yml');
    // No targets and no remote write: only start-up and replay are measured.
    await writeFile(config, 'global:\n  scrape_interval: 15s\n');
    const seed = path.join(work, 'seed');
    const genMs = await generateWal(seed);
    const wal = await dirBytes(path.join(seed, 'wal'));
    const samples = SERIES * COMMITS;

    const version = summarize(commandTimes(['--version']));
    const help = summarize(commandTimes(['--help']));
    const checkConfig = summarize(commandTimes(['check', 'config', config]));
    const empty = await bench(config, work, null);
    const full = await bench(config, work, seed);
    const cases = [
      { name: 'empty WAL', runs: empty },
      { name: `WAL, ${samples.toLocaleString('en-US')} samples`, runs: full },
    ].map((c) => ({
      name: c.name,
      readyMs: summarize(c.runs.map((r) => r.readyMs)),
      replayMs: summarize(c.runs.map((r) => r.replayMs)),
      rssBytes: summarize(c.runs.map((r) => r.rssBytes)),
      stopMs: summarize(c.runs.map((r) => r.stopMs)),
    }));

    if (args.json) {
      const result = {
        binary: { path: path.relative(root, BIN) || BIN, bytes: binBytes, run: how },
        executables: sizes,
        runs: RUNS,
        wal: { series: SERIES, commits: COMMITS, samples, ...wal, generateMs: genMs },
        versionMs: version,
        helpMs: help,
        checkConfigMs: checkConfig,
        cases,
      };
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      return;
    }
    const lines = [
      `binary   ${path.relative(root, BIN) || BIN}: ${mib(binBytes)} (${binBytes.toLocaleString('en-US')} bytes), run ${how}`,
      `sizes    ${sizes.map((e) => `${e.path} ${e.bytes === null ? 'not built' : `${mib(e.bytes)} (${e.bytes.toLocaleString('en-US')} bytes)`}`).join(', ')}`,
      `WAL      ${SERIES.toLocaleString('en-US')} series × ${COMMITS} commits = ${samples.toLocaleString('en-US')} samples: ${mib(wal.bytes)} in ${wal.files} file(s), written in ${(genMs / 1000).toFixed(1)} s`,
      `runs     ${RUNS} per case after 1 warm-up; median (min–max); empty environment; ${os.cpus().length} CPU(s), Node ${process.version}`,
      '',
      `${'case'.padEnd(26)}${'ready ms'.padEnd(20)}${'replay ms'.padEnd(20)}${'RSS MiB'.padEnd(16)}stop ms`,
      `${'--version'.padEnd(26)}${ms(version)}`,
      `${'--help'.padEnd(26)}${ms(help)}`,
      `${'check config'.padEnd(26)}${ms(checkConfig)}`,
      ...cases.map(
        (c) =>
          `${c.name.padEnd(26)}${ms(c.readyMs).padEnd(20)}${ms(c.replayMs).padEnd(20)}${mibStat(c.rssBytes).padEnd(16)}${ms(c.stopMs)}`,
      ),
      '',
      '--version, --help, check config: exec until exit. ready: exec until /-/ready = 200. replay: prometheus_agent_data_replay_duration_seconds. RSS: VmRSS once ready. stop: SIGTERM until exit.',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();

// Idle CPU of the agent with the dashboard open versus headless: both run the built bundle on a config with
// nothing to scrape; CPU comes from /proc (utime+stime of the agent process), so it counts the agent alone, not
// tmux or the terminal. Each run starts one headless agent and one in a real terminal (tmux, 120×35) side by
// side, skips the start-up, then measures both over the same window; several runs show the spread.
// The dashboard's terminal output (bytes the agent wrote to the pty) is reported too: ~0 means no frames drawn.
//
// Usage: node scripts/bench-idle.ts [seconds] [--runs=N] [--warmup=S] [--target] [--bundle=FILE]
//   (needs tmux; `npm run build` first)
//   seconds   measured window per run (default 20)
//   --runs    runs (default 3)
//   --warmup  seconds skipped after the dashboard's first frame: start-up is not idle (default 3)
//   --target  not idle: both agents scrape one small local target every 15s, so the targets table is on screen
//   --bundle  another build to measure (e.g. one of an older commit), default dist/outpost.mjs
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '3' },
    target: { type: 'boolean', default: false },
    bundle: { type: 'string' },
  },
});
const seconds = Number(positionals[0] ?? 20);
const runs = Number(opts.runs);
const warmup = Number(opts.warmup);
const root = path.resolve(import.meta.dirname, '..');
const bundle = path.resolve(opts.bundle ?? path.join(root, 'dist/outpost.mjs'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-idle-'));

let target: http.Server | null = null;
let config = 'global:\n  scrape_interval: 15s\n';
if (opts.target) {
  const body = Array.from({ length: 20 }, (_, i) => `bench_idle_metric{i="${i}"} ${i}\n`).join('');
  target = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((r) => target!.listen(0, '127.0.0.1', r));
  config += `scrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: ['127.0.0.1:${(target.address() as AddressInfo).port}']\n`;
}
fs.writeFileSync(path.join(dir, 'agent.yml'), config);
const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

function cpuTicks(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const args = (name: string) => [
  bundle,
  `--config.file=${path.join(dir, 'agent.yml')}`,
  `--storage.agent.path=${path.join(dir, name)}`,
  '--web.listen-address=127.0.0.1:0',
];

interface Run {
  headless: number;
  tui: number;
  /** Bytes per second the dashboard wrote to its terminal during the window. */
  ttyBytes: number;
}

async function once(i: number): Promise<Run> {
  const headless: ChildProcess = spawn(process.execPath, [...args(`h${i}`), '--no-tui'], { stdio: 'ignore' });
  // Dashboard in a real terminal, CI unset so Ink draws live frames. env execs node: the pane's process is the agent.
  const sock = `outpost-idle-${process.pid}-${i}`;
  const tty = path.join(dir, `tty${i}.out`);
  const tmux = (...a: string[]) =>
    execFileSync('tmux', ['-L', sock, '-f', '/dev/null', ...a])
      .toString()
      .trim();
  let socketPath = '';
  try {
    const pid = Number(
      tmux(
        'new-session',
        '-d',
        '-s',
        'idle',
        '-x',
        '120',
        '-y',
        '35',
        '-P',
        '-F',
        '#{pane_pid}',
        'env',
        '-u',
        'CI',
        process.execPath,
        ...args(`t${i}`),
      ),
    );
    socketPath = tmux('display-message', '-p', '#{socket_path}');
    tmux('pipe-pane', '-t', 'idle', '-o', `cat >> '${tty}'`);
    // On a loaded machine start-up can take seconds: count the warm-up from the dashboard's first frame.
    for (let waited = 0; fileSize(tty) === 0 && waited < 30_000; waited += 100) await sleep(100);
    await sleep(warmup * 1000);
    const h0 = cpuTicks(headless.pid as number);
    const t0 = cpuTicks(pid);
    const b0 = fileSize(tty);
    await sleep(seconds * 1000);
    const h1 = cpuTicks(headless.pid as number);
    const t1 = cpuTicks(pid);
    const b1 = fileSize(tty);
    const pct = (a: number, b: number) => ((b - a) / tick / seconds) * 100;
    return { headless: pct(h0, h1), tui: pct(t0, t1), ttyBytes: (b1 - b0) / seconds };
  } finally {
    const exited =
      headless.exitCode !== null || headless.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => headless.once('exit', r));
    headless.kill('SIGTERM');
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    await exited;
    // A server that exits leaves its socket file behind.
    if (socketPath !== '') fs.rmSync(socketPath, { force: true });
  }
}

const results: Run[] = [];
for (let i = 0; i < runs; i++) {
  const r = await once(i);
  results.push(r);
  console.log(
    `run ${i + 1}/${runs}: headless ${r.headless.toFixed(2)}%  with dashboard ${r.tui.toFixed(2)}%  terminal output ${r.ttyBytes.toFixed(0)} B/s`,
  );
}
fs.rmSync(dir, { recursive: true, force: true });
target?.close();

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const h = median(results.map((r) => r.headless));
const t = median(results.map((r) => r.tui));
console.log(
  `${opts.target ? 'one-target' : 'idle'} CPU over ${seconds}s (median of ${runs}, ${(100 / tick / seconds).toFixed(2)}% resolution): headless ${h.toFixed(2)}%  with dashboard ${t.toFixed(2)}% of one core` +
    `  (dashboard adds ${(t - h).toFixed(2)} points)`,
);

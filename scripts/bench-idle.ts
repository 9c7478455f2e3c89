// Idle CPU of the agent with the dashboard open versus headless: both run the built bundle on a
// config with nothing to scrape for a fixed time; CPU comes from /proc (utime+stime of the agent).
// Usage: node scripts/bench-idle.ts [seconds]   (needs tmux; run `npm run build` first)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const seconds = Number(process.argv[2] ?? 20);
const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, 'dist/outpost.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-idle-'));
fs.writeFileSync(path.join(dir, 'agent.yml'), 'global:\n  scrape_interval: 15s\n');
const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

function cpuTicks(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function measure(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 3000)); // start-up is not idle
  const a = cpuTicks(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return ((cpuTicks(pid) - a) / tick / seconds) * 100;
}

const args = (name: string) => [bundle, `--config.file=${path.join(dir, 'agent.yml')}`, `--storage.agent.path=${path.join(dir, name)}`, '--web.listen-address=127.0.0.1:0'];

// Headless.
const headless = spawn(process.execPath, [...args('h'), '--no-tui'], { stdio: 'ignore' });
const h = await measure(headless.pid as number);
headless.kill('SIGTERM');

// Dashboard in a real terminal (tmux), CI unset so Ink draws live frames.
const sock = `outpost-idle-${process.pid}`;
execFileSync('tmux', ['-L', sock, '-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '35', 'env', '-u', 'CI', process.execPath, ...args('t')]);
// The pane's process is the agent itself (env execs it).
await new Promise((r) => setTimeout(r, 500));
const pid = Number(execFileSync('tmux', ['-L', sock, 'list-panes', '-F', '#{pane_pid}']).toString().trim());
const tu = await measure(pid);
execFileSync('tmux', ['-L', sock, 'kill-server']);
fs.rmSync(dir, { recursive: true, force: true });
console.log(`idle CPU over ${seconds}s: headless ${h.toFixed(2)}%  with dashboard ${tu.toFixed(2)}% of one core`);

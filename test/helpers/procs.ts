import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a process that must be told its port
 * before it binds. Taken below the kernel's ephemeral range: a port from bind(0) lies inside it,
 * where any outgoing connection of any process may claim it as its local port before the child
 * binds (the likely reason an agent exited at start in one CI run). Ports handed out in this
 * process are never reused.
 */
export async function freePort(): Promise<number> {
  const top = ephemeralLow() - 1;
  for (let i = 0; top - PORT_FLOOR > 1000 && i < 100; i++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (top - PORT_FLOOR + 1));
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
  });
}

const PORT_FLOOR = 10_000;
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** What helpers need of an ava test: somewhere to register cleanup. */
export type Teardown = { teardown(fn: () => Promise<void> | void): void };

export async function tmpDir(prefix = 'outpost-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

/** Starts a process in its own process group, capturing stdout+stderr. */
export function startProc(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': it comes after the last stdout/stderr data, so output() is complete.
  const exited = new Promise<number | string>((resolve) =>
    child.once('close', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // already gone
        }
      }, timeoutMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    }
    return exited;
  };
  return { child, output: () => out, exited, stop };
}

/** Polls until fn returns a truthy value or the timeout passes. */
export async function waitUntil<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string | (() => string),
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${typeof what === 'function' ? what() : what}${lastErr ? `: ${String(lastErr)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function httpOk(url: string): Promise<boolean> {
  const r = await fetch(url);
  await r.arrayBuffer();
  return r.ok;
}

/** A real Prometheus 2.x server acting as remote-write receiver on 127.0.0.1. */
export interface PrometheusReceiver {
  url: string;
  writeUrl: string;
  proc: Proc;
  dir: string;
  query(q: string, time?: number): Promise<PromVector>;
  /** Stops the server but keeps its data (for outage tests). */
  pause(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** `extraArgs`: more flags, e.g. `--enable-feature=native-histograms`. */
export async function startPrometheusReceiver(extraArgs: readonly string[] = []): Promise<PrometheusReceiver> {
  const dir = await tmpDir('outpost-prom-');
  const port = await freePort();
  const cfg = path.join(dir, 'prometheus.yml');
  await fs.writeFile(cfg, 'global:\n  scrape_interval: 1m\n');
  const args = [
    `--config.file=${cfg}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    '--log.level=warn',
    ...extraArgs,
  ];
  const url = `http://127.0.0.1:${port}`;
  const launch = async () => {
    const p = startProc('prometheus', args);
    await waitUntil(
      () => httpOk(`${url}/-/ready`),
      30_000,
      () => `prometheus ready\n${p.output()}`,
    );
    return p;
  };
  let proc = await launch();
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    get proc() {
      return proc;
    },
    dir,
    async pause() {
      await proc.stop('SIGTERM');
    },
    async resume() {
      proc = await launch();
    },
    async query(q: string, time?: number) {
      const u = new URL(`${url}/api/v1/query`);
      u.searchParams.set('query', q);
      if (time !== undefined) u.searchParams.set('time', String(time / 1000));
      const r = await fetch(u);
      const j = (await r.json()) as { status: string; data: { result: PromVector }; error?: string };
      if (j.status !== 'success') throw new Error(`query ${q}: ${j.error}`);
      return j.data.result;
    },
    async stop() {
      await proc.stop('SIGTERM');
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

type PromVector = { metric: Record<string, string>; value: [number, string] }[];

/** A real prometheus-node-exporter on 127.0.0.1. */
export async function startNodeExporter(): Promise<{ url: string; address: string; proc: Proc }> {
  const port = await freePort();
  const proc = startProc('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn']);
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitUntil(() => httpOk(url), 30_000, `node_exporter\n${proc.output()}`);
  return { url, address: `127.0.0.1:${port}`, proc };
}

/** The agent under test: the bundle when built, else the sources (Node runs .ts directly). */
function outpostCommand(): [node: string, entry: string] {
  return [process.execPath, path.join(ROOT, process.env.OUTPOST_ENTRY ?? 'dist/outpost.mjs')];
}

export async function startOutpost(args: string[], env?: NodeJS.ProcessEnv): Promise<Proc> {
  const [cmd, bundle] = outpostCommand();
  let entry = bundle;
  try {
    await fs.access(bundle);
  } catch {
    entry = path.join(ROOT, 'src/main.ts');
  }
  return startProc(cmd, [entry, '--no-tui', ...args], { env: env ?? process.env });
}

/** An agent config: YAML text, or its lines (joined with '\n'). */
export type AgentConfig = string | readonly string[];

export interface StartedAgent {
  agent: Proc;
  /** The temp dir holding the config and the data dir; removed at teardown. */
  dir: string;
  /** The agent's --web.listen-address port on 127.0.0.1. */
  port: number;
  dataDir: string;
  cfgPath: string;
}

/**
 * Outpost on a fresh temp dir (agent.yml + data/) and a free port, killed and removed at teardown.
 * The config may be a function of the port, for an agent that scrapes itself. Does not wait for ready.
 */
export async function startAgent(
  t: Teardown,
  config: AgentConfig | ((port: number) => AgentConfig),
  extraFlags: readonly string[] = [],
): Promise<StartedAgent> {
  const dir = await tmpDir();
  const port = await freePort();
  const cfgPath = path.join(dir, 'agent.yml');
  const dataDir = path.join(dir, 'data');
  const cfg = typeof config === 'function' ? config(port) : config;
  await fs.writeFile(cfgPath, typeof cfg === 'string' ? cfg : cfg.join('\n'));
  const agent = await startOutpost([
    `--config.file=${cfgPath}`,
    `--storage.agent.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...extraFlags,
  ]);
  t.teardown(async () => {
    await agent.stop('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { agent, dir, port, dataDir, cfgPath };
}

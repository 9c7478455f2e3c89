/**
 * The "otlp" scenario of `npm run bench`: points per second through the OTLP receiver. Outpost runs with
 * --web.enable-otlp-receiver and remote-writes to a sink in this process; CLIENTS clients each push
 * protobuf ExportMetricsServiceRequests of 1000 points (10 monotonic sums and 10 gauges, 50 series each,
 * three attributes per point) back to back, each over its own series, with a new timestamp per request.
 * Requests are encoded once and only their timestamps are patched, so the load generator costs little
 * of the two cores. After the warm-up, the window gives points/s accepted, CPU per million points and
 * memory of the agent's process tree, as the idle scenario measures them.
 *
 *   BENCH_SCENARIOS=otlp BENCH_OTLP_WARMUP=5 BENCH_OTLP_WINDOW=20 npm run bench
 *   node bench/otlp.ts [--window=20] [--warmup=5] [--clients=2] -- CMD   # CMD sees $CONFIG $DATA_DIR $PORT
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AgentResult, Results } from '../scripts/bench-results.ts';
import { Sink, type TreeSample, freePort, measureWindow, stopAgent, waitReady } from '../scripts/bench-self-scrape.ts';
import { otlpProto } from '../test/helpers/otlp.ts';

export interface OtlpBenchOptions {
  runDir: string;
  /** Shell command of the agent; sees $CONFIG $DATA_DIR $PORT. */
  cmd: string;
  name: string;
  warmupS: number;
  windowS: number;
  clients: number;
}

const METRICS = 20;
const SERIES_PER_METRIC = 50;
export const POINTS_PER_REQUEST = METRICS * SERIES_PER_METRIC;
/** A timestamp no real request carries, found again in the encoding to patch it. */
const MARK = 0x1234_5678_9abc_def0n;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function log(msg: string): void {
  console.log(`${new Date().toISOString().slice(11, 19)} otlp: ${msg}`);
}

/** One client's request: its own series (attribute `client`), every time_unix_nano at `MARK`. */
function template(client: number): { body: Buffer; offsets: number[] } {
  const time = MARK.toString();
  const metrics = [];
  for (let m = 0; m < METRICS; m++) {
    const sum = m % 2 === 0;
    const dataPoints = Array.from({ length: SERIES_PER_METRIC }, (_, k) => ({
      timeUnixNano: time,
      asDouble: k,
      attributes: [
        { key: 'client', value: { stringValue: String(client) } },
        { key: 'series', value: { stringValue: `s-${k}` } },
        { key: 'http.route', value: { stringValue: `/api/v1/items/${k % 7}` } },
      ],
    }));
    metrics.push(
      sum
        ? {
            name: `bench.requests.${m}`,
            unit: '{request}',
            sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints },
          }
        : { name: `bench.queue.${m}`, unit: 'By', gauge: { dataPoints } },
    );
  }
  const body = otlpProto({
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'bench' } },
            { key: 'service.instance.id', value: { stringValue: `client-${client}` } },
            { key: 'host.name', value: { stringValue: os.hostname() } },
          ],
        },
        scopeMetrics: [{ scope: { name: 'bench' }, metrics }],
      },
    ],
  });
  const mark = Buffer.alloc(8);
  mark.writeBigUInt64LE(MARK);
  const offsets: number[] = [];
  for (let i = body.indexOf(mark); i >= 0; i = body.indexOf(mark, i + 8)) offsets.push(i);
  if (offsets.length !== POINTS_PER_REQUEST) throw new Error(`template: ${offsets.length} timestamps found`);
  return { body, offsets };
}

function post(port: number, body: Buffer): Promise<{ status: number; rejected: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/otlp/v1/metrics',
        method: 'POST',
        agent: keepAlive,
        headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, rejected: rejectedOf(Buffer.concat(chunks)) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const keepAlive = new http.Agent({ keepAlive: true });

/** ExportMetricsServiceResponse.partial_success.rejected_data_points, 0 when absent. */
function rejectedOf(b: Buffer): number {
  // partial_success (field 1, LEN) { rejected_data_points (field 1, varint) ... }
  if (b.length < 4 || b[0] !== 0x0a) return 0;
  let i = b[1]! < 0x80 ? 2 : 3;
  if (b[i] !== 0x08) return 0;
  i++;
  let v = 0;
  for (let mul = 1; i < b.length; i++, mul *= 128) {
    v += (b[i]! & 0x7f) * mul;
    if (b[i]! < 0x80) break;
  }
  return v;
}

interface Load {
  accepted: number;
  rejected: number;
  requests: number;
  failed: number;
  stop: boolean;
}

async function client(port: number, id: number, load: Load): Promise<void> {
  const { body, offsets } = template(id);
  let t = BigInt(Date.now() - 60_000) * 1_000_000n;
  while (!load.stop) {
    t += 1_000_000n;
    for (const o of offsets) body.writeBigUInt64LE(t, o);
    const r = await post(port, body);
    load.requests++;
    if (r.status !== 200) {
      load.failed++;
      await sleep(100);
      continue;
    }
    load.accepted += POINTS_PER_REQUEST - r.rejected;
    load.rejected += r.rejected;
  }
}

function configText(rwUrl: string): string {
  return `# generated by bench/otlp.ts: no scrapes, OTLP in, remote write out
global:
  scrape_interval: 1m
remote_write:
  - url: ${rwUrl}
`;
}

/** Runs the scenario for one agent command and writes results.json into o.runDir. */
export async function runOtlpBench(o: OtlpBenchOptions): Promise<Results> {
  mkdirSync(o.runDir, { recursive: true });
  const sink = new Sink();
  const rwUrl = await sink.start();
  const port = await freePort();
  const config = path.join(o.runDir, 'otlp.yml');
  const dataDir = path.join(o.runDir, `data-${o.name}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(config, configText(rwUrl));
  const logFd = openSync(path.join(o.runDir, `agent-${o.name}.log`), 'a');
  const cmd = `${o.cmd} --web.enable-otlp-receiver`;
  const child = spawn('bash', ['-c', `exec ${cmd}`], {
    stdio: ['ignore', logFd, logFd],
    detached: true,
    env: { ...process.env, CONFIG: config, DATA_DIR: dataDir, PORT: String(port), RW_URL: rwUrl },
  });
  closeSync(logFd);
  log(`started ${o.name} pid=${child.pid}: ${cmd} (port ${port}); ${o.clients} clients × ${POINTS_PER_REQUEST} points`);
  const R: AgentResult & Record<string, unknown> = { agent: o.name, cmd };
  const load: Load = { accepted: 0, rejected: 0, requests: 0, failed: 0, stop: false };
  const rows: TreeSample[] = [];
  let clients: Promise<void>[] = [];
  try {
    await waitReady(`http://127.0.0.1:${port}/-/ready`, child, 60_000);
    clients = Array.from({ length: o.clients }, (_, i) => client(port, i, load));
    await sleep(o.warmupS * 1000);
    const pid = child.pid as number;
    const a0 = load.accepted;
    const rej0 = load.rejected;
    const req0 = load.requests;
    const fig = await measureWindow(child, pid, o.windowS, sink, rows, `see agent-${o.name}.log`);
    const dt = fig.window_s;
    const points = load.accepted - a0;
    Object.assign(R, fig, {
      otlp_points_per_s: points / dt,
      otlp_points_rejected: load.rejected - rej0,
      otlp_requests: load.requests - req0,
      cpu_s_per_1M: points > 0 ? (fig.cpu_s * 1e6) / points : undefined,
    });
    log(
      `${o.name}: ${(points / dt).toFixed(0)} points/s accepted (${load.rejected - rej0} rejected, ${load.failed} failed requests), ` +
        `cpu ${(R.cpu_pct as number).toFixed(1)} % of a core, ${(R.cpu_s_per_1M as number | undefined)?.toFixed(2)} CPU s / 1M points, ` +
        `rss avg ${((R.rss_avg as number) / 2 ** 20).toFixed(1)} MiB; ${sink.requests} remote-write requests`,
    );
  } catch (e) {
    R.error = e instanceof Error ? e.message : String(e);
    log(`${o.name} failed: ${R.error}`);
  } finally {
    load.stop = true;
    await Promise.allSettled(clients);
    await stopAgent(child, o.name);
    await sink.stop();
    keepAlive.destroy();
  }
  const res: Results = {
    config: {
      kind: 'otlp',
      T: o.clients,
      S: POINTS_PER_REQUEST,
      interval: 0,
      warmup: o.warmupS,
      window: o.windowS,
      outage: 0,
      catchupMax: 0,
      runDir: o.runDir,
    },
    results: [R],
  };
  writeFileSync(path.join(o.runDir, 'results.json'), JSON.stringify(res, null, 1));
  return res;
}

// Standalone: node bench/otlp.ts [--window=N] [--warmup=N] [--clients=N] -- CMD
if (import.meta.main) {
  const arg = (name: string, dflt: number) => {
    const a = process.argv.find((x) => x.startsWith(`--${name}=`));
    return a ? Number(a.slice(name.length + 3)) : dflt;
  };
  const dash = process.argv.indexOf('--');
  const cmd = dash >= 0 ? process.argv.slice(dash + 1).join(' ') : '';
  if (!cmd) {
    console.error(
      'usage: node bench/otlp.ts [--window=20] [--warmup=5] [--clients=2] -- CMD ($CONFIG $DATA_DIR $PORT)',
    );
    process.exit(2);
  }
  const runDir = path.join(os.tmpdir(), `bench-otlp-${Date.now()}`);
  const res = await runOtlpBench({
    runDir,
    cmd,
    name: 'ours',
    warmupS: arg('warmup', 5),
    windowS: arg('window', 20),
    clients: arg('clients', 2),
  });
  process.exit(res.results[0]?.error ? 1 : 0);
}

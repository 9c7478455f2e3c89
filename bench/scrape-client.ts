/**
 * CPU per scrape of today's node:http path (A) against the lean HTTP/1.1 client (B), both through
 * fetchBody (issue #12). The targets run in a forked child process, so this process's CPU is the
 * client's only. Rounds alternate A/B so a busy machine hurts both alike; each round scrapes every
 * target PASSES times, all targets at once.
 *
 *   npm run bench:scrape-client
 *   TARGETS=50 SERIES=2000 ROUNDS=20 PASSES=4 GZIP=1 npm run bench:scrape-client
 *   DEAD=1 TARGETS=1000 npm run bench:scrape-client   # closed ports: the cost of a refused scrape
 *
 * Figures depend on the machine and what else runs on it; quote them with the spread.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { fetchBody, type FetchOptions } from '../src/scrape/fetch-body.ts';
import { Http1Pool } from '../src/net/http1-client.ts';

const TARGETS = Number(process.env.TARGETS ?? 50);
const SERIES = Number(process.env.SERIES ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const PASSES = Number(process.env.PASSES ?? 4);
const GZIP = process.env.GZIP === '1';
const DEAD = process.env.DEAD === '1';

/** ~60 bytes a series, like ../shared/bench/targets.mjs: 2000 series are ~120 KB. */
function exposition(series: number): Buffer {
  const lines: string[] = ['# HELP http_requests_total Total requests.', '# TYPE http_requests_total counter'];
  for (let i = 0; i < series; i++)
    lines.push(
      `http_requests_total{service="api-${i % 7}",handler="/api/v1/r${i >> 3}",code="${200 + (i % 5)}"} ${i * 17}`,
    );
  return Buffer.from(lines.join('\n') + '\n');
}

/** Child: TARGETS servers answering like Go's promhttp (chunked, flushed every 4 KiB). */
async function serveTargets(): Promise<void> {
  const plain = exposition(SERIES);
  const body = GZIP ? zlib.gzipSync(plain) : plain;
  const ports: number[] = [];
  for (let i = 0; i < TARGETS; i++) {
    const srv = http.createServer((_req, res) => {
      res.writeHead(200, {
        'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
        ...(GZIP ? { 'Content-Encoding': 'gzip' } : {}),
      });
      for (let o = 0; o < body.length; o += 4096) res.write(body.subarray(o, o + 4096));
      res.end();
    });
    srv.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const a = srv.address();
    if (a && typeof a === 'object') ports.push(a.port);
  }
  process.send?.({ ports, bodyBytes: body.length, plainBytes: plain.length });
}

interface Ready {
  ports: number[];
  bodyBytes: number;
  plainBytes: number;
}

/** Ports that were just free on 127.0.0.1: connections to them are refused. */
async function closedPorts(n: number): Promise<Ready> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const a = srv.address();
    if (a && typeof a === 'object') ports.push(a.port);
    await new Promise<void>((r) => srv.close(() => r()));
  }
  return { ports, bodyBytes: 0, plainBytes: 0 };
}

async function main(): Promise<void> {
  const child = DEAD ? null : fork(import.meta.filename, ['targets'], { stdio: 'inherit' });
  const ready = child
    ? await new Promise<Ready>((r) => child.once('message', (m) => r(m as Ready)))
    : await closedPorts(TARGETS);
  const headers = {
    Accept: 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    'Accept-Encoding': GZIP ? 'gzip' : 'identity',
    'User-Agent': 'Prometheus/2.42.0',
    'X-Prometheus-Scrape-Timeout-Seconds': '10',
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const pool = new Http1Pool();
  const bufs: Buffer[] = ready.ports.map(() => Buffer.alloc(256 * 1024));
  const urls = ready.ports.map((p) => new URL(`http://127.0.0.1:${p}/metrics`));
  const base = (i: number): FetchOptions => ({
    url: urls[i] ?? new URL('http://127.0.0.1/'),
    headers: { ...headers },
    timeoutMs: 10_000,
    bodySizeLimit: 0,
    agent,
    maxRedirects: 0,
  });
  const optsA = urls.map((_, i) => base(i));
  const optsB = urls.map((_, i) => ({ ...base(i), http1: pool }));
  const round = async (opts: FetchOptions[]): Promise<{ cpuUs: number; wallMs: number }> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let p = 0; p < PASSES; p++)
      await Promise.all(
        opts.map(async (o, i) => {
          if (DEAD) {
            await fetchBody(o, Buffer.alloc(0)).then(
              () => Promise.reject(new Error('a closed port answered')),
              (e: Error) => (e.message.includes('ECONNREFUSED') ? undefined : Promise.reject(e)),
            );
            return;
          }
          const r = await fetchBody(o, bufs[i] ?? Buffer.alloc(0));
          if (r.length !== ready.plainBytes) throw new Error(`short body ${r.length} != ${ready.plainBytes}`);
          bufs[i] = r.buf;
        }),
      );
    const c = process.cpuUsage(c0);
    return { cpuUs: c.user + c.system, wallMs: performance.now() - t0 };
  };
  // Warm-up: connections open, JIT warm, on both paths.
  for (let w = 0; w < 3; w++) {
    await round(optsA);
    await round(optsB);
  }
  const scrapes = TARGETS * PASSES;
  const mb = (scrapes * ready.bodyBytes) / 1e6;
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so neither always runs right after the other's garbage.
    const first = r % 2 === 0 ? optsA : optsB;
    const x = await round(first);
    const y = await round(first === optsA ? optsB : optsA);
    (first === optsA ? a : b).push(x.cpuUs / scrapes);
    (first === optsA ? b : a).push(y.cpuUs / scrapes);
  }
  const sorted = (v: number[]): number[] => [...v].sort((p, q) => p - q);
  const q = (v: number[], f: number): number => sorted(v)[Math.min(v.length - 1, Math.floor(f * v.length))] ?? 0;
  const line = (name: string, v: number[]): string =>
    `${name}: CPU/scrape median ${q(v, 0.5).toFixed(0)} us (min ${q(v, 0).toFixed(0)}, p90 ${q(v, 0.9).toFixed(0)}), ` +
    (DEAD ? 'refused' : `per MB on the wire ${((q(v, 0.5) * scrapes) / mb / 1000).toFixed(2)} ms`);
  const ratios = a.map((x, i) => (b[i] ?? 0) / x);
  console.log(
    (DEAD ? `${TARGETS} closed ports` : `${TARGETS} targets x ${SERIES} series, body ${ready.bodyBytes} bytes`) +
      `${GZIP ? ` gzip (${ready.plainBytes} plain)` : ''}, ` +
      `${ROUNDS} alternating rounds x ${PASSES} passes`,
  );
  console.log(line('A node:http ', a));
  console.log(line('B lean http1', b));
  console.log(
    `B/A median ${(q(b, 0.5) / q(a, 0.5)).toFixed(3)}; per-round ratios min ${q(ratios, 0).toFixed(3)} ` +
      `median ${q(ratios, 0.5).toFixed(3)} max ${q(ratios, 1).toFixed(3)}`,
  );
  agent.destroy();
  pool.close();
  child?.kill();
}

if (process.argv[2] === 'targets') await serveTargets();
else await main();

/**
 * Remote-write HTTP client micro-benchmark: POSTs N snappy bodies of realistic size (2000 samples,
 * ~8 labels each, as one Prometheus-default batch) to a loopback receiver in a child process, and
 * reports requests/s and client CPU µs per request for
 *   - `node-fetch`: the client as it was (node-fetch over a keep-alive agent), kept here as the baseline;
 *   - `http.request`: src/remote/client.ts HttpWriteClient as it is now.
 * The receiver runs in its own process so only the client's CPU is counted (process.cpuUsage()).
 * Rounds alternate between the clients so drift in machine load hits both alike; the median round is
 * reported.
 *
 *   npx node bench/rw-client.ts [requests-per-round=3000] [rounds=5] [concurrency=1,4]
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/load.ts';
import { HttpWriteClient, type WriteClient } from '../src/remote/client.ts';
import { encodeLabelsBlock, WriteRequestBuilder } from '../src/remote/encoder.ts';
import { SnappyBlockCompressor } from '../src/remote/snappy.ts';
import { at } from '../test/helpers/defined.ts';
import { nodeLikeLabels } from './node-like-labels.ts';
import { NodeFetchWriteClient } from './rw-node-fetch-client.ts';

function buildBodies(count: number): Uint8Array[] {
  const SERIES = 5000;
  const BATCH = 2000;
  const blocks: Buffer[] = [];
  for (let i = 0; i < SERIES; i++) {
    blocks.push(encodeLabelsBlock(nodeLikeLabels(i)));
  }
  const b = new WriteRequestBuilder();
  const snappy = new SnappyBlockCompressor();
  const out: Uint8Array[] = [];
  for (let r = 0; r < count; r++) {
    b.reset();
    for (let k = 0; k < BATCH; k++) {
      const s = (r * BATCH + k) % SERIES;
      b.addSample(
        at(blocks, s, 'label blocks'),
        Math.round(Math.sin(r * BATCH + k) * 1e6) / 1000,
        false,
        1_700_000_000_000 + r * 10_000 + k,
      );
    }
    out.push(Uint8Array.from(snappy.compress(b.finish())));
  }
  return out;
}

let sentBytes = 0;

interface Result {
  reqPerSec: number;
  cpuUsPerReq: number;
}

async function round(client: WriteClient, bodies: Uint8Array[], n: number, concurrency: number): Promise<Result> {
  let next = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const body = at(bodies, i % bodies.length, 'bodies');
      sentBytes += body.length;
      const r = await client.send(body, 0, 'v1');
      if (r.kind !== 'ok') failures++;
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (failures > 0) throw new Error(`${failures} requests failed`);
  return { reqPerSec: n / (ms / 1000), cpuUsPerReq: (cpu.user + cpu.system) / n };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return at(s, Math.floor(s.length / 2), 'measurements');
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 3000);
  const rounds = Number(process.argv[3] ?? 5);
  const concurrencies = (process.argv[4] ?? '1,4').split(',').map(Number);
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--server'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m) => resolve((m as { port: number }).port)),
  );
  const cfg = at(
    parseConfig(
      `remote_write:\n  - url: http://127.0.0.1:${port}/api/v1/write\n    headers:\n      X-Scope-OrgID: edge\n`,
      'bench.yml',
    ).remoteWrite,
    0,
    'remote_write',
  );
  const bodies = buildBodies(64);
  const avg = bodies.reduce((a, b) => a + b.length, 0) / bodies.length;
  const clients: { name: string; make: () => WriteClient }[] = [
    { name: 'node-fetch (before)', make: () => new NodeFetchWriteClient(cfg, 'Outpost/bench') },
    { name: 'http.request (src)', make: () => new HttpWriteClient(cfg, 'Outpost/bench') },
  ];
  console.log(
    `remote-write client: ${n} POSTs/round x ${rounds} rounds, body ${(avg / 1024).toFixed(1)} KiB snappy (2000 samples), loopback receiver in a child process, node ${process.version}`,
  );
  const rows: string[][] = [['client', 'concurrency', 'req/s', 'CPU µs/req', 'MB/s']];
  for (const c of concurrencies) {
    const res = new Map<string, Result[]>();
    const instances = clients.map((k) => ({ name: k.name, client: k.make() }));
    // Warm-up: JIT and keep-alive connections.
    for (const k of instances) await round(k.client, bodies, 500, c);
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 === 0 ? instances : [...instances].reverse()) {
        const list = res.get(k.name) ?? [];
        list.push(await round(k.client, bodies, n, c));
        res.set(k.name, list);
      }
    }
    for (const k of instances) {
      k.client.close();
      const list = res.get(k.name) ?? [];
      const rps = median(list.map((x) => x.reqPerSec));
      rows.push([
        k.name,
        String(c),
        rps.toFixed(0),
        median(list.map((x) => x.cpuUsPerReq)).toFixed(1),
        ((rps * avg) / 1e6).toFixed(1),
      ]);
    }
  }
  // Sanity check: the receiver got every byte sent (a client that mangled bodies would show here).
  child.send('bytes');
  const got = await new Promise<number>((resolve) =>
    child.once('message', (m) => resolve((m as { bytes: number }).bytes)),
  );
  child.send('exit');
  if (got !== sentBytes) throw new Error(`receiver counted ${got} bytes, clients sent ${sentBytes}`);
  const widths: number[] = [];
  for (const r of rows) for (const [i, cell] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j] ?? 0) : cell.padStart(widths[j] ?? 0))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

if (process.argv.includes('--server')) {
  // Receiver: reads the body, counts it, answers 204 like Prometheus' own receiver.
  let bytes = 0;
  const srv = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  srv.keepAliveTimeout = 60_000;
  srv.listen(0, '127.0.0.1', () => process.send?.({ port: (srv.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m) => {
    if (m === 'bytes') process.send?.({ bytes });
    if (m === 'exit') process.exit(0);
  });
} else {
  await main();
}

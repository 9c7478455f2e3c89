/**
 * Remote-write catch-up speed: how fast a 10-minute backlog leaves the WAL once the receiver is back.
 *
 * 1. Builds a WAL in a temp dir with AgentStorage (default segment size and compression, as the
 *    agent writes it): SERIES series (default 100k, node_exporter-like labels) scraped every 10 s for
 *    10 minutes = 60 commits, ~6M samples.
 * 2. Points a remote_write endpoint with the default queue_config at a loopback sink in a child
 *    process (answers 204, counts bytes; `--decode` also decodes and counts samples), with its saved
 *    position at the start of the WAL, and starts the real pipeline (RemoteStorage → WalWatcher →
 *    QueueManager → HttpWriteClient).
 * 3. Reports the time until every sample is acknowledged, samples/s delivered, and CPU seconds of the
 *    agent side (this process) and of the sink.
 *
 *   npx node bench/rw-catchup.ts [--decode]
 *   CATCHUP_SERIES=20000 CATCHUP_MINUTES=10 npx node bench/rw-catchup.ts
 *   CATCHUP_CLIENT=node-fetch npx node bench/rw-catchup.ts    (the pre-change client, for comparison)
 *   npx node --cpu-prof --cpu-prof-dir=/tmp/prof bench/rw-catchup.ts     (profile the catch-up)
 */
import { fork } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../src/agent/metrics.ts';
import { AgentStorage } from '../src/agent/storage.ts';
import { parseConfig } from '../src/config/load.ts';
import type { RemoteWriteConfig } from '../src/config/types.ts';
import { memoryLogger } from '../src/log/logger.ts';
import { ProgressFile } from '../src/remote/progress.ts';
import { decodeWriteRequest } from '../test/helpers/rw-proto.ts';
import { RemoteStorage } from '../src/remote/remote-storage.ts';
import { snappyUncompress } from '../src/remote/snappy.ts';
import { labelsFromRecord, type Labels } from '../src/util/labels.ts';
import { listSegments } from '../src/wal/segments.ts';
import { openStorage } from '../test/helpers/agent-parts.ts';
import { at } from '../test/helpers/defined.ts';
import { NodeFetchWriteClient } from './rw-node-fetch-client.ts';

const SERIES = Number(process.env.CATCHUP_SERIES ?? 100_000);
const MINUTES = Number(process.env.CATCHUP_MINUTES ?? 10);
const INTERVAL_MS = 10_000;
const DECODE = process.argv.includes('--decode');
/** `node-fetch`: the pre-change client (bench/rw-node-fetch-client.ts), for comparison. */
const CLIENT = process.env.CATCHUP_CLIENT ?? 'http';

interface SinkStats {
  requests: number;
  bytes: number;
  samples: number;
  cpuUs: number;
}

function sink(): void {
  const stats: SinkStats = { requests: 0, bytes: 0, samples: 0, cpuUs: 0 };
  const cpu0 = process.cpuUsage();
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      stats.bytes += c.length;
      if (DECODE) chunks.push(c);
    });
    req.on('end', () => {
      stats.requests++;
      if (DECODE)
        stats.samples += decodeWriteRequest(snappyUncompress(Buffer.concat(chunks))).timeseries.reduce(
          (n, ts) => n + ts.samples.length,
          0,
        );
      res.writeHead(204);
      res.end();
    });
  });
  srv.keepAliveTimeout = 120_000;
  srv.listen(0, '127.0.0.1', () => process.send?.({ port: (srv.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m) => {
    if (m !== 'stats') return;
    const c = process.cpuUsage(cpu0);
    stats.cpuUs = c.user + c.system;
    process.send?.(stats);
  });
}

const MODES = ['idle', 'user', 'system', 'iowait'];

function seriesLabels(i: number): Labels {
  return labelsFromRecord({
    __name__: `node_metric_${i % 200}_total`,
    job: 'node',
    instance: `edge-${(i / 2000) | 0}.example.internal:9100`,
    cpu: String(i % 16),
    mode: at(MODES, i % MODES.length, 'modes'),
    series: String(i),
  });
}

async function buildWal(
  dataDir: string,
): Promise<{ samples: number; seconds: number; bytes: number; segments: number }> {
  const reg = new Registry();
  const storage = new AgentStorage({
    dataDir,
    wal: { segmentSize: 128 << 20, compress: true },
    log: memoryLogger('error'),
    metrics: new AgentMetrics(reg),
  });
  await storage.open();
  const app = storage.appender();
  const refs = new Float64Array(SERIES);
  const t0 = performance.now();
  const scrapes = (MINUTES * 60_000) / INTERVAL_MS;
  const start = Date.now() - MINUTES * 60_000;
  let samples = 0;
  for (let s = 0; s < scrapes; s++) {
    const ts = start + s * INTERVAL_MS;
    for (let i = 0; i < SERIES; i++) {
      if (s === 0) refs[i] = app.ref(seriesLabels(i));
      const ref = refs[i];
      if (ref === undefined) throw new RangeError(`no series ref ${i} of ${SERIES}`);
      const kind = i % 10;
      app.append(
        ref,
        ts,
        kind < 5 ? i * 10 + s * (kind + 1) : kind < 8 ? ((i * 7919 + s * 104729) % 10007) / 10 : kind & 1,
      );
      samples++;
    }
    await app.commit();
  }
  await storage.close();
  const range = await listSegments(storage.walDir);
  let bytes = 0;
  for (const f of await fs.readdir(storage.walDir)) bytes += (await fs.stat(path.join(storage.walDir, f))).size;
  return {
    samples,
    seconds: (performance.now() - t0) / 1000,
    bytes,
    segments: range ? range.last - range.first + 1 : 0,
  };
}

async function main(): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-catchup-'));
  const child = fork(fileURLToPath(import.meta.url), ['--sink', ...(DECODE ? ['--decode'] : [])], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stats = (): Promise<SinkStats> =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m as SinkStats));
      child.send('stats');
    });
  try {
    const port = await new Promise<number>((resolve) =>
      child.once('message', (m) => resolve((m as { port: number }).port)),
    );
    console.log(
      `catch-up: ${SERIES} series x ${(MINUTES * 60_000) / INTERVAL_MS} scrapes (${MINUTES} min at ${INTERVAL_MS / 1000} s), default queue_config, ${CLIENT} client, node ${process.version}, ${os.cpus().length} CPUs`,
    );
    const wal = await buildWal(dataDir);
    console.log(
      `WAL built: ${(wal.samples / 1e6).toFixed(2)}M samples, ${wal.segments} segment(s), ${(wal.bytes / 1048576).toFixed(1)} MiB, in ${wal.seconds.toFixed(1)} s`,
    );

    const { storage, remoteOptions } = await openStorage(
      dataDir,
      { segmentSize: 128 << 20, compress: true },
      memoryLogger('warn'),
      new Registry(),
    );
    const config = parseConfig(
      `remote_write:\n  - url: http://127.0.0.1:${port}/api/v1/write\n    name: bench\n`,
      'bench.yml',
    );
    const range = await listSegments(storage.walDir);
    // The endpoint resumes at the oldest segment: the whole WAL is its backlog.
    const progress = new ProgressFile(dataDir, 'bench');
    progress.save({ segment: range?.first ?? 0, offset: 0 });
    await progress.flush();
    const remote = new RemoteStorage({
      ...remoteOptions,
      userAgent: 'Outpost/bench',
      samplesAppended: () => storage.samplesAppended,
      flushDeadlineMs: 10_000,
      ...(CLIENT === 'node-fetch'
        ? { makeClient: (cfg: RemoteWriteConfig) => new NodeFetchWriteClient(cfg, 'Outpost/bench') }
        : {}),
    });

    const sink0 = await stats();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await remote.applyConfig(config.remoteWrite, config.global.externalLabels);
    let sent = 0;
    let maxShards = 0;
    let lastReport = t0;
    let t95 = 0;
    let cpu95 = { user: 0, system: 0 };
    while (sent < wal.samples) {
      await new Promise((r) => setTimeout(r, 20));
      const st = at(remote.status(), 0, 'remote-write queues');
      sent = st.samplesSent;
      if (t95 === 0 && sent >= wal.samples * 0.95) {
        t95 = (performance.now() - t0) / 1000;
        cpu95 = process.cpuUsage(cpu0);
      }
      maxShards = Math.max(maxShards, st.shards);
      if (st.samplesFailed > 0 || st.samplesDropped > 0)
        throw new Error(`failed ${st.samplesFailed}, dropped ${st.samplesDropped}: ${st.lastError}`);
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        console.log(
          `  ${((lastReport - t0) / 1000).toFixed(0)} s: ${(sent / 1e6).toFixed(2)}M sent, ${st.shards} shards`,
        );
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const sink1 = await stats();
    await remote.stop();
    await storage.close();
    const agentCpu = (cpu.user + cpu.system) / 1e6;
    const sinkCpu = (sink1.cpuUs - sink0.cpuUs) / 1e6;
    const requests = sink1.requests - sink0.requests;
    console.log(
      `delivered ${(sent / 1e6).toFixed(2)}M samples in ${seconds.toFixed(2)} s: ${(sent / seconds / 1e3).toFixed(0)}k samples/s`,
    );
    // Each shard's last partial batch waits for batch_send_deadline (5 s by default; up to max_shards ×
    // max_samples_per_send samples): the 95% mark shows the throughput without that tail.
    console.log(
      `  95% delivered after ${t95.toFixed(2)} s: ${((wal.samples * 0.95) / t95 / 1e3).toFixed(0)}k samples/s, agent CPU ${((cpu95.user + cpu95.system) / 1e6).toFixed(2)} s (${(((cpu95.user + cpu95.system) / 1e6 / t95) * 100).toFixed(0)}% of one core)`,
    );
    console.log(
      `  agent CPU ${agentCpu.toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, sys ${(cpu.system / 1e6).toFixed(2)}) = ${((agentCpu / sent) * 1e6).toFixed(2)} CPU s per million samples; ${((agentCpu / seconds) * 100).toFixed(0)}% of one core`,
    );
    console.log(
      `  ${requests} requests, ${((sink1.bytes - sink0.bytes) / 1048576).toFixed(1)} MiB on the wire, ${(sent / requests).toFixed(0)} samples/request, up to ${maxShards} shards`,
    );
    console.log(
      `  sink CPU ${sinkCpu.toFixed(2)} s${DECODE ? `, decoded ${((sink1.samples - sink0.samples) / 1e6).toFixed(2)}M samples` : ''}`,
    );
    if (DECODE && sink1.samples - sink0.samples < sent)
      throw new Error('the sink decoded fewer samples than were acknowledged');
  } finally {
    child.kill();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--sink')) sink();
else await main();

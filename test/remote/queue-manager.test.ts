import test from 'ava';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import type { SendResult, WriteClient } from '../../src/remote/client.ts';
import { RemoteMetrics } from '../../src/remote/metrics.ts';
import { decodeWriteRequest } from '../helpers/rw-proto.ts';
import { QueueManager, desiredShards } from '../../src/remote/queue-manager.ts';
import type { MetadataSource } from '../../src/storage/metadata.ts';
import type { WalPosition } from '../../src/wal/segments.ts';
import { snappyUncompress } from '../../src/remote/snappy.ts';
import { sleep } from '../../src/util/clock.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import { runFor, runUntil, settle } from '../helpers/virtual-time.ts';
import { at } from '../helpers/defined.ts';

/** Records what was sent; each send takes delayMs of the fake clock's time. */
class FakeClient implements WriteClient {
  batches: { name: string; t: number }[][] = [];
  delayMs: number;
  readonly clock: FakeClock;
  constructor(clock: FakeClock, delayMs = 0) {
    this.clock = clock;
    this.delayMs = delayMs;
  }
  async send(body: Uint8Array): Promise<SendResult> {
    await sleep(this.clock, this.delayMs);
    const req = decodeWriteRequest(snappyUncompress(body));
    this.batches.push(
      req.timeseries.map((ts) => ({
        name: ts.labels.find((l) => l.name === 'i')?.value ?? '',
        t: at(ts.samples, 0, 'ts.samples').timestamp,
      })),
    );
    return { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } };
  }
  close(): void {}
}

interface Harness {
  q: QueueManager;
  acked: WalPosition[];
  clock: FakeClock;
  log: ReturnType<typeof memoryLogger>;
  registry: Registry;
}

function qm(
  clock: FakeClock,
  client: WriteClient,
  extra = '',
  opts: {
    highestAppended?: () => number;
    samplesIn?: () => number;
    metadataSource?: MetadataSource;
    logLevel?: 'debug';
  } = {},
  endpoint = '',
): Harness {
  // A test may set its own batch_send_deadline; the default here keeps the others fast.
  const deadline = extra.includes('batch_send_deadline') ? '' : '      batch_send_deadline: 20ms\n';
  const base = extra.includes('max_samples_per_send') ? '' : '      max_samples_per_send: 50\n      capacity: 100\n';
  const shards = extra.includes('max_shards') ? '' : '      max_shards: 8\n';
  const cfg = parseConfig(
    `remote_write:\n  - url: http://127.0.0.1:1/w\n${endpoint}    queue_config:\n${base}${deadline}${shards}${extra}`,
    't.yml',
  );
  const acked: WalPosition[] = [];
  const log = memoryLogger(opts.logLevel ?? 'info');
  const registry = new Registry();
  const q = new QueueManager(at(cfg.remoteWrite, 0, 'cfg.remoteWrite'), client, {
    clock,
    random: seededRandom(42),
    log,
    metrics: new RemoteMetrics(registry),
    externalLabels: [],
    events: { onAcked: (p) => acked.push(p) },
    ...(opts.highestAppended ? { highestAppended: opts.highestAppended } : {}),
    ...(opts.samplesIn ? { samplesIn: opts.samplesIn } : {}),
    ...(opts.metadataSource ? { metadataSource: opts.metadataSource } : {}),
  });
  return { q, acked, clock, log, registry };
}

function inOrder(client: FakeClient): Map<string, number[]> {
  const perSeries = new Map<string, number[]>();
  for (const b of client.batches) for (const s of b) perSeries.set(s.name, [...(perSeries.get(s.name) ?? []), s.t]);
  return perSeries;
}

/** Enqueues `rounds` chunks of one sample per series 1..series (t = t0 + k), waiting for space as the watcher does. */
async function feed(
  q: QueueManager,
  series: number,
  rounds: number,
  t0: number,
  onRound?: (k: number) => void,
): Promise<void> {
  for (let k = 0; k < rounds; k++) {
    const chunk = q.beginChunk({ segment: 0, offset: (k + 1) * 100 });
    for (let i = 0; i < series; i++) {
      while (!q.enqueue(i + 1, t0 + k, k, false, chunk)) if (!(await q.waitForSpace())) return;
    }
    q.endChunk();
    onRound?.(k);
  }
}

test("desired shards follow Prometheus' formula", (t) => {
  t.is(desiredShards({ inRate: 0, outRate: 0, dropRate: 0, sendSecondsRate: 0, delaySeconds: 0 }), null);
  // 1000 samples/s in and out, 1 ms per sample => 1 shard busy all the time.
  t.is(desiredShards({ inRate: 1000, outRate: 1000, dropRate: 0, sendSecondsRate: 1, delaySeconds: 0 }), 1);
  // 100 s behind: +5%/s of the 100k backlog => 1 + 5 = 6.
  t.is(desiredShards({ inRate: 1000, outRate: 1000, dropRate: 0, sendSecondsRate: 1, delaySeconds: 100 }), 6);
  // Half of what is read is dropped: only the kept half needs sending.
  t.is(desiredShards({ inRate: 1000, outRate: 500, dropRate: 500, sendSecondsRate: 0.5, delaySeconds: 0 }), 0.5);
});

test('resharding mid-stream keeps per-series order and loses nothing; acks advance to the last chunk', async (t) => {
  const clock = new FakeClock();
  const client = new FakeClient(clock, 5);
  const { q, acked } = qm(clock, client);
  for (let i = 0; i < 20; i++) q.storeSeries(i + 1, ['__name__', 'm', 'i', String(i)]);
  q.start();
  const total = 60;
  await runUntil(
    clock,
    feed(q, 20, total, 1000, (k) => {
      if (k === 20) void q.reshard(4);
      if (k === 40) void q.reshard(2);
    }),
    { stepMs: 1 },
  );
  t.true(await runUntil(clock, q.stop(10_000)), 'drained');
  const perSeries = inOrder(client);
  t.is(perSeries.size, 20);
  for (const [name, ts] of perSeries)
    t.deepEqual(
      ts,
      [...Array(total).keys()].map((k) => 1000 + k),
      `series ${name} complete and in order`,
    );
  t.deepEqual(acked[acked.length - 1], { segment: 0, offset: total * 100 });
  for (let i = 1; i < acked.length; i++)
    t.true(at(acked, i, 'acked').offset > at(acked, i - 1, 'acked').offset, 'acknowledged positions only move forward');
});

test('sample_age_limit drops old samples as too_old instead of sending them', async (t) => {
  const clock = new FakeClock();
  const client = new FakeClient(clock);
  const { q } = qm(clock, client, '      sample_age_limit: 1m\n');
  q.storeSeries(1, ['__name__', 'm', 'i', 'x']);
  q.start();
  const chunk = q.beginChunk({ segment: 0, offset: 10 });
  q.enqueue(1, clock.now() - 3_600_000, 1, false, chunk);
  q.enqueue(1, clock.now(), 2, false, chunk);
  q.endChunk();
  await runUntil(clock, q.stop(5000));
  t.is(client.batches.flat().length, 1);
  t.is(q.dropped, 1);
});

test('a saturated queue that sends fine doubles its shards to catch up, keeping per-series order', async (t) => {
  const clock = new FakeClock();
  const client = new FakeClient(clock, 30);
  const { q } = qm(clock, client);
  for (let i = 0; i < 20; i++) q.storeSeries(i + 1, ['__name__', 'm', 'i', String(i)]);
  q.start();
  t.is(q.shardCount, 1);
  const total = 400;
  await runUntil(clock, feed(q, 20, total, 1000), { stepMs: 5 });
  t.true(q.shardCount > 1, `resharded up while behind (${q.shardCount} shards)`);
  // Once the reader keeps up, the catch-up shards go away again (within a few 1 s checks).
  await runFor(clock, 6000, 50);
  t.is(q.shardCount, 1, 'back to the shard count from before the catch-up');
  t.true(await runUntil(clock, q.stop(20_000)));
  for (const [name, ts] of inOrder(client))
    t.deepEqual(
      ts,
      [...Array(total).keys()].map((k) => 1000 + k),
      `series ${name} complete and in order`,
    );
});

test('far behind (more than 30 s of appended data), catch-up quadruples the shards in one step', async (t) => {
  const clock = new FakeClock();
  const client = new FakeClient(clock, 30);
  // The WAL holds data 100 s newer than anything in the queue: a long outage's backlog.
  const { q } = qm(clock, client, '', { highestAppended: () => 1000 + 400 + 100_000 });
  for (let i = 0; i < 20; i++) q.storeSeries(i + 1, ['__name__', 'm', 'i', String(i)]);
  q.start();
  const seen = new Set<number>([q.shardCount]);
  const feeding = feed(q, 20, 400, 1000, () => seen.add(q.shardCount));
  while (!seen.has(4) && clock.now() < 1_700_000_000_000 + 120_000) {
    clock.advance(2);
    await settle();
    seen.add(q.shardCount);
  }
  await runUntil(clock, feeding);
  t.true(await runUntil(clock, q.stop(20_000)));
  t.true(seen.has(4), `shard counts seen: ${[...seen].join(',')}`);
  t.false(seen.has(2), 'no doubling step in between');
});

test('a partial batch of samples already older than batch_send_deadline goes out once no more arrive; fresh ones wait the deadline', async (t) => {
  const clock = new FakeClock();
  const client = new FakeClient(clock, 0);
  const { q } = qm(clock, client, '      batch_send_deadline: 5s\n');
  q.storeSeries(1, ['__name__', 'm', 'i', 'old']);
  q.storeSeries(2, ['__name__', 'm', 'i', 'new']);
  q.start();
  const now = clock.now();
  // The tail of a backlog: 10 samples scraped an hour ago, fewer than a batch.
  let chunk = q.beginChunk({ segment: 0, offset: 100 });
  for (let k = 0; k < 10; k++) t.true(q.enqueue(1, now - 3_600_000 + k, k, false, chunk));
  q.endChunk();
  await runFor(clock, 200, 5);
  t.is(client.batches.length, 1, 'sent long before the 5 s deadline');
  t.is(at(client.batches, 0, 'client.batches').length, 10);
  // Fresh samples keep the normal batching.
  chunk = q.beginChunk({ segment: 0, offset: 200 });
  t.true(q.enqueue(2, clock.now(), 1, false, chunk));
  q.endChunk();
  await runFor(clock, 4000, 50);
  t.is(client.batches.length, 1, 'a fresh sample waits for the deadline or a full batch');
  await runFor(clock, 1100, 50);
  t.is(client.batches.length, 2, 'and goes out once the deadline passed');
  await runUntil(clock, q.stop(1000));
});

/** Notes the virtual time of every request and whether it carried metadata; answers from `answer`. */
class TimedClient implements WriteClient {
  readonly at: { t: number; metadata: number }[] = [];
  answer: () => SendResult = () => ({ kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } });
  private readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  async send(body: Uint8Array): Promise<SendResult> {
    this.at.push({ t: this.clock.now(), metadata: decodeWriteRequest(snappyUncompress(body)).metadata.length });
    return this.answer();
  }
  close(): void {}
}

const METADATA = (interval: string): string =>
  `    metadata_config:\n      send: true\n      send_interval: ${interval}\n`;

test('virtual time: metadata goes out one send_interval after start, then every interval', async (t) => {
  const clock = new FakeClock();
  const client = new TimedClient(clock);
  const source: MetadataSource = () => [{ metric: 'up', type: 'gauge', help: 'Up.', unit: '' }];
  const { q } = qm(clock, client, '', { metadataSource: source }, METADATA('1m'));
  const start = clock.now();
  q.start();
  await runFor(clock, 59_000, 1000);
  t.is(client.at.length, 0, 'nothing at start');
  await runFor(clock, 2 * 60_000 + 1000, 1000);
  t.deepEqual(
    client.at.map((a) => a.t - start),
    [60_000, 120_000, 180_000],
  );
  t.true(client.at.every((a) => a.metadata === 1));
  await runUntil(clock, q.stop(1000));
});

test('virtual time: a metadata send still retrying does not hold up stop: the failing endpoint ends the flush at once', async (t) => {
  const clock = new FakeClock();
  const client = new TimedClient(clock);
  client.answer = () => ({ kind: 'retry', error: 'HTTP 503', status: 503, retryAfterMs: 0 });
  const { q, log } = qm(
    clock,
    client,
    '      min_backoff: 1s\n      max_backoff: 1s\n',
    { metadataSource: () => [{ metric: 'up', type: 'gauge', help: '', unit: '' }] },
    METADATA('10s'),
  );
  q.start();
  await runFor(clock, 13_000, 100);
  t.true(client.at.length >= 3, 'retrying');
  const began = clock.now();
  t.false(await runUntil(clock, q.stop(30_000), { stepMs: 100 }), 'the metadata was not delivered');
  t.true(
    clock.now() - began <= 100,
    `stopped after ${clock.now() - began} ms of a 30 s deadline, not after the backoff`,
  );
  t.is(q.pending(), 0);
  t.true(log.lines.some((l) => /Failed to send metadata, retrying/.test(l)));
});

// Each send attempt is logged by the endpoint's client wrapper (client-log.ts, test/remote/client-log.test.ts).
test('debug logging: each shard calculation, and no second line per send attempt', async (t) => {
  const clock = new FakeClock();
  const client = new TimedClient(clock);
  let calls = 0;
  client.answer = () =>
    ++calls === 1
      ? { kind: 'retry', error: 'HTTP 503', status: 503, retryAfterMs: 0 }
      : { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } };
  const { q, log } = qm(clock, client, '      min_backoff: 10ms\n', { logLevel: 'debug', samplesIn: () => 1 });
  q.storeSeries(1, ['__name__', 'm', 'i', 'x']);
  q.start();
  const chunk = q.beginChunk({ segment: 0, offset: 1 });
  q.enqueue(1, clock.now(), 1, false, chunk);
  q.endChunk();
  await runFor(clock, 11_000, 50);
  const debug = log.lines.filter((l) => l.includes('level=debug'));
  t.false(
    debug.some((l) => /msg="Sent (batch|metadata)"/.test(l)),
    debug.join('\n'),
  );
  t.true(
    debug.some((l) => /msg="Shard calculation".*desired=\S+ shards=1 reshard_to=\d+/.test(l)),
    debug.join('\n'),
  );
  await runUntil(clock, q.stop(1000));
});

/** Notes, per series label `i`, every item received as kind:timestamp, in arrival order. */
class KindClient implements WriteClient {
  readonly seen = new Map<string, string[]>();
  private readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  async send(body: Uint8Array): Promise<SendResult> {
    await sleep(this.clock, 40);
    for (const ts of decodeWriteRequest(snappyUncompress(body)).timeseries) {
      const name = ts.labels.find((l) => l.name === 'i')?.value ?? '';
      const list = this.seen.get(name) ?? [];
      for (const s of ts.samples) list.push(`s:${s.timestamp}`);
      for (const e of ts.exemplars) list.push(`e:${e.timestamp}`);
      for (const h of ts.histograms) list.push(`h:${h.timestamp}`);
      this.seen.set(name, list);
    }
    return { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } };
  }
  close(): void {}
}

test('a reshard hands held samples, exemplars and histograms to the new shards in per-series order', async (t) => {
  const clock = new FakeClock();
  const client = new KindClient(clock);
  const { q } = qm(clock, client, '', {}, '    send_exemplars: true\n    send_native_histograms: true\n');
  for (let i = 0; i < 6; i++) q.storeSeries(i + 1, ['__name__', 'm', 'i', String(i)]);
  q.start();
  const h = {
    counterResetHint: 0,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    count: 1,
    sum: 1,
    positiveSpans: [{ offset: 0, length: 1 }],
    negativeSpans: [],
    positiveBuckets: [1],
    negativeBuckets: [],
  };
  const rounds = 40;
  const feeding = (async () => {
    for (let k = 0; k < rounds; k++) {
      const t0 = 1000 + k * 10;
      const chunk = q.beginChunk({ segment: 0, offset: (k + 1) * 100 });
      for (let i = 0; i < 6; i++) {
        while (!q.enqueue(i + 1, t0, k, false, chunk)) await q.waitForSpace();
        while (!q.enqueueExemplar(i + 1, t0 + 1, k, ['trace_id', String(k)], chunk)) await q.waitForSpace();
        while (!q.enqueueHistogram(i + 1, t0 + 2, h, false, chunk)) await q.waitForSpace();
      }
      q.endChunk();
      // Reshards while the shards hold a mix of all three kinds.
      if (k === 12) {
        const held = q.pending();
        await q.reshard(3);
        // Handed over, not drained through the endpoint: only the request in flight went out.
        t.true(q.pending() >= held - 50 && q.pending() > 0, `held ${held}, then ${q.pending()}`);
        t.is(q.shardCount, 3);
      }
      if (k === 25) void q.reshard(5);
      if (k === 32) void q.reshard(2);
    }
  })();
  await runUntil(clock, feeding, { stepMs: 5 });
  t.true(await runUntil(clock, q.stop(60_000), { stepMs: 5 }));
  t.deepEqual(q.pendingByKind(), { samples: 0, exemplars: 0, histograms: 0 });
  const want = Array.from({ length: rounds }, (_, k) => [
    `s:${1000 + k * 10}`,
    `e:${1001 + k * 10}`,
    `h:${1002 + k * 10}`,
  ]).flat();
  for (let i = 0; i < 6; i++) {
    const got = client.seen.get(String(i)) ?? [];
    // Within one request a series' samples, exemplars and histograms are grouped by kind; order across requests must hold.
    t.is(got.length, want.length, `series ${i}: everything arrived once`);
    const ts = (x: string): number => Number(x.slice(2));
    t.deepEqual(
      [...got].sort((a, b) => ts(a) - ts(b)),
      want,
      `series ${i}: nothing lost or doubled`,
    );
    for (const kind of ['s', 'e', 'h']) {
      const seq = got.filter((x) => x.startsWith(kind)).map(ts);
      t.deepEqual(
        seq,
        [...seq].sort((a, b) => a - b),
        `series ${i} ${kind}: in order`,
      );
    }
  }
});

test('a queue that keeps up sets no catch-up timer; a reader waiting for room arms it until the shards have room again', async (t) => {
  const clock = new FakeClock();
  const client = new FakeClient(clock, 30);
  const { q } = qm(clock, client);
  for (let i = 0; i < 20; i++) q.storeSeries(i + 1, ['__name__', 'm', 'i', String(i)]);
  q.start();
  const idle = clock.pending;
  t.is(idle, 2, 'started and idle: the shard calculation and the shard waiting for data, nothing else');
  await runUntil(clock, feed(q, 20, 2, 1000), { stepMs: 5 });
  await runFor(clock, 3000, 50);
  t.is(clock.pending, idle, 'keeping up: only the 10 s shard calculation is scheduled');
  // 100 samples a shard: the reader has to wait, which starts the 1 s catch-up checks.
  const behind = feed(q, 20, 200, 2000);
  await runFor(clock, 5, 5);
  t.is(clock.pending > idle, true, 'waiting for room arms the catch-up check');
  await runUntil(clock, behind, { stepMs: 5 });
  await runFor(clock, 10_000, 50);
  t.is(clock.pending, idle, 'caught up and back to the normal shard count: the check stops');
  t.true(await runUntil(clock, q.stop(20_000)));
});

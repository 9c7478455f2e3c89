import test from 'ava';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import type { SendResult, WriteClient } from '../../src/remote/client.ts';
import { RemoteMetrics } from '../../src/remote/metrics.ts';
import { QueueManager } from '../../src/remote/queue-manager.ts';
import type { WalPosition } from '../../src/wal/segments.ts';
import { sleep } from '../../src/util/clock.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import { runFor, runUntil } from '../helpers/virtual-time.ts';
import { at } from '../helpers/defined.ts';

const OK: SendResult = { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } };
const DOWN: SendResult = {
  kind: 'retry',
  error: 'server returned HTTP status 503 Service Unavailable',
  status: 503,
  retryAfterMs: 0,
};

/** Each send takes delayMs of virtual time and answers what `answer` says at that moment; close() fails requests in flight. */
class Endpoint implements WriteClient {
  answer: () => SendResult = () => OK;
  sent = 0;
  closed = false;
  private readonly clock: FakeClock;
  private readonly delayMs: number;
  private readonly inFlight = new Set<() => void>();
  constructor(clock: FakeClock, delayMs: number) {
    this.clock = clock;
    this.delayMs = delayMs;
  }
  async send(): Promise<SendResult> {
    const ctl = new AbortController();
    const cut = (): void => ctl.abort();
    this.inFlight.add(cut);
    await sleep(this.clock, this.delayMs, ctl.signal);
    this.inFlight.delete(cut);
    if (ctl.signal.aborted) return { kind: 'retry', error: 'socket hang up', status: 0, retryAfterMs: 0 };
    const r = this.answer();
    if (r.kind === 'ok') this.sent++;
    return r;
  }
  close(): void {
    this.closed = true;
    for (const cut of this.inFlight) cut();
  }
}

interface Setup {
  q: QueueManager;
  clock: FakeClock;
  ep: Endpoint;
  log: ReturnType<typeof memoryLogger>;
  acked: WalPosition[];
}

function setup(delayMs: number, extra = ''): Setup {
  const clock = new FakeClock();
  const ep = new Endpoint(clock, delayMs);
  const queue =
    '    queue_config:\n      max_samples_per_send: 10\n      capacity: 100\n      max_shards: 1\n' +
    `      batch_send_deadline: 50ms\n      min_backoff: 100ms\n      max_backoff: 1s\n${extra}`;
  const cfg = parseConfig(`remote_write:\n  - url: http://127.0.0.1:1/w\n    name: central\n${queue}`, 't.yml');
  const log = memoryLogger('info');
  const acked: WalPosition[] = [];
  const q = new QueueManager(at(cfg.remoteWrite, 0, 'cfg.remoteWrite'), ep, {
    clock,
    random: seededRandom(9),
    log,
    metrics: new RemoteMetrics(new Registry()),
    externalLabels: [],
    events: { onAcked: (p) => acked.push(p) },
  });
  q.storeSeries(1, ['__name__', 'm']);
  q.start();
  return { q, clock, ep, log, acked };
}

function enqueue(q: QueueManager, clock: FakeClock, n: number, offset: number): void {
  const chunk = q.beginChunk({ segment: 0, offset });
  for (let i = 0; i < n; i++) if (!q.enqueue(1, clock.now() + i, i, false, chunk)) throw new Error('queue full');
  q.endChunk();
}

test('stopping with a failing endpoint ends at once, not after the flush deadline, and says the data stays in the WAL', async (t) => {
  const { q, clock, ep, log, acked } = setup(5);
  ep.answer = () => DOWN;
  enqueue(q, clock, 50, 100);
  await runFor(clock, 2000, 10);
  t.true(q.failing);
  const started = clock.now();
  const delivered = await runUntil(clock, q.stop(60_000), { stepMs: 10 });
  const took = clock.now() - started;
  t.false(delivered);
  t.true(took < 1000, `stopped after ${took} ms of a 60 s flush deadline`);
  t.is(q.flushState, 'gave_up');
  t.is(acked.length, 0, 'nothing acknowledged: the WAL position stays before the unsent samples');
  t.true(ep.closed);
  t.true(
    log.lines.some((l) => /unsent data stays in the WAL and is sent after restart/.test(l)),
    log.lines.join('\n'),
  );
});

test('a healthy endpoint gets what the queue holds before the queue stops', async (t) => {
  const { q, clock, ep, acked } = setup(200);
  enqueue(q, clock, 50, 100);
  const delivered = await runUntil(clock, q.stop(60_000), { stepMs: 10 });
  t.true(delivered);
  t.is(q.flushState, 'done');
  t.is(ep.sent, 5);
  t.deepEqual(acked[acked.length - 1], { segment: 0, offset: 100 });
});

test('an endpoint that starts failing during the flush ends it at its first failure', async (t) => {
  const { q, clock, ep } = setup(200);
  enqueue(q, clock, 50, 100);
  let calls = 0;
  ep.answer = () => (++calls <= 2 ? OK : DOWN);
  const started = clock.now();
  const delivered = await runUntil(clock, q.stop(60_000), { stepMs: 10 });
  t.false(delivered);
  t.is(ep.sent, 2, 'drained while the endpoint made progress');
  t.true(clock.now() - started < 1500, `gave up ${clock.now() - started} ms in, at the first failure`);
  t.is(q.flushState, 'gave_up');
});

test('--storage.remote.flush-deadline stays the upper bound for a slow but working endpoint, and a request in flight is cut', async (t) => {
  // 10 batches of 10 s each would take 100 s.
  const { q, clock, ep, log } = setup(10_000);
  enqueue(q, clock, 100, 100);
  const started = clock.now();
  const delivered = await runUntil(clock, q.stop(25_000), { stepMs: 50 });
  const took = clock.now() - started;
  t.false(delivered);
  t.true(took >= 25_000 && took < 25_500, `stopped after ${took} ms`);
  t.is(ep.sent, 2);
  t.true(log.lines.some((l) => /flush deadline reached; unsent data stays in the WAL/.test(l)));
});

test('while the queue drains, the flush deadline is known (for a countdown)', async (t) => {
  const { q, clock } = setup(1000);
  enqueue(q, clock, 30, 100);
  t.is(q.flushState, 'running');
  const stopping = q.stop(60_000);
  t.is(q.flushState, 'draining');
  t.is(q.flushDeadline, clock.now() + 60_000);
  t.true(await runUntil(clock, stopping, { stepMs: 10 }));
  t.is(q.flushState, 'done');
});

test('giveUp() ends a drain at once (the operator asked to quit now)', async (t) => {
  const { q, clock, ep } = setup(10_000);
  enqueue(q, clock, 100, 100);
  const stopping = q.stop(60_000);
  await runFor(clock, 1000, 10);
  q.giveUp('quit requested');
  const started = clock.now();
  t.false(await runUntil(clock, stopping, { stepMs: 10 }));
  t.true(clock.now() - started < 100);
  t.is(ep.sent, 0);
});

/** Real file I/O (the WAL) under a fake clock: give the reader real turns while virtual time moves. */
async function until(clock: FakeClock, cond: () => boolean, stepMs = 5): Promise<void> {
  for (const end = Date.now() + 10_000; !cond(); ) {
    if (Date.now() > end) throw new Error('condition not reached');
    clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 1));
  }
}

test('through the WAL: a dead endpoint does not hold up shutdown, and the log says the data stays in the WAL', async (t) => {
  const { startWalRemote, rwYaml, T0 } = await import('./wal-fixture.ts');
  const clock = new FakeClock(T0 + 1000);
  const dead = new Endpoint(clock, 1);
  dead.answer = () => DOWN;
  const w = await startWalRemote(rwYaml('http://127.0.0.1:1/w'), {
    clock,
    makeClient: () => dead,
    flushDeadlineMs: 60_000,
  });
  t.teardown(() => w.stop());
  w.series(1, { __name__: 'up' });
  w.samples({ ref: 1, t: T0, v: 1 });
  await w.flush();
  await until(clock, () => at(w.status(), 0, 'w.status()').health === 'down');
  const started = clock.now();
  let done = false;
  const stopping = w.stopRemote().finally(() => (done = true));
  await until(clock, () => done);
  t.false(await stopping);
  t.true(clock.now() - started < 1000, `stopped after ${clock.now() - started} ms of virtual time (deadline 60 s)`);
  t.true(w.log.lines.some((l) => /unsent data stays in the WAL and is sent after restart/.test(l)));
});

test('through the WAL: while a slow endpoint drains, status() carries the flush state and deadline', async (t) => {
  const { startWalRemote, rwYaml, T0 } = await import('./wal-fixture.ts');
  const clock = new FakeClock(T0 + 1000);
  const slow = new Endpoint(clock, 3000);
  const w = await startWalRemote(rwYaml('http://127.0.0.1:1/w'), {
    clock,
    makeClient: () => slow,
    flushDeadlineMs: 60_000,
  });
  t.teardown(() => w.stop());
  w.series(1, { __name__: 'up' });
  w.samples({ ref: 1, t: T0, v: 1 });
  await w.flush();
  await until(clock, () => at(w.status(), 0, 'w.status()').pendingSamples === 1);
  t.is(at(w.status(), 0, 'w.status()').flush, undefined, 'no flush state while running');
  let done = false;
  const stopping = w.stopRemote().finally(() => (done = true));
  await until(clock, () => done || w.status()[0]?.flush !== undefined, 1);
  t.false(done, 'still draining');
  const st = at(w.status(), 0, 'w.status()');
  t.is(st.flush?.state, 'draining');
  t.true((st.flush?.deadlineAt ?? 0) - clock.now() > 59_000);
  await until(clock, () => done, 50);
  t.true(await stopping);
});

test('stop() while a reshard waits for a request in flight: the shards still flush what they hold', async (t) => {
  const { q, clock, ep, acked } = setup(1000);
  enqueue(q, clock, 50, 100);
  await runFor(clock, 100, 10);
  // reshard() itself does not clamp to max_shards: the resharder decides the count.
  const resharding = q.reshard(2);
  const stopping = q.stop(60_000);
  t.true(await runUntil(clock, stopping, { stepMs: 10 }));
  await resharding;
  t.is(ep.sent, 5, 'every batch went out');
  t.is(q.pending(), 0);
  t.deepEqual(acked[acked.length - 1], { segment: 0, offset: 100 });
});

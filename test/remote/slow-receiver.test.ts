import test from 'ava';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import type { SendResult, WriteClient } from '../../src/remote/client.ts';
import { RemoteMetrics } from '../../src/remote/metrics.ts';
import { QueueManager } from '../../src/remote/queue-manager.ts';
import { sleep } from '../../src/util/clock.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import { settle } from '../helpers/virtual-time.ts';
import { at } from '../helpers/defined.ts';

/** A receiver that takes every request but answers each after latencyMs; any number in parallel. */
class SlowReceiver implements WriteClient {
  requests = 0;
  private readonly clock: FakeClock;
  private readonly latencyMs: number;
  constructor(clock: FakeClock, latencyMs: number) {
    this.clock = clock;
    this.latencyMs = latencyMs;
  }
  async send(): Promise<SendResult> {
    await sleep(this.clock, this.latencyMs);
    this.requests++;
    return { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } };
  }
  close(): void {}
}

interface Run {
  /** Shard count at the end of each virtual second. */
  shards: number[];
  /** Lag (age of the oldest unacknowledged sample, s) at the end of each virtual second. */
  lag: number[];
}

/**
 * A steady scrape load (perSecond samples appended each second, over `series` series) through a
 * queue with Prometheus' default queue_config, to a receiver with the given latency, for `seconds`
 * of virtual time. A reader loop stands in for the WAL watcher: it waits when the shards are full.
 */
async function simulate(opts: { perSecond: number; series: number; latencyMs: number; seconds: number }): Promise<Run> {
  const clock = new FakeClock();
  const cfg = parseConfig('remote_write:\n  - url: http://127.0.0.1:1/w\n    name: slow\n', 't.yml');
  let appended = 0;
  let newest = 0;
  const fifo: { ref: number; t: number }[] = [];
  const q = new QueueManager(at(cfg.remoteWrite, 0, 'cfg.remoteWrite'), new SlowReceiver(clock, opts.latencyMs), {
    clock,
    random: seededRandom(11),
    log: memoryLogger('warn'),
    metrics: new RemoteMetrics(new Registry()),
    externalLabels: [],
    events: { onAcked: () => {} },
    samplesIn: () => appended,
    highestAppended: () => newest,
  });
  for (let ref = 1; ref <= opts.series; ref++) q.storeSeries(ref, ['__name__', 'load', 'i', String(ref)]);
  q.start();
  let stopped = false;
  const parked: { wake: (() => void) | null } = { wake: null };
  const reader = (async () => {
    let offset = 0;
    while (!stopped) {
      if (fifo.length === 0) {
        await new Promise<void>((r) => (parked.wake = r));
        continue;
      }
      const chunk = q.beginChunk({ segment: 0, offset: ++offset });
      const batch = fifo.splice(0, 500);
      for (const s of batch) {
        while (!q.enqueue(s.ref, s.t, 1, false, chunk)) if (!(await q.waitForSpace())) return;
      }
      q.endChunk();
    }
  })();
  const run: Run = { shards: [], lag: [] };
  let nextRef = 1;
  for (let sec = 0; sec < opts.seconds; sec++) {
    const t = clock.now();
    for (let i = 0; i < opts.perSecond; i++) {
      fifo.push({ ref: nextRef, t });
      nextRef = (nextRef % opts.series) + 1;
    }
    appended += opts.perSecond;
    newest = t;
    const w = parked.wake;
    parked.wake = null;
    w?.();
    for (let k = 0; k < 10; k++) {
      clock.advance(100);
      await settle(2);
    }
    const oldest = Math.min(q.oldestPending() ?? Infinity, fifo.length > 0 ? at(fifo, 0, 'fifo').t : Infinity);
    run.shards.push(q.shardCount);
    run.lag.push(oldest === Infinity ? 0 : (clock.now() - oldest) / 1000);
  }
  stopped = true;
  parked.wake?.();
  q.giveUp('test over');
  void q.stop(0);
  clock.advance(1);
  await settle();
  await Promise.race([reader, settle(5)]);
  return run;
}

function changes(xs: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] !== xs[i - 1]) n++;
  return n;
}

test('a receiver with 10 s latency: shards settle near what it can take, and lag stays bounded', async (t) => {
  // 1500 samples/s; a 2000-sample request takes 10 s, so one shard carries 200/s: about 8 shards.
  const run = await simulate({ perSecond: 1500, series: 15_000, latencyMs: 10_000, seconds: 900 });
  const settled = run.shards.slice(300);
  const lag = run.lag.slice(300);
  if (process.env.OUTPOST_SIM_TRACE) {
    for (let i = 0; i < run.shards.length; i += 10)
      process.stderr.write(`${i}s shards=${run.shards[i]} lag=${at(run.lag, i, 'run.lag').toFixed(1)}\n`);
  }
  const lo = Math.min(...settled);
  const hi = Math.max(...settled);
  t.true(hi - lo <= 4, `shards after 5 min stay within a narrow band: ${lo}..${hi}`);
  t.true(changes(settled) <= 4, `few reshards after 5 min: ${changes(settled)}`);
  t.true(lo >= 8, `enough shards for the load (${lo})`);
  t.true(Math.max(...lag) < 40, `lag bounded: max ${Math.max(...lag).toFixed(1)} s`);
});

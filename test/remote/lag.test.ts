import test from 'ava';
import type { SendResult, WriteClient } from '../../src/remote/client.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { runFor, settle } from '../helpers/virtual-time.ts';
import { rwYaml, startWalRemote, T0 } from './wal-fixture.ts';
import { at } from '../helpers/defined.ts';

const P = 'prometheus_remote_storage_';

/** An endpoint that answers 503 until `up` is set. */
class SwitchableClient implements WriteClient {
  up = false;
  attempts = 0;
  async send(): Promise<SendResult> {
    this.attempts++;
    if (this.up) return { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } };
    return { kind: 'retry', error: 'server returned HTTP status 503', status: 503, retryAfterMs: 0 };
  }
  close(): void {}
}

/** Real file I/O (the WAL) under a fake clock: give the reader real turns while virtual time moves. */
async function until(clock: FakeClock, cond: () => boolean): Promise<void> {
  for (const end = Date.now() + 5000; !cond(); ) {
    if (Date.now() > end) throw new Error('condition not reached');
    clock.advance(5);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('lag is the age of the oldest unacknowledged sample, also while an endpoint has never accepted anything', async (t) => {
  const clock = new FakeClock(T0 + 1000);
  const client = new SwitchableClient();
  const w = await startWalRemote(rwYaml('http://127.0.0.1:1/w'), { clock, makeClient: () => client });
  t.teardown(() => w.stop());
  w.series(1, { __name__: 'up' });
  w.samples({ ref: 1, t: T0, v: 1 }, { ref: 1, t: T0 + 500, v: 1 });
  await w.flush();
  await until(clock, () => client.attempts > 0 && at(w.status(), 0, 'w.status()').pendingSamples === 2);
  await runFor(clock, 30_000, 100);
  const st = at(w.status(), 0, 'w.status()');
  t.is(st.health, 'down');
  const want = (clock.now() - T0) / 1000;
  t.true(want > 30);
  t.is(st.lagSeconds, want, 'the age of the oldest sample not yet acknowledged');
  // The Prometheus gauges: nothing was sent, so highest_sent stays 0 (Outpost's series from the start); the 3.7
  // per-queue gauge says what was enqueued.
  t.is(await w.metric(P + 'queue_highest_sent_timestamp_seconds'), 0);
  t.is(await w.metric(P + 'queue_highest_timestamp_seconds'), Math.floor((T0 + 500) / 1000));
  // Once the endpoint takes everything, nothing waits and lag reads 0.
  client.up = true;
  await until(clock, () => at(w.status(), 0, 'w.status()').pendingSamples === 0);
  await settle();
  t.is(at(w.status(), 0, 'w.status()').lagSeconds, 0);
  t.is(await w.metric(P + 'queue_highest_sent_timestamp_seconds'), Math.floor((T0 + 500) / 1000));
});

// Prometheus v3.14.0 cmd/prometheus/main_test.go TestRemoteWrite_PerQueueMetricsAfterRelabeling and
// storage/remote/queue_manager.go 236-243, 1384: the 3.7+ per-queue gauge counts only what the queue
// enqueued, so write relabeling that drops every series leaves it at 0 (the old global gauge, in
// agent/metrics.ts, still sees every append).
test('queue_highest_timestamp_seconds stays 0 when write relabeling drops everything', async (t) => {
  const clock = new FakeClock(T0 + 1000);
  const client = new SwitchableClient();
  client.up = true;
  const drop =
    '    write_relabel_configs:\n      - source_labels: [__name__]\n        regex: up\n        action: drop\n';
  const w = await startWalRemote(rwYaml('http://127.0.0.1:1/w', drop), { clock, makeClient: () => client });
  t.teardown(() => w.stop());
  w.series(1, { __name__: 'up' });
  w.samples({ ref: 1, t: T0, v: 1 });
  await w.flush();
  await until(clock, () => (w.status()[0]?.samplesDropped ?? 0) > 0);
  t.is(await w.metric(P + 'queue_highest_timestamp_seconds'), 0);
  t.is(await w.metric(P + 'queue_highest_sent_timestamp_seconds'), 0);
  t.is(client.attempts, 0);
});

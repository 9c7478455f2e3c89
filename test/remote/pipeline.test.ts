import test from 'ava';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { rmrf, startPipeline, tmpDir } from '../helpers/agent-parts.ts';
import type { Teardown } from '../helpers/procs.ts';

const T0 = 1_700_000_000_000;

function rwYaml(url: string, extra = ''): string {
  return `global:\n  external_labels:\n    site: edge1\nremote_write:\n  - url: ${url}\n    name: central\n    queue_config:\n      batch_send_deadline: 50ms\n      min_backoff: 10ms\n      max_backoff: 50ms\n${extra}`;
}

/** A receiver and a pipeline on a fresh data dir sending to it; both removed at teardown (the pipeline is the test's to stop). */
async function receiverAndPipeline(t: Teardown, opts?: Parameters<typeof startPipeline>[2]) {
  const rx = await RwReceiver.start();
  const dir = await tmpDir();
  t.teardown(async () => {
    await rx.close();
    await rmrf(dir);
  });
  const p = await startPipeline(dir, rwYaml(rx.url), opts);
  return { rx, dir, p };
}

test('samples committed to the WAL reach the receiver with external labels, in order', async (t) => {
  const { rx, p } = await receiverAndPipeline(t);
  for (let i = 0; i < 20; i++) await p.append(T0 + i * 1000, { a: i, b: i * 2 });
  await rx.waitFor((r) => r.series('a').length === 20 && r.series('b').length === 20, 10_000);
  const a = rx.series('a');
  t.deepEqual(
    a.map((s) => s.value),
    [...Array(20).keys()],
  );
  t.deepEqual(
    a.map((s) => s.timestamp),
    [...Array(20).keys()].map((i) => T0 + i * 1000),
  );
  t.deepEqual(a[0].labels, { __name__: 'a', job: 'test', site: 'edge1' });
  await p.stop();
});

test('a stale marker travels through the WAL with its exact bits', async (t) => {
  const { rx, p } = await receiverAndPipeline(t);
  const app = p.storage.appender();
  const ref = app.ref(['__name__', 'gone', 'job', 'test']);
  app.append(ref, T0, 1);
  app.appendStale(ref, T0 + 1000);
  await app.commit();
  await rx.waitFor((r) => r.series('gone').length === 2, 10_000);
  const s = rx.series('gone');
  t.false(s[0].stale);
  t.true(s[1].stale);
  await p.stop();
});

test('restart during an outage: everything appended before the restart arrives exactly once afterwards', async (t) => {
  // Phase 1: receiver healthy for the first 10 samples.
  const rig = await receiverAndPipeline(t, { flushDeadlineMs: 200 });
  const { rx, dir } = rig;
  let { p } = rig;
  for (let i = 0; i < 10; i++) await p.append(T0 + i * 1000, { c: i });
  await rx.waitFor((r) => r.series('c').length === 10, 10_000);
  // Phase 2: outage; more samples pile up in the WAL; the agent restarts during the outage.
  rx.setDefault({ status: 503 });
  for (let i = 10; i < 30; i++) await p.append(T0 + i * 1000, { c: i });
  await new Promise((r) => setTimeout(r, 200));
  await p.stop();
  p = await startPipeline(dir, rwYaml(rx.url), { flushDeadlineMs: 200 });
  for (let i = 30; i < 40; i++) await p.append(T0 + i * 1000, { c: i });
  // Phase 3: the receiver recovers.
  rx.setDefault({ status: 204 });
  await rx.waitFor((r) => r.series('c').length >= 40, 15_000);
  await new Promise((r) => setTimeout(r, 300));
  const got = rx.series('c').map((s) => s.value);
  t.deepEqual(got, [...Array(40).keys()], 'each sample exactly once, in order');
  await p.stop();
});

test('a 400 drops the batch and moves on; a 500 is retried', async (t) => {
  const { rx, p } = await receiverAndPipeline(t);
  rx.plan({ status: 400 });
  await p.append(T0, { d: 1 });
  await new Promise((r) => setTimeout(r, 300));
  rx.plan({ status: 500 });
  await p.append(T0 + 1000, { d: 2 });
  await rx.waitFor((r) => r.series('d').length === 1, 10_000);
  t.deepEqual(
    rx.series('d').map((s) => s.value),
    [2],
  );
  const metrics = await p.registry.metrics();
  t.regex(metrics, /prometheus_remote_storage_samples_failed_total\{remote_name="central",url="[^"]+"\} 1/);
  t.regex(metrics, /prometheus_remote_storage_samples_retried_total\{remote_name="central",url="[^"]+"\} 1/);
  await p.stop();
});

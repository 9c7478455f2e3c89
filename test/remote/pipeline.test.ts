import test from 'ava';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { rmrf, startPipeline, tmpDir } from '../helpers/agent-parts.ts';
import type { Teardown } from '../helpers/procs.ts';
import { at } from '../helpers/defined.ts';
import { sleep, systemClock } from '../../src/util/clock.ts';

const T0 = 1_700_000_000_000;

function rwYaml(url: string, extra = ''): string {
  return `global:\n  external_labels:\n    site: edge1\nremote_write:\n  - url: ${url}\n    name: central\n    queue_config:\n      batch_send_deadline: 50ms\n      min_backoff: 10ms\n      max_backoff: 50ms\n${extra}`;
}

/** A receiver and a pipeline on a fresh data dir sending to it; both removed at teardown (the pipeline is the test's to stop). */
async function receiverAndPipeline(t: Teardown, opts?: Parameters<typeof startPipeline>[2], extraYaml = '') {
  const rx = await RwReceiver.start();
  const dir = await tmpDir();
  t.teardown(async () => {
    await rx.close();
    await rmrf(dir);
  });
  const p = await startPipeline(dir, rwYaml(rx.url, extraYaml), opts);
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
  t.deepEqual(at(a, 0, 'a').labels, { __name__: 'a', job: 'test', site: 'edge1' });
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
  t.false(at(s, 0, 's').stale);
  t.true(at(s, 1, 's').stale);
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

test('while it keeps up, the watcher takes the records from the in-memory tail instead of reading them back', async (t) => {
  const { rx, p } = await receiverAndPipeline(t);
  const tail = p.storage.tail;
  if (!tail) return t.fail('the pipeline has no tail');
  for (let i = 0; i < 30; i++) {
    await p.append(T0 + i * 1000, { m: i });
    await rx.waitFor((r) => r.series('m').length === i + 1, 10_000);
  }
  t.deepEqual(
    rx.series('m').map((s) => s.value),
    [...Array(30).keys()],
  );
  // One series record and 30 samples records; the first ones may come from disk before the first flush.
  t.true(tail.served >= 25, `served ${tail.served} records from memory`);
  // What the watcher read is dropped as the next record comes, not kept up to the byte budget.
  await p.append(T0 + 30_000, { m: 30 });
  t.true(tail.held <= 2, `${tail.held} records still held`);
  await p.stop();
});

test('a tail too small to keep up with an outage: the watcher reads the file, then memory again; each sample once, in order', async (t) => {
  // A queue of two samples: the watcher has to stop reading while the receiver refuses.
  const small = '      capacity: 2\n      max_samples_per_send: 2\n      min_shards: 1\n      max_shards: 1\n';
  const { rx, p } = await receiverAndPipeline(t, { tailBytes: 256, flushDeadlineMs: 200 }, small);
  for (let i = 0; i < 5; i++) await p.append(T0 + i * 1000, { n: i, o: 1000 + i });
  await rx.waitFor((r) => r.series('n').length === 5, 10_000);
  rx.setDefault({ status: 503 });
  // Far more than 256 bytes of records pile up while the receiver refuses them.
  for (let i = 5; i < 60; i++) await p.append(T0 + i * 1000, { n: i, o: 1000 + i });
  await new Promise((r) => setTimeout(r, 100));
  rx.setDefault({ status: 204 });
  await rx.waitFor((r) => r.series('n').length >= 60 && r.series('o').length >= 60, 15_000);
  const served = p.storage.tail?.served ?? 0;
  // 2 series records and 60 samples records so far: most of them had to come from the file.
  t.true(served < 40, `only ${served} of 62 records from memory`);
  for (let i = 60; i < 70; i++) await p.append(T0 + i * 1000, { n: i, o: 1000 + i });
  await rx.waitFor((r) => r.series('n').length >= 70 && r.series('o').length >= 70, 10_000);
  t.deepEqual(
    rx.series('n').map((s) => s.value),
    [...Array(70).keys()],
  );
  t.deepEqual(
    rx.series('o').map((s) => s.value),
    [...Array(70).keys()].map((i) => 1000 + i),
  );
  t.true((p.storage.tail?.served ?? 0) > served, 'back in step, it reads from memory again');
  await p.stop();
});

test('without a tail (tailBytes 0) every record is read back from the segment files', async (t) => {
  const { rx, p } = await receiverAndPipeline(t, { tailBytes: 0 });
  t.is(p.storage.tail, null);
  for (let i = 0; i < 10; i++) await p.append(T0 + i * 1000, { q: i });
  await rx.waitFor((r) => r.series('q').length === 10, 10_000);
  t.deepEqual(
    rx.series('q').map((s) => s.value),
    [...Array(10).keys()],
  );
  await p.stop();
});

test('series the table forgets while the endpoint is down still arrive with their own labels', async (t) => {
  // No external labels: the queue reads these series' labels from the agent's series table.
  const rx = await RwReceiver.start();
  const dir = await tmpDir();
  t.teardown(async () => {
    await rx.close();
    await rmrf(dir);
  });
  rx.setDefault({ status: 503 });
  const yaml = `remote_write:\n  - url: ${rx.url}\n    name: central\n    queue_config:\n      batch_send_deadline: 20ms\n      min_backoff: 10ms\n      max_backoff: 20ms\n`;
  const p = await startPipeline(dir, yaml, { flushDeadlineMs: 200 });
  const N = 3000;
  const old: Record<string, number> = {};
  for (let i = 0; i < N; i++) old[`s${i}`] = i;
  for (let k = 0; k < 2; k++) await p.append(T0 + k * 1000, old);
  await rx.waitFor((r) => r.attempts.length > 0, 10_000);
  // Every series goes; the removed keys are over half the table's arena, so it is compacted, and the
  // series that come next are written where the old ones were.
  t.is(p.storage.gcSeries(Number.POSITIVE_INFINITY).length, N);
  const fresh: Record<string, number> = {};
  for (let i = 0; i < N; i++) fresh[`n${i}`] = i;
  await p.append(T0 + 5000, fresh);
  rx.setDefault({ status: 204 });
  await rx.waitFor((r) => r.samples().length === 3 * N, 15_000);
  const got = rx.samples();
  t.is(got.filter((s) => s.labels.__name__?.startsWith('s')).length, 2 * N);
  for (const s of got) {
    const name = s.labels.__name__ ?? '';
    t.deepEqual(s.labels, { __name__: name, job: 'test' });
    t.is(s.value, Number(name.slice(1)), name);
  }
  // Acknowledged past the removal: the queue forgot the removed series and keeps only the fresh ones.
  const cache = p.remote.queue('central')?.series;
  const deadline = Date.now() + 10_000;
  while (cache !== undefined && cache.liveCount !== N && Date.now() < deadline) await sleep(systemClock, 20);
  t.is(cache?.liveCount, N);
  await p.stop();
});

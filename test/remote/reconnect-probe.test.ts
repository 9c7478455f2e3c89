import test from 'ava';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { rmrf, startPipeline, tmpDir } from '../helpers/agent-parts.ts';
import { freePort } from '../helpers/procs.ts';

const T0 = 1_700_000_000_000;

function yaml(port: number): string {
  // A long backoff: without the probe the first retry would come 4 s or more after the failure.
  return `remote_write:\n  - url: http://127.0.0.1:${port}/api/v1/write\n    queue_config:\n      batch_send_deadline: 20ms\n      min_backoff: 4s\n      max_backoff: 8s\n`;
}

async function failedOnce(p: Awaited<ReturnType<typeof startPipeline>>): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const page = await p.registry.metrics();
    if (/prometheus_remote_storage_samples_total\{[^}]*\} [1-9]/.test(page)) return;
  }
  throw new Error('no send attempt was made');
}

test('connection refused: the backlog goes out as soon as the receiver listens again, not after the backoff', async (t) => {
  const port = await freePort();
  const dir = await tmpDir();
  const p = await startPipeline(dir, yaml(port));
  let rx: RwReceiver | null = null;
  t.teardown(async () => {
    await p.stop();
    await rx?.close();
    await rmrf(dir);
  });
  for (let i = 0; i < 5; i++) await p.append(T0 + i * 1000, { a: i });
  await failedOnce(p);
  const back = Date.now();
  rx = await RwReceiver.start({ port });
  await rx.waitFor((r) => r.series('a').length === 5, 10_000);
  const took = Date.now() - back;
  t.true(took < 2500, `delivered ${took} ms after the receiver came back (backoff was 4 s)`);
  t.deepEqual(
    rx.series('a').map((s) => s.value),
    [0, 1, 2, 3, 4],
  );
});

test('a receiver that answers 503 is not probed: the retry waits for the backoff', async (t) => {
  const rx = await RwReceiver.start();
  const port = Number(new URL(rx.url).port);
  rx.setDefault({ status: 503 });
  const dir = await tmpDir();
  const p = await startPipeline(dir, yaml(port));
  t.teardown(async () => {
    await p.stop();
    await rx.close();
    await rmrf(dir);
  });
  await p.append(T0, { a: 1 });
  await rx.waitFor((r) => r.attempts.length >= 1, 10_000);
  const failedAt = Date.now();
  rx.setDefault({ status: 204 });
  await rx.waitFor((r) => r.series('a').length === 1, 15_000);
  t.true(Date.now() - failedAt >= 3000, 'the listening receiver was not retried before the backoff ended');
  t.is(rx.attempts.length, 2);
});

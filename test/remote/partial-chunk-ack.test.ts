import test from 'ava';
import type { SendResult, WriteClient } from '../../src/remote/client.ts';
import { labelsFromRecord } from '../../src/util/labels.ts';
import { at } from '../helpers/defined.ts';
import { sharedTableQueue } from '../helpers/shared-queue.ts';
import { runFor } from '../helpers/virtual-time.ts';

const T0 = 1_700_000_000_000;

class OkClient implements WriteClient {
  samples = 0;
  async send(): Promise<SendResult> {
    this.samples += 10;
    return { kind: 'ok', written: { samples: 10, histograms: 0, exemplars: 0 } };
  }
  close(): void {}
}

// One WAL record (one chunk) of 30 samples, a shard that holds 20 (capacity 10 + one batch of 10): the watcher
// parks on the full shard after 20 samples, as it does with any backlog. The queue then stops (agent shutdown).
// The shard flushes the 20 it holds, every shard is empty, and advanceAck() acknowledges the chunk's end position
// although 10 of its samples were never enqueued: progress.save() persists it (remote-storage.ts onAcked), so
// after a restart the watcher skips the record and those samples are never sent; SeriesCache.acknowledged()
// also forgets removed series up to that position.
test('a chunk the watcher has only partly enqueued is not acknowledged when the shards run empty', async (t) => {
  const client = new OkClient();
  const yaml =
    'remote_write:\n  - url: http://127.0.0.1:1/w\n    queue_config:\n      capacity: 10\n' +
    '      max_samples_per_send: 10\n      min_shards: 1\n      max_shards: 1\n      batch_send_deadline: 10ms\n';
  const { table, clock, q, acked } = sharedTableQueue(yaml, client, T0);
  const refs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const l = labelsFromRecord({ __name__: 'm', i: String(i) });
    const ref = table.getOrCreate(l).ref;
    q.storeSeries(ref, l);
    refs.push(ref);
  }
  const chunk = q.beginChunk({ segment: 7, offset: 5000 });
  let enqueued = 0;
  while (enqueued < refs.length && q.enqueue(at(refs, enqueued, 'refs'), T0, 1, false, chunk)) enqueued++;
  t.is(enqueued, 20, 'the shard is full after 20 samples; the watcher parks (pushWaiting)');
  // The watcher is parked in waitForSpace(); it never calls endChunk() for this chunk.
  const stopped = q.stop(1000);
  await runFor(clock, 200);
  await stopped;
  t.is(client.samples, 20);
  t.deepEqual(acked, [], `acknowledged ${JSON.stringify(acked)} with 10 samples of the chunk never enqueued`);
});

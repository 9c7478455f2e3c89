import test from 'ava';
import { Registry } from 'prom-client';
import type { AgentStorage } from '../../src/agent/storage.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { labelsFromRecord } from '../../src/util/labels.ts';
import type { WalMark } from '../../src/storage/shared-labels.ts';
import { openStorage, rmrf, tmpDir } from '../helpers/agent-parts.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { metricsServer, newLoop } from '../helpers/scrape-loop.ts';

const T0 = 1_700_000_000_000;

/** Storage on `dir` (a fresh one removed at teardown if none is given), closed at teardown. */
async function open(t: { teardown(fn: () => Promise<void>): void }, dir?: string): Promise<AgentStorage> {
  const d = dir ?? (await tmpDir('outpost-removal-'));
  const wal = { segmentSize: 32768 * 4, compress: true };
  const { storage } = await openStorage(d, wal, memoryLogger('error'), new Registry());
  t.teardown(async () => {
    await storage.close();
    if (dir === undefined) await rmrf(d);
  });
  return storage;
}

test('removal listeners see a WAL position at or after every record of the removed series', async (t) => {
  const storage = await open(t);
  t.deepEqual(storage.series.removedBefore(), storage.head(), 'after replay: the head the writer opened at');
  const app = storage.appender();
  const refs = ['a', 'b', 'c'].map((n) => app.ref(labelsFromRecord({ __name__: n })));
  for (const ref of refs) app.append(ref, T0, 1);
  await app.commit();
  const head = storage.head();
  t.true(head.offset > 0);
  const seen: { ref: number; before: WalMark }[] = [];
  storage.series.onRemove((ref) => seen.push({ ref, before: storage.series.removedBefore() }));
  t.deepEqual(storage.gcSeries(T0 + 1), refs);
  t.deepEqual(
    seen,
    refs.map((ref) => ({ ref, before: head })),
  );
});

test('after a restart, refs replay left out count as removed before the new head', async (t) => {
  const dir = await tmpDir('outpost-removal-');
  t.teardown(() => rmrf(dir));
  const first = await open(t, dir);
  const app = first.appender();
  const ref = app.ref(labelsFromRecord({ __name__: 'x' }));
  app.append(ref, T0, 1);
  await app.commit();
  const before = first.head();
  await first.close();
  const again = await open(t, dir);
  t.true(again.series.has(ref));
  const mark = again.series.removedBefore();
  t.deepEqual(mark, again.head());
  t.true(mark.segment > before.segment, 'a new segment, past everything replayed');
  t.is(again.series.nextRef, ref + 1);
});

test('a scrape loop drops refs the series GC removed while its target was down and creates the series anew', async (t) => {
  const storage = await open(t);
  const srv = await metricsServer(t);
  const clock = new FakeClock(T0);
  const loop = newLoop(srv.url, { appender: storage.appender(), clock });
  srv.set(200, 'm{k="v"} 1\n');
  await loop.scrape(T0);
  const m = labelsFromRecord({ __name__: 'm', instance: 'host:1', job: 'job1', k: 'v' });
  const up = labelsFromRecord({ __name__: 'up', instance: 'host:1', job: 'job1' });
  const oldM = storage.series.lookup(m);
  const oldUp = storage.series.lookup(up);
  t.true(oldM > 0 && oldUp > 0);
  // Down: stale markers for m, then nothing more for it; the GC removes everything it saw.
  srv.set(500, '');
  await loop.scrape(T0 + 1000);
  const removed = storage.gcSeries(Number.POSITIVE_INFINITY);
  t.true(removed.includes(oldM) && removed.includes(oldUp));
  const lastOfOld = storage.series.lastTs[oldM];
  srv.set(200, 'm{k="v"} 2\n');
  await loop.scrape(T0 + 2000);
  const newM = storage.series.lookup(m);
  const newUp = storage.series.lookup(up);
  t.true(newM > oldM, 'm is a new series');
  t.true(newUp > oldUp, 'so is the report series up');
  t.is(storage.series.lastTs[newM], T0 + 2000);
  t.is(storage.series.lastTs[newUp], T0 + 2000);
  t.is(storage.series.lastTs[oldM], lastOfOld, 'nothing appended under the removed ref');
  t.is(storage.series.size, 6, 'm and the five report series, all live');
  await loop.stop({ stale: true });
});

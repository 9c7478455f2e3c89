import test, { type ExecutionContext } from 'ava';
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

const m = labelsFromRecord({ __name__: 'm', instance: 'host:1', job: 'job1', k: 'v' });
const up = labelsFromRecord({ __name__: 'up', instance: 'host:1', job: 'job1' });

/** A storage and a loop whose target exposes m{k="v"}, scraped once at T0. */
async function scrapedOnce(t: ExecutionContext) {
  const storage = await open(t);
  const srv = await metricsServer(t);
  const clock = new FakeClock(T0);
  const loop = newLoop(srv.url, { appender: storage.appender(), clock });
  srv.set(200, 'm{k="v"} 1\n');
  await loop.scrape(T0);
  return { storage, srv, clock, loop };
}

test('the series GC keeps what a scrape loop holds while its target is down, and takes it once the loop stops', async (t) => {
  const { storage, srv, clock, loop } = await scrapedOnce(t);
  const refM = storage.series.lookup(m);
  const refUp = storage.series.lookup(up);
  t.true(refM > 0 && refUp > 0);
  // Down: stale markers for m, then nothing more for it, for longer than the GC's cut-off.
  srv.set(500, '');
  await loop.scrape(T0 + 1000);
  t.deepEqual(storage.gcSeries(Number.POSITIVE_INFINITY), [], 'every series is pinned by the loop');
  srv.set(200, 'm{k="v"} 2\n');
  await loop.scrape(T0 + 2000);
  t.is(storage.series.lookup(m), refM, 'back under the ref the WAL has a series record of');
  t.is(storage.series.lastTs[refM], T0 + 2000);
  t.is(storage.series.lastTs[refUp], T0 + 2000);
  t.is(storage.series.size, 6, 'm and the five report series');
  clock.advance(1000);
  await loop.stop({ stale: true });
  // Unpinned: the next GC run past their stale markers removes all six.
  const removed = storage.gcSeries(Number.POSITIVE_INFINITY);
  t.is(removed.length, 6);
  t.true(removed.includes(refM) && removed.includes(refUp));
});

// A target scraped less often than the GC's cut-off (scrape_interval > the WAL's min time): Prometheus' agent
// appender re-creates a series it no longer holds from the labels the scrape cache passes, so the stale marker of
// a series that vanished still reaches the WAL. Here the series stays pinned, with the same outcome.
test('a series a long scrape interval leaves without samples past a GC run still gets its stale marker', async (t) => {
  const { storage, srv, loop } = await scrapedOnce(t);
  const ref = storage.series.lookup(m);
  t.true(ref > 0);
  storage.gcSeries(T0 + 1);
  t.is(storage.series.lookup(m), ref, 'kept by the GC: the scrape cache holds it');
  srv.set(200, 'other 1\n');
  await loop.scrape(T0 + 600_000);
  t.is(storage.series.lastTs[ref], T0 + 600_000, 'the stale marker went to m');
  // m is gone from the cache: unpinned, so the GC takes it now.
  t.true(storage.gcSeries(T0 + 600_001).includes(ref));
  await loop.stop({ stale: false });
});

test('stopping a target after a GC run still marks up and its series stale', async (t) => {
  const { storage, clock, loop } = await scrapedOnce(t);
  t.deepEqual(storage.gcSeries(T0 + 1), []);
  clock.advance(60_000);
  await loop.stop({ stale: true });
  const upRef = storage.series.lookup(up);
  const mRef = storage.series.lookup(m);
  t.true(upRef > 0 && mRef > 0);
  t.is(storage.series.lastTs[upRef], T0 + 60_000, 'up got its stale marker');
  t.is(storage.series.lastTs[mRef], T0 + 60_000, 'm got its stale marker');
});

test('two loops holding the same series: it stays pinned until both let go', async (t) => {
  const storage = await open(t);
  const srv = await metricsServer(t);
  const a = newLoop(srv.url, { appender: storage.appender(), clock: new FakeClock(T0) });
  const b = newLoop(srv.url, { appender: storage.appender(), clock: new FakeClock(T0) });
  srv.set(200, 'm{k="v"} 1\n');
  await a.scrape(T0);
  await b.scrape(T0 + 1);
  const ref = storage.series.lookup(m);
  await a.stop({ stale: false });
  t.false(storage.gcSeries(Number.POSITIVE_INFINITY).includes(ref), 'b still holds m');
  await b.stop({ stale: false });
  t.true(storage.gcSeries(Number.POSITIVE_INFINITY).includes(ref));
});

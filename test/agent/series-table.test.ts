import test from 'ava';
import { SeriesTable } from '../../src/agent/series-table.ts';
import { encodeLabelsBlock } from '../../src/remote/encoder.ts';
import { at } from '../helpers/defined.ts';

const ls = (i: number): string[] => ['__name__', `m_${i % 13}`, 'instance', `host-${i}:9100`, 'job', 'node'];

test('label sets round-trip, including Unicode, empty values and the empty set', (t) => {
  const s = new SeriesTable();
  const sets: string[][] = [
    [],
    ['__name__', 'up'],
    ['a', ''],
    ['__name__', 'größe_ÿ', 'emoji', '📦', 'sep', '\u00ff\u00ff'],
    ['a', 'b', 'c', 'x'.repeat(5000)],
  ];
  const refs = sets.map((l) => s.getOrCreate(l));
  t.true(refs.every((r) => r.created));
  t.is(new Set(refs.map((r) => r.ref)).size, sets.length);
  sets.forEach((l, i) => {
    t.deepEqual(s.labels(at(refs, i, 'refs').ref), l);
    t.is(s.lookup(l), at(refs, i, 'refs').ref);
    t.deepEqual(s.getOrCreate(l), { ref: at(refs, i, 'refs').ref, created: false });
  });
  // A name/value boundary in another place is another series.
  t.is(s.lookup(['a', 'bc', 'x'.repeat(5000)]), 0);
  t.is(s.lookup(['__name__', 'up', 'a', '']), 0);
  t.is(s.size, sets.length);
});

test('100k series: lookups, gc of the stale half with compaction, and new refs after it', (t) => {
  const s = new SeriesTable();
  const N = 100_000;
  for (let i = 0; i < N; i++) t.is(s.getOrCreate(ls(i)).ref, i + 1, 'refs are handed out in order');
  for (let i = 0; i < N; i++) s.lastTs[i + 1] = i % 2 === 0 ? 2000 : 1000;
  const removed = s.gc(1500);
  t.is(removed.length, N / 2);
  t.true(
    removed.every((r) => r % 2 === 0),
    'odd i (even ref) had the old timestamp',
  );
  t.is(s.size, N / 2);
  for (let i = 0; i < 2000; i++) {
    const ref = s.lookup(ls(i));
    if (i % 2 === 0) {
      t.is(ref, i + 1);
      t.deepEqual(s.labels(ref), ls(i));
    } else {
      t.is(ref, 0);
      t.false(s.has(i + 1));
      t.is(s.labels(i + 1), undefined);
    }
  }
  // A removed series comes back under a new ref.
  const again = s.getOrCreate(ls(1));
  t.deepEqual(again, { ref: N + 1, created: true });
  let visited = 0;
  s.forEach((ref, l) => {
    visited++;
    if (ref === N + 1) t.deepEqual(l, ls(1));
  });
  t.is(visited, N / 2 + 1);
});

test('replayed series keep their WAL refs, the first label set wins, and nextRef moves past them', (t) => {
  const s = new SeriesTable();
  t.is(s.insertReplayed(7, ls(1)), 7);
  t.is(s.insertReplayed(3, ls(2)), 3);
  t.is(s.insertReplayed(9, ls(1)), 7, 'a duplicate series record maps to the first ref');
  // The WAL holds ref 9 (for ls(1)): a new series must not get it, or the next replay would map its
  // samples to ls(1).
  t.is(s.nextRef, 10);
  t.is(s.lastTs[7], 0);
  t.deepEqual(s.getOrCreate(ls(3)), { ref: 10, created: true });
  t.is(s.lastTs[10], -Infinity);
  t.true(s.has(3) && s.has(7) && !s.has(9) && !s.has(0) && !s.has(1 << 30));
});

test('after most series are removed the survivors still read back and are found', (t) => {
  const s = new SeriesTable();
  for (let i = 0; i < 20_000; i++) s.getOrCreate(ls(i));
  for (let i = 0; i < 20_000; i++) s.lastTs[i + 1] = i % 10 === 0 ? 5 : 0;
  t.is(s.gc(1).length, 18_000);
  for (let i = 0; i < 20_000; i += 10) {
    t.is(s.lookup(ls(i)), i + 1);
    t.deepEqual(s.labels(i + 1), ls(i));
  }
  // Growth after compaction appends behind the survivors without overwriting them.
  for (let i = 20_000; i < 25_000; i++) s.getOrCreate(ls(i));
  t.deepEqual(s.labels(1), ls(0));
  t.deepEqual(s.labels(19_991), ls(19_990));
  t.is(s.size, 7000);
});

/** The bytes the table holds as ref's key. */
function block(s: SeriesTable, ref: number): Buffer {
  const off = s.blockOff(ref);
  return Buffer.from(s.blockArena().subarray(off, off + s.blockLen(ref)));
}

test('keys are the RW1 label blocks remote write sends, lengths of 128 bytes and more included', (t) => {
  const s = new SeriesTable();
  const sets: string[][] = [
    ['__name__', 'up', 'instance', 'localhost:9100', 'job', 'node'],
    // Field lengths on both sides of the one-byte varint limit, and Label messages that cross it
    // while each field stays under it.
    ['a', 'v'.repeat(127)],
    ['a', 'v'.repeat(128)],
    ['n'.repeat(128), 'v'],
    ['n'.repeat(60), 'v'.repeat(70), 'z', 'x'.repeat(16_384)],
    // Short strings are copied in a loop while ASCII: around its limit, and non-ASCII after an ASCII start.
    ['n'.repeat(63), 'v'.repeat(64), 'ascii_then_é', 'abcé', 'emoji', 'x📦'],
    // Two-byte UTF-8: 64 code units are 128 bytes.
    ['__name__', 'é'.repeat(64), 'city', 'Zürich', 'emoji', '📦🙂', 'cjk', '東京'.repeat(100)],
  ];
  const refs = sets.map((l) => s.getOrCreate(l).ref);
  sets.forEach((l, i) => {
    const ref = at(refs, i, 'refs');
    t.deepEqual(block(s, ref), encodeLabelsBlock(l), `set ${i}`);
    t.deepEqual(s.labels(ref), l);
    t.is(s.lookup(l), ref);
  });
  t.is(s.lookup(['a', 'v'.repeat(129)]), 0);
  t.is(s.lookup(['n'.repeat(128), 'w']), 0);
  t.is(s.blockLen(999), -1);
  t.is(s.blockLen(0), -1);
});

test('an empty name or value is still written in the key, so the key stays one-to-one', (t) => {
  const s = new SeriesTable();
  const withEmpty = s.getOrCreate(['__name__', 'm', 'a', '']).ref;
  const without = s.getOrCreate(['__name__', 'm']).ref;
  t.not(withEmpty, without);
  t.deepEqual(s.labels(withEmpty), ['__name__', 'm', 'a', '']);
  t.deepEqual(s.labels(without), ['__name__', 'm']);
  // Remote write omits the empty field, so these bytes differ from the request's: a queue copies them.
  t.notDeepEqual(block(s, withEmpty), encodeLabelsBlock(['__name__', 'm', 'a', '']));
});

test('onRemove listeners see each removed series and its bytes before the table forgets it', (t) => {
  const s = new SeriesTable();
  const N = 30_000;
  for (let i = 0; i < N; i++) s.getOrCreate(ls(i));
  for (let i = 0; i < N; i++) s.lastTs[i + 1] = i % 3 === 0 ? 10 : 0;
  const seen = new Map<number, Buffer>();
  const stop = s.onRemove((ref, arena, off, len) => {
    t.true(s.has(ref), 'still in the table');
    t.deepEqual(s.labels(ref), ls(ref - 1));
    seen.set(ref, Buffer.from(arena.subarray(off, off + len)));
  });
  const removed = s.gc(5);
  t.is(removed.length, 20_000);
  t.deepEqual([...seen.keys()], removed);
  for (const ref of removed) t.deepEqual(seen.get(ref), encodeLabelsBlock(ls(ref - 1)));
  // The gc compacted the arena (2/3 of it was garbage): survivors' blocks moved and still read right.
  for (let i = 0; i < N; i += 3) t.deepEqual(block(s, i + 1), encodeLabelsBlock(ls(i)));
  stop();
  for (let i = 0; i < N; i += 3) s.lastTs[i + 1] = 0;
  t.is(s.gc(5).length, N / 3);
  t.is(seen.size, 20_000, 'no calls after unsubscribing');
});

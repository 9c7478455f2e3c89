import test from 'ava';
import { DROPPED_REF, SeriesCache } from '../../src/scrape/series-cache.ts';
import { at } from '../helpers/defined.ts';

const key = (s: string) => Buffer.from(s, 'latin1');

test('finds what it stored by the raw bytes, across growth, sweeps and compaction', (t) => {
  const c = new SeriesCache();
  const N = 5000;
  for (let i = 0; i < N; i++) {
    const k = key(`metric_${i}{a="${i % 7}"}`);
    t.is(c.find(k, 0, k.length), -1);
    c.insert(k, 0, k.length, i + 1);
  }
  t.is(c.size, N);
  // Look up inside a larger buffer at an offset, as the scrape loop does.
  const body = Buffer.from(`xx metric_4321{a="2"} 1\n`, 'latin1');
  const e = c.find(body, 3, 3 + 'metric_4321{a="2"}'.length);
  t.is(c.ref(e), 4322);
  // Mark the even ones as seen in iteration 2, sweep the rest away.
  for (let i = 0; i < N; i += 2) {
    const k = key(`metric_${i}{a="${i % 7}"}`);
    c.markSeen(c.find(k, 0, k.length), 2, false);
  }
  c.sweep(2);
  t.is(c.size, N / 2);
  for (let i = 0; i < 20; i++) {
    const k = key(`metric_${i}{a="${i % 7}"}`);
    const f = c.find(k, 0, k.length);
    if (i % 2 === 0) t.is(c.ref(f), i + 1);
    else t.is(f, -1);
  }
  // A swept key can come back under a new ref.
  const k1 = key('metric_1{a="1"}');
  c.insert(k1, 0, k1.length, 99);
  t.is(c.ref(c.find(k1, 0, k1.length)), 99);
});

test("forEachSeenIn yields the previous scrape's appendable series only", (t) => {
  const c = new SeriesCache();
  const a = key('a');
  const b = key('b');
  const d = key('dropped');
  const x = key('explicit');
  c.markSeen(c.insert(a, 0, 1, 10), 1, false);
  c.markSeen(c.insert(b, 0, 1, 11), 2, false);
  c.markSeen(c.insert(d, 0, d.length, DROPPED_REF), 1, false);
  c.markSeen(c.insert(x, 0, x.length, 12), 1, true);
  const seen: number[] = [];
  c.forEachSeenIn(1, false, (r) => seen.push(r));
  t.deepEqual(seen, [10]);
  const tracked: number[] = [];
  c.forEachSeenIn(1, true, (r) => tracked.push(r));
  t.deepEqual(tracked, [10, 12]);
});

test('the expected-next shortcut never returns the wrong entry: same length, other bytes, reordering, dead entries', (t) => {
  const c = new SeriesCache();
  // Equal lengths everywhere, so only the byte comparison can tell entries apart.
  const names = ['m{a="1"}', 'm{a="2"}', 'm{a="3"}', 'm{a="4"}'];
  for (const [i, n] of names.entries()) c.insert(key(n), 0, n.length, i + 1);
  const look = (n: string) => {
    const e = c.find(key(n), 0, n.length);
    return e < 0 ? -1 : c.ref(e);
  };
  // In order: each lookup is the entry after the previous one.
  t.deepEqual(names.map(look), [1, 2, 3, 4]);
  // Reversed and shuffled exposition order still finds every series.
  t.deepEqual([...names].reverse().map(look), [4, 3, 2, 1]);
  t.deepEqual(
    [2, 0, 3, 1].map((i) => look(at(names, i, 'names'))),
    [3, 1, 4, 2],
  );
  // An unknown key of the same length as the expected entry is not mistaken for it.
  look(at(names, 0, 'names'));
  t.is(look('m{a="9"}'), -1);
  // A dead entry is skipped even when it is the expected one.
  for (const n of [0, 2, 3].map((i) => at(names, i, 'names'))) c.markSeen(c.find(key(n), 0, n.length), 7, false);
  c.sweep(7);
  look(at(names, 0, 'names'));
  t.is(look(at(names, 1, 'names')), -1);
  t.is(look(at(names, 2, 'names')), 3);
});

test('keys that differ only in a last byte outside the 4-byte words, or inside them, stay apart', (t) => {
  const c = new SeriesCache();
  const keys = ['m{a="1"}x', 'm{a="1"}y', 'xm{a="1"}', 'ym{a="1"}', 'abcd', 'abce', 'a', 'b', ''];
  for (const [i, k] of keys.entries()) c.insert(key(k), 0, k.length, i + 1);
  // Every key found in a body at an odd offset too, so no load is aligned.
  for (const [i, k] of keys.entries()) {
    const body = Buffer.from(`#${k}#`, 'latin1');
    t.is(c.ref(c.find(body, 1, 1 + k.length)), i + 1, k);
  }
  t.is(c.find(key('m{a="1"}z'), 0, 9), -1);
});

test('sweep hands back the refs of forgotten appendable series; forEachRef lists the ones still held', (t) => {
  const c = new SeriesCache();
  const N = 300;
  for (let i = 0; i < N; i++) {
    const k = key(`m_${i}`);
    const e = c.insert(k, 0, k.length, i % 10 === 0 ? DROPPED_REF : i);
    // Series 200 and up are seen again in iteration 2.
    c.markSeen(e, i >= 200 ? 2 : 1, false);
  }
  const released: number[] = [];
  // More than half of the entries die, so the cache compacts as well.
  c.sweep(2, (ref) => released.push(ref));
  const gone = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 10 !== 0);
  t.deepEqual(released, gone, 'each forgotten series once, entries dropped by relabeling are no refs');
  t.is(c.size, 100);
  const held: number[] = [];
  c.forEachRef((ref) => held.push(ref));
  t.deepEqual(
    held,
    Array.from({ length: 100 }, (_, i) => 200 + i).filter((i) => i % 10 !== 0),
  );
  for (let i = 0; i < N; i++) {
    const k = key(`m_${i}`);
    const e = c.find(k, 0, k.length);
    if (i < 200) t.is(e, -1, `m_${i}`);
    else t.is(c.ref(e), i % 10 === 0 ? DROPPED_REF : i, `m_${i}`);
  }
});

import test from 'ava';
import { readdir } from 'node:fs/promises';
import { LiveReader } from '../../src/wal/reader.ts';
import { WalWriter } from '../../src/wal/segment-writer.ts';
import { RecordTail } from '../../src/wal/tail.ts';
import { compressibleBytes, prng, randomBytes, segmentBytes, tmpDir } from './helpers.ts';

const PAGE = 32768;

interface OnDisk {
  segment: number;
  end: number;
  record: Buffer;
}

/** Every record of every segment with the position a LiveReader reports after it. */
async function readBack(dir: string): Promise<OnDisk[]> {
  const out: OnDisk[] = [];
  const segs = (await readdir(dir))
    .filter((n) => /^\d{8}$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
  for (const seg of segs) {
    const r = new LiveReader(seg, 0);
    r.feed(await segmentBytes(dir, seg));
    r.finish();
    for (let rec = r.next(); rec !== null; rec = r.next())
      out.push({ segment: seg, end: r.position, record: Buffer.from(rec) });
  }
  return out;
}

/** Follows the tail from (segment, 0) as a watcher does, segment by segment. */
function walkTail(tail: RecordTail, segments: number[]): OnDisk[] {
  const out: OnDisk[] = [];
  for (const seg of segments) {
    let pos = 0;
    let n = tail.find(seg, 0);
    if (n < 0) continue;
    for (let e = tail.at(n, seg, pos); e !== null; e = tail.at(++n, seg, pos)) {
      out.push({ segment: seg, end: e.end, record: Buffer.from(e.record) });
      pos = e.end;
    }
  }
  return out;
}

for (const compress of [false, true]) {
  test(`the tail holds exactly the records and positions a reader finds on disk (compress=${compress})`, async (t) => {
    const dir = await tmpDir(t);
    const tail = new RecordTail(64 << 20);
    const w = await WalWriter.open(dir, { compress, segmentSize: 3 * PAGE, tail });
    const r = prng(7);
    // Sizes around the page and header edges, and records spanning pages and segments.
    const sizes = [0, 1, 5, PAGE - 7 - 7, 6, PAGE, 3 * PAGE + 11, 17, PAGE - 14, 1, 2, 3];
    for (let i = 0; i < 60; i++) sizes.push(r() % 5 === 0 ? r() % (2 * PAGE) : r() % 300);
    for (let i = 0; i < sizes.length; i++) {
      const n = sizes[i] as number;
      w.append(i % 2 ? compressibleBytes(n, i + 1) : randomBytes(n, i + 1));
      if (i % 7 === 0) await w.flush();
    }
    await w.close();
    const disk = await readBack(dir);
    t.is(disk.length, sizes.length);
    t.true(new Set(disk.map((d) => d.segment)).size > 3, 'the records span several segments');
    const fromTail = walkTail(tail, [...new Set(disk.map((d) => d.segment))]);
    t.is(fromTail.length, disk.length);
    for (let i = 0; i < disk.length; i++) {
      const a = disk[i] as OnDisk;
      const b = fromTail[i] as OnDisk;
      t.deepEqual([b.segment, b.end], [a.segment, a.end], `record ${i}: position`);
      t.true(b.record.equals(a.record), `record ${i}: bytes`);
    }
    t.is(tail.served, disk.length);
  });
}

test('a record is found only once the bytes holding it were written', async (t) => {
  const dir = await tmpDir(t);
  const tail = new RecordTail();
  const w = await WalWriter.open(dir, { tail });
  w.append(Buffer.from('first'));
  t.is(tail.find(0, 0), -1, 'framed, not written');
  await w.flush();
  const n = tail.find(0, 0);
  t.not(n, -1);
  const e = tail.at(n, 0, 0);
  t.is(Buffer.from(e?.record ?? []).toString(), 'first');
  w.append(Buffer.from('second'));
  t.is(tail.at(n + 1, 0, e?.end ?? -1), null, 'the next one waits for its flush');
  await w.flush();
  t.is(Buffer.from(tail.at(n + 1, 0, e?.end ?? -1)?.record ?? []).toString(), 'second');
  t.is(tail.writtenSize(0), (await segmentBytes(dir, 0)).length);
  await w.close();
});

test('over its byte budget the tail forgets the oldest records; a reader there gets null and reads the file', (t) => {
  const tail = new RecordTail(100);
  for (let i = 0; i < 10; i++) tail.add(0, i * 40, (i + 1) * 40, new Uint8Array(30));
  tail.publish(0, 400);
  t.is(tail.find(0, 0), -1, 'the first records are gone');
  t.is(tail.find(0, 200), -1);
  const n = tail.find(0, 280);
  t.not(n, -1);
  t.is(tail.at(n, 0, 280)?.end, 320);
  t.is(tail.at(n + 1, 0, 320)?.end, 360);
  t.is(tail.at(n + 1, 0, 999), null, 'a position that does not chain is refused');
  // Numbers stay valid while more records come and old ones are compacted away.
  for (let i = 10; i < 3000; i++) tail.add(0, i * 40, (i + 1) * 40, new Uint8Array(30));
  tail.publish(0, 3000 * 40);
  t.is(tail.at(n + 2, 0, 360), null);
  const m = tail.find(0, 2998 * 40);
  t.is(tail.at(m, 0, 2998 * 40)?.end, 2999 * 40);
});

test('records framed before a failed write never become visible, even when a later writer publishes', (t) => {
  const tail = new RecordTail();
  tail.add(3, 0, 10, new Uint8Array(5));
  tail.add(3, 10, 20, new Uint8Array(5));
  tail.publish(3, 10);
  tail.add(3, 20, 30, new Uint8Array(5));
  tail.dropUnwritten();
  // The replacement writer starts a new segment: everything of segment 3 would count as written.
  tail.publish(4, 100);
  t.is(tail.at(tail.find(3, 0), 3, 0)?.end, 10);
  t.is(tail.find(3, 10), -1, 'the unwritten record is gone');
});

test('a record larger than the budget empties the tail rather than leaving a gap to read across', (t) => {
  const tail = new RecordTail(100);
  tail.add(0, 0, 10, new Uint8Array(5));
  tail.add(0, 10, 500, new Uint8Array(200));
  tail.add(0, 500, 510, new Uint8Array(5));
  tail.publish(0, 510);
  t.is(tail.find(0, 0), -1);
  const n = tail.find(0, 500);
  t.is(tail.at(n, 0, 500)?.end, 510);
});

test('a record every attached reader is past is dropped when the next one comes; one reader behind keeps it', (t) => {
  const tail = new RecordTail();
  const fast = tail.attach();
  const slow = tail.attach();
  for (let i = 0; i < 5; i++) tail.add(0, i * 10, (i + 1) * 10, new Uint8Array(5));
  tail.publish(0, 50);
  t.is(tail.held, 5);
  fast.segment = 0;
  fast.pos = 50;
  slow.segment = 0;
  slow.pos = 20;
  tail.add(0, 50, 60, new Uint8Array(5));
  t.is(tail.held, 4, 'the two records both readers are past are gone');
  t.is(tail.find(0, 0), -1);
  t.is(tail.at(tail.find(0, 20), 0, 20)?.end, 30, 'the slow reader still finds its next record');
  // A newer segment is past every record of the older one.
  slow.segment = 1;
  slow.pos = 0;
  fast.segment = 1;
  fast.pos = 0;
  tail.add(1, 0, 10, new Uint8Array(5));
  t.is(tail.held, 1);
  tail.detach(slow);
  tail.detach(fast);
  // Without readers only the budget drops records.
  for (let i = 1; i < 10; i++) tail.add(1, i * 10, (i + 1) * 10, new Uint8Array(5));
  t.is(tail.held, 10);
});

test('a reader that has read nothing yet keeps every record up to the budget', (t) => {
  const tail = new RecordTail(100);
  const r = tail.attach();
  for (let i = 0; i < 10; i++) tail.add(0, i * 10, (i + 1) * 10, new Uint8Array(5));
  t.is(tail.held, 10);
  t.deepEqual([r.segment, r.pos], [-1, 0]);
  for (let i = 10; i < 40; i++) tail.add(0, i * 10, (i + 1) * 10, new Uint8Array(5));
  t.is(tail.held, 20, 'the budget still caps it');
});

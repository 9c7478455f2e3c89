import test from 'ava';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { WalWriteError } from '../../src/wal/errors.ts';
import path from 'node:path';
import { SegmentRecordReader } from '../../src/wal/reader.ts';
import { WalWriter } from '../../src/wal/segment-writer.ts';
import { listSegments, segmentName } from '../../src/wal/segments.ts';
import {
  compressibleBytes,
  fragments,
  halfCompressibleBytes,
  randomBytes,
  readAll,
  refCrc32c,
  segmentBytes,
  tmpDir,
} from './helpers.ts';
import { at } from '../helpers/defined.ts';

const PAGE = 32768;
const SEG3 = 3 * PAGE; // 3 pages per segment keeps boundaries reachable in tests

test('known bytes: one small uncompressed record, flushed without padding, padded on close', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: false });
  t.is(w.segment, 0);
  const rec = Buffer.from('0102030405', 'hex');
  w.append(rec);
  await w.flush();
  const crc = refCrc32c(rec).toString(16).padStart(8, '0');
  t.is((await segmentBytes(dir, 0)).toString('hex'), `010005${crc}0102030405`);
  await w.close();
  const closed = await segmentBytes(dir, 0);
  t.is(closed.length, PAGE);
  t.true(closed.subarray(12).every((b) => b === 0));
});

test('zero-length record is one full fragment of length 0', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: true });
  w.append(new Uint8Array(0));
  await w.close();
  const b = await segmentBytes(dir, 0);
  t.is(b.subarray(0, 7).toString('hex'), '01000000000000');
  const { recs } = await readAll(dir);
  t.deepEqual(
    recs.map((r) => r.length),
    [0],
  );
});

test('page boundaries: fragments never cross a page; exact-fit, first/last split and <7-byte padding', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: false, segmentSize: 8 * PAGE });
  const sizes = [
    32761, // exactly one page
    32762, // first(32761) + last(1)
    PAGE - 8 - 7 - 12 - 5, // the next record then leaves 5 bytes: zero padding
    5,
    100_000, // first, middle, middle, last
    1,
  ];
  const recs = sizes.map((n, i) => randomBytes(n, i + 1));
  for (const r of recs) w.append(r);
  await w.close();
  const seg = await segmentBytes(dir, 0);
  t.is(seg.length % PAGE, 0);
  const frags = fragments(seg);
  for (const f of frags) {
    t.is(
      Math.floor(f.offset / PAGE),
      Math.floor((f.offset + 7 + f.len - 1) / PAGE),
      `fragment at ${f.offset} crosses a page`,
    );
  }
  t.deepEqual(
    frags.map((f) => [f.type, f.len]),
    [
      [1, 32761],
      [2, 32761],
      [4, 1],
      [1, PAGE - 8 - 7 - 12 - 5],
      [1, 5],
      // page 3 starts here: 32768*3 - the 5-byte tail was padded
      [2, 32761],
      [3, 32761],
      [3, 32761],
      [4, 100_000 - 3 * 32761],
      [1, 1],
    ],
  );
  t.is(at(frags, 5, 'frags').offset, 3 * PAGE, 'tail of 5 bytes was zero-padded');
  const got = await readAll(dir);
  t.deepEqual(got.recs, recs);
});

test('exactly 7 bytes left in a page: the next record starts with an empty first fragment', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: false });
  const recs = [randomBytes(PAGE - 14, 1), randomBytes(20, 2)];
  for (const r of recs) w.append(r);
  await w.close();
  t.deepEqual(
    fragments(await segmentBytes(dir, 0)).map((f) => [f.offset, f.type, f.len]),
    [
      [0, 1, PAGE - 14],
      [PAGE - 7, 2, 0],
      [PAGE, 4, 20],
    ],
  );
  t.deepEqual((await readAll(dir)).recs, recs);
});

test('segment boundaries: records never span segments; oversized record grows a fresh segment', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: false, segmentSize: SEG3 });
  const recs = [
    randomBytes(40_000, 1), // seg 0, pages 0-1
    randomBytes(60_000, 2), // 58276 bytes left in seg 0: does not fit -> seg 1
    randomBytes(200_000, 3), // larger than a whole segment -> seg 2, grows past 3 pages
    randomBytes(10, 4), // seg 3
  ];
  const sizes: [number, number][] = [];
  w.onFlush((s, n) => sizes.push([s, n]));
  for (const r of recs) w.append(r);
  t.is(w.segment, 3);
  await w.close();
  const range = await listSegments(dir);
  t.deepEqual(range, { first: 0, last: 3 });
  for (let i = 0; i <= 3; i++) {
    const b = await segmentBytes(dir, i);
    t.is(b.length % PAGE, 0, `segment ${i} is page aligned`);
    const kinds = fragments(b).map((f) => f.type);
    t.true(kinds[0] === 1 || kinds[0] === 2, `segment ${i} starts a record`);
    t.true(kinds.at(-1) === 1 || kinds.at(-1) === 4, `segment ${i} ends a record`);
  }
  t.is((await segmentBytes(dir, 0)).length, 2 * PAGE, 'rotation pads only the started page');
  t.true((await segmentBytes(dir, 2)).length > SEG3);
  const got = await readAll(dir);
  t.deepEqual(got.recs, recs);
  t.deepEqual(
    got.where.map((x) => x[0]),
    [0, 1, 2, 3],
  );
  t.deepEqual(
    sizes.filter(([, n]) => n === 0).map(([s]) => s),
    [1, 2, 3],
    'new segment files announced',
  );
});

test('compressed and uncompressed records mix; flag set only when snappy shrinks the record', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir);
  const recs = [
    compressibleBytes(50_000, 1), // shrinks to one fragment
    randomBytes(3_000, 2), // incompressible: stored raw
    Buffer.from([2]), // tiny: snappy would grow it
    halfCompressibleBytes(200_000, 3), // compressed, still spans several pages
    randomBytes(40_000, 4), // raw, two fragments
  ];
  for (const r of recs) w.append(r);
  await w.close();
  const types = fragments(await segmentBytes(dir, 0)).map((f) => f.type);
  t.deepEqual(types, [0x09, 0x01, 0x01, 0x0a, 0x0b, 0x0b, 0x0c, 0x02, 0x04]);
  t.true(w.stats.bytesSaved > 45_000 + 80_000, String(w.stats.bytesSaved));
  const got = await readAll(dir);
  t.deepEqual(got.recs, recs);
});

// --storage.agent.wal-compression-type=zstd (Prometheus v3.14.0 cmd/prometheus/main.go 560): tsdb/wlog/wlog.go
// 684-701 keeps the compressed form only when it is smaller, and 740-746 flags zstd records 0x10 (line 613).
test('zstd: records that shrink carry flag 0x10, the others are stored raw; the reader gets them all back', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compression: 'zstd' });
  const recs = [compressibleBytes(50_000, 1), randomBytes(3_000, 2), Buffer.from([2])];
  for (const r of recs) w.append(r);
  await w.close();
  t.deepEqual(
    fragments(await segmentBytes(dir, 0)).map((f) => f.type),
    [0x11, 0x01, 0x01],
  );
  t.true(w.stats.bytesSaved > 45_000, String(w.stats.bytesSaved));
  t.deepEqual((await readAll(dir)).recs, recs);
});

test('new writer starts at last+1 and never reuses a segment', async (t) => {
  const dir = await tmpDir(t);
  for (const i of [0, 1, 2]) await writeFile(path.join(dir, segmentName(i)), '');
  await writeFile(path.join(dir, 'not-a-segment'), 'x');
  const w = await WalWriter.open(dir);
  t.is(w.segment, 3);
  await w.close();
  const w2 = await WalWriter.open(dir);
  t.is(w2.segment, 4);
  await w2.close();
  t.true((await readdir(dir)).includes('00000004'));
});

test('flush writes partial pages; later records continue the same page; onFlush reports sizes', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: false });
  const seen: [number, number][] = [];
  const off = w.onFlush((s, n) => seen.push([s, n]));
  w.append(randomBytes(100, 1));
  await w.flush();
  t.is((await stat(path.join(dir, segmentName(0)))).size, 107);
  t.is(w.offset, 107);
  w.append(randomBytes(50, 2));
  w.append(randomBytes(50, 3));
  const p1 = w.flush();
  w.append(randomBytes(10, 4));
  const p2 = w.flush();
  await Promise.all([p1, p2]);
  t.is((await stat(path.join(dir, segmentName(0)))).size, 107 + 57 + 57 + 17);
  // Group commit: flushes made before the next write starts share it (one write, one report).
  t.is(p1, p2);
  t.deepEqual(seen, [
    [0, 107],
    [0, 238],
  ]);
  off();
  w.append(randomBytes(1, 5));
  await w.flush();
  t.is(seen.length, 2, 'unsubscribed');
  const next = await w.nextSegment();
  t.is(next, 1);
  t.is((await stat(path.join(dir, segmentName(0)))).size, PAGE);
  t.is((await stat(path.join(dir, segmentName(1)))).size, 0);
  await w.close();
  t.throws(() => w.append(new Uint8Array(1)), { message: /closed/ });
});

test('rejects segment sizes that are not page multiples', async (t) => {
  const dir = await tmpDir(t);
  await t.throwsAsync(WalWriter.open(dir, { segmentSize: PAGE + 1 }), { message: /multiple of 32768/ });
});

test('whole-segment reader agrees with the writer on offsets', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: false });
  const recs = [randomBytes(10, 1), randomBytes(40_000, 2), randomBytes(20, 3)];
  for (const r of recs) w.append(r);
  await w.close();
  const r = new SegmentRecordReader(await segmentBytes(dir, 0), 0);
  const offsets: number[] = [];
  const positions: number[] = [];
  for (let rec = r.next(); rec; rec = r.next()) {
    offsets.push(r.offset);
    positions.push(r.position);
  }
  t.deepEqual(offsets, [0, 17, 17 + 40_000 + 14]);
  t.deepEqual(positions, [17, 17 + 40_000 + 14, 17 + 40_000 + 14 + 27]);
});

test('a failed write or rotation is sticky: flush rejects, append throws, close reports it', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir);
  w.append(randomBytes(10, 1));
  await w.flush();
  // Something else created the next segment: rotation cannot create its file.
  await mkdir(path.join(dir, segmentName(1)));
  const err = await t.throwsAsync(w.nextSegment(), { instanceOf: WalWriteError, message: /cannot create WAL segment/ });
  t.throws(() => w.append(new Uint8Array(1)), { is: err });
  await t.throwsAsync(w.flush(), { is: err });
  await t.throwsAsync(w.close(), { is: err });
  t.is(w.stats.writesFailed, 1);
  // What was flushed before the failure is intact and padded.
  await rm(path.join(dir, segmentName(1)), { recursive: true });
  t.is((await readAll(dir)).recs.length, 1);
  t.is((await stat(path.join(dir, segmentName(0)))).size, PAGE);
});

test('group commit: flushes while a write runs share the next write, and each resolves only once its data is written', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: false });
  const sizes: number[] = [];
  w.onFlush((_s, n) => sizes.push(n));
  const flushes: Promise<void>[] = [];
  for (let i = 0; i < 1000; i++) {
    w.append(randomBytes(10, i));
    flushes.push(w.flush());
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(flushes);
  t.is((await stat(path.join(dir, segmentName(0)))).size, 1000 * 17);
  t.true(sizes.length < 50, `${sizes.length} writes for 1000 flushes`);
  await w.close();
});

import test from 'ava';
import { mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CorruptionError, InvalidRecordError } from '../../src/wal/errors.ts';
import { LiveReader, SegmentRecordReader, replayWal } from '../../src/wal/reader.ts';
import { WalWriter } from '../../src/wal/segment-writer.ts';
import { listSegments, segmentName } from '../../src/wal/segments.ts';
import {
  compressibleBytes,
  halfCompressibleBytes,
  randomBytes,
  readAll,
  segmentBytes,
  tmpDir,
  prng,
} from './helpers.ts';
import { at } from '../helpers/defined.ts';

const PAGE = 32768;

/** Four raw records at known offsets: r0 @0 (107 B), r1 @107 (first in page 0, last in page 1), r2 @40121, r3 @40178, end 40215. */
const RECS = [randomBytes(100, 1), randomBytes(40_000, 2), randomBytes(50, 3), randomBytes(30, 4)];
// A tuple: the cases below index it with constants.
const OFF = [0, 107, 40121, 40178] as const;
const END = 40215;

async function fourRecordWal(t: Parameters<typeof tmpDir>[0]): Promise<{ dir: string; file: string }> {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: false });
  for (const r of RECS) w.append(r);
  await w.close();
  return { dir, file: path.join(dir, segmentName(0)) };
}

async function patch(file: string, offset: number, bytes: number[]): Promise<void> {
  const b = await readFile(file);
  for (const [i, byte] of bytes.entries()) b[offset + i] = byte;
  await writeFile(file, b);
}

test('layout assumed by the corruption cases', async (t) => {
  const { dir } = await fourRecordWal(t);
  const got = await readAll(dir);
  t.deepEqual(got.recs, RECS);
  t.deepEqual(
    got.where,
    OFF.map((o) => [0, o]),
  );
});

interface Case {
  name: string;
  mutate: (file: string) => Promise<void>;
  reason: RegExp | null; // null: no corruption expected
  offset: number;
  kept: number;
}

const cases: Case[] = [
  {
    name: 'CRC mismatch in a single-fragment record',
    mutate: (f) => patch(f, OFF[2] + 7 + 10, [0xff]),
    reason: /checksum/,
    offset: OFF[2],
    kept: 2,
  },
  {
    name: 'CRC mismatch in the last fragment of a two-page record',
    mutate: (f) => patch(f, PAGE + 7 + 5, [0x00]),
    reason: /checksum/,
    offset: OFF[1],
    kept: 1,
  },
  {
    name: 'truncated fragment header at the end',
    mutate: (f) => truncate(f, OFF[3] + 3),
    reason: /torn fragment header/,
    offset: OFF[3],
    kept: 3,
  },
  {
    name: 'torn payload of the last record',
    mutate: (f) => truncate(f, OFF[3] + 20),
    reason: /torn fragment/,
    offset: OFF[3],
    kept: 3,
  },
  {
    name: 'torn multi-page record (first fragment only)',
    mutate: (f) => truncate(f, PAGE),
    reason: /last record is torn/,
    offset: OFF[1],
    kept: 1,
  },
  {
    name: 'torn multi-page record (inside its last fragment)',
    mutate: (f) => truncate(f, PAGE + 100),
    reason: /torn fragment/,
    offset: OFF[1],
    kept: 1,
  },
  {
    name: 'zero-filled tail (short page)',
    mutate: async (f) => {
      await truncate(f, END);
      await truncate(f, END + 5000);
    },
    reason: null,
    offset: -1,
    kept: 4,
  },
  {
    name: 'zero-filled tail over several pages',
    mutate: (f) => truncate(f, 5 * PAGE + 123),
    reason: null,
    offset: -1,
    kept: 4,
  },
  {
    name: 'garbage tail',
    mutate: async (f) => {
      await truncate(f, END);
      await writeFile(f, Buffer.concat([await readFile(f), Buffer.from([0xab]), randomBytes(3000, 9)]));
    },
    reason: /invalid fragment header byte 0xab/,
    offset: END,
    kept: 4,
  },
  {
    name: 'garbage tail that looks like a full fragment',
    mutate: async (f) => {
      await truncate(f, END);
      await writeFile(f, Buffer.concat([await readFile(f), Buffer.from([0x01, 0x00, 0x20]), randomBytes(3000, 9)]));
    },
    reason: /checksum/,
    offset: END,
    kept: 4,
  },
  {
    name: 'non-zero byte in page padding',
    mutate: (f) => patch(f, 2 * PAGE - 10, [1]),
    reason: /non-zero byte in padded page/,
    offset: END,
    kept: 4,
  },
  {
    name: 'full fragment turned into a last fragment (type is outside the CRC)',
    mutate: (f) => patch(f, OFF[2], [0x04]),
    reason: /unexpected last fragment/,
    offset: OFF[2],
    kept: 2,
  },
  {
    name: 'fragment length beyond a page',
    mutate: (f) => patch(f, OFF[3] + 1, [0xff, 0xff]),
    reason: /invalid fragment length 65535/,
    offset: OFF[3],
    kept: 3,
  },
];

for (const c of cases) {
  test(`corruption: ${c.name}`, async (t) => {
    const { dir, file } = await fourRecordWal(t);
    await c.mutate(file);
    const seen: Buffer[] = [];
    const run = replayWal(dir, (rec) => seen.push(Buffer.from(rec)));
    if (c.reason === null) {
      const res = await run;
      t.is(res.repaired, null);
      t.deepEqual(seen, RECS);
      return;
    }
    const err = await t.throwsAsync(run, { instanceOf: CorruptionError, message: c.reason });
    t.is(err?.segment, 0);
    t.is(err?.offset, c.offset);
    t.deepEqual(seen, RECS.slice(0, c.kept), 'records before the corruption were delivered');

    // Repair: cut at the offset, pad the page, keep everything before.
    const logs: string[] = [];
    const kept: Buffer[] = [];
    const res = await replayWal(dir, (rec) => kept.push(Buffer.from(rec)), { repair: true, log: (m) => logs.push(m) });
    t.deepEqual(res.repaired, { segment: 0, offset: c.offset });
    t.deepEqual(kept, RECS.slice(0, c.kept));
    t.true(logs.some((m) => /repair/i.test(m)));
    const b = await segmentBytes(dir, 0);
    t.is(b.length, Math.ceil(c.offset / PAGE) * PAGE);
    t.true(b.subarray(c.offset).every((x) => x === 0));
    // The repaired WAL reads cleanly and a writer continues after it.
    t.deepEqual((await readAll(dir)).recs, RECS.slice(0, c.kept));
    const w = await WalWriter.open(dir);
    t.is(w.segment, 1);
    w.append(Buffer.from('after'));
    await w.close();
    t.deepEqual((await readAll(dir)).recs, [...RECS.slice(0, c.kept), Buffer.from('after')]);
  });
}

test('corrupt segment in the middle: later segments are removed, the segment is cut', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { compress: false });
  const per = [0, 1, 2].map((s) => [
    randomBytes(200, s * 10 + 1),
    randomBytes(300, s * 10 + 2),
    randomBytes(400, s * 10 + 3),
  ]);
  for (let s = 0; s < 3; s++) {
    for (const r of at(per, s, 'per')) w.append(r);
    if (s < 2) await w.nextSegment();
  }
  await w.close();
  await patch(path.join(dir, segmentName(1)), 207 + 7 + 1, [0xee, 0xee]);

  const err = await t.throwsAsync(
    replayWal(dir, () => {}),
    { instanceOf: CorruptionError },
  );
  t.is(err?.segment, 1);
  t.is(err?.offset, 207);
  t.regex(err?.message ?? '', new RegExp(`segment ${dir}/00000001 at offset 207`));

  const res = await replayWal(dir, () => {}, { repair: true });
  t.deepEqual(res, { first: 0, last: 1, checkpoint: -1, repaired: { segment: 1, offset: 207 } });
  t.deepEqual(await listSegments(dir), { first: 0, last: 1 });
  t.deepEqual((await readAll(dir)).recs, [...at(per, 0, 'per'), at(per, 1, 'per')[0]]);
  t.is((await stat(path.join(dir, segmentName(1)))).size, PAGE);
});

test('a record the consumer rejects with InvalidRecordError is corruption at its offset', async (t) => {
  const { dir } = await fourRecordWal(t);
  const res = await replayWal(
    dir,
    (_rec, _seg, off) => {
      if (off === OFF[2]) throw new InvalidRecordError('bad record type');
    },
    { repair: true },
  );
  t.deepEqual(res.repaired, { segment: 0, offset: OFF[2] });
  t.deepEqual((await readAll(dir)).recs, RECS.slice(0, 2));
  // Other errors from the consumer propagate untouched and repair nothing.
  await t.throwsAsync(
    replayWal(
      dir,
      () => {
        throw new RangeError('boom');
      },
      { repair: true },
    ),
    { instanceOf: RangeError },
  );
  t.deepEqual((await readAll(dir)).recs, RECS.slice(0, 2));
});

test('replay: empty or missing directory; gap in segment numbers is a clear error', async (t) => {
  const dir = await tmpDir(t);
  let ranges: [number, number][] = [];
  t.deepEqual(await replayWal(path.join(dir, 'nope'), () => t.fail(), { onRange: (a, b) => ranges.push([a, b]) }), {
    first: -1,
    last: -1,
    checkpoint: -1,
    repaired: null,
  });
  t.deepEqual(ranges, [[-1, -1]]);
  for (const i of [0, 1, 3]) await writeFile(path.join(dir, segmentName(i)), '');
  await t.throwsAsync(
    replayWal(dir, () => {}),
    { message: /not sequential: 00000001 is followed by 00000003/ },
  );
  ranges = [];
});

test('replay reads the newest checkpoint, then the segments after it', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir);
  for (let s = 0; s < 4; s++) {
    w.append(Buffer.from(`seg${s}`));
    if (s < 3) await w.nextSegment();
  }
  await w.close();
  for (const [n, text] of [
    [0, 'old checkpoint'],
    [1, 'checkpoint 1'],
  ] as const) {
    const cw = await WalWriter.open(path.join(dir, `checkpoint.${segmentName(n)}`));
    cw.append(Buffer.from(text));
    await cw.close();
  }
  await mkdir(path.join(dir, 'checkpoint.00000002.tmp'));
  const seen: [string, number, boolean][] = [];
  let range: [number, number] = [0, 0];
  const res = await replayWal(dir, (rec, seg, _off, cp) => seen.push([Buffer.from(rec).toString(), seg, cp]), {
    onRange: (a, b) => (range = [a, b]),
  });
  t.deepEqual(seen, [
    ['checkpoint 1', 1, true],
    ['seg2', 2, false],
    ['seg3', 3, false],
  ]);
  t.deepEqual(range, [2, 3]);
  t.is(res.checkpoint, 1);
});

// ---------------------------------------------------------------------------------------------
// LiveReader

/** A segment with every layout feature: compressed and raw, multi-page, padding, empty record. */
async function richSegment(t: Parameters<typeof tmpDir>[0], close: boolean): Promise<Buffer> {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir);
  const recs: Uint8Array[] = [randomBytes(100, 1), halfCompressibleBytes(90_000, 2), new Uint8Array(0)];
  for (const r of recs) w.append(r);
  // Size a raw record so that the 5-byte one after it leaves 5 bytes in the page: zero padding.
  const inPage = w.offset % PAGE;
  const fill = randomBytes(PAGE - inPage - 7 - 12 - 5, 3);
  const more = [fill, randomBytes(5, 4), compressibleBytes(10_000, 5), randomBytes(70_000, 6), randomBytes(33, 7)];
  recs.push(...more);
  for (const r of more) w.append(r);
  await w.flush();
  if (close) await w.close();
  const b = await segmentBytes(dir, 0);
  if (!close) await w.close();
  return b;
}

function readWhole(buf: Uint8Array): { recs: Buffer[]; offsets: number[]; positions: number[] } {
  const r = new SegmentRecordReader(buf, 0);
  const out = { recs: [] as Buffer[], offsets: [] as number[], positions: [] as number[] };
  for (let rec = r.next(); rec; rec = r.next()) {
    out.recs.push(Buffer.from(rec));
    out.offsets.push(r.offset);
    out.positions.push(r.position);
  }
  return out;
}

function readLive(
  buf: Uint8Array,
  chunk: () => number,
  start = 0,
): { recs: Buffer[]; offsets: number[]; positions: number[] } {
  const r = new LiveReader(0, start, 16);
  const out = { recs: [] as Buffer[], offsets: [] as number[], positions: [] as number[] };
  let p = start;
  while (p < buf.length) {
    const n = Math.min(chunk(), buf.length - p);
    r.feed(buf, p, p + n);
    p += n;
    t_assert(r.readOffset === p);
    for (let rec = r.next(); rec; rec = r.next()) {
      out.recs.push(Buffer.from(rec));
      out.offsets.push(r.offset);
      out.positions.push(r.position);
    }
  }
  return out;
}

function t_assert(ok: boolean): void {
  if (!ok) throw new Error('assertion failed');
}

for (const close of [true, false]) {
  test(`LiveReader fed byte by byte equals whole-segment reading (${close ? 'closed' : 'live, unpadded'} segment)`, async (t) => {
    const buf = await richSegment(t, close);
    t.is(buf.length % PAGE === 0, close);
    const whole = readWhole(buf);
    t.is(whole.recs.length, 8);
    t.deepEqual(
      readLive(buf, () => 1),
      whole,
    );
    const r = prng(42);
    t.deepEqual(
      readLive(buf, () => 1 + (r() % 5000)),
      whole,
    );
  });
}

test('LiveReader resumes from any saved position, including positions followed by padding', async (t) => {
  const buf = await richSegment(t, true);
  const whole = readWhole(buf);
  const r = prng(7);
  for (let i = 0; i < whole.positions.length; i++) {
    const pos = whole.positions[i];
    const tail = readLive(buf, () => 1 + (r() % 9000), pos);
    t.deepEqual(tail.recs, whole.recs.slice(i + 1), `resume at ${pos}`);
    t.deepEqual(tail.offsets, whole.offsets.slice(i + 1));
  }
  // A position right before padding (the 5-byte record leaves < 7 bytes in its page).
  t.true(whole.positions.some((p) => PAGE - (p % PAGE) < 7 && p % PAGE !== 0));
});

test('LiveReader: waits on partial data, reports a torn record only after finish()', async (t) => {
  const buf = await richSegment(t, false);
  const whole = readWhole(buf);
  const cut = at(whole.offsets, 6, 'whole.offsets') + 40_000; // inside the 70 000-byte record
  const r = new LiveReader(0);
  r.feed(buf, 0, cut);
  const got: number[] = [];
  for (let rec = r.next(); rec; rec = r.next()) got.push(r.offset);
  t.deepEqual(got, whole.offsets.slice(0, 6));
  t.true(r.partial);
  t.is(r.position, at(whole.positions, 5, 'whole.positions'));
  t.is(r.next(), null, 'EOF is not corruption');
  r.finish();
  const err = t.throws(() => r.next(), { instanceOf: CorruptionError, message: /torn/ });
  t.is(err?.offset, at(whole.offsets, 6, 'whole.offsets'));
  t.throws(() => r.next(), { instanceOf: CorruptionError }, 'errors are terminal');

  const clean = new LiveReader(0);
  clean.feed(buf);
  while (clean.next());
  t.false(clean.partial);
  clean.finish();
  t.is(clean.next(), null);
});

test('LiveReader tails a segment while the writer appends', async (t) => {
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir, { segmentSize: 4 * PAGE });
  const file = path.join(dir, segmentName(0));
  const r = new LiveReader(0);
  const got: Buffer[] = [];
  const want: Buffer[] = [];
  const pull = async (): Promise<void> => {
    const b = await readFile(file);
    if (b.length > r.readOffset) r.feed(b, r.readOffset);
    for (let rec = r.next(); rec; rec = r.next()) got.push(Buffer.from(rec));
  };
  for (let i = 0; i < 40 && w.segment === 0; i++) {
    const rec = i % 3 === 0 ? halfCompressibleBytes(3000 + i * 500, i) : randomBytes(1 + i * 211, i);
    w.append(rec);
    if (w.segment === 0) want.push(rec);
    await w.flush();
    await pull();
    t.deepEqual(got, want);
  }
  await w.close();
});

test('zstd-compressed records (flag 0x10, written by newer Prometheus) are read', async (t) => {
  const { zstdCompressSync } = await import('node:zlib');
  const { crc32c } = await import('../../src/wal/crc32c.ts');
  const rec = compressibleBytes(5000, 1);
  const z = zstdCompressSync(rec);
  const frag = Buffer.alloc(7 + z.length);
  frag[0] = 0x11;
  frag.writeUInt16BE(z.length, 1);
  frag.writeUInt32BE(crc32c(z), 3);
  z.copy(frag, 7);
  const r = new SegmentRecordReader(frag, 0);
  t.deepEqual(Buffer.from(r.next() ?? []), rec);
  t.is(r.next(), null);
  // Both compression bits at once is not a valid header.
  frag[0] = 0x19;
  t.throws(() => new SegmentRecordReader(frag, 0).next(), { instanceOf: CorruptionError, message: /header byte 0x19/ });
});

test('SegmentTail follows a growing segment, resumes from a saved position, and finishes it', async (t) => {
  const { SegmentTail } = await import('../../src/wal/reader.ts');
  const dir = await tmpDir(t);
  const w = await WalWriter.open(dir);
  const recs = Array.from({ length: 30 }, (_, i) =>
    i % 4 === 0 ? halfCompressibleBytes(20_000 + i, i) : randomBytes(10 + i * 900, i),
  );
  const tail = await SegmentTail.open(dir, 0);
  const got: Buffer[] = [];
  let saved = 0;
  for (let i = 0; i < recs.length; i++) {
    w.append(at(recs, i, 'recs'));
    await w.flush();
    await tail.poll((rec) => got.push(Buffer.from(rec)));
    if (i === 11) saved = tail.position;
  }
  t.deepEqual(got, recs);
  const next = await w.nextSegment();
  t.is(next, 1);
  t.is(await tail.poll(() => t.fail(), true), 0);
  t.true(tail.finished);
  await tail.close();

  const resumed = await SegmentTail.open(dir, 0, saved);
  const rest: Buffer[] = [];
  await resumed.poll((rec) => rest.push(Buffer.from(rec)), true);
  t.deepEqual(rest, recs.slice(12));
  await resumed.close();
  await w.close();

  await t.throwsAsync(SegmentTail.open(dir, 1, 10), {
    instanceOf: CorruptionError,
    message: /shorter than the resume offset/,
  });
});

import test from 'ava';
import {
  ByteReader,
  ByteWriter,
  compactBlocks,
  fnv1a,
  grownArray,
  grownBuffer,
  sameBytes,
  uvarintSize,
} from '../../src/util/bytes.ts';
import { at } from '../helpers/defined.ts';

test('uvarint, zigzag varint and i64 round-trip at the edges of safe integers', (t) => {
  const values = [
    0,
    1,
    127,
    128,
    300,
    2 ** 28 - 1,
    2 ** 28,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 + 5,
    1_700_000_000_000,
    Number.MAX_SAFE_INTEGER,
  ];
  const w = new ByteWriter(4);
  for (const v of values) {
    w.uvarint(v);
    w.varint(v >= 2 ** 52 ? 2 ** 51 : v);
    w.varint(v >= 2 ** 52 ? -(2 ** 51) : -v);
    w.i64be(v);
    w.i64be(-v);
  }
  const r = new ByteReader(w.view());
  for (const v of values) {
    t.is(r.uvarint(), v);
    t.is(r.varint(), v >= 2 ** 52 ? 2 ** 51 : v);
    t.is(r.varint(), v >= 2 ** 52 ? -(2 ** 51) : -v || 0);
    t.is(r.i64be(), v);
    t.is(r.i64be(), -v || 0);
  }
  t.is(r.remaining, 0);
});

test('known bytes: Go PutUvarint(300) and PutVarint(-3)', (t) => {
  const w = new ByteWriter();
  w.uvarint(300);
  w.varint(-3);
  t.deepEqual([...w.view()], [0xac, 0x02, 0x05]);
  t.is(uvarintSize(300), 2);
});

test("int64varint encodes negatives as 10-byte two's complement like protobuf", (t) => {
  const w = new ByteWriter();
  w.int64varint(-1);
  t.deepEqual([...w.view()], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  w.reset();
  w.int64varint(-2);
  t.deepEqual([...w.view()], [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
});

test('reading past the end throws', (t) => {
  const r = new ByteReader(Buffer.from([0x80]));
  t.throws(() => r.uvarint());
  // The range's end counts, not the buffer's: a varint cut by it is short even with bytes after.
  const cut = new ByteReader(Buffer.from([0x05, 0xac, 0x02]), 0, 2);
  t.is(cut.uvarint(), 5);
  t.throws(() => cut.uvarint(), { message: /unexpected end of data at offset 2/ });
  const long = new ByteReader(Buffer.alloc(11, 0xff));
  t.throws(() => long.uvarint(), { message: /varint overflow at offset 10/ });
});

test('sameBytes finds a difference at every position, for lengths around the 8-byte step, at unaligned offsets', (t) => {
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let n = 0; n <= 19; n++) {
    const a = Buffer.alloc(n + 3);
    const b = Buffer.alloc(n + 5);
    for (let i = 0; i < n; i++) a[1 + i] = b[3 + i] = 0x41 + i;
    t.true(sameBytes(a, view(a), 1, b, view(b), 3, n), `equal, n=${n}`);
    for (let d = 0; d < n; d++) {
      b[3 + d] = at(b, 3 + d, 'b') ^ 0x20;
      t.false(sameBytes(a, view(a), 1, b, view(b), 3, n), `n=${n}, differs at ${d}`);
      b[3 + d] = at(b, 3 + d, 'b') ^ 0x20;
    }
  }
});

test('grownBuffer keeps the used bytes and doubles until the need fits; fnv1a is FNV-1a', (t) => {
  const small = Buffer.from('abcdefgh');
  t.is(grownBuffer(small, 8, 8), small, 'big enough: the same buffer');
  const g = grownBuffer(small, 5, 40);
  t.is(g.length, 64);
  t.is(g.toString('latin1', 0, 5), 'abcde');
  // Published FNV-1a 32-bit test vectors.
  t.is(fnv1a(Buffer.from(''), 0, 0), 0x811c9dc5);
  t.is(fnv1a(Buffer.from('a'), 0, 1), 0xe40c292c);
  t.is(fnv1a(Buffer.from('xfoobar'), 1, 7), 0xbf9cf968);
});

test('grownArray keeps the type and the values, and fills only the added part', (t) => {
  const a = Int32Array.from([5, -3, 7]);
  const g = grownArray(a, 6, -1);
  t.true(g instanceof Int32Array);
  t.not(g, a);
  t.deepEqual([...g], [5, -3, 7, -1, -1, -1]);
  const f = grownArray(Float64Array.from([1.5]), 3, -Infinity);
  t.deepEqual([...f], [1.5, -Infinity, -Infinity]);
  const z = grownArray(Uint8Array.from([9, 8]), 4);
  t.true(z instanceof Uint8Array);
  t.deepEqual([...z], [9, 8, 0, 0]);
});

test('compactBlocks: live blocks move to the front in order, their offsets follow, absent ones are skipped', (t) => {
  const src = Buffer.from('xxAAyyBBBzC');
  const off = new Uint32Array([2, 0, 6, 10, 9]);
  const len = new Int32Array([2, -1, 3, 1, 0]);
  const dst = Buffer.alloc(8, '.');
  t.is(compactBlocks(src, dst, off, len, 0, 4), 6);
  t.is(dst.toString(), 'AABBBC..');
  t.deepEqual([...off], [0, 0, 2, 5, 9]);
  // `from` leaves earlier blocks where they are.
  const off2 = new Uint32Array([2, 6]);
  t.is(compactBlocks(src, dst.fill('.'), off2, new Int32Array([2, 3]), 1, 2), 3);
  t.is(dst.toString(), 'BBB.....');
  t.deepEqual([...off2], [2, 0]);
});

import test from 'ava';
import { ByteReader, ByteWriter, uvarintSize } from '../../src/util/bytes.ts';

test('uvarint, zigzag varint and i64 round-trip at the edges of safe integers', (t) => {
  const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 1_700_000_000_000, Number.MAX_SAFE_INTEGER];
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

test('int64varint encodes negatives as 10-byte two\'s complement like protobuf', (t) => {
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
});

import test from 'ava';
import snappyjs from 'snappyjs';
import {
  Scratch,
  SnappyError,
  snappyCompress,
  snappyDecodedLength,
  snappyDecompressInto,
} from '../../src/util/snappy.ts';
import { compressibleBytes, halfCompressibleBytes, randomBytes } from './helpers.ts';

const inputs: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['1 byte', Buffer.from([7])],
  ['16 bytes (literal-only block)', randomBytes(16, 1)],
  ['17 bytes', Buffer.alloc(17, 0x61)],
  ['zeros 100k', Buffer.alloc(100_000)],
  ['random 70k', randomBytes(70_000, 2)],
  ['compressible 65536', compressibleBytes(65_536, 3)],
  ['compressible 65537', compressibleBytes(65_537, 4)],
  ['half compressible 300k', halfCompressibleBytes(300_000, 5)],
  ['text', Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(500))],
];
for (let n = 0; n < 80; n += 7)
  inputs.push([`run ${n}`, Buffer.concat([randomBytes(n, n), Buffer.alloc(n, 1), randomBytes(n, n)])]);

for (const [name, input] of inputs) {
  test(`snappy interoperates with snappyjs both ways: ${name}`, (t) => {
    const mine = snappyCompress(input);
    t.is(snappyDecodedLength(mine), input.length);
    t.deepEqual(Buffer.from(snappyjs.uncompress(mine)), input);
    const theirs = snappyjs.compress(input);
    const out = new Scratch(1);
    t.deepEqual(Buffer.from(snappyDecompressInto(theirs, out, 1 << 30)), input);
    t.deepEqual(Buffer.from(snappyDecompressInto(mine, out, 1 << 30)), input);
  });
}

test('known encoding: literal, then copies split the way Go snappy splits them', (t) => {
  // 'a' then 99 more 'a's: literal 'a' (tag 0x00), then a copy of 99 at offset 1:
  // 63<<2|2 (len 64), then 35 remaining >= 12 -> 34<<2|2.
  const got = snappyCompress(Buffer.alloc(100, 0x61)).toString('hex');
  t.is(got, '64' + '0061' + 'fe0100' + '8a0100');
});

test('malformed blocks are rejected', (t) => {
  const out = new Scratch(16);
  const bad: Buffer[] = [
    Buffer.from([]),
    Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // length varint too long
    Buffer.from([0x05, 0x10, 0x61]), // literal of 5 with 1 byte present
    Buffer.from([0x04, 0x00, 0x61, 0x01, 0x05]), // copy offset 5 > output so far
    Buffer.from([0x03, 0x00, 0x61]), // decodes 1 byte, header says 3
    Buffer.from([0x02, 0x0c, 0x61, 0x62, 0x63, 0x64]), // 4-byte literal into a 2-byte block
  ];
  for (const b of bad)
    t.throws(() => snappyDecompressInto(b, out, 1 << 20), { instanceOf: SnappyError }, b.toString('hex'));
  t.throws(() => snappyDecompressInto(snappyCompress(Buffer.alloc(100)), out, 99), {
    instanceOf: SnappyError,
    message: /limit/,
  });
});

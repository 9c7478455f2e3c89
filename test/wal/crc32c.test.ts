import test from 'ava';
import { crc32c, crc32cUpdate } from '../../src/wal/crc32c.ts';
import { randomBytes, refCrc32c } from './helpers.ts';

test('known CRC-32C vectors (RFC 3720 / iSCSI)', (t) => {
  const cases: [Uint8Array, number][] = [
    [Buffer.from('123456789'), 0xe3069283],
    [Buffer.alloc(32, 0), 0x8a9136aa],
    [Buffer.alloc(32, 0xff), 0x62a8ab43],
    [Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    [Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
    [new Uint8Array(0), 0],
  ];
  for (const [buf, want] of cases) t.is(crc32c(buf), want, Buffer.from(buf).toString('hex'));
});

test('matches a bitwise reference on every length and alignment up to 70 bytes', (t) => {
  const data = randomBytes(200, 7);
  for (let start = 0; start < 9; start++) {
    for (let len = 0; len <= 70; len++) {
      const sub = data.subarray(start, start + len);
      t.is(crc32c(data, start, start + len), refCrc32c(sub));
    }
  }
});

test('incremental update equals one pass', (t) => {
  const data = randomBytes(100_000, 3);
  const whole = crc32c(data);
  t.is(whole, refCrc32c(data));
  t.is(crc32cUpdate(crc32c(data, 0, 12_345), data, 12_345), whole);
});

import { createHash } from 'node:crypto';
import test from 'ava';
import { md5, md5Hex } from '../../src/util/md5.ts';

test('md5 matches node:crypto for every length across the padding boundaries', (t) => {
  const wrong: number[] = [];
  // 0..200 crosses the 55/56/64-byte padding edges of one, two and three blocks.
  for (let n = 0; n <= 200; n++) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 131 + n * 7) & 0xff;
    if (Buffer.from(md5(b)).toString('hex') !== createHash('md5').update(b).digest('hex')) wrong.push(n);
  }
  t.deepEqual(wrong, []);
});

test('md5Hex: RFC 1321 test vectors and UTF-8 input', (t) => {
  t.is(md5Hex(''), 'd41d8cd98f00b204e9800998ecf8427e');
  t.is(md5Hex('abc'), '900150983cd24fb0d6963f7d28e17f72');
  t.is(md5Hex('message digest'), 'f96b697d7cb7938d525a2f31aaf161d0');
  t.is(
    md5Hex('12345678901234567890123456789012345678901234567890123456789012345678901234567890'),
    '57edf4a22be3c955ac49da2e2107b67a',
  );
  t.is(md5Hex('héllo ✓'), createHash('md5').update('héllo ✓', 'utf8').digest('hex'));
});

test('md5 of a large input (several blocks, length above 2^16 bits)', (t) => {
  const b = Buffer.alloc(100_003, 0x61);
  t.is(Buffer.from(md5(b)).toString('hex'), createHash('md5').update(b).digest('hex'));
});

import test from 'ava';
import { SnappyBlockCompressor, snappyUncompress } from '../../src/remote/snappy.ts';
import { SnappyError } from '../../src/util/snappy.ts';
import { encodeLabelsBlock, WriteRequestBuilder } from '../../src/remote/encoder.ts';
import { decodeWriteRequest } from '../helpers/rw-proto.ts';
import { at } from '../helpers/defined.ts';

/** Deterministic bytes: xorshift32. */
function pseudoRandom(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const INPUTS: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['one byte', Buffer.from('a')],
  ['short text', Buffer.from('hello hello hello hello')],
  ['random 10 KiB', pseudoRandom(10 * 1024, 7)],
  ['repetitive 200 KiB (spans several 64 KiB blocks)', Buffer.from('up{job="node",instance="x"} 1\n'.repeat(7000))],
  ['random 70 KiB', pseudoRandom(70 * 1024, 99)],
  ['plain Uint8Array (not a Buffer)', new Uint8Array(pseudoRandom(3000, 3))],
  ['subarray with an offset', pseudoRandom(5000, 5).subarray(123, 4000)],
];

test('snappy block round trip', (t) => {
  const c = new SnappyBlockCompressor();
  for (const [name, input] of INPUTS) {
    const z = c.compress(input);
    const back = snappyUncompress(z);
    t.true(Buffer.from(back).equals(Buffer.from(input)), name);
  }
});

test('known bytes: snappy block format (varint length preamble, literal tags)', (t) => {
  const c = new SnappyBlockCompressor();
  t.deepEqual([...c.compress(new Uint8Array(0))], [0x00]);
  t.deepEqual([...c.compress(Buffer.from('a'))], [0x01, 0x00, 0x61]);
  // A hand-written block: length 6, literal "ab", copy-1 of length 4 at offset 2 → "ababab".
  t.is(Buffer.from(snappyUncompress(Buffer.from([0x06, 0x04, 0x61, 0x62, 0x01, 0x02]))).toString(), 'ababab');
  // Repetitive input actually compresses.
  const rep = Buffer.from('x'.repeat(10_000));
  t.true(c.compress(rep).length < 600);
});

test('compressed WriteRequest decodes after uncompress', (t) => {
  const b = new WriteRequestBuilder();
  const block = encodeLabelsBlock(['__name__', 'node_load1', 'instance', 'edge:9100', 'job', 'node']);
  for (let i = 0; i < 2000; i++) b.addSample(block, i / 7, false, 1_700_000_000_000 + i * 15_000);
  const raw = b.finish();
  const z = new SnappyBlockCompressor().compress(raw);
  t.true(z.length < raw.length / 3, `compressed ${z.length} of ${raw.length}`);
  const dec = decodeWriteRequest(snappyUncompress(z));
  t.is(dec.timeseries.length, 2000);
  t.is(at(at(dec.timeseries, 1999, 'dec.timeseries').samples, 0, 'dec.timeseries[1999].samples').value, 1999 / 7);
});

test('snappyUncompress rejects corrupt input and oversize declarations with SnappyError', (t) => {
  const cases: [string, Uint8Array, number?][] = [
    ['unterminated length varint', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ['literal past end', Buffer.from([0x05, 0x10, 0x61])],
    ['copy before start', Buffer.from([0x04, 0x01, 0x05])],
    ['declared length above cap', Buffer.from([0x80, 0x80, 0x40]), 1024],
  ];
  for (const [name, input, max] of cases) {
    const err = t.throws(() => snappyUncompress(input, max), { instanceOf: SnappyError }, name);
    t.is(err?.code, 'OUTPOST_SNAPPY_INVALID', name);
  }
});

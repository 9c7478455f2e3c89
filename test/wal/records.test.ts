import test from 'ava';
import { ByteWriter } from '../../src/util/bytes.ts';
import type { Labels } from '../../src/util/labels.ts';
import { InvalidRecordError } from '../../src/wal/errors.ts';
import {
  RecordType,
  SampleBatch,
  decodeExemplars,
  decodeFloatHistogramSamples,
  decodeHistogramSamples,
  decodeMetadata,
  decodeMinValidTime,
  decodeSamples,
  decodeSamplesV2,
  decodeSeries,
  decodeTombstones,
  encodeCustomBucketsHistogramSamples,
  encodeExemplars,
  encodeFloatHistogramSamples,
  encodeHistogramSamples,
  encodeMetadata,
  encodeMinValidTime,
  encodeSamples,
  encodeSeries,
  encodeTombstones,
  recordType,
  type RefExemplar,
  type RefHistogramSample,
  type RefMetadata,
  type RefSampleV2,
  type Tombstone,
} from '../../src/wal/records.ts';
import { at } from '../helpers/defined.ts';

/** Hex with spaces/newlines ignored, so expected bytes can be laid out field by field. */
function hex(s: string): string {
  return s.replace(/\s+/g, '');
}
function strHex(s: string): string {
  const b = Buffer.from(s);
  return b.length.toString(16).padStart(2, '0') + b.toString('hex');
}
function bytesOf(w: ByteWriter): string {
  return w.view().toString('hex');
}

test('series record: known bytes and round trip', (t) => {
  const w = new ByteWriter(8);
  const labels: Labels[] = [
    ['__name__', 'up', 'job', 'x'],
    ['a', 'ü'],
  ];
  encodeSeries(w, [1, 0x0102030405], labels, 2);
  const want = hex(`01
    0000000000000001 02 ${strHex('__name__')} ${strHex('up')} ${strHex('job')} ${strHex('x')}
    0000000102030405 01 ${strHex('a')} 02c3bc`);
  t.is(bytesOf(w), want);
  t.is(recordType(w.view()), RecordType.Series);
  const got: [number, Labels][] = [];
  decodeSeries(w.view(), (ref, ls) => got.push([ref, ls]));
  t.deepEqual(got, [
    [1, labels[0]],
    [0x0102030405, labels[1]],
  ]);
});

test('encoders reset the writer: one record per call', (t) => {
  const w = new ByteWriter();
  w.u8(0xee);
  encodeSeries(w, [], [], 0);
  t.is(bytesOf(w), '01');
});

test('samples record: known bytes with zigzag deltas, stale marker and Go NaN bits', (t) => {
  const w = new ByteWriter();
  const values = new Float64Array([1.5, NaN, NaN, -0]);
  const stale = new Uint8Array([0, 1, 0, 0]);
  encodeSamples(w, new Float64Array([5, 3, 70, 5]), new Float64Array([1000, 1001, 999, 1000 + 300]), values, stale, 4);
  const want = hex(`02 0000000000000005 00000000000003e8
    00 00 3ff8000000000000
    03 02 7ff0000000000002
    8201 01 7ff8000000000001
    00 d804 8000000000000000`);
  t.is(bytesOf(w), want);

  const b = new SampleBatch(1);
  b.push(9, 9, 9, false); // decode appends
  decodeSamples(w.view(), b);
  t.is(b.n, 5);
  t.deepEqual([...b.refs.subarray(1, 5)], [5, 3, 70, 5]);
  t.deepEqual([...b.ts.subarray(1, 5)], [1000, 1001, 999, 1300]);
  t.deepEqual([...b.stale.subarray(1, 5)], [0, 1, 0, 0]);
  t.is(b.values[1], 1.5);
  t.true(Number.isNaN(b.values[2]) && Number.isNaN(b.values[3]));
  t.true(Object.is(b.values[4], -0));
});

test('empty samples record is just the type byte', (t) => {
  const w = new ByteWriter();
  encodeSamples(w, new Float64Array(0), new Float64Array(0), new Float64Array(0), new Uint8Array(0), 0);
  t.is(bytesOf(w), '02');
  const b = new SampleBatch();
  decodeSamples(w.view(), b);
  t.is(b.n, 0);
});

test('samples round trip: large refs, negative deltas, 64-bit timestamps, many samples', (t) => {
  const n = 5000;
  const refs = new Float64Array(n);
  const ts = new Float64Array(n);
  const vals = new Float64Array(n);
  const stale = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    refs[i] = ((i * 7919) % 100_003) + (i % 3 === 0 ? 2 ** 40 : 0);
    ts[i] = 1_700_000_000_000 + ((i * 31) % 997) - 500;
    vals[i] = i % 5 === 0 ? Number.MAX_VALUE / (i + 1) : -i / 7;
    stale[i] = i % 11 === 0 ? 1 : 0;
  }
  const w = new ByteWriter(16);
  encodeSamples(w, refs, ts, vals, stale, n);
  const b = new SampleBatch(4);
  decodeSamples(w.view(), b);
  t.is(b.n, n);
  for (let i = 0; i < n; i++) {
    if (b.refs[i] !== refs[i] || b.ts[i] !== ts[i] || b.stale[i] !== stale[i]) t.fail(`sample ${i} differs`);
    if (!stale[i] && b.values[i] !== vals[i]) t.fail(`value ${i} differs`);
  }
  t.pass();
});

test('decoders reject truncated and mistyped records with InvalidRecordError', (t) => {
  const w = new ByteWriter();
  encodeSamples(w, new Float64Array([1, 2]), new Float64Array([3, 4]), new Float64Array([1, 2]), new Uint8Array(2), 2);
  const full = w.copy();
  const b = new SampleBatch();
  t.throws(() => decodeSamples(full.subarray(0, full.length - 1), b), { instanceOf: InvalidRecordError });
  t.throws(() => decodeSamples(Buffer.from([1]), b), {
    instanceOf: InvalidRecordError,
    message: /invalid record type 1/,
  });
  t.throws(() => decodeSamples(new Uint8Array(0), b), { instanceOf: InvalidRecordError });
  t.throws(() => decodeSeries(Buffer.from('01000000000000000105', 'hex'), () => {}), {
    instanceOf: InvalidRecordError,
  });
  t.is(recordType(new Uint8Array(0)), RecordType.Unknown);
  t.is(recordType(Buffer.from([0x2a])), RecordType.Unknown);
});

test('tombstones record: known bytes and round trip', (t) => {
  const w = new ByteWriter();
  const stones: Tombstone[] = [
    { ref: 1, mint: -1, maxt: 300 },
    { ref: 2, mint: 0, maxt: 1_700_000_000_000 },
  ];
  encodeTombstones(w, stones);
  t.true(bytesOf(w).startsWith(hex('03 0000000000000001 01 d804 0000000000000002 00')));
  const out: Tombstone[] = [];
  decodeTombstones(w.view(), out);
  t.deepEqual(out, stones);
});

test('exemplars record: known bytes and round trip', (t) => {
  const w = new ByteWriter();
  const ex: RefExemplar[] = [
    { ref: 7, t: 10, v: 2, labels: ['trace_id', 'ab'] },
    { ref: 6, t: 12, v: 0.5, labels: [] },
  ];
  encodeExemplars(w, ex);
  const want = hex(`04 0000000000000007 000000000000000a
    00 00 4000000000000000 01 ${strHex('trace_id')} ${strHex('ab')}
    01 04 3fe0000000000000 00`);
  t.is(bytesOf(w), want);
  const out: RefExemplar[] = [];
  decodeExemplars(w.view(), out);
  t.deepEqual(out, ex);
  encodeExemplars(w, []);
  t.is(bytesOf(w), '04');
});

test('metadata record: known bytes, round trip, unknown fields skipped', (t) => {
  const w = new ByteWriter();
  const md: RefMetadata[] = [{ ref: 300, type: 1, unit: 's', help: 'h' }];
  encodeMetadata(w, md);
  t.is(bytesOf(w), hex(`06 ac02 01 02 ${strHex('UNIT')} ${strHex('s')} ${strHex('HELP')} ${strHex('h')}`));
  const out: RefMetadata[] = [];
  decodeMetadata(w.view(), out);
  t.deepEqual(out, md);

  // Three fields, one unknown, in another order.
  const rec = Buffer.from(
    hex(
      `06 05 02 03 ${strHex('HELP')} ${strHex('x')} ${strHex('FOO')} ${strHex('bar')} ${strHex('UNIT')} ${strHex('By')}`,
    ),
    'hex',
  );
  const out2: RefMetadata[] = [];
  decodeMetadata(rec, out2);
  t.deepEqual(out2, [{ ref: 5, type: 2, unit: 'By', help: 'x' }]);
});

test('min valid time record round trip', (t) => {
  const w = new ByteWriter();
  encodeMinValidTime(w, 1_700_000_000_000);
  t.is(bytesOf(w), '0e' + '0000018bcfe56800');
  t.is(decodeMinValidTime(w.view()), 1_700_000_000_000);
});

const H1: RefHistogramSample = {
  ref: 2,
  t: 5,
  h: {
    counterResetHint: 0,
    schema: 1,
    zeroThreshold: 0.001,
    zeroCount: 2,
    count: 5,
    sum: 10,
    positiveSpans: [{ offset: 0, length: 2 }],
    negativeSpans: [],
    positiveBuckets: [1, 2],
    negativeBuckets: [],
  },
};

test('histogram record (7): known bytes and round trip', (t) => {
  const w = new ByteWriter();
  const h2: RefHistogramSample = {
    ref: 1,
    t: 6,
    h: {
      counterResetHint: 2,
      schema: -2,
      zeroThreshold: 0,
      zeroCount: 0,
      count: 300,
      sum: -1.5,
      positiveSpans: [],
      negativeSpans: [
        { offset: -3, length: 1 },
        { offset: 2, length: 2 },
      ],
      positiveBuckets: [],
      negativeBuckets: [4, -1, -2],
    },
  };
  const rest = encodeHistogramSamples(w, [H1, h2]);
  t.deepEqual(rest, []);
  const want = hex(`07 0000000000000002 0000000000000005
    00 00 00 02 3f50624dd2f1a9fc 02 05 4024000000000000 01 00 02 00 02 02 04 00
    01 02 02 03 0000000000000000 00 ac02 bff8000000000000 00 02 05 01 04 02 00 03 08 01 03`);
  t.is(bytesOf(w), want);
  const out: RefHistogramSample[] = [];
  decodeHistogramSamples(w.view(), out);
  t.deepEqual(out, [H1, h2]);
});

test('float histogram record (8): known bytes and round trip', (t) => {
  const w = new ByteWriter();
  const fh: RefHistogramSample = {
    ref: 3,
    t: 1,
    h: {
      counterResetHint: 3,
      schema: 0,
      zeroThreshold: 0.5,
      zeroCount: 1.5,
      count: 2,
      sum: 1,
      positiveSpans: [{ offset: 1, length: 1 }],
      negativeSpans: [],
      positiveBuckets: [0.25],
      negativeBuckets: [],
    },
  };
  encodeFloatHistogramSamples(w, [fh]);
  const want = hex(`08 0000000000000003 0000000000000001 00 00
    03 00 3fe0000000000000 3ff8000000000000 4000000000000000 3ff0000000000000
    01 02 01 00 01 3fd0000000000000 00`);
  t.is(bytesOf(w), want);
  const out: RefHistogramSample[] = [];
  decodeFloatHistogramSamples(w.view(), out);
  t.deepEqual(out, [fh]);
});

test('custom-bucket histograms are split off into record 9 with their bounds', (t) => {
  const w = new ByteWriter();
  const nhcb: RefHistogramSample = {
    ref: 4,
    t: 7,
    h: {
      counterResetHint: 0,
      schema: -53,
      zeroThreshold: 0,
      zeroCount: 0,
      count: 3,
      sum: 2,
      positiveSpans: [{ offset: 0, length: 2 }],
      negativeSpans: [],
      positiveBuckets: [1, 1],
      negativeBuckets: [],
      customValues: [1, 2.5],
    },
  };
  const rest = encodeHistogramSamples(w, [nhcb, H1]);
  t.deepEqual(rest, [nhcb]);
  // Base is the batch's first entry (ref 4, t 7) even though it went elsewhere.
  t.true(bytesOf(w).startsWith(hex('07 0000000000000004 0000000000000007 03 03')));
  const out: RefHistogramSample[] = [];
  decodeHistogramSamples(w.view(), out);
  t.deepEqual(out, [H1]);

  t.deepEqual(encodeHistogramSamples(w, [nhcb]), [nhcb]);
  t.is(w.pos, 0, 'nothing to log when all are custom-bucket histograms');

  encodeCustomBucketsHistogramSamples(w, rest);
  t.true(bytesOf(w).endsWith(hex('02 3ff0000000000000 4004000000000000')));
  t.is(w.view()[0], RecordType.CustomBucketsHistogramSamples);
  t.true(bytesOf(w).includes(hex('00 69 0000000000000000')), 'schema -53 zigzags to 0x69');
  const out2: RefHistogramSample[] = [];
  decodeHistogramSamples(w.view(), out2);
  t.deepEqual(out2, [nhcb]);
});

test('stale histogram keeps its marker through a round trip', (t) => {
  const w = new ByteWriter();
  const s: RefHistogramSample = { ref: 1, t: 1, h: { ...H1.h, sum: NaN, staleSum: true } };
  encodeHistogramSamples(w, [s]);
  t.true(bytesOf(w).includes('7ff0000000000002'));
  const out: RefHistogramSample[] = [];
  decodeHistogramSamples(w.view(), out);
  t.true(at(out, 0, 'out').h.staleSum === true && Number.isNaN(at(out, 0, 'out').h.sum));
});

test('samples v2 (11) is decoded: first sample absolute, then deltas with start-time markers', (t) => {
  const rec = Buffer.from(
    hex(`0b
      0a c801 64 3ff0000000000000
      02 02 01 4000000000000000
      01 04 02 0a 4008000000000000
      01 06 00 7ff0000000000002`),
    'hex',
  );
  const out: RefSampleV2[] = [];
  decodeSamplesV2(rec, out);
  t.deepEqual(
    out.map((s) => [s.ref, s.t, s.st, s.stale]),
    [
      [5, 100, 50, false],
      [6, 101, 50, false],
      [5, 102, 55, false],
      [4, 103, 0, true],
    ],
  );
  t.deepEqual(
    out.slice(0, 3).map((s) => s.v),
    [1, 2, 3],
  );
});

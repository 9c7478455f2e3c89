import test from 'ava';
import {
  encodeLabelsBlock,
  int64VarintSize,
  WriteRequestBuilder,
  EncoderStateError,
} from '../../src/remote/encoder.ts';
import { MetricType } from '../../src/remote/proto.ts';
import { decodeWriteRequest, ProtoDecodeError, rw1 } from '../helpers/rw-proto.ts';
import { labelsFromRecord, type Labels } from '../../src/util/labels.ts';
import { at, firstN } from '../helpers/defined.ts';

interface PlainLabel {
  name: string;
  value: string;
}
interface PlainSample {
  value?: number;
  timestamp?: number;
}
interface PlainTimeSeries {
  labels: PlainLabel[];
  samples: PlainSample[];
}
interface PlainWriteRequest {
  timeseries: PlainTimeSeries[];
  metadata: { type?: number; metricFamilyName?: string; help?: string; unit?: string }[];
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function labelPairs(ls: Labels): PlainLabel[] {
  const out: PlainLabel[] = [];
  for (let i = 0; i < ls.length; i += 2) out.push({ name: at(ls, i, 'ls'), value: at(ls, i + 1, 'ls') });
  return out;
}

/** The message protobufjs should produce for one sample, with Go's zero-omission applied. */
function plainSample(value: number, timestamp: number): PlainSample {
  const s: PlainSample = {};
  if (value !== 0) s.value = value;
  if (timestamp !== 0) s.timestamp = timestamp;
  return s;
}

/** Decodes with protobufjs into plain numbers (longs as Number) for deepEqual. */
function pbjsDecode(body: Uint8Array): PlainWriteRequest {
  const msg = rw1.WriteRequest.decode(body);
  return rw1.WriteRequest.toObject(msg, {
    longs: Number,
    enums: Number,
    defaults: true,
    arrays: true,
  }) as PlainWriteRequest;
}

const LABEL_SETS: Labels[] = [
  labelsFromRecord({ __name__: 'up', job: 'node', instance: '127.0.0.1:9100' }),
  labelsFromRecord({
    __name__: 'http_requests_total',
    code: '200',
    method: 'GET',
    handler: '/api/v1/query',
    le: '+Inf',
  }),
  labelsFromRecord({ __name__: 'unicode_metric', city: 'Zürich', emoji: '🙂', cjk: '東京' }),
  labelsFromRecord({ __name__: 'long_value', v: 'x'.repeat(300) }),
  labelsFromRecord({ __name__: 'only_name' }),
  // Not produced by Outpost (empty values are dropped earlier), but the encoder must still match Go:
  // an empty string field is omitted inside the Label.
  ['__name__', 'empty_value', 'a', ''],
  labelsFromRecord({
    __name__: 'many',
    a: '1',
    b: '2',
    c: '3',
    d: '4',
    e: '5',
    f: '6',
    g: '7',
    h: '8',
    i: '9',
    j: '10',
    k: '11',
  }),
];

const VALUES = [1, -1, 0, 0.5, 42.125, 1e-300, -1e300, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN];
const TIMESTAMPS = [1_700_000_000_123, 0, 1, 127, 128, -1, -1_000, -86_400_000 * 365 * 10, 2 ** 53 - 1, -(2 ** 52)];

test('known bytes: WriteRequest{up{job="a"} 1 @1000} matches hand-computed protobuf', (t) => {
  const b = new WriteRequestBuilder(16);
  b.addSample(encodeLabelsBlock(['__name__', 'up', 'job', 'a']), 1, false, 1000);
  const expected =
    '0a28' + // WriteRequest.timeseries, 40 bytes
    '0a0e' +
    '0a08' +
    hex(Buffer.from('__name__')) +
    '1202' +
    hex(Buffer.from('up')) + // Label __name__=up
    '0a08' +
    '0a03' +
    hex(Buffer.from('job')) +
    '1201' +
    hex(Buffer.from('a')) + // Label job=a
    '120c' +
    '09' +
    '000000000000f03f' +
    '10' +
    'e807'; // Sample{value 1.0, timestamp 1000}
  t.is(hex(b.finish()), expected);
  t.is(b.count, 1);
});

test('known bytes: stale marker, zero value, zero and negative timestamps', (t) => {
  const labels = encodeLabelsBlock(['a', 'b']); // 0a06 0a0161 120162
  const cases: { value: number; stale: boolean; ts: number; sample: string }[] = [
    // stale marker: the exact bits 0x7ff0000000000002, little-endian
    { value: NaN, stale: true, ts: 5, sample: '0b' + '09' + '020000000000f07f' + '1005' },
    // stale wins over whatever value is passed
    { value: 7, stale: true, ts: 0, sample: '09' + '09' + '020000000000f07f' },
    // proto3: a 0.0 value and a 0 timestamp are absent from the wire
    { value: 0, stale: false, ts: 0, sample: '00' },
    // -0.0 compares equal to 0 in Go, so it is omitted too
    { value: -0, stale: false, ts: 3, sample: '02' + '1003' },
    // negative int64: ten-byte two's complement varint
    { value: 0, stale: false, ts: -1, sample: '0b' + '10' + 'ffffffffffffffffff01' },
  ];
  for (const c of cases) {
    const b = new WriteRequestBuilder();
    b.addSample(labels, c.value, c.stale, c.ts);
    const sample = '12' + c.sample;
    const ts = '0a060a0161120162' + sample;
    const expected = '0a' + (ts.length / 2).toString(16).padStart(2, '0') + ts;
    t.is(hex(b.finish()), expected, `value=${c.value} stale=${c.stale} ts=${c.ts}`);
  }
});

test('encoder output decodes with protobufjs to the expected message', (t) => {
  const b = new WriteRequestBuilder(64);
  const want: PlainWriteRequest = { timeseries: [], metadata: [] };
  for (const ls of LABEL_SETS) {
    const block = encodeLabelsBlock(ls);
    for (const v of VALUES) {
      for (const ts of TIMESTAMPS) {
        b.addSample(block, v, false, ts);
        want.timeseries.push({ labels: labelPairs(ls), samples: [{ value: v, timestamp: ts }] });
      }
    }
  }
  const got = pbjsDecode(b.finish());
  t.is(got.timeseries.length, want.timeseries.length);
  // deepEqual treats NaN as equal to NaN and keeps -0 distinct from 0 (both decoded as +0 here).
  t.deepEqual(
    got.timeseries,
    want.timeseries.map((s) => ({
      labels: s.labels,
      exemplars: [],
      histograms: [],
      samples: s.samples.map((x) => ({ value: x.value === 0 ? 0 : x.value, timestamp: x.timestamp })),
    })),
  );
  t.is(b.count, LABEL_SETS.length * VALUES.length * TIMESTAMPS.length);
});

test('byte-identical to protobufjs for the same message (stale aside)', (t) => {
  for (const ls of LABEL_SETS) {
    const block = encodeLabelsBlock(ls);
    // Labels alone: the pre-encoded block is exactly TimeSeries{labels} as protobufjs writes it.
    t.is(hex(block), hex(rw1.TimeSeries.encode({ labels: labelPairs(ls) }).finish()));
    const b = new WriteRequestBuilder();
    const msg: PlainWriteRequest = { timeseries: [], metadata: [] };
    for (const v of VALUES) {
      for (const ts of TIMESTAMPS) {
        b.addSample(block, v, false, ts);
        msg.timeseries.push({ labels: labelPairs(ls), samples: [plainSample(v, ts)] });
      }
    }
    t.is(hex(b.finish()), hex(rw1.WriteRequest.encode(msg).finish()), at(labelPairs(ls), 0, 'labelPairs(ls)').value);
  }
});

test('metadata entries follow all series and match protobufjs bytes', (t) => {
  const b = new WriteRequestBuilder();
  const up = encodeLabelsBlock(['__name__', 'up', 'job', 'x']);
  b.addMetadata(MetricType.GAUGE, 'up', 'Whether the target is up.', '');
  b.addSample(up, 1, false, 1000);
  b.addMetadata(MetricType.COUNTER, 'http_requests_total', 'Requests.\nWith a newline "and" quotes', 'requests');
  b.addMetadata(MetricType.UNKNOWN, 'bare', '', '');
  b.addSample(up, 0, false, 2000);
  t.is(b.count, 5);
  t.is(b.sampleCount, 2);
  t.is(b.metadataCount, 3);
  const want = {
    timeseries: [
      { labels: labelPairs(['__name__', 'up', 'job', 'x']), samples: [plainSample(1, 1000)] },
      { labels: labelPairs(['__name__', 'up', 'job', 'x']), samples: [plainSample(0, 2000)] },
    ],
    metadata: [
      { type: MetricType.GAUGE, metricFamilyName: 'up', help: 'Whether the target is up.' },
      {
        type: MetricType.COUNTER,
        metricFamilyName: 'http_requests_total',
        help: 'Requests.\nWith a newline "and" quotes',
        unit: 'requests',
      },
      { metricFamilyName: 'bare' },
    ],
  };
  const body = b.finish();
  t.is(hex(body), hex(rw1.WriteRequest.encode(want).finish()));
  // finish() is idempotent until reset: metadata is not appended twice.
  t.is(hex(b.finish()), hex(body));
  const dec = decodeWriteRequest(body);
  t.deepEqual(dec.metadata, [
    { type: 2, metricFamilyName: 'up', help: 'Whether the target is up.', unit: '' },
    {
      type: 1,
      metricFamilyName: 'http_requests_total',
      help: 'Requests.\nWith a newline "and" quotes',
      unit: 'requests',
    },
    { type: 0, metricFamilyName: 'bare', help: '', unit: '' },
  ]);
});

test('stale markers survive to the decoder as raw bits; ordinary NaN is not stale', (t) => {
  const b = new WriteRequestBuilder();
  const block = encodeLabelsBlock(['__name__', 'gone']);
  b.addSample(block, NaN, true, 10);
  b.addSample(block, NaN, false, 20);
  b.addSample(block, 0, false, 30);
  const body = b.finish();
  const dec = decodeWriteRequest(body);
  t.deepEqual(
    dec.timeseries.map((s) => at(s.samples, 0, 's.samples').stale),
    [true, false, false],
  );
  const [stale, nan] = firstN(dec.timeseries, 2, 'series');
  t.true(Number.isNaN(at(stale.samples, 0, 'samples').value));
  t.true(Number.isNaN(at(nan.samples, 0, 'samples').value));
  // Go's stale bits, in wire (little-endian) order, appear exactly once.
  const staleLE = Buffer.from('020000000000f07f', 'hex');
  t.is(body.indexOf(staleLE), body.lastIndexOf(staleLE));
  t.true(body.indexOf(staleLE) > 0);
});

test('decodeWriteRequest agrees with protobufjs on labels, samples, exemplars and histograms', (t) => {
  const msg = {
    timeseries: [
      {
        labels: [
          { name: '__name__', value: 'h' },
          { name: 'a', value: 'b' },
        ],
        samples: [
          { value: 3.5, timestamp: -7 },
          { value: 4, timestamp: 1_700_000_000_000 },
        ],
        exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 0.25, timestamp: 12 }],
        histograms: [
          {
            countInt: 5,
            sum: 12.5,
            schema: -2,
            zeroThreshold: 1e-128,
            zeroCountInt: 1,
            negativeSpans: [{ offset: -1, length: 2 }],
            negativeDeltas: [1, -1],
            positiveSpans: [{ offset: 0, length: 3 }],
            positiveDeltas: [2, -1, 0],
            resetHint: 2,
            timestamp: 99,
          },
        ],
      },
    ],
  };
  const dec = decodeWriteRequest(rw1.WriteRequest.encode(msg).finish());
  t.is(dec.timeseries.length, 1);
  const ts = at(dec.timeseries, 0, 'dec.timeseries');
  t.deepEqual(ts.labels, at(msg.timeseries, 0, 'msg.timeseries').labels);
  t.deepEqual(ts.samples, [
    { value: 3.5, timestamp: -7, stale: false },
    { value: 4, timestamp: 1_700_000_000_000, stale: false },
  ]);
  t.deepEqual(ts.exemplars, at(msg.timeseries, 0, 'msg.timeseries').exemplars);
  t.like(ts.histograms[0], {
    countInt: 5,
    sum: 12.5,
    schema: -2,
    zeroCountInt: 1,
    negativeSpans: [{ offset: -1, length: 2 }],
    negativeDeltas: [1, -1],
    positiveDeltas: [2, -1, 0],
    resetHint: 2,
    timestamp: 99,
  });
});

test('decodeWriteRequest skips unknown fields and rejects malformed input with ProtoDecodeError', (t) => {
  const b = new WriteRequestBuilder();
  b.addSample(encodeLabelsBlock(['__name__', 'x']), 2, false, 5);
  const good = Buffer.from(b.finish());
  // Unknown field 15 (varint) and 9 (fixed32) around the request are ignored.
  const withUnknown = Buffer.concat([Buffer.from([0x78, 0x01]), good, Buffer.from([0x4d, 1, 2, 3, 4])]);
  const [series] = firstN(decodeWriteRequest(withUnknown).timeseries, 1, 'series');
  t.is(at(series.samples, 0, 'samples').value, 2);

  const bad: [string, Buffer][] = [
    ['truncated', good.subarray(0, good.length - 3)],
    ['length past end', Buffer.from([0x0a, 0x7f, 0x00])],
    ['zero padding (field 0)', Buffer.concat([good, Buffer.alloc(4)])],
    ['wrong wire type for timeseries', Buffer.from([0x08, 0x01])],
    ['group wire type', Buffer.from([0x0b])],
    [
      'overlong varint',
      Buffer.from([0x0a, 0x0d, 0x12, 0x0b, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ],
  ];
  for (const [name, body] of bad) {
    const err = t.throws(() => decodeWriteRequest(body), { instanceOf: ProtoDecodeError }, name);
    t.is(err?.code, 'proto_decode', name);
  }
});

test('reset() reuses the buffer and forgets the previous batch', (t) => {
  const b = new WriteRequestBuilder(4096);
  const block = encodeLabelsBlock(['__name__', 'm']);
  b.addSample(block, 1, false, 1);
  b.addMetadata(MetricType.GAUGE, 'm', 'help', '');
  const first = b.finish();
  t.throws(() => b.addSample(block, 1, false, 1), { instanceOf: EncoderStateError });
  b.reset();
  t.is(b.count, 0);
  t.is(b.finish().length, 0);
  b.reset();
  b.addSample(block, 2, false, 2);
  const second = b.finish();
  t.is(second.buffer, first.buffer, 'same backing store after reset');
  const dec = decodeWriteRequest(second);
  t.is(dec.timeseries.length, 1);
  t.is(dec.metadata.length, 0);
  t.is(at(at(dec.timeseries, 0, 'series').samples, 0, 'samples').value, 2);
});

test('buffer growth keeps every series intact', (t) => {
  const b = new WriteRequestBuilder(8);
  const blocks = Array.from({ length: 50 }, (_, i) =>
    encodeLabelsBlock(['__name__', 'g', 'i', String(i), 'pad', 'p'.repeat(i * 7)]),
  );
  for (let i = 0; i < 2000; i++) b.addSample(at(blocks, i % 50, 'blocks'), i, false, 1_700_000_000_000 + i);
  const dec = decodeWriteRequest(b.finish());
  t.is(dec.timeseries.length, 2000);
  for (let i = 0; i < 2000; i += 137) {
    const series = at(dec.timeseries, i, 'series');
    t.is(at(series.labels, 1, 'labels').value, String(i % 50));
    t.is(at(series.samples, 0, 'samples').value, i);
    t.is(at(series.samples, 0, 'samples').timestamp, 1_700_000_000_000 + i);
  }
});

test('int64VarintSize matches protobufjs for the edges', (t) => {
  for (const v of [1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 35, 2 ** 53 - 1, -1, -(2 ** 53)]) {
    const w = rw1.Sample.encode({ timestamp: v }).finish();
    t.is(int64VarintSize(v), w.length - 1, String(v));
  }
});

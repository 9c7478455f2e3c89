import test from 'ava';
import { EncoderStateError, WriteRequestV2Builder } from '../../src/remote/encoder.ts';
import { MetricType } from '../../src/remote/proto.ts';
import { decodeRequestV2, ProtoDecodeError, rw1, rw2 } from '../helpers/rw-proto.ts';
import { labelsFromRecord, type Labels } from '../../src/util/labels.ts';
import { at } from '../helpers/defined.ts';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

interface V2Sample {
  value?: number;
  timestamp?: number;
}
interface V2Series {
  labelsRefs: number[];
  samples: V2Sample[];
  metadata: { type?: number; helpRef?: number; unitRef?: number };
}

/** A reference encoding of the same calls, built as a plain message for protobufjs. */
class ReferenceV2 {
  symbols: string[] = [''];
  private index = new Map<string, number>([['', 0]]);
  timeseries: V2Series[] = [];

  ref(s: string): number {
    let r = this.index.get(s);
    if (r === undefined) {
      r = this.symbols.length;
      this.symbols.push(s);
      this.index.set(s, r);
    }
    return r;
  }

  add(labels: Labels, value: number, timestamp: number, type = 0, help = '', unit = ''): void {
    const labelsRefs = labels.map((s) => this.ref(s));
    const sample: V2Sample = {};
    if (value !== 0) sample.value = value;
    if (timestamp !== 0) sample.timestamp = timestamp;
    const metadata: V2Series['metadata'] = {};
    if (type !== 0) metadata.type = type;
    if (help !== '') metadata.helpRef = this.ref(help);
    if (unit !== '') metadata.unitRef = this.ref(unit);
    this.timeseries.push({ labelsRefs, samples: [sample], metadata });
  }

  encode(): Uint8Array {
    return rw2.Request.encode({ symbols: this.symbols, timeseries: this.timeseries }).finish();
  }
}

const SERIES: { labels: Labels; type: number; help: string; unit: string }[] = [
  {
    labels: labelsFromRecord({ __name__: 'up', job: 'node', instance: 'a:9100' }),
    type: MetricType.GAUGE,
    help: 'Up.',
    unit: '',
  },
  {
    labels: labelsFromRecord({ __name__: 'up', job: 'node', instance: 'b:9100' }),
    type: MetricType.GAUGE,
    help: 'Up.',
    unit: '',
  },
  {
    labels: labelsFromRecord({ __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'idle' }),
    type: MetricType.COUNTER,
    help: 'Seconds the CPUs spent in each mode.',
    unit: 'seconds',
  },
  { labels: labelsFromRecord({ __name__: 'no_meta', ünïcode: 'välue 🙂' }), type: 0, help: '', unit: '' },
];

test('RW2 builder is byte-identical to protobufjs for the same calls', (t) => {
  const b = new WriteRequestV2Builder(32);
  const ref = new ReferenceV2();
  const values = [1, 0, -2.5, Infinity, -Infinity, NaN, 1e-310];
  const timestamps = [1_700_000_000_000, 0, -5, 1];
  for (const s of SERIES) {
    for (const v of values) {
      for (const ts of timestamps) {
        b.addSample(s.labels, v, false, ts, s.type, s.help, s.unit);
        ref.add(s.labels, v, ts, s.type, s.help, s.unit);
      }
    }
  }
  t.is(hex(b.finish()), hex(ref.encode()));
  t.is(b.count, SERIES.length * values.length * timestamps.length);
  t.is(b.symbolCount, ref.symbols.length);
});

test('known bytes: one RW2 sample with empty metadata', (t) => {
  const b = new WriteRequestV2Builder();
  b.addSample(['__name__', 'up'], 1, false, 1000);
  const expected =
    '2200' + // symbols[0] = ""
    '2208' +
    hex(Buffer.from('__name__')) + // symbols[1]
    '2202' +
    hex(Buffer.from('up')) + // symbols[2]
    '2a14' + // timeseries, 20 bytes
    '0a020102' + // labels_refs packed [1, 2]
    '120c' +
    '09000000000000f03f' +
    '10e807' + // Sample{1.0, 1000}
    '2a00'; // metadata: always present, even empty, as Go marshals it
  t.is(hex(b.finish()), expected);
});

test('RW2 symbol table: "" first, deduplicated, refs in range, help/unit symbolised', (t) => {
  const b = new WriteRequestV2Builder();
  for (const s of SERIES) b.addSample(s.labels, 1, false, 1, s.type, s.help, s.unit);
  const s0 = at(SERIES, 0, 'SERIES');
  b.addSample(s0.labels, 2, false, 2, s0.type, s0.help, s0.unit);
  const req = decodeRequestV2(b.finish());
  t.is(req.symbols[0], '');
  t.is(new Set(req.symbols).size, req.symbols.length, 'no duplicate symbols');
  t.is(req.timeseries.length, SERIES.length + 1);
  for (const [i, ts] of req.timeseries.entries()) {
    const s = at(SERIES, i % SERIES.length, 'SERIES');
    t.deepEqual(
      ts.labels.flatMap((l) => [l.name, l.value]),
      [...s.labels],
    );
    t.is(ts.labelsRefs.length % 2, 0);
    t.deepEqual(
      { type: ts.metadata.type, help: ts.metadata.help, unit: ts.metadata.unit },
      { type: s.type, help: s.help, unit: s.unit },
    );
  }
  t.deepEqual(at(req.timeseries, 4, 'req.timeseries').samples, [
    { value: 2, timestamp: 2, stale: false, startTimestamp: 0 },
  ]);
});

test('RW2 stale marker keeps its bits; reset() starts a fresh symbol table', (t) => {
  const b = new WriteRequestV2Builder();
  b.addSample(['__name__', 'gone'], NaN, true, 10);
  b.addSample(['__name__', 'nan'], NaN, false, 10);
  const body = b.finish();
  t.true(body.includes(Buffer.from('09020000000000f07f', 'hex')));
  const req = decodeRequestV2(body);
  t.deepEqual(
    req.timeseries.map((s) => at(s.samples, 0, 's.samples').stale),
    [true, false],
  );
  t.throws(() => b.addSample(['__name__', 'x'], 1, false, 1), { instanceOf: EncoderStateError });

  b.reset();
  t.is(b.symbolCount, 1);
  b.addSample(['__name__', 'other'], 3, false, 3);
  const again = decodeRequestV2(b.finish());
  t.deepEqual(again.symbols, ['', '__name__', 'other']);
});

test('an RW1 decoder sees an RW2 request as empty (reserved fields 1-3)', (t) => {
  const b = new WriteRequestV2Builder();
  b.addSample(['__name__', 'up'], 1, false, 1);
  const asV1 = rw1.WriteRequest.toObject(rw1.WriteRequest.decode(b.finish()), { arrays: true });
  t.deepEqual(asV1.timeseries, []);
});

test('decodeRequestV2 rejects refs out of range and odd labels_refs', (t) => {
  const outOfRange = rw2.Request.encode({
    symbols: ['', 'a'],
    timeseries: [{ labelsRefs: [1, 5], metadata: {} }],
  }).finish();
  t.throws(() => decodeRequestV2(outOfRange), { instanceOf: ProtoDecodeError, message: /out of range/ });
  const odd = rw2.Request.encode({ symbols: ['', 'a'], timeseries: [{ labelsRefs: [1], metadata: {} }] }).finish();
  t.throws(() => decodeRequestV2(odd), { instanceOf: ProtoDecodeError, message: /odd/ });
  const badHelp = rw2.Request.encode({
    symbols: ['', 'a'],
    timeseries: [{ labelsRefs: [1, 1], metadata: { helpRef: 9 } }],
  }).finish();
  t.throws(() => decodeRequestV2(badHelp), { instanceOf: ProtoDecodeError });
});

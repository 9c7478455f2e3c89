import test from 'ava';
import { writeHistogramBody, WriteRequestBuilder } from '../../src/remote/encoder.ts';
import {
  decodeRequestV2,
  decodeWriteRequest,
  rw1,
  type DecodedRequestV2,
  type DecodedTimeSeries,
  type DecodedWriteRequest,
} from '../helpers/rw-proto.ts';
import { ByteWriter } from '../../src/util/bytes.ts';
import type { Histogram } from '../../src/storage/histogram.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { floatHistogram, intHistogram, rwYaml, startWalRemote, T0 } from './wal-fixture.ts';
import { at } from '../helpers/defined.ts';

const P = 'prometheus_remote_storage_';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** The message protobufjs should write for h, with Go's proto3 zero-omission (oneofs always set). */
function plainHistogram(h: Histogram, float: boolean, timestamp: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (float) o.countFloat = h.count;
  else o.countInt = h.count;
  if (h.sum !== 0) o.sum = h.sum;
  if (h.schema !== 0) o.schema = h.schema;
  if (h.zeroThreshold !== 0) o.zeroThreshold = h.zeroThreshold;
  if (float) o.zeroCountFloat = h.zeroCount;
  else o.zeroCountInt = h.zeroCount;
  const spans = (ss: Histogram['positiveSpans']) =>
    ss.map((s) => {
      const x: Record<string, number> = {};
      if (s.offset !== 0) x.offset = s.offset;
      if (s.length !== 0) x.length = s.length;
      return x;
    });
  o.negativeSpans = spans(h.negativeSpans);
  o[float ? 'negativeCounts' : 'negativeDeltas'] = h.negativeBuckets;
  o.positiveSpans = spans(h.positiveSpans);
  o[float ? 'positiveCounts' : 'positiveDeltas'] = h.positiveBuckets;
  if (h.counterResetHint !== 0) o.resetHint = h.counterResetHint;
  if (timestamp !== 0) o.timestamp = timestamp;
  if (h.customValues && h.customValues.length > 0) o.customValues = h.customValues;
  return o;
}

const BODY_CASES: { name: string; h: Histogram; float: boolean; t: number }[] = [
  { name: 'integer, both bucket sides', h: intHistogram(), float: false, t: T0 },
  {
    name: 'integer, all zero (oneofs still written)',
    h: intHistogram({
      count: 0,
      zeroCount: 0,
      sum: 0,
      schema: 0,
      zeroThreshold: 0,
      counterResetHint: 0,
      positiveSpans: [],
      negativeSpans: [],
      positiveBuckets: [],
      negativeBuckets: [],
    }),
    float: false,
    t: 0,
  },
  {
    name: 'integer, negative deltas and big counts',
    h: intHistogram({
      count: 2 ** 40,
      positiveSpans: [{ offset: 0, length: 3 }],
      positiveBuckets: [5, -3, -2],
      schema: -4,
    }),
    float: false,
    t: 1,
  },
  { name: 'float, gauge hint', h: floatHistogram(), float: true, t: T0 + 15 },
  { name: 'float, zero counts still written', h: floatHistogram({ count: 0, zeroCount: 0 }), float: true, t: -5 },
  {
    name: 'custom buckets',
    h: intHistogram({
      schema: -53,
      positiveSpans: [{ offset: 0, length: 2 }],
      negativeSpans: [],
      negativeBuckets: [],
      customValues: [0.5, 1, 2.5],
    }),
    float: false,
    t: T0,
  },
];

for (const c of BODY_CASES) {
  test(`Histogram body is byte-identical to protobufjs: ${c.name}`, (t) => {
    const w = new ByteWriter(16);
    writeHistogramBody(w, c.h, c.float, c.t);
    t.is(hex(w.view()), hex(rw1.Histogram.encode(plainHistogram(c.h, c.float, c.t)).finish()));
  });
}

test('a stale histogram keeps the stale marker bits in sum', (t) => {
  const w = new ByteWriter(16);
  writeHistogramBody(w, intHistogram({ staleSum: true, sum: NaN }), false, T0);
  // Field 3 (fixed64) followed by 0x7ff0000000000002 little-endian.
  t.true(hex(w.view()).includes('19' + '020000000000f07f'));
});

test('RW1 builder: an exemplar and a histogram each get their own TimeSeries with the series labels', (t) => {
  const b = new WriteRequestBuilder(16);
  const block = Buffer.from(rw1.TimeSeries.encode({ labels: [{ name: '__name__', value: 'x' }] }).finish());
  b.addSample(block, 1, false, 10);
  b.addExemplarFrom(block, 0, block.length, ['trace_id', 'abc'], 2, 11);
  b.addHistogramFrom(block, 0, block.length, intHistogram(), false, 12);
  const want = rw1.WriteRequest.encode({
    timeseries: [
      { labels: [{ name: '__name__', value: 'x' }], samples: [{ value: 1, timestamp: 10 }] },
      {
        labels: [{ name: '__name__', value: 'x' }],
        exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 2, timestamp: 11 }],
      },
      { labels: [{ name: '__name__', value: 'x' }], histograms: [plainHistogram(intHistogram(), false, 12)] },
    ],
  }).finish();
  t.is(hex(b.finish()), hex(want));
  t.is(b.sampleCount, 1);
  t.is(b.exemplarCount, 1);
  t.is(b.histogramCount, 1);
  t.is(b.count, 3);
});

function rw1Series(rx: RwReceiver): DecodedTimeSeries[] {
  return rx.requests.filter((r) => r.protocol === 'rw1').flatMap((r) => (r.decoded as DecodedWriteRequest).timeseries);
}

function rw2Requests(rx: RwReceiver): DecodedRequestV2[] {
  return rx.requests.filter((r) => r.protocol === 'rw2').map((r) => r.decoded as DecodedRequestV2);
}

function labelsOf(ts: { labels: { name: string; value: string }[] }): Record<string, string> {
  return Object.fromEntries(ts.labels.map((l) => [l.name, l.value]));
}

test('RW1: integer and float histograms from WAL records 7 and 8 arrive decoded exactly', async (t) => {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(rwYaml(rx.url, '    send_native_histograms: true\n'));
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  w.series(1, { __name__: 'lat', job: 'j' });
  w.series(2, { __name__: 'flt', job: 'j' });
  w.series(3, { __name__: 'plain', job: 'j' });
  w.samples({ ref: 3, t: T0, v: 7 });
  w.histograms({ ref: 1, t: T0 + 1, h: intHistogram() });
  w.floatHistograms({ ref: 2, t: T0 + 2, h: floatHistogram() });
  await w.flush();
  await rx.waitFor(() => rw1Series(rx).length === 3, 10_000);
  const series = rw1Series(rx);
  const byName = new Map(series.map((s) => [labelsOf(s).__name__, s]));
  const lat = byName.get('lat');
  const flt = byName.get('flt');
  t.deepEqual(lat?.labels, [
    { name: '__name__', value: 'lat' },
    { name: 'job', value: 'j' },
    { name: 'site', value: 'edge1' },
  ]);
  t.deepEqual(lat?.samples, [], 'a histogram never shares a TimeSeries with samples');
  t.deepEqual(lat?.histograms, [
    {
      countInt: 10,
      sum: 12.5,
      schema: 1,
      zeroThreshold: 0.001,
      zeroCountInt: 4,
      negativeSpans: [{ offset: 3, length: 1 }],
      negativeDeltas: [1],
      negativeCounts: [],
      positiveSpans: [{ offset: -1, length: 2 }],
      positiveDeltas: [2, 1],
      positiveCounts: [],
      resetHint: 2,
      timestamp: T0 + 1,
      customValues: [],
    },
  ]);
  t.deepEqual(flt?.histograms, [
    {
      countFloat: 7.25,
      sum: -3.5,
      schema: 0,
      zeroThreshold: 0,
      zeroCountFloat: 0.5,
      negativeSpans: [],
      negativeDeltas: [],
      negativeCounts: [],
      positiveSpans: [
        { offset: 0, length: 1 },
        { offset: 2, length: 2 },
      ],
      positiveDeltas: [],
      positiveCounts: [1.5, 2.25, 3],
      resetHint: 3,
      timestamp: T0 + 2,
      customValues: [],
    },
  ]);
  t.deepEqual(byName.get('plain')?.samples, [{ value: 7, timestamp: T0, stale: false }]);
  t.is(await w.settled(P + 'histograms_total', 2), 2);
  t.is(await w.settled(P + 'samples_total', 1), 1);
  t.is(await w.metric(P + 'histograms_failed_total'), 0);
});

test('send_native_histograms off: histogram records are skipped, samples still flow', async (t) => {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(rwYaml(rx.url));
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  w.series(1, { __name__: 'lat' });
  w.histograms({ ref: 1, t: T0, h: intHistogram() });
  w.samples({ ref: 1, t: T0 + 1, v: 1 });
  await w.flush();
  await rx.waitFor((r) => r.samples().length === 1, 10_000);
  await new Promise((r) => setTimeout(r, 100));
  t.is(rw1Series(rx).length, 1);
  t.is(await w.settled(P + 'samples_total', 1), 1);
  t.is(await w.metric(P + 'histograms_total'), 0);
  t.is(await w.metric(P + 'histograms_dropped_total'), 0, 'not forwarded is not dropped');
});

test('RW1 drops custom-bucket histograms (nhcb_in_rw1_not_supported); RW2 sends them with custom_values', async (t) => {
  const nhcb = intHistogram({
    schema: -53,
    positiveSpans: [{ offset: 0, length: 2 }],
    negativeSpans: [],
    negativeBuckets: [],
    customValues: [0.5, 1],
  });
  for (const v2 of [false, true]) {
    const rx = await RwReceiver.start();
    const extra =
      '    send_native_histograms: true\n' + (v2 ? '    protobuf_message: io.prometheus.write.v2.Request\n' : '');
    const w = await startWalRemote(rwYaml(rx.url, extra));
    t.teardown(async () => {
      await w.stop();
      await rx.close();
    });
    w.series(1, { __name__: 'nh' });
    w.histograms({ ref: 1, t: T0, h: nhcb }, { ref: 1, t: T0 + 1, h: intHistogram() });
    await w.flush();
    await rx.waitFor((r) => r.requests.length > 0, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    if (v2) {
      const hs = rw2Requests(rx).flatMap((r) => r.timeseries.flatMap((ts) => ts.histograms));
      // The agent's WAL keeps custom-bucket histograms in their own record (9), after record 7.
      t.deepEqual(
        hs.map((h) => [h.schema, h.customValues]),
        [
          [1, []],
          [-53, [0.5, 1]],
        ],
      );
      t.is(await w.settled(P + 'histograms_total', 2), 2);
    } else {
      const hs = rw1Series(rx).flatMap((ts) => ts.histograms);
      t.deepEqual(
        hs.map((h) => h.timestamp),
        [T0 + 1],
      );
      t.is(await w.metric(P + 'histograms_dropped_total', { reason: 'nhcb_in_rw1_not_supported' }), 1);
      t.is(await w.settled(P + 'histograms_total', 1), 1);
    }
  }
});

test('RW2: histograms go in their own TimeSeries (field 3) with resolvable label refs and empty metadata', async (t) => {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(
    rwYaml(rx.url, '    send_native_histograms: true\n    protobuf_message: io.prometheus.write.v2.Request\n'),
  );
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  w.series(1, { __name__: 'lat', job: 'j' });
  w.samples({ ref: 1, t: T0, v: 3 });
  w.floatHistograms({ ref: 1, t: T0 + 1, h: floatHistogram() });
  await w.flush();
  await rx.waitFor(() => rw2Requests(rx).flatMap((r) => r.timeseries).length === 2, 10_000);
  const ts = rw2Requests(rx).flatMap((r) => r.timeseries);
  for (const s of ts) {
    t.deepEqual(s.labels, [
      { name: '__name__', value: 'lat' },
      { name: 'job', value: 'j' },
      { name: 'site', value: 'edge1' },
    ]);
    t.deepEqual(s.metadata, { type: 0, helpRef: 0, unitRef: 0, help: '', unit: '' });
    t.true(s.samples.length === 0 || s.histograms.length === 0, 'samples and histograms never share a TimeSeries');
  }
  t.deepEqual(at(ts, 0, 'ts').samples, [{ value: 3, timestamp: T0, stale: false, startTimestamp: 0 }]);
  t.is(at(ts, 1, 'ts').histograms.length, 1);
  const h = at(at(ts, 1, 'ts').histograms, 0, 'ts[1].histograms');
  t.is(h.countFloat, 7.25);
  t.deepEqual(h.positiveCounts, [1.5, 2.25, 3]);
  t.is(h.timestamp, T0 + 1);
  t.is(h.startTimestamp ?? 0, 0, 'no created timestamps in the WAL: start_timestamp stays unset');
  const hdr = at(rx.requests, 0, 'rx.requests').headers;
  t.is(hdr['x-prometheus-remote-write-version'], '2.0.0');
  t.is(hdr['content-type'], 'application/x-protobuf;proto=io.prometheus.write.v2.Request');
});

test('an RW1 histogram request reads as an empty RW2 request (fields 1-3 are reserved there)', (t) => {
  // So a receiver that ignores Content-Type sees nothing: the case the written-count headers catch.
  const b = new WriteRequestBuilder(16);
  b.addHistogramFrom(Buffer.alloc(0), 0, 0, intHistogram(), false, 1);
  const v1 = decodeWriteRequest(b.finish());
  t.is(at(v1.timeseries, 0, 'v1.timeseries').histograms.length, 1);
  const asV2 = decodeRequestV2(b.finish());
  t.deepEqual(asV2.timeseries, []);
});

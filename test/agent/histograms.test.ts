import test from 'ava';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../../src/agent/metrics.ts';
import { SampleKind } from '../../src/agent/series-table.ts';
import { AgentStorage } from '../../src/agent/storage.ts';
import { WalTruncator } from '../../src/agent/truncate.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import {
  CounterResetHint,
  CUSTOM_BUCKETS_SCHEMA,
  InvalidHistogramError,
  type Histogram,
} from '../../src/storage/histogram.ts';
import { labelsFromRecord } from '../../src/util/labels.ts';
import { replayWal } from '../../src/wal/reader.ts';
import { at } from '../helpers/defined.ts';
import {
  RecordType,
  SampleBatch,
  decodeFloatHistogramSamples,
  decodeHistogramSamples,
  decodeSamples,
  decodeSeries,
  recordType,
  type RefHistogramSample,
} from '../../src/wal/records.ts';
import { listSegments } from '../../src/wal/segments.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { rmrf, tmpDir } from '../helpers/agent-parts.ts';

const T0 = 1_700_000_000_000;

function intHist(over: Partial<Histogram> = {}): Histogram {
  return {
    counterResetHint: 0,
    schema: 1,
    zeroThreshold: 0.001,
    zeroCount: 1,
    count: 6,
    sum: 12.5,
    positiveSpans: [
      { offset: 0, length: 2 },
      { offset: 3, length: 1 },
    ],
    negativeSpans: [{ offset: -1, length: 1 }],
    positiveBuckets: [1, 1, -1],
    negativeBuckets: [1],
    ...over,
  };
}

function floatHist(over: Partial<Histogram> = {}): Histogram {
  return {
    counterResetHint: CounterResetHint.gauge,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0.5,
    count: 4.5,
    sum: -3.25,
    positiveSpans: [{ offset: 2, length: 2 }],
    negativeSpans: [],
    positiveBuckets: [1.5, 2.5],
    negativeBuckets: [],
    ...over,
  };
}

function nhcb(over: Partial<Histogram> = {}): Histogram {
  return {
    counterResetHint: 0,
    schema: CUSTOM_BUCKETS_SCHEMA,
    zeroThreshold: 0,
    zeroCount: 0,
    count: 5,
    sum: 3,
    positiveSpans: [{ offset: 0, length: 3 }],
    negativeSpans: [],
    positiveBuckets: [2, -1, 1],
    negativeBuckets: [],
    customValues: [0.1, 1, 10],
    ...over,
  };
}

interface WalRead {
  types: number[];
  series: Map<number, Record<string, string>>;
  hists: RefHistogramSample[];
  floatHists: RefHistogramSample[];
  samples: { ref: number; t: number; stale: boolean }[];
}

async function readWal(walDir: string): Promise<WalRead> {
  const out: WalRead = { types: [], series: new Map(), hists: [], floatHists: [], samples: [] };
  const batch = new SampleBatch();
  await replayWal(walDir, (rec) => {
    const type = recordType(rec);
    out.types.push(type);
    if (type === RecordType.Series)
      decodeSeries(rec, (ref, ls) => {
        const o: Record<string, string> = {};
        for (let i = 0; i < ls.length; i += 2) o[at(ls, i, 'labels')] = at(ls, i + 1, 'labels');
        out.series.set(ref, o);
      });
    else if (type === RecordType.HistogramSamples || type === RecordType.CustomBucketsHistogramSamples)
      decodeHistogramSamples(rec, out.hists);
    else if (type === RecordType.FloatHistogramSamples || type === RecordType.CustomBucketsFloatHistogramSamples)
      decodeFloatHistogramSamples(rec, out.floatHists);
    else if (type === RecordType.Samples) {
      batch.reset();
      decodeSamples(rec, batch);
      for (let i = 0; i < batch.n; i++)
        out.samples.push({ ref: at(batch.refs, i, 'refs'), t: at(batch.ts, i, 'ts'), stale: batch.stale[i] === 1 });
    }
  });
  return out;
}

async function openStorage(dir: string, registry = new Registry()): Promise<AgentStorage> {
  const storage = new AgentStorage({
    dataDir: dir,
    wal: { segmentSize: 32768 * 4, compress: true },
    log: memoryLogger('error'),
    metrics: new AgentMetrics(registry),
  });
  await storage.open();
  return storage;
}

async function fixture(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await tmpDir('outpost-hist-');
  t.teardown(() => rmrf(dir));
  return dir;
}

test('commit logs series, samples, then histogram records 7, 9, 8, 10 as Prometheus agent does', async (t) => {
  const dir = await fixture(t);
  const registry = new Registry();
  const st = await openStorage(dir, registry);
  const app = st.appender();
  const a = app.ref(labelsFromRecord({ __name__: 'a' }));
  const b = app.ref(labelsFromRecord({ __name__: 'b' }));
  const c = app.ref(labelsFromRecord({ __name__: 'c' }));
  const d = app.ref(labelsFromRecord({ __name__: 'd' }));
  const e = app.ref(labelsFromRecord({ __name__: 'e' }));
  t.true(app.append(a, T0, 1));
  t.true(app.appendHistogram(b, T0, intHist(), false));
  t.true(app.appendHistogram(c, T0, nhcb(), false));
  t.true(app.appendHistogram(d, T0, floatHist(), true));
  t.true(app.appendHistogram(e, T0, nhcb({ positiveBuckets: [2, 1, 2] }), true));
  t.is(app.length, 5);
  await app.commit();
  await st.close();

  const wal = await readWal(st.walDir);
  t.deepEqual(wal.types, [
    RecordType.Series,
    RecordType.Samples,
    RecordType.HistogramSamples,
    RecordType.CustomBucketsHistogramSamples,
    RecordType.FloatHistogramSamples,
    RecordType.CustomBucketsFloatHistogramSamples,
  ]);
  t.deepEqual(
    wal.hists.map((h) => [h.ref, h.t, h.h]),
    [
      [b, T0, intHist()],
      [c, T0, nhcb()],
    ],
  );
  t.deepEqual(
    wal.floatHists.map((h) => [h.ref, h.t, h.h]),
    [
      [d, T0, floatHist()],
      [e, T0, nhcb({ positiveBuckets: [2, 1, 2] })],
    ],
  );
  const metrics = await registry.metrics();
  t.regex(metrics, /prometheus_agent_samples_appended_total\{type="histogram"\} 4/);
  t.regex(metrics, /prometheus_agent_samples_appended_total\{type="float"\} 1/);
  t.regex(metrics, /prometheus_remote_storage_histograms_in_total 4/);
  t.is(st.histogramsAppended, 4);
});

test('only custom-bucket histograms: no empty type-7 record, just record 9', async (t) => {
  const dir = await fixture(t);
  const st = await openStorage(dir);
  const app = st.appender();
  const c = app.ref(labelsFromRecord({ __name__: 'c' }));
  app.appendHistogram(c, T0, nhcb(), false);
  await app.commit();
  await st.close();
  const wal = await readWal(st.walDir);
  t.deepEqual(wal.types, [RecordType.Series, RecordType.CustomBucketsHistogramSamples]);
});

test('invalid histograms throw InvalidHistogramError; out-of-order ones are refused', async (t) => {
  const dir = await fixture(t);
  const registry = new Registry();
  const st = await openStorage(dir, registry);
  t.teardown(() => st.close());
  const app = st.appender();
  const r = app.ref(labelsFromRecord({ __name__: 'h' }));
  const bad: [string, Histogram, boolean, RegExp][] = [
    ['count mismatch', intHist({ count: 7 }), false, /6 observations found in buckets, but the Count field is 7/],
    ['spans vs buckets', intHist({ positiveBuckets: [1, 1] }), false, /positive side: spans need 3 buckets, have 2/],
    ['negative bucket', intHist({ positiveBuckets: [1, -2, 1] }), false, /bucket number 2 has observation count/],
    ['schema', intHist({ schema: 9 }), false, /invalid schema 9/],
    [
      'second span offset',
      floatHist({
        positiveSpans: [
          { offset: 0, length: 1 },
          { offset: -1, length: 1 },
        ],
      }),
      true,
      /offset -1/,
    ],
    ['nhcb bounds order', nhcb({ customValues: [1, 1, 10] }), false, /previous bound is 1 and current is 1/],
    ['nhcb +Inf bound', nhcb({ customValues: [0.1, 1, Infinity] }), false, /\+Inf bound/],
    ['nhcb too few bounds', nhcb({ customValues: [1] }), false, /insufficient to cover total span length of 3/],
    ['nhcb zero bucket', nhcb({ zeroCount: 1, count: 6 }), false, /zero count/],
    ['float negative count', floatHist({ count: -1 }), true, /observation count is -1/],
  ];
  for (const [what, h, float, msg] of bad) {
    const err = t.throws(() => app.appendHistogram(r, T0, h, float), { instanceOf: InvalidHistogramError }, what);
    t.regex(err?.message ?? '', msg, what);
    t.is((err as InvalidHistogramError | undefined)?.code, 'OUTPOST_HISTOGRAM_INVALID');
  }
  // A NaN sum lets count exceed the buckets (Prometheus allows it), an equal one never.
  t.true(app.appendHistogram(r, T0, intHist({ sum: NaN, count: 9 }), false));
  t.is(app.length, 1);
  await app.commit();
  t.false(app.appendHistogram(r, T0, intHist(), false), 'same timestamp again');
  t.false(app.append(r, T0 - 1, 1), 'a float sample older than the histogram');
  t.regex(await registry.metrics(), /prometheus_agent_out_of_order_samples_total 2/);
});

test('a stale marker of a histogram series is a histogram with the stale sum, also after a restart', async (t) => {
  const dir = await fixture(t);
  let st = await openStorage(dir);
  let app = st.appender();
  const hr = app.ref(labelsFromRecord({ __name__: 'h' }));
  const fr = app.ref(labelsFromRecord({ __name__: 'fh' }));
  const vr = app.ref(labelsFromRecord({ __name__: 'v' }));
  app.appendHistogram(hr, T0, intHist(), false);
  app.appendHistogram(fr, T0, floatHist(), true);
  app.append(vr, T0, 1);
  await app.commit();
  await st.close();

  // Replay restores which series hold histograms.
  st = await openStorage(dir);
  t.is(st.series.kind[hr], SampleKind.histogram);
  t.is(st.series.kind[fr], SampleKind.floatHistogram);
  t.is(st.series.kind[vr], SampleKind.float);
  t.is(st.series.lastTs[hr], T0);
  app = st.appender();
  t.true(app.appendStale(hr, T0 + 1000));
  t.true(app.appendStale(fr, T0 + 1000));
  t.true(app.appendStale(vr, T0 + 1000));
  await app.commit();
  await st.close();

  const wal = await readWal(st.walDir);
  const staleInt = wal.hists.filter((h) => h.t === T0 + 1000);
  const staleFloat = wal.floatHists.filter((h) => h.t === T0 + 1000);
  t.deepEqual(
    staleInt.map((h) => [h.ref, h.h.staleSum, Number.isNaN(h.h.sum), h.h.count]),
    [[hr, true, true, 0]],
  );
  t.deepEqual(
    staleFloat.map((h) => [h.ref, h.h.staleSum]),
    [[fr, true]],
  );
  t.deepEqual(
    wal.samples.filter((s) => s.t === T0 + 1000),
    [{ ref: vr, t: T0 + 1000, stale: true }],
  );
});

test('a series switching between floats and histograms gets the stale marker of its latest kind', async (t) => {
  const dir = await fixture(t);
  const st = await openStorage(dir);
  t.teardown(() => st.close());
  const app = st.appender();
  const r = app.ref(labelsFromRecord({ __name__: 'x' }));
  app.appendHistogram(r, T0, intHist(), false);
  await app.commit();
  t.is(st.series.kind[r], SampleKind.histogram);
  app.append(r, T0 + 1, 5);
  await app.commit();
  t.is(st.series.kind[r], SampleKind.float);
  app.appendStale(r, T0 + 2);
  await app.commit();
  const wal = await readWal(st.walDir);
  t.deepEqual(wal.samples.at(-1), { ref: r, t: T0 + 2, stale: true });
});

test('truncation keeps series that only have histograms, and replay after the checkpoint knows them', async (t) => {
  const dir = await fixture(t);
  const clock = new FakeClock(T0 + 60_000);
  let st = await openStorage(dir);
  const app = st.appender();
  const h = app.ref(labelsFromRecord({ __name__: 'only_hist', job: 'j' }));
  const old = app.ref(labelsFromRecord({ __name__: 'old_float' }));
  app.append(old, T0 - 3_600_000, 1);
  await app.commit();
  app.appendHistogram(h, T0, intHist(), false);
  await app.commit();
  const truncator = new WalTruncator({
    storage: st,
    clock,
    log: memoryLogger('error'),
    minTimeMs: 5 * 60_000,
    maxTimeMs: 4 * 3600_000,
    maxSizeBytes: 0,
    compress: true,
    lowestAcked: () => null,
    lowestSentTimestamp: () => null,
    segmentSizes: () => new Map(),
    onForcedDrop: () => undefined,
  });
  await truncator.truncate();
  t.is(truncator.truncations, 1);
  t.true(st.series.has(h), 'the histogram series is younger than the cut-off');
  t.false(st.series.has(old), 'the float series is older than the cut-off');
  await st.close();

  const range = await listSegments(st.walDir);
  t.truthy(range);
  st = await openStorage(dir);
  t.teardown(() => st.close());
  t.deepEqual(st.series.labels(h), ['__name__', 'only_hist', 'job', 'j']);
  t.false(st.series.has(old));
});

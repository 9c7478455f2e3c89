import test from 'ava';
import type { Histogram } from '../../src/storage/histogram.ts';
import { at } from '../helpers/defined.ts';
import { RecordingAppender } from '../helpers/recording-appender.ts';
import { encodeFamilies, PROTOBUF_CONTENT_TYPE, type MetricFamilyObject } from '../helpers/metrics-proto.ts';
import { loopCounters, metricsServer, newLoop } from '../helpers/scrape-loop.ts';
import { NATIVE } from '../fixtures/protobuf/corpus.ts';

const T0 = 1_700_000_000_000;

function nativeFamily(name: string, buckets: number[], schema = 0): MetricFamilyObject {
  const deltas: number[] = [];
  let prev = 0;
  for (const b of buckets) {
    deltas.push(b - prev);
    prev = b;
  }
  const count = buckets.reduce((a, b) => a + b, 0);
  return {
    name,
    type: 'HISTOGRAM',
    metric: [
      {
        histogram: {
          sample_count: count,
          sample_sum: count * 1.5,
          schema,
          positive_span: [{ offset: 0, length: buckets.length }],
          positive_delta: deltas,
          exemplars: [{ label: [{ name: 'id', value: name }], value: 1, timestamp: { seconds: 1_699_999_999 } }],
        },
      },
    ],
  };
}

const gauge: MetricFamilyObject = { name: 'g', type: 'GAUGE', metric: [{ gauge: { value: 7 } }] };

function hist(a: RecordingAppender, name: string, t: number): Histogram | undefined {
  return a.named(name, t)[0]?.h;
}

test('a protobuf target: native histograms and floats are appended', async (t) => {
  const srv = await metricsServer(t);
  srv.set(200, encodeFamilies([gauge, nativeFamily('lat', [1, 2, 3])]), PROTOBUF_CONTENT_TYPE);
  const app = new RecordingAppender();
  const loop = newLoop(srv.url, { appender: app, options: { histograms: NATIVE } });
  await loop.scrape(T0);
  t.is(app.named('up', T0)[0]?.v, 1);
  t.is(app.named('g', T0)[0]?.v, 7);
  t.deepEqual(hist(app, 'lat', T0), {
    counterResetHint: 0,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    count: 6,
    sum: 9,
    positiveSpans: [{ offset: 0, length: 3 }],
    negativeSpans: [],
    positiveBuckets: [1, 1, 1],
    negativeBuckets: [],
  });
  t.is(app.named('lat', T0)[0]?.float, false);
  t.is(app.named('scrape_samples_scraped', T0)[0]?.v, 2, 'a native histogram counts as one sample');
  t.deepEqual(
    [loop.state.samples, loop.state.histograms, loop.state.series, loop.state.histogramSeries],
    [2, 1, 2, 1],
    'the targets view counts histograms apart',
  );
});

test('native histograms off (the default): the protobuf histogram is read as classic series', async (t) => {
  const srv = await metricsServer(t);
  const fam = nativeFamily('lat', [1, 2]);
  at(fam.metric as { histogram: Record<string, unknown> }[], 0, 'metric').histogram.bucket = [
    { upper_bound: 1, cumulative_count: 2 },
  ];
  srv.set(200, encodeFamilies([fam]), PROTOBUF_CONTENT_TYPE);
  const app = new RecordingAppender();
  await newLoop(srv.url, { appender: app }).scrape(T0);
  t.deepEqual(
    app
      .at(T0)
      .filter((s) => s.labels.__name__?.startsWith('lat'))
      .map((s) => [s.labels.__name__, s.labels.le, s.v]),
    [
      ['lat_count', undefined, 3],
      ['lat_sum', undefined, 4.5],
      ['lat_bucket', '1.0', 2],
      ['lat_bucket', '+Inf', 3],
    ],
  );
  t.false(app.at(T0).some((s) => s.h !== undefined));
});

test('a body that does not parse fails the scrape as a whole: up 0, nothing else ingested', async (t) => {
  const srv = await metricsServer(t);
  const good = encodeFamilies([gauge, nativeFamily('lat', [1, 2, 3])]);
  srv.set(200, good.subarray(0, good.length - 4), PROTOBUF_CONTENT_TYPE);
  const app = new RecordingAppender();
  const loop = newLoop(srv.url, { appender: app, options: { histograms: NATIVE } });
  await loop.scrape(T0);
  t.is(app.named('up', T0)[0]?.v, 0);
  t.deepEqual(
    app
      .at(T0)
      .map((s) => s.labels.__name__)
      .sort(),
    [
      'scrape_duration_seconds',
      'scrape_samples_post_metric_relabeling',
      'scrape_samples_scraped',
      'scrape_series_added',
      'up',
    ],
  );
  t.regex(loop.state.lastError, /insufficient length of buffer/);
});

test('a histogram series that disappears gets a histogram stale marker', async (t) => {
  const srv = await metricsServer(t);
  srv.set(200, encodeFamilies([gauge, nativeFamily('lat', [1])]), PROTOBUF_CONTENT_TYPE);
  const app = new RecordingAppender();
  const loop = newLoop(srv.url, { appender: app, options: { histograms: NATIVE } });
  await loop.scrape(T0);
  srv.set(200, encodeFamilies([gauge]));
  await loop.scrape(T0 + 1000);
  const stale = app.named('lat', T0 + 1000)[0];
  t.truthy(stale);
  t.true(stale?.stale);
  t.is(stale?.h?.staleSum, true);
  t.is(stale?.float, false);
});

test('native_histogram_bucket_limit reduces the schema until it fits; past -4 the scrape fails', async (t) => {
  const srv = await metricsServer(t);
  // Schema 2, buckets 0..7 (8 buckets, one observation each): schema 1 gives 4 and schema 0 gives 2 buckets.
  srv.set(200, encodeFamilies([nativeFamily('lat', [1, 1, 1, 1, 1, 1, 1, 1], 2)]), PROTOBUF_CONTENT_TYPE);
  const app = new RecordingAppender();
  const counters = loopCounters();
  const loop = newLoop(srv.url, {
    appender: app,
    counters,
    options: { histograms: NATIVE, nativeHistogramBucketLimit: 3 },
  });
  await loop.scrape(T0);
  const h = hist(app, 'lat', T0);
  // Indexes 0..7 at schema 2 map to ((i-1)>>2)+1 at schema 0: 0 -> 0, 1..4 -> 1, 5..7 -> 2.
  t.is(h?.schema, 0);
  t.deepEqual(h?.positiveSpans, [{ offset: 0, length: 3 }]);
  t.deepEqual(h?.positiveBuckets, [1, 3, -1]);
  t.is(counters.bucketLimitHit, 0);

  const failing = newLoop(srv.url, {
    appender: new RecordingAppender(),
    counters,
    options: { histograms: NATIVE, nativeHistogramBucketLimit: 3, nativeHistogramMaxSchema: 8 },
  });
  srv.set(
    200,
    encodeFamilies([
      nativeFamily(
        'lat',
        [
          1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        ],
        -3,
      ),
    ]),
  );
  await failing.scrape(T0);
  t.is(failing.state.health, 'down');
  t.regex(failing.state.lastError, /histogram bucket limit exceeded/);
  t.is(counters.bucketLimitHit, 1);
});

test('native_histogram_min_bucket_factor caps the schema (Prometheus pickSchema)', async (t) => {
  const srv = await metricsServer(t);
  srv.set(200, encodeFamilies([nativeFamily('lat', [1, 1, 1, 1], 3)]), PROTOBUF_CONTENT_TYPE);
  const app = new RecordingAppender();
  // A factor of 1.1 allows schema 2 at most (2^(2^-3) = 1.09 is finer than 1.1; 2^(2^-2) = 1.19 is not).
  const { maxSchemaForBucketFactor } = await import('../../src/scrape/histogram-limits.ts');
  t.is(maxSchemaForBucketFactor(1.1), 2);
  t.is(maxSchemaForBucketFactor(0), 8);
  t.is(maxSchemaForBucketFactor(2), 0);
  t.is(maxSchemaForBucketFactor(65536), -4);
  await newLoop(srv.url, { appender: app, options: { histograms: NATIVE, nativeHistogramMaxSchema: 2 } }).scrape(T0);
  const h = hist(app, 'lat', T0);
  // Schema 3 indexes 0..3 -> schema 2: 0 -> 0, 1..2 -> 1, 3 -> 2.
  t.is(h?.schema, 2);
  t.deepEqual(h?.positiveBuckets, [1, 1, -1]);
});

test('convert_classic_histograms_to_nhcb on a text target: one NHCB per scrape under one series, then its stale marker', async (t) => {
  const srv = await metricsServer(t);
  const text = (n: number) =>
    `# TYPE lat histogram\nlat_bucket{le="1"} ${n}\nlat_bucket{le="+Inf"} ${2 * n}\nlat_sum ${n}\nlat_count ${2 * n}\n` +
    '# TYPE g gauge\ng 1\n';
  srv.set(200, text(1), 'text/plain; version=0.0.4');
  const app = new RecordingAppender();
  const loop = newLoop(srv.url, {
    appender: app,
    options: { histograms: { ...NATIVE, ignoreNativeHistograms: true, convertClassicToNhcb: true } },
  });
  await loop.scrape(T0);
  srv.set(200, text(2));
  await loop.scrape(T0 + 1000);
  const lat = app.named('lat');
  t.deepEqual(
    lat.map((s) => [s.t, s.labels, s.h?.schema, s.h?.count, s.h?.positiveBuckets, s.h?.customValues]),
    [
      [T0, { __name__: 'lat', instance: 'host:1', job: 'job1' }, -53, 2, [1, 0], [1]],
      [T0 + 1000, { __name__: 'lat', instance: 'host:1', job: 'job1' }, -53, 4, [2, 0], [1]],
    ],
  );
  t.is(app.named('lat_bucket').length, 0, 'classic parts are not ingested');
  t.is(app.named('scrape_series_added', T0 + 1000)[0]?.v, 0, 'the second scrape found the NHCB in the cache');
  srv.set(200, '# TYPE g gauge\ng 1\n');
  await loop.scrape(T0 + 2000);
  const stale = app.named('lat', T0 + 2000)[0];
  t.is(stale?.h?.staleSum, true);
});

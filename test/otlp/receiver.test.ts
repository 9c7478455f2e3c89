/**
 * The receiver over HTTP with the agent's real storage: what a client gets back (OTLP full and partial
 * success, 400/413/415 with clear messages) and what lands in the WAL (through the same appender as
 * scraped samples). Bad input must be refused with its place named, without a crash and with bounded memory.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { Registry } from 'prom-client';
import { memoryLogger } from '../../src/log/logger.ts';
import { decodeJsonRequest } from '../../src/otlp/decode-json.ts';
import { DeltaToCumulative } from '../../src/otlp/delta.ts';
import { DEFAULT_DECODE_LIMITS } from '../../src/otlp/model.ts';
import { serveOtlp } from '../../src/otlp/http.ts';
import { OtlpReceiver } from '../../src/otlp/receiver.ts';
import { otlpSettings } from '../../src/otlp/settings.ts';
import { parseConfig } from '../../src/config/load.ts';
import { registerOtlpMetrics } from '../../src/otlp/metrics.ts';
import { labelsToString } from '../../src/util/labels.ts';
import {
  RecordType,
  SampleBatch,
  decodeHistogramSamples,
  decodeSamples,
  decodeSeries,
  recordType,
  type RefHistogramSample,
} from '../../src/wal/records.ts';
import { openStorage } from '../helpers/agent-parts.ts';
import { kv, nanos, oneResource, otlpJson, otlpProto, postOtlp, type OtlpJsonRequest } from '../helpers/otlp.ts';
import { tmpDir } from '../helpers/procs.ts';
import { readAll } from '../wal/helpers.ts';

const T = 1_700_000_000_000;

async function setup(
  t: ExecutionContext,
  yaml = '',
  nativeDelta = false,
  maxBodyBytes = 4 * 1024 * 1024,
  deltaToCumulative = false,
) {
  const dir = await tmpDir('outpost-otlp-');
  const registry = new Registry();
  const { storage } = await openStorage(
    dir,
    { segmentSize: 32768 * 64, compress: true },
    memoryLogger('warn'),
    registry,
  );
  const config = parseConfig(yaml, 'test.yml');
  const receiver = new OtlpReceiver({
    storage: {
      appender: () => storage.appender(),
      lastTimestamp: (ref) => storage.series.lastTs[ref] ?? -Infinity,
      writable: () => storage.writable,
    },
    settings: () => otlpSettings(config.otlp, nativeDelta),
    now: () => T + 60_000,
    deltaToCumulative: deltaToCumulative ? new DeltaToCumulative() : undefined,
  });
  registerOtlpMetrics(registry, receiver.counters);
  const server = http.createServer((req, res) => void serveOtlp(req, res, receiver, { maxBodyBytes }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/otlp/v1/metrics`;
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await storage.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  /** Every sample in the WAL as `{labels} t v`, in WAL order. */
  const wal = async (): Promise<string[]> => {
    await storage.flushWal();
    const { recs } = await readAll(storage.walDir);
    const series = new Map<number, string>();
    const out: string[] = [];
    for (const rec of recs) {
      const type = recordType(rec);
      if (type === RecordType.Series) decodeSeries(rec, (ref, ls) => series.set(ref, labelsToString(ls)));
      else if (type === RecordType.Samples) {
        const b = new SampleBatch();
        decodeSamples(rec, b);
        for (let i = 0; i < b.n; i++)
          out.push(`${series.get(b.refs[i] as number)} ${(b.ts[i] as number) - T} ${b.values[i]}`);
      } else if (type === RecordType.HistogramSamples || type === RecordType.CustomBucketsHistogramSamples) {
        const hs: RefHistogramSample[] = [];
        decodeHistogramSamples(rec, hs);
        for (const { ref, t, h } of hs)
          out.push(
            `${series.get(ref)} ${t - T} H schema=${h.schema} count=${h.count} sum=${h.staleSum ? 'stale' : h.sum} ` +
              `buckets=${JSON.stringify(h.positiveBuckets)}${h.customValues ? ` cv=${JSON.stringify(h.customValues)}` : ''}`,
          );
      }
    }
    return out;
  };
  return { url, receiver, storage, registry, wal };
}

const counter = (name: string, v: number, attrs: Record<string, string> = {}, t = T) =>
  oneResource({ 'service.name': 'app' }, [
    {
      name,
      sum: {
        aggregationTemporality: 2,
        isMonotonic: true,
        dataPoints: [{ attributes: kv(attrs), timeUnixNano: nanos(t), asDouble: v }],
      },
    },
  ]);

for (const [encoding, body] of [
  ['protobuf', otlpProto],
  ['json', otlpJson],
] as const)
  for (const gzip of [false, true])
    test(`full success over ${encoding}${gzip ? ' + gzip' : ''}: empty response, samples in the WAL`, async (t) => {
      const s = await setup(t);
      const r = await postOtlp(s.url, body(counter('jobs', 3, { k: 'v' })), { gzip });
      t.is(r.status, 200, r.body.toString());
      t.deepEqual(r.json, {}, 'no partial_success on full success');
      t.is(r.contentType, encoding === 'json' ? 'application/json' : 'application/x-protobuf');
      t.deepEqual(await s.wal(), ['{__name__="jobs_total", job="app", k="v"} 0 3']);
      t.is(s.receiver.counters.pointsReceived, 1);
    });

test('a retried request: every point rejected as duplicate, in partial_success', async (t) => {
  const s = await setup(t);
  const req = counter('jobs', 3);
  t.is((await postOtlp(s.url, otlpProto(req))).status, 200);
  const again = await postOtlp(s.url, otlpProto(req));
  t.is(again.status, 200);
  const ps = again.json.partialSuccess as { rejectedDataPoints: string; errorMessage: string };
  t.is(ps.rejectedDataPoints, '1');
  t.regex(ps.errorMessage, /^1 of 1 data points rejected: samples refused: 1 duplicate \(same series and timestamp/);
  t.regex(ps.errorMessage, /first: \{__name__="jobs_total", job="app"\} @1700000000000/);
  t.deepEqual(await s.wal(), ['{__name__="jobs_total", job="app"} 0 3'], 'stored once');
  t.is(s.receiver.counters.rejected.duplicate, 1);
  t.regex(await s.registry.metrics(), /outpost_otlp_samples_rejected_total\{reason="duplicate"\} 1/);
});

test('two requests of one resource at one timestamp: target_info is written once and nothing is reported', async (t) => {
  const s = await setup(t);
  const res = { 'service.name': 'app', 'host.name': 'h' };
  const g = (name: string) => ({ name, gauge: { dataPoints: [{ timeUnixNano: nanos(T), asDouble: 1 }] } });
  t.deepEqual((await postOtlp(s.url, otlpProto(oneResource(res, [g('a')])))).json, {});
  t.deepEqual((await postOtlp(s.url, otlpProto(oneResource(res, [g('b')])))).json, {});
  t.deepEqual(await s.wal(), [
    '{__name__="a", job="app"} 0 1',
    '{__name__="target_info", host_name="h", job="app"} 0 1',
    '{__name__="b", job="app"} 0 1',
  ]);
});

test('out-of-order points are refused and counted, in-order ones of the same request kept', async (t) => {
  const s = await setup(t);
  t.is((await postOtlp(s.url, otlpJson(counter('jobs', 5, {}, T + 1000)))).status, 200);
  const req = oneResource({ 'service.name': 'app' }, [
    {
      name: 'jobs',
      sum: {
        aggregationTemporality: 2,
        isMonotonic: true,
        dataPoints: [
          { timeUnixNano: nanos(T), asDouble: 4 },
          { timeUnixNano: nanos(T + 2000), asDouble: 6 },
          { timeUnixNano: nanos(T + 2000), asDouble: 7 },
        ],
      },
    },
  ]);
  const r = await postOtlp(s.url, otlpJson(req));
  const ps = r.json.partialSuccess as { rejectedDataPoints: string; errorMessage: string };
  t.is(ps.rejectedDataPoints, '2');
  t.regex(ps.errorMessage, /1 out of order \(older than the newest sample of their series\), 1 duplicate/);
  t.deepEqual(await s.wal(), [
    '{__name__="jobs_total", job="app"} 1000 5',
    '{__name__="jobs_total", job="app"} 2000 6',
  ]);
  t.is(s.receiver.counters.rejected.out_of_order, 1);
});

test('parallel requests are applied one at a time: every point is either stored once or reported', async (t) => {
  const s = await setup(t);
  const order = [7, 2, 9, 0, 5, 3, 8, 1, 6, 4, 5, 5];
  const replies = await Promise.all(order.map((k) => postOtlp(s.url, otlpProto(counter('par', k, {}, T + k * 1000)))));
  const rejected = replies.map((r) =>
    Number((r.json.partialSuccess as { rejectedDataPoints?: string } | undefined)?.rejectedDataPoints ?? 0),
  );
  const wal = (await s.wal()).map((l) => Number(l.split(' ')[2]));
  t.is(wal.length + rejected.reduce((a, b) => a + b, 0), order.length, 'stored + reported = sent');
  t.deepEqual(
    wal,
    [...wal].sort((a, b) => a - b),
    'what is stored is in time order',
  );
  t.is(new Set(wal).size, wal.length, 'nothing stored twice');
  t.is(s.receiver.counters.rejected.out_of_order + s.receiver.counters.rejected.duplicate, order.length - wal.length);
});

test('a delta sum is refused with a partial-success message; cumulative metrics of the request are kept', async (t) => {
  const s = await setup(t);
  const req = oneResource({ 'service.name': 'app' }, [
    {
      name: 'd',
      sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: nanos(T), asInt: '2' }] },
    },
    { name: 'g', gauge: { dataPoints: [{ timeUnixNano: nanos(T), asDouble: 1 }] } },
  ]);
  const r = await postOtlp(s.url, otlpProto(req));
  t.is(r.status, 200);
  const ps = r.json.partialSuccess as { rejectedDataPoints: string; errorMessage: string };
  t.is(ps.rejectedDataPoints, '1');
  t.regex(ps.errorMessage, /invalid temporality and type combination for metric "d".*otlp-native-delta-ingestion/);
  t.deepEqual(await s.wal(), ['{__name__="g", job="app"} 0 1']);
});

test('with otlp-native-delta-ingestion the delta sum is stored', async (t) => {
  const s = await setup(t, '', true);
  const req = oneResource({ 'service.name': 'app' }, [
    {
      name: 'd',
      sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: nanos(T), asInt: '2' }] },
    },
  ]);
  const r = await postOtlp(s.url, otlpProto(req));
  t.deepEqual([r.status, r.json], [200, {}]);
  t.deepEqual(await s.wal(), ['{__name__="d_total", job="app"} 0 2']);
});

test('otlp-deltatocumulative: delta sums and histograms are summed per stream; late points dropped and reported', async (t) => {
  const s = await setup(t, '', false, 4 * 1024 * 1024, true);
  const push = (t0: number, v: string, attrs: Record<string, string> = {}) =>
    postOtlp(
      s.url,
      otlpJson(
        oneResource({ 'service.name': 'app' }, [
          {
            name: 'd',
            sum: {
              aggregationTemporality: 1,
              isMonotonic: true,
              dataPoints: [{ timeUnixNano: nanos(T + t0), asInt: v, attributes: kv(attrs) }],
            },
          },
          {
            name: 'h',
            histogram: {
              aggregationTemporality: 1,
              dataPoints: [
                {
                  timeUnixNano: nanos(T + t0),
                  count: v,
                  sum: 1,
                  bucketCounts: [v, '0'],
                  explicitBounds: [1],
                  attributes: kv(attrs),
                },
              ],
            },
          },
        ]),
      ),
    );
  t.deepEqual((await push(0, '2')).json, {});
  t.deepEqual((await push(1000, '3')).json, {});
  t.deepEqual((await push(1000, '3', { other: 'stream' })).json, {}, 'another stream starts at its own delta');
  const late = await push(500, '7');
  const ps = late.json.partialSuccess as { rejectedDataPoints: string; errorMessage: string };
  t.is(ps.rejectedDataPoints, '2');
  t.regex(
    ps.errorMessage,
    /2 delta points not newer than their stream's last point dropped \(otlp-deltatocumulative\)/,
  );
  const wal = await s.wal();
  t.deepEqual(
    wal.filter((l) => l.startsWith('{__name__="d_total", job="app"}')),
    ['{__name__="d_total", job="app"} 0 2', '{__name__="d_total", job="app"} 1000 5'],
  );
  t.true(wal.includes('{__name__="d_total", job="app", other="stream"} 1000 3'));
  t.true(wal.includes('{__name__="h_bucket", job="app", le="+Inf"} 1000 5'));
  t.true(wal.includes('{__name__="h_sum", job="app"} 1000 2'));
});

test('the otlp: block of the config applies (translation_strategy)', async (t) => {
  const s = await setup(t, 'otlp:\n  translation_strategy: UnderscoreEscapingWithoutSuffixes\n');
  t.is((await postOtlp(s.url, otlpJson(counter('jobs.done', 1)))).status, 200);
  t.deepEqual(await s.wal(), ['{__name__="jobs_done", job="app"} 0 1']);
});

test('samples too far in the future are refused (Prometheus maxAheadTime, 10m)', async (t) => {
  const s = await setup(t);
  const r = await postOtlp(s.url, otlpJson(counter('jobs', 1, {}, T + 60_000 + 11 * 60_000)));
  t.regex((r.json.partialSuccess as { errorMessage: string }).errorMessage, /1 too far in the future/);
  t.deepEqual(await s.wal(), []);
});

test('exponential histograms become native histograms in the WAL; explicit ones with convert_histograms_to_nhcb', async (t) => {
  const s = await setup(t, 'otlp:\n  convert_histograms_to_nhcb: true\n');
  const req = oneResource({ 'service.name': 'app' }, [
    {
      name: 'exp',
      unit: 's',
      exponentialHistogram: {
        aggregationTemporality: 2,
        dataPoints: [
          { timeUnixNano: nanos(T), count: '3', sum: 4, scale: 1, positive: { offset: 0, bucketCounts: ['1', '2'] } },
          { timeUnixNano: nanos(T + 1000), flags: 1 },
        ],
      },
    },
    {
      name: 'cb',
      unit: '',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [{ timeUnixNano: nanos(T), count: '4', sum: 2, bucketCounts: ['1', '3'], explicitBounds: [0.5] }],
      },
    },
  ]);
  const r = await postOtlp(s.url, otlpProto(req));
  t.deepEqual([r.status, r.json], [200, {}]);
  t.deepEqual(await s.wal(), [
    '{__name__="exp_seconds", job="app"} 0 H schema=1 count=3 sum=4 buckets=[1,1]',
    '{__name__="exp_seconds", job="app"} 1000 H schema=0 count=0 sum=stale buckets=[]',
    '{__name__="cb", job="app"} 0 H schema=-53 count=4 sum=2 buckets=[1,2] cv=[0.5]',
  ]);
  t.is(s.receiver.counters.histogramsAppended, 3);
});

test('an exponential histogram Prometheus would not accept is refused with the reason', async (t) => {
  const s = await setup(t);
  const req = oneResource({ 'service.name': 'app' }, [
    {
      name: 'exp',
      exponentialHistogram: {
        aggregationTemporality: 2,
        dataPoints: [{ timeUnixNano: nanos(T), count: '1', scale: 0, positive: { offset: 0, bucketCounts: ['5'] } }],
      },
    },
  ]);
  const r = await postOtlp(s.url, otlpJson(req));
  const ps = r.json.partialSuccess as { rejectedDataPoints: string; errorMessage: string };
  t.is(ps.rejectedDataPoints, '1');
  t.regex(
    ps.errorMessage,
    /1 invalid native histograms.*invalid native histogram: .*\(\{__name__="exp", job="app"\}\)/,
  );
  t.deepEqual(await s.wal(), []);
});

test('the per-request sample limit refuses the points past it and says so', async (t) => {
  const s = await setup(t);
  const limited = new OtlpReceiver({
    storage: {
      appender: () => s.storage.appender(),
      lastTimestamp: (ref) => s.storage.series.lastTs[ref] ?? -Infinity,
      writable: () => s.storage.writable,
    },
    settings: () => otlpSettings(parseConfig('', 'x.yml').otlp, false),
    now: () => T,
    maxSamplesPerRequest: 3,
  });
  const points = [1, 2, 3, 4, 5].map((k) => ({
    timeUnixNano: nanos(T),
    asDouble: k,
    attributes: kv({ k: String(k) }),
  }));
  const req = decodeJsonRequest(
    otlpJson(oneResource({}, [{ name: 'g', gauge: { dataPoints: points } }])),
    DEFAULT_DECODE_LIMITS,
  );
  const r = await limited.ingest(req);
  t.is(r.rejectedPoints, 2);
  t.regex(r.message, /^2 of 5 data points rejected: samples refused: 2 over the per-request sample limit/);
  t.is((await s.wal()).length, 3);
});

// ---- bad input: clear errors, no crash, bounded memory ----

/** Status and message of a refused request (google.rpc.Status in the request's encoding). */
function refusal(r: { status: number; json: Record<string, unknown> }): [number, string] {
  return [r.status, String(r.json.message ?? '')];
}

test('truncated protobuf: 400 naming the place', async (t) => {
  const s = await setup(t);
  const full = otlpProto(counter('jobs', 3, { key: 'value' }));
  for (const cut of [5, 20, full.length - 3]) {
    const r = await postOtlp(s.url, full.subarray(0, cut));
    const [status, msg] = refusal(r);
    t.is(status, 400, `cut at ${cut}`);
    t.regex(msg, /^invalid protobuf at (the top level|resource_metrics\[0\]\S*): .*truncated/, msg);
  }
  t.is(s.receiver.counters.requestsFailed, 3);
  t.deepEqual(await s.wal(), []);
});

test('garbage bytes as protobuf: 400, no crash', async (t) => {
  const s = await setup(t);
  const r = await postOtlp(s.url, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
  t.is(r.status, 400);
  t.regex(String(r.json.message), /invalid protobuf/);
});

test('wrong types in JSON: 400 naming the field', async (t) => {
  const s = await setup(t);
  const cases: [unknown, RegExp][] = [
    [{ resourceMetrics: {} }, /resourceMetrics: expected an array, got an object/],
    [
      { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 5 }] }] }] },
      /resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[0\]\.name: expected a string, got number 5/,
    ],
    [
      {
        resourceMetrics: [
          { scopeMetrics: [{ metrics: [{ name: 'x', gauge: { dataPoints: [{ asDouble: 'many' }] } }] }] },
        ],
      },
      /gauge\.dataPoints\[0\]\.asDouble: expected a number, got the string "many"/,
    ],
    [
      {
        resourceMetrics: [
          { scopeMetrics: [{ metrics: [{ name: 'x', gauge: { dataPoints: [{ timeUnixNano: 1.5 }] } }] }] },
        ],
      },
      /timeUnixNano: expected a timestamp in nanoseconds/,
    ],
  ];
  for (const [body, re] of cases) {
    const r = await postOtlp(s.url, JSON.stringify(body));
    t.is(r.status, 400);
    t.regex(String(r.json.message), re);
  }
  const r = await postOtlp(s.url, '{"resourceMetrics": [');
  t.is(r.status, 400);
  t.regex(String(r.json.message), /^invalid OTLP\/JSON: /);
});

test('a protobuf field of the wrong wire type: 400 naming it', async (t) => {
  const s = await setup(t);
  // ExportMetricsServiceRequest { resource_metrics (1) { scope_metrics (2) { metrics (2) { name (1) as varint } } } }
  const metric = Buffer.from([0x08, 0x05]);
  const scope = Buffer.concat([Buffer.from([0x12, metric.length]), metric]);
  const rm = Buffer.concat([Buffer.from([0x12, scope.length]), scope]);
  const req = Buffer.concat([Buffer.from([0x0a, rm.length]), rm]);
  const r = await postOtlp(s.url, req);
  t.is(r.status, 400);
  t.is(
    String(r.json.message),
    'invalid protobuf at resource_metrics[0].scope_metrics[0].metrics[0]: name: wire type 0, expected 2',
  );
});

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * Memory kept after refused requests (after a full GC: nothing of theirs may stay), and the growth of the
 * process' peak RSS, which also holds the test's own copies of the bodies.
 */
function memoryGrowth(): () => { retained: number; peak: number } {
  gc();
  const before = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS * 1024;
  return () => {
    gc();
    const now = process.memoryUsage();
    return {
      retained: now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers,
      peak: process.resourceUsage().maxRSS * 1024 - peak,
    };
  };
}

test.serial('10 MB of attributes: 400 (one huge value) or 413 (over the body limit), memory bounded', async (t) => {
  const s = await setup(t);
  const big = otlpProto(
    oneResource({ 'service.name': 'app', blob: 'x'.repeat(3 * 1024 * 1024) }, [
      { name: 'g', gauge: { dataPoints: [{ timeUnixNano: nanos(T), asDouble: 1 }] } },
    ]),
  );
  const many: Record<string, string> = { 'service.name': 'app' };
  for (let i = 0; i < 600; i++) many[`attr.${i}`] = 'v'.repeat(100);
  const wideBody = otlpJson(oneResource(many, []));
  const tenBody = otlpProto(oneResource({ blob: 'y'.repeat(10 * 1024 * 1024) }, []));
  const growth = memoryGrowth();
  const one = await postOtlp(s.url, big);
  t.is(one.status, 400);
  t.is(
    String(one.json.message),
    'invalid protobuf at resource_metrics[0].resource.attributes[1].value: string_value is 3145728 bytes, more than the 65536 allowed',
  );
  const wide = await postOtlp(s.url, wideBody);
  t.is(wide.status, 400);
  t.regex(String(wide.json.message), /resourceMetrics\[0\]\.resource\.attributes: more than 512 attributes in one set/);
  const ten = await postOtlp(s.url, tenBody);
  t.is(ten.status, 413);
  t.regex(String(ten.json.message), /request body is larger than 4194304 bytes/);
  const g = growth();
  t.log(`retained ${(g.retained / 2 ** 20).toFixed(1)} MiB, peak RSS +${(g.peak / 2 ** 20).toFixed(1)} MiB`);
  t.true(g.retained < 16 * 1024 * 1024, `retained ${g.retained} bytes`);
  t.true(g.peak < 256 * 1024 * 1024, `peak RSS grew by ${g.peak} bytes`);
  t.deepEqual(await s.wal(), []);
});

test.serial('100k data points in one request: 413 with advice, decoding stops early', async (t) => {
  const s = await setup(t, '', false, 32 * 1024 * 1024);
  const points = Array.from({ length: 100_000 }, (_, i) => ({ timeUnixNano: nanos(T + i), asDouble: i }));
  const req: OtlpJsonRequest = oneResource({ 'service.name': 'app' }, [{ name: 'g', gauge: { dataPoints: points } }]);
  const bodies = [otlpProto(req), otlpJson(req)];
  const growth = memoryGrowth();
  for (const body of bodies) {
    const r = await postOtlp(s.url, body);
    t.is(r.status, 413);
    t.regex(String(r.json.message), /more than 50000 data points; send smaller batches/);
  }
  const g = growth();
  t.log(`retained ${(g.retained / 2 ** 20).toFixed(1)} MiB, peak RSS +${(g.peak / 2 ** 20).toFixed(1)} MiB`);
  t.true(g.retained < 16 * 1024 * 1024, `retained ${g.retained} bytes`);
  t.true(g.peak < 384 * 1024 * 1024, `peak RSS grew by ${g.peak} bytes`);
  t.deepEqual(await s.wal(), []);
});

test('OTLP/JSON bodies may hold a quarter of the protobuf limit (JSON is parsed whole before any limit applies)', async (t) => {
  const s = await setup(t);
  const body = otlpJson(oneResource({ 'service.name': 'app', blob: 'z'.repeat(60_000) }, []));
  const padded = body.replace('{', '{' + ' '.repeat(2 * 1024 * 1024));
  const r = await postOtlp(s.url, padded);
  t.is(r.status, 413);
  t.regex(String(r.json.message), /larger than 1048576 bytes; .*OTLP\/JSON bodies may hold a quarter/);
  t.is((await postOtlp(s.url, body)).status, 200, 'the same request without the padding is fine');
});

test('a gzip bomb is refused with 413 once it inflates past the limit', async (t) => {
  const s = await setup(t);
  const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
  const r = await postOtlp(s.url, bomb, { headers: { 'Content-Encoding': 'gzip' } });
  t.is(r.status, 413);
  t.regex(String(r.json.message), /larger than 4194304 bytes after gunzip/);
});

test('broken gzip: 400', async (t) => {
  const s = await setup(t);
  const r = await postOtlp(s.url, Buffer.from('not gzip'), { headers: { 'Content-Encoding': 'gzip' } });
  t.is(r.status, 400);
  t.regex(String(r.json.message), /^invalid gzip body/);
});

test('other media types and encodings: 415', async (t) => {
  const s = await setup(t);
  const plain = await postOtlp(s.url, 'jobs 1', { type: 'text/plain' });
  t.is(plain.status, 415);
  t.regex(
    plain.body.toString(),
    /unsupported Content-Type "text\/plain": send application\/x-protobuf or application\/json/,
  );
  const br = await postOtlp(s.url, otlpJson(counter('x', 1)), { headers: { 'Content-Encoding': 'br' } });
  t.is(br.status, 415);
  t.regex(String(br.json.message), /unsupported Content-Encoding "br"/);
});

test('self-metrics: 3.x names and Outpost counters', async (t) => {
  const s = await setup(t);
  const req = oneResource({ 'service.name': 'app' }, [
    { name: 'empty', gauge: { dataPoints: [] } },
    {
      name: 'g',
      gauge: { dataPoints: [{ timeUnixNano: nanos(T), asDouble: 1, attributes: kv({ 'a.b': '1', a_b: '2' }) }] },
    },
  ]);
  await postOtlp(s.url, otlpProto(req));
  const text = await s.registry.metrics();
  t.regex(text, /prometheus_api_otlp_translation_warnings_total\{category="empty_data_points"\} 1/);
  t.regex(text, /prometheus_api_otlp_translation_warnings_total\{category="label_name_collision"\} 1/);
  t.regex(text, /outpost_otlp_points_received_total 1/);
  t.regex(text, /outpost_otlp_samples_appended_total 1/);
  t.regex(text, /outpost_otlp_requests_total 1/);
});

test('status: points per second, last error and top resources', async (t) => {
  const s = await setup(t);
  await postOtlp(s.url, otlpJson(counter('a', 1)));
  await postOtlp(s.url, otlpJson(counter('a', 1)));
  const top = s.receiver.topResources();
  t.deepEqual(
    top.map((r) => [r.job, r.instance, r.points]),
    [['app', '', 2]],
  );
  t.regex(s.receiver.lastError, /duplicate/);
  t.true(s.receiver.pointsPerSecond(T + 60_000) > 0);
});

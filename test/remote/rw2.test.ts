import test from 'ava';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import type { SendResult, WireProtocol, WriteClient } from '../../src/remote/client.ts';
import { SymbolInterner, WriteRequestV2Builder } from '../../src/remote/encoder.ts';
import { RemoteMetrics } from '../../src/remote/metrics.ts';
import { decodeRequestV2, rw2, type DecodedRequestV2, type DecodedWriteRequest } from '../helpers/rw-proto.ts';
import { QueueManager } from '../../src/remote/queue-manager.ts';
import { snappyUncompress } from '../../src/remote/snappy.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import { runUntil } from '../helpers/virtual-time.ts';
import { labelsFromRecord } from '../../src/util/labels.ts';
import type { Histogram } from '../../src/storage/histogram.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { intHistogram, rwYaml, startWalRemote, T0 } from './wal-fixture.ts';
import { at, firstN } from '../helpers/defined.ts';

const P = 'prometheus_remote_storage_';
const V2 = '    protobuf_message: io.prometheus.write.v2.Request\n';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function histogramPlain(h: Histogram, timestamp: number): Record<string, unknown> {
  return {
    countInt: h.count,
    sum: h.sum,
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCountInt: h.zeroCount,
    negativeSpans: h.negativeSpans,
    negativeDeltas: h.negativeBuckets,
    positiveSpans: h.positiveSpans,
    positiveDeltas: h.positiveBuckets,
    resetHint: h.counterResetHint,
    timestamp,
  };
}

test('RW2 builder, interned path: samples, exemplars and histograms are byte-identical to protobufjs and share one symbol table', (t) => {
  const interner = new SymbolInterner();
  const a = interner.internLabels(labelsFromRecord({ __name__: 'up', instance: 'a:1', job: 'api' }));
  const b = interner.internLabels(labelsFromRecord({ __name__: 'lat', job: 'api' }));
  const h = intHistogram();
  const builder = new WriteRequestV2Builder(8);
  for (let round = 0; round < 2; round++) {
    // Second round: reset() must start an empty table although the typed-array stamps survive.
    builder.reset();
    builder.useInterner(interner);
    builder.addSeriesSample(b, 2, false, T0 + round);
    builder.addSeriesExemplar(a, ['trace_id', 'api'], 1.5, T0 + 1);
    builder.addSeriesHistogram(b, h, false, T0 + 2);
    // The string path sees the interned strings too: "up" must not get a second ref.
    builder.addSample(['__name__', 'up'], 0, false, T0 + 3);
    const want = rw2.Request.encode({
      symbols: ['', '__name__', 'lat', 'job', 'api', 'up', 'instance', 'a:1', 'trace_id'],
      timeseries: [
        { labelsRefs: [1, 2, 3, 4], samples: [{ value: 2, timestamp: T0 + round }], metadata: {} },
        {
          labelsRefs: [1, 5, 6, 7, 3, 4],
          exemplars: [{ labelsRefs: [8, 4], value: 1.5, timestamp: T0 + 1 }],
          metadata: {},
        },
        { labelsRefs: [1, 2, 3, 4], histograms: [histogramPlain(h, T0 + 2)], metadata: {} },
        { labelsRefs: [1, 5], samples: [{ timestamp: T0 + 3 }], metadata: {} },
      ],
    }).finish();
    t.is(hex(builder.finish()), hex(want), `round ${round}`);
    t.is(builder.count, 4);
    t.is(builder.exemplarCount, 1);
    t.is(builder.histogramCount, 1);
  }
});

function v2Requests(rx: RwReceiver): DecodedRequestV2[] {
  return rx.requests.filter((r) => r.protocol === 'rw2').map((r) => r.decoded as DecodedRequestV2);
}

test('RW2 endpoint: headers, "" at symbol 0, no duplicate or unused symbols, sorted labels, exact stale marker', async (t) => {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(rwYaml(rx.url, V2));
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  w.series(1, { __name__: 'up', job: 'node', instance: 'a:9100' });
  w.series(2, { __name__: 'up', job: 'node', instance: 'b:9100' });
  w.samples({ ref: 1, t: T0, v: 1 }, { ref: 2, t: T0, v: 0 }, { ref: 1, t: T0 + 1000, v: 0, stale: true });
  await w.flush();
  await rx.waitFor((r) => r.samples().length === 3, 10_000);
  t.is(rx.requests.length, 1);
  const r = at(rx.requests, 0, 'rx.requests');
  t.is(r.headers['content-type'], 'application/x-protobuf;proto=io.prometheus.write.v2.Request');
  t.is(r.headers['content-encoding'], 'snappy');
  t.is(r.headers['x-prometheus-remote-write-version'], '2.0.0');
  const req = r.decoded as DecodedRequestV2;
  t.is(req.symbols[0], '');
  t.is(new Set(req.symbols).size, req.symbols.length, 'no symbol twice');
  const used = new Set(req.timeseries.flatMap((ts) => ts.labelsRefs));
  t.deepEqual(
    [...used].sort((x, y) => x - y),
    req.symbols.map((_, i) => i).slice(1),
    'every symbol but "" is referenced',
  );
  t.deepEqual(
    req.timeseries.map((ts) => ({
      labels: ts.labels.map((l) => `${l.name}=${l.value}`).join(','),
      samples: ts.samples,
      md: ts.metadata.type,
    })),
    [
      {
        labels: '__name__=up,instance=a:9100,job=node,site=edge1',
        samples: [{ value: 1, timestamp: T0, stale: false, startTimestamp: 0 }],
        md: 0,
      },
      {
        labels: '__name__=up,instance=b:9100,job=node,site=edge1',
        samples: [{ value: 0, timestamp: T0, stale: false, startTimestamp: 0 }],
        md: 0,
      },
      {
        labels: '__name__=up,instance=a:9100,job=node,site=edge1',
        samples: [{ value: NaN, timestamp: T0 + 1000, stale: true, startTimestamp: 0 }],
        md: 0,
      },
    ],
  );
  t.is(await w.settled(P + 'samples_total', 3), 3);
  t.is(await w.metric(P + 'samples_failed_total'), 0);
});

test('RW2: every request carries its own symbol table', async (t) => {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(rwYaml(rx.url, V2));
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  w.series(1, { __name__: 'a', job: 'x' });
  w.samples({ ref: 1, t: T0, v: 1 });
  await w.flush();
  await rx.waitFor((r) => r.requests.length === 1, 10_000);
  w.series(2, { __name__: 'b', zone: 'z1' });
  w.samples({ ref: 2, t: T0, v: 1 });
  await w.flush();
  await rx.waitFor((r) => r.requests.length === 2, 10_000);
  const [first, second] = firstN(v2Requests(rx), 2, 'v2Requests(rx)');
  t.deepEqual(first.symbols, ['', '__name__', 'a', 'job', 'x', 'site', 'edge1']);
  t.deepEqual(second.symbols, ['', '__name__', 'b', 'site', 'edge1', 'zone', 'z1']);
});

test('415 to a 2.0 request: the same batch is re-sent as 1.0, and the endpoint stays on 1.0', async (t) => {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(rwYaml(rx.url, V2));
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  rx.plan({ status: 415, body: 'unsupported proto' });
  w.series(1, { __name__: 'up', job: 'node' });
  w.samples({ ref: 1, t: T0, v: 1 }, { ref: 1, t: T0 + 1, v: 2 });
  await w.flush();
  await rx.waitFor((r) => r.requests.length === 1, 10_000);
  t.is(at(rx.attempts, 0, 'rx.attempts').status, 415);
  t.is(at(rx.attempts, 0, 'rx.attempts').headers['x-prometheus-remote-write-version'], '2.0.0');
  const resent = at(rx.requests, 0, 'rx.requests');
  t.is(resent.protocol, 'rw1');
  t.is(resent.headers['x-prometheus-remote-write-version'], '0.1.0');
  t.is(resent.headers['content-type'], 'application/x-protobuf');
  t.deepEqual(
    resent.samples.map((s) => [s.labels, s.value, s.timestamp]),
    [
      [{ __name__: 'up', job: 'node', site: 'edge1' }, 1, T0],
      [{ __name__: 'up', job: 'node', site: 'edge1' }, 2, T0 + 1],
    ],
  );
  // Later batches go out as 1.0 straight away.
  w.samples({ ref: 1, t: T0 + 2, v: 3 });
  await w.flush();
  await rx.waitFor((r) => r.requests.length === 2, 10_000);
  t.is(at(rx.requests, 1, 'rx.requests').protocol, 'rw1');
  t.is(rx.attempts.length, 3, 'no further 2.0 attempt');
  t.is(w.log.lines.filter((l) => l.includes('falling back to 1.0')).length, 1);
  t.is(await w.metric(P + 'samples_failed_total'), 0, 'nothing was lost');
  t.is(await w.settled(P + 'samples_total', 5), 5, 'the 415 attempt counts like any attempt');
});

test('415 fallback drops custom-bucket histograms of the re-encoded batch (RW1 cannot carry them)', async (t) => {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(rwYaml(rx.url, V2 + '    send_native_histograms: true\n'));
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  rx.plan({ status: 415 });
  w.series(1, { __name__: 'nh' });
  w.samples({ ref: 1, t: T0, v: 1 });
  w.histograms({
    ref: 1,
    t: T0 + 1,
    h: intHistogram({ schema: -53, negativeSpans: [], negativeBuckets: [], customValues: [1, 2] }),
  });
  await w.flush();
  await rx.waitFor((r) => r.requests.length === 1, 10_000);
  const req = at(rx.requests, 0, 'rx.requests').decoded as DecodedWriteRequest;
  t.deepEqual(
    req.timeseries.map((ts) => [ts.samples.length, ts.histograms.length]),
    [[1, 0]],
  );
  t.is(await w.metric(P + 'histograms_dropped_total', { reason: 'nhcb_in_rw1_not_supported' }), 1);
  t.is(await w.metric(P + 'histograms_failed_total'), 0);
});

test('2xx without any written-count header to a 2.0 request: the batch counts as failed (Prometheus head), no fallback', async (t) => {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(rwYaml(rx.url, V2));
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  rx.plan({ status: 200, writtenHeaders: false });
  w.series(1, { __name__: 'up' });
  w.samples({ ref: 1, t: T0, v: 1 }, { ref: 1, t: T0 + 1, v: 1 });
  await w.flush();
  await rx.waitFor((r) => r.attempts.length === 1, 10_000);
  t.is(await w.settled(P + 'samples_failed_total', 2), 2);
  t.is(rx.attempts.length, 1, 'not retried');
  t.true(w.log.lines.some((l) => l.includes('PRW 2.0 response header statistics indicate 0 samples')));
  w.samples({ ref: 1, t: T0 + 2, v: 1 });
  await w.flush();
  await rx.waitFor((r) => r.requests.length === 2, 10_000);
  t.is(at(rx.requests, 1, 'rx.requests').protocol, 'rw2', 'still speaking 2.0');
  t.is(await w.settled(P + 'samples_total', 3), 3);
  t.is(await w.metric(P + 'samples_failed_total'), 2);
});

test('written-count headers below what was sent count the difference as failed (2.0, and 1.0 when present)', async (t) => {
  for (const v2 of [true, false]) {
    const rx = await RwReceiver.start();
    const w = await startWalRemote(rwYaml(rx.url, v2 ? V2 : ''));
    t.teardown(async () => {
      await w.stop();
      await rx.close();
    });
    rx.plan({ status: 204, headers: { 'X-Prometheus-Remote-Write-Samples-Written': '1' } });
    w.series(1, { __name__: 'up' });
    w.samples({ ref: 1, t: T0, v: 1 }, { ref: 1, t: T0 + 1, v: 1 }, { ref: 1, t: T0 + 2, v: 1 });
    await w.flush();
    await rx.waitFor((r) => r.requests.length === 1, 10_000);
    t.is(await w.settled(P + 'samples_failed_total', 2), 2, v2 ? 'RW2' : 'RW1');
    t.true(w.log.lines.some((l) => l.includes('investigation needed')));
  }
});

test('RW1 receiver without written-count headers: everything sent counts as written', async (t) => {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(rwYaml(rx.url));
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  w.series(1, { __name__: 'up' });
  w.samples({ ref: 1, t: T0, v: 1 }, { ref: 1, t: T0 + 1, v: 1 });
  await w.flush();
  await rx.waitFor((r) => r.requests.length === 1, 10_000);
  t.is(await w.settled(P + 'samples_total', 2), 2);
  t.is(await w.metric(P + 'samples_failed_total'), 0);
  t.is(at(rx.requests, 0, 'rx.requests').headers['x-prometheus-remote-write-version'], '0.1.0');
});

/** Keeps request bodies, answers as a 2.0 receiver. */
class V2Client implements WriteClient {
  bodies: { body: Uint8Array; protocol: WireProtocol }[] = [];
  async send(body: Uint8Array, _attempt: number, protocol: WireProtocol): Promise<SendResult> {
    this.bodies.push({ body: Uint8Array.from(body), protocol });
    const req = decodeRequestV2(snappyUncompress(body));
    return { kind: 'ok', written: { samples: req.timeseries.length, histograms: 0, exemplars: 0 } };
  }
  close(): void {}
}

test('series churn: the RW2 interner is renumbered from the live series and encoding stays right', async (t) => {
  const cfg = parseConfig(
    `remote_write:\n  - url: http://127.0.0.1:1/w\n${V2}    queue_config:\n      batch_send_deadline: 10ms\n`,
    't.yml',
  );
  const client = new V2Client();
  const clock = new FakeClock();
  const q = new QueueManager(at(cfg.remoteWrite, 0, 'cfg.remoteWrite'), client, {
    clock,
    random: seededRandom(1),
    log: memoryLogger('warn'),
    metrics: new RemoteMetrics(new Registry()),
    externalLabels: [],
    events: { onAcked: () => {} },
  });
  const n = 6000;
  for (let ref = 1; ref <= n; ref++) q.storeSeries(ref, labelsFromRecord({ __name__: 'churn', pod: `pod-${ref}` }));
  t.is(q.series.interner.size, n + 3);
  q.series.drop(Array.from({ length: n - 1 }, (_, i) => i + 1));
  t.is(q.series.interner.size, 4, "only the live series' strings remain");
  q.storeSeries(n + 1, labelsFromRecord({ __name__: 'new', pod: 'pod-new' }));
  q.start();
  const chunk = q.beginChunk({ segment: 0, offset: 1 });
  t.true(q.enqueue(n, T0, 1, false, chunk));
  t.true(q.enqueue(n + 1, T0, 2, false, chunk));
  q.endChunk();
  t.true(await runUntil(clock, q.stop(5000)));
  const got = client.bodies.flatMap((b) =>
    decodeRequestV2(snappyUncompress(b.body)).timeseries.map((ts) => ts.labels.map((l) => l.value).join(',')),
  );
  t.deepEqual(got, [`churn,pod-${n}`, 'new,pod-new']);
});

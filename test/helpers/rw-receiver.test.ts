import test from 'ava';
import { encodeLabelsBlock, WriteRequestBuilder, WriteRequestV2Builder } from '../../src/remote/encoder.ts';
import { MetricType, RW1_CONTENT_TYPE, RW1_VERSION, RW2_CONTENT_TYPE, RW2_VERSION } from '../../src/remote/proto.ts';
import { SnappyBlockCompressor } from '../../src/remote/snappy.ts';
import { RwReceiver } from './rw-receiver.ts';
import { at } from './defined.ts';

const snappy = new SnappyBlockCompressor();

function rw1Body(samples: { labels: string[]; value: number; ts: number; stale?: boolean }[]): Uint8Array {
  const b = new WriteRequestBuilder();
  for (const s of samples) b.addSample(encodeLabelsBlock(s.labels), s.value, s.stale ?? false, s.ts);
  return snappy.compress(b.finish());
}

const RW1_HEADERS = {
  'Content-Encoding': 'snappy',
  'Content-Type': RW1_CONTENT_TYPE,
  'X-Prometheus-Remote-Write-Version': RW1_VERSION,
  'User-Agent': 'Outpost/test',
};

async function push(url: string, body: Uint8Array, headers: Record<string, string> = RW1_HEADERS): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers });
}

function withReceiver(fn: (rx: RwReceiver, t: import('ava').ExecutionContext) => Promise<void>) {
  return async (t: import('ava').ExecutionContext) => {
    const rx = await RwReceiver.start();
    try {
      await fn(rx, t);
    } finally {
      await rx.close();
    }
  };
}

test(
  'decodes an RW1 push: labels, values, stale from raw bits, headers, 204 by default',
  withReceiver(async (rx, t) => {
    t.regex(rx.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write$/);
    const res = await push(
      rx.url,
      rw1Body([
        { labels: ['__name__', 'up', 'job', 'node'], value: 1, ts: 1000 },
        { labels: ['__name__', 'gone', 'job', 'node'], value: NaN, ts: 2000, stale: true },
        { labels: ['__name__', 'nan'], value: NaN, ts: 3000 },
        { labels: ['__name__', 'zero'], value: 0, ts: -5 },
      ]),
    );
    t.is(res.status, 204);
    t.is(rx.requests.length, 1);
    const req = at(rx.requests, 0, 'rx.requests');
    t.is(req.protocol, 'rw1');
    t.is(req.headers['content-encoding'], 'snappy');
    t.is(req.headers['x-prometheus-remote-write-version'], '0.1.0');
    t.is(req.headers['user-agent'], 'Outpost/test');
    t.deepEqual(rx.series('up'), [
      { labels: { __name__: 'up', job: 'node' }, value: 1, stale: false, timestamp: 1000 },
    ]);
    const gone = rx.series('gone');
    t.is(gone.length, 1);
    t.true(at(gone, 0, 'gone').stale);
    t.false(at(rx.series('nan'), 0, "rx.series('nan')").stale);
    t.true(Number.isNaN(at(rx.series('nan'), 0, "rx.series('nan')").value));
    t.deepEqual(rx.series('zero')[0], { labels: { __name__: 'zero' }, value: 0, stale: false, timestamp: -5 });
    t.is(rx.samples().length, 4);
    t.deepEqual(req.rawLabels[0], [
      { name: '__name__', value: 'up' },
      { name: 'job', value: 'node' },
    ]);
  }),
);

test(
  'RW1 metadata-only request is recorded',
  withReceiver(async (rx, t) => {
    const b = new WriteRequestBuilder();
    b.addMetadata(MetricType.COUNTER, 'http_requests_total', 'Requests.', '');
    const res = await push(rx.url, snappy.compress(b.finish()));
    t.is(res.status, 204);
    t.deepEqual(at(rx.requests, 0, 'rx.requests').metadata, [
      { type: MetricType.COUNTER, metricFamilyName: 'http_requests_total', help: 'Requests.', unit: '' },
    ]);
    t.is(rx.samples().length, 0);
  }),
);

test(
  'planned statuses are consumed one per request, then the default applies',
  withReceiver(async (rx, t) => {
    rx.plan({ status: 500, body: 'boom' }, { status: 429, headers: { 'Retry-After': '2' } }, { status: 400 });
    const body = rw1Body([{ labels: ['__name__', 'm'], value: 1, ts: 1 }]);
    const r1 = await push(rx.url, body);
    t.is(r1.status, 500);
    t.is(await r1.text(), 'boom');
    const r2 = await push(rx.url, body);
    t.is(r2.status, 429);
    t.is(r2.headers.get('retry-after'), '2');
    t.is((await push(rx.url, body)).status, 400);
    t.is(rx.pendingPlan, 0);
    t.is((await push(rx.url, body)).status, 204);
    rx.setDefault({ status: 200 });
    t.is((await push(rx.url, body)).status, 200);

    t.deepEqual(
      rx.attempts.map((a) => a.status),
      [500, 429, 400, 204, 200],
    );
    t.is(rx.requests.length, 2, 'only 2xx-answered requests count as accepted');
    t.is(rx.samples().length, 2);
  }),
);

test(
  'reset destroys the socket without an answer',
  withReceiver(async (rx, t) => {
    rx.plan({ reset: true });
    const body = rw1Body([{ labels: ['__name__', 'm'], value: 1, ts: 1 }]);
    await t.throwsAsync(push(rx.url, body));
    t.is(rx.attempts.length, 1);
    t.is(at(rx.attempts, 0, 'rx.attempts').status, 0);
    t.is(rx.requests.length, 0);
    t.is((await push(rx.url, body)).status, 204);
    t.is(rx.requests.length, 1);
  }),
);

test(
  'delayMs holds the response back',
  withReceiver(async (rx, t) => {
    rx.plan({ delayMs: 150, status: 200 });
    const body = rw1Body([{ labels: ['__name__', 'm'], value: 1, ts: 1 }]);
    const start = performance.now();
    const res = await push(rx.url, body);
    const took = performance.now() - start;
    t.is(res.status, 200);
    t.true(took >= 140, `took ${took.toFixed(0)} ms`);
    t.true(at(rx.requests, 0, 'rx.requests').at - at(rx.requests, 0, 'rx.requests').receivedAt >= 140);
  }),
);

test(
  'randomLatency is deterministic per seed and bounded; accepted order follows completion',
  withReceiver(async (rx, t) => {
    const delaysFor = async (seed: number): Promise<number[]> => {
      const other = await RwReceiver.start();
      try {
        other.randomLatency(30, seed);
        for (let i = 0; i < 6; i++)
          await push(other.url, rw1Body([{ labels: ['__name__', 'm'], value: i, ts: i + 1 }]));
        return other.attempts.map((a) => a.delayMs);
      } finally {
        await other.close();
      }
    };
    const a = await delaysFor(42);
    const b = await delaysFor(42);
    const c = await delaysFor(43);
    t.deepEqual(a, b);
    t.notDeepEqual(a, c);
    for (const d of [...a, ...c]) t.true(d >= 0 && d <= 30);

    // Concurrent pushes: a slow first request completes after a fast second one.
    rx.plan({ delayMs: 120 }, { delayMs: 0 });
    const slow = push(rx.url, rw1Body([{ labels: ['__name__', 'slow'], value: 1, ts: 1 }]));
    await rx.waitFor(() => rx.pendingPlan === 1, 2000);
    await push(rx.url, rw1Body([{ labels: ['__name__', 'fast'], value: 2, ts: 2 }]));
    await slow;
    t.deepEqual(
      rx.samples().map((s) => s.labels.__name__),
      ['fast', 'slow'],
    );
  }),
);

test(
  'RW2 push is decoded via the content type and answered with the written-count headers',
  withReceiver(async (rx, t) => {
    const b = new WriteRequestV2Builder();
    b.addSample(['__name__', 'up', 'job', 'node'], 1, false, 1000, MetricType.GAUGE, 'Up.', '');
    b.addSample(['__name__', 'gone'], NaN, true, 2000);
    const res = await push(rx.url, snappy.compress(b.finish()), {
      'Content-Encoding': 'snappy',
      'Content-Type': RW2_CONTENT_TYPE,
      'X-Prometheus-Remote-Write-Version': RW2_VERSION,
    });
    t.is(res.status, 204);
    t.is(res.headers.get('x-prometheus-remote-write-samples-written'), '2');
    t.is(res.headers.get('x-prometheus-remote-write-histograms-written'), '0');
    t.is(at(rx.requests, 0, 'rx.requests').protocol, 'rw2');
    t.deepEqual(rx.series('up'), [
      { labels: { __name__: 'up', job: 'node' }, value: 1, stale: false, timestamp: 1000 },
    ]);
    t.true(at(rx.series('gone'), 0, "rx.series('gone')").stale);
    t.deepEqual(at(rx.requests, 0, 'rx.requests').metadata, [
      { metricFamilyName: 'up', type: MetricType.GAUGE, help: 'Up.', unit: '' },
    ]);

    rx.plan({ writtenHeaders: false });
    const res2 = await push(rx.url, snappy.compress(b.finish()), {
      'Content-Encoding': 'snappy',
      'Content-Type': RW2_CONTENT_TYPE,
    });
    t.is(res2.headers.get('x-prometheus-remote-write-samples-written'), null);
  }),
);

test(
  'malformed bodies are answered 400/415 with the reason and not accepted',
  withReceiver(async (rx, t) => {
    const notSnappy = await push(rx.url, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    t.is(notSnappy.status, 400);
    t.regex(await notSnappy.text(), /snappy/);
    const notProto = await push(rx.url, snappy.compress(Buffer.from([0x0a, 0x7f, 0x01])));
    t.is(notProto.status, 400);
    const plain = await push(rx.url, rw1Body([{ labels: ['__name__', 'm'], value: 1, ts: 1 }]), {
      'Content-Type': RW1_CONTENT_TYPE,
    });
    t.is(plain.status, 415);
    // The default's status applies only to decodable requests; a queued plan always wins.
    rx.setDefault({ status: 500 });
    t.is((await push(rx.url, Buffer.from([0xff]))).status, 400);
    rx.plan({ status: 200 });
    t.is((await push(rx.url, Buffer.from([0xff]))).status, 200);
    t.is(rx.requests.length, 0);
    t.is(rx.attempts.length, 5);
    t.true(rx.attempts.every((a) => a.error !== undefined));
  }),
);

test(
  'waitFor resolves when the condition holds and rejects on timeout',
  withReceiver(async (rx, t) => {
    const waiting = rx.waitFor((r) => r.samples().length >= 3, 10_000);
    for (let i = 0; i < 3; i++) await push(rx.url, rw1Body([{ labels: ['__name__', 'm'], value: i, ts: i + 1 }]));
    await waiting;
    t.is(rx.samples().length, 3);
    await t.throwsAsync(
      rx.waitFor((r) => r.samples().length >= 100, 50),
      { message: /not met within 50 ms/ },
    );
  }),
);

test('close() ends a request that is still being delayed', async (t) => {
  const rx = await RwReceiver.start();
  rx.plan({ delayMs: 60_000 });
  const pending = push(rx.url, rw1Body([{ labels: ['__name__', 'm'], value: 1, ts: 1 }]));
  await rx.waitFor(() => rx.pendingPlan === 0, 2000);
  const start = performance.now();
  await rx.close();
  await t.throwsAsync(pending);
  t.true(performance.now() - start < 5000);
  t.is(rx.requests.length, 0);
});

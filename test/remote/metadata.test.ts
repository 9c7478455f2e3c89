import test from 'ava';
import type { DecodedWriteRequest } from '../helpers/rw-proto.ts';
import type { MetricMetadataEntry } from '../../src/storage/metadata.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { rwYaml, startWalRemote, T0 } from './wal-fixture.ts';
import { at } from '../helpers/defined.ts';

const P = 'prometheus_remote_storage_';

function metadataYaml(interval: string, perSend = 500, send = true): string {
  return `    metadata_config:\n      send: ${send}\n      send_interval: ${interval}\n      max_samples_per_send: ${perSend}\n`;
}

/** A source that hands out the given rounds one per call, then nothing; counts its calls. */
function rounds(...rs: MetricMetadataEntry[][]): { source: () => MetricMetadataEntry[]; calls: () => number } {
  let n = 0;
  return { source: () => rs[n++] ?? [], calls: () => n };
}

const ENTRIES: MetricMetadataEntry[] = [
  { metric: 'http_requests', type: 'counter', help: 'Requests served.', unit: '' },
  { metric: 'temp', type: 'gauge', help: 'Temperature\nwith a newline "and quotes".', unit: 'celsius' },
  { metric: 'http_requests', type: 'counter', help: 'Requests served.', unit: '' },
  { metric: 'lat', type: 'histogram', help: '', unit: 'seconds' },
  { metric: 'up', type: 'unknown', help: 'Up.', unit: '' },
];

function metadataRequests(rx: RwReceiver): DecodedWriteRequest[] {
  return rx.requests.map((r) => r.decoded as DecodedWriteRequest).filter((d) => d.metadata.length > 0);
}

test('RW1 metadata: de-duplicated, sent in chunks of max_samples_per_send as metadata-only requests', async (t) => {
  const rx = await RwReceiver.start();
  const r = rounds(ENTRIES);
  const w = await startWalRemote(rwYaml(rx.url, metadataYaml('100ms', 2)), { metadataSource: r.source });
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  await rx.waitFor(() => metadataRequests(rx).length === 2, 10_000);
  const reqs = metadataRequests(rx);
  t.deepEqual(at(reqs, 0, 'reqs').timeseries, []);
  t.deepEqual(
    reqs.map((q) => q.metadata),
    [
      [
        { type: 1, metricFamilyName: 'http_requests', help: 'Requests served.', unit: '' },
        { type: 2, metricFamilyName: 'temp', help: 'Temperature\nwith a newline "and quotes".', unit: 'celsius' },
      ],
      [
        { type: 3, metricFamilyName: 'lat', help: '', unit: 'seconds' },
        { type: 0, metricFamilyName: 'up', help: 'Up.', unit: '' },
      ],
    ],
  );
  for (const q of rx.requests) t.is(q.headers['x-prometheus-remote-write-version'], '0.1.0');
  t.is(await w.settled(P + 'metadata_total', 4), 4);
  t.is(
    await w.metric(P + 'metadata_bytes_total'),
    rx.requests.reduce((n, q) => n + q.bodyBytes, 0),
  );
  t.is(await w.metric(P + 'bytes_total'), 0, 'metadata bytes are not data bytes');
  t.is(await w.metric(P + 'samples_total'), 0);
});

test('metadata is sent one send_interval after start, not at start, and again every interval', async (t) => {
  const rx = await RwReceiver.start();
  const one: MetricMetadataEntry[] = [{ metric: 'm', type: 'gauge', help: 'h', unit: '' }];
  let calls = 0;
  const started = Date.now();
  const w = await startWalRemote(rwYaml(rx.url, metadataYaml('400ms')), {
    metadataSource: () => {
      calls++;
      return one;
    },
  });
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  await new Promise((r) => setTimeout(r, 200));
  t.is(calls, 0);
  await rx.waitFor((x) => x.requests.length === 2, 10_000);
  t.true(
    at(rx.requests, 0, 'rx.requests').at - started >= 390,
    `first send after one interval (${at(rx.requests, 0, 'rx.requests').at - started} ms)`,
  );
  t.true(at(rx.requests, 1, 'rx.requests').at - at(rx.requests, 0, 'rx.requests').at >= 300, 'then every interval');
});

test('metadata retries recoverable errors and counts a non-recoverable one as failed', async (t) => {
  const rx = await RwReceiver.start();
  const r = rounds([at(ENTRIES, 0, 'ENTRIES')], [at(ENTRIES, 1, 'ENTRIES'), at(ENTRIES, 3, 'ENTRIES')]);
  rx.plan({ status: 503 }, { status: 204 }, { status: 400 });
  const w = await startWalRemote(rwYaml(rx.url, metadataYaml('100ms')), { metadataSource: r.source });
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  await rx.waitFor((x) => x.attempts.length === 3, 10_000);
  t.is(await w.settled(P + 'metadata_failed_total', 2), 2);
  t.is(await w.metric(P + 'metadata_retried_total'), 1);
  t.is(await w.metric(P + 'metadata_total'), 1, 'counted once, on success');
  t.true(w.log.lines.some((l) => l.includes('Non-recoverable error while sending metadata')));
});

test('metadata_config.send: false, or no source: no metadata requests', async (t) => {
  for (const send of [false, true]) {
    const rx = await RwReceiver.start();
    const r = rounds(ENTRIES, ENTRIES);
    const w = await startWalRemote(
      rwYaml(rx.url, metadataYaml('50ms', 500, send)),
      send ? {} : { metadataSource: r.source },
    );
    t.teardown(async () => {
      await w.stop();
      await rx.close();
    });
    w.series(1, { __name__: 'x' });
    w.samples({ ref: 1, t: T0, v: 1 });
    await w.flush();
    await rx.waitFor((x) => x.requests.length >= 1, 10_000);
    await new Promise((res) => setTimeout(res, 250));
    t.deepEqual(metadataRequests(rx), []);
    t.is(r.calls(), 0);
    t.is(await w.metric(P + 'metadata_total'), 0);
  }
});

test('RW2 endpoints send no metadata-only requests, until a 415 makes them fall back to 1.0', async (t) => {
  const rx = await RwReceiver.start();
  let calls = 0;
  const w = await startWalRemote(
    rwYaml(rx.url, '    protobuf_message: io.prometheus.write.v2.Request\n' + metadataYaml('100ms')),
    {
      metadataSource: () => {
        calls++;
        return [at(ENTRIES, 0, 'ENTRIES')];
      },
    },
  );
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  await new Promise((res) => setTimeout(res, 350));
  t.is(calls, 0, 'not even collected for 2.0');
  t.deepEqual(rx.requests, []);
  rx.plan({ status: 415 });
  w.series(1, { __name__: 'x' });
  w.samples({ ref: 1, t: T0, v: 1 });
  await w.flush();
  await rx.waitFor(() => metadataRequests(rx).length >= 1, 10_000);
  t.deepEqual(at(metadataRequests(rx), 0, 'metadataRequests(rx)').metadata, [
    { type: 1, metricFamilyName: 'http_requests', help: 'Requests served.', unit: '' },
  ]);
});

test('a metadata send still retrying is cut off by the flush deadline on stop', async (t) => {
  const rx = await RwReceiver.start();
  rx.setDefault({ status: 503 });
  const w = await startWalRemote(rwYaml(rx.url, metadataYaml('50ms')), {
    metadataSource: () => [at(ENTRIES, 0, 'ENTRIES')],
    flushDeadlineMs: 300,
  });
  t.teardown(() => rx.close());
  await rx.waitFor((x) => x.attempts.length >= 2, 10_000);
  const began = Date.now();
  await w.stop();
  t.true(Date.now() - began < 2000, `stopped in ${Date.now() - began} ms`);
});

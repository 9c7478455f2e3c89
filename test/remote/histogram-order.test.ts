import test from 'ava';
import type { Histogram } from '../../src/storage/histogram.ts';
import { labelsFromRecord } from '../../src/util/labels.ts';
import type { DecodedRequestV2, DecodedWriteRequest } from '../helpers/rw-proto.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { rmrf, startPipeline, tmpDir } from '../helpers/agent-parts.ts';

const T0 = 1_700_000_000_000;

function hist(n: number): Histogram {
  return {
    counterResetHint: 0,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    count: n,
    sum: n / 2,
    positiveSpans: [{ offset: 0, length: 1 }],
    negativeSpans: [],
    positiveBuckets: [n],
    negativeBuckets: [],
  };
}

function yaml(url: string, rw2: boolean): string {
  return (
    `remote_write:\n  - url: ${url}\n    send_native_histograms: true\n` +
    (rw2 ? '    protobuf_message: io.prometheus.write.v2.Request\n' : '') +
    // Tiny batches and several shards: ordering must hold within a series however requests are cut.
    '    queue_config:\n      max_samples_per_send: 3\n      min_shards: 4\n      max_shards: 4\n' +
    '      batch_send_deadline: 20ms\n      min_backoff: 5ms\n      max_backoff: 20ms\n'
  );
}

interface Arrived {
  name: string;
  t: number;
  kind: 'float' | 'histogram' | 'stale-float' | 'stale-histogram';
}

function arrivals(rx: RwReceiver): Arrived[] {
  const out: Arrived[] = [];
  for (const r of rx.requests) {
    const series = (r.decoded as DecodedWriteRequest | DecodedRequestV2).timeseries;
    for (const ts of series) {
      const name = ts.labels.find((l) => l.name === '__name__')?.value ?? '';
      for (const s of ts.samples) out.push({ name, t: s.timestamp, kind: s.stale ? 'stale-float' : 'float' });
      for (const h of ts.histograms) {
        const stale = Number.isNaN(h.sum);
        out.push({ name, t: h.timestamp, kind: stale ? 'stale-histogram' : 'histogram' });
      }
    }
  }
  return out;
}

for (const rw2 of [false, true]) {
  test(`${rw2 ? 'RW2' : 'RW1'}: one series switching between floats and histograms arrives in WAL order`, async (t) => {
    const rx = await RwReceiver.start();
    const dir = await tmpDir();
    const p = await startPipeline(dir, yaml(rx.url, rw2));
    t.teardown(async () => {
      await p.stop();
      await rx.close();
      await rmrf(dir);
    });
    const app = p.storage.appender();
    const mixed = app.ref(labelsFromRecord({ __name__: 'mixed', job: 'j' }));
    const others = Array.from({ length: 7 }, (_, i) => app.ref(labelsFromRecord({ __name__: `o${i}`, job: 'j' })));
    const want: Arrived[] = [];
    for (let k = 0; k < 40; k++) {
      const t0 = T0 + k * 1000;
      // Every third scrape the series is a float, else a histogram; others fill the batches around it.
      if (k % 3 === 0) {
        app.append(mixed, t0, k);
        want.push({ name: 'mixed', t: t0, kind: 'float' });
      } else {
        app.appendHistogram(mixed, t0, hist(k), false);
        want.push({ name: 'mixed', t: t0, kind: 'histogram' });
      }
      for (const o of others) app.append(o, t0, k);
      await app.commit();
    }
    // Gone: the stale marker takes the kind of the last sample (k = 39 was a float; 38 a histogram).
    app.appendStale(mixed, T0 + 40_000);
    want.push({ name: 'mixed', t: T0 + 40_000, kind: 'stale-float' });
    await app.commit();
    await rx.waitFor(() => arrivals(rx).filter((a) => a.name === 'mixed').length >= want.length, 15_000);
    t.deepEqual(
      arrivals(rx).filter((a) => a.name === 'mixed'),
      want,
    );
    const metrics = await p.registry.metrics();
    const sent = /prometheus_remote_storage_histograms_total\{[^}]*\} (\d+)/.exec(metrics)?.[1];
    t.is(sent, String(want.filter((w) => w.kind === 'histogram').length));
    t.regex(metrics, /prometheus_remote_storage_histograms_in_total \d+/);
    t.regex(
      metrics,
      new RegExp(
        `prometheus_remote_storage_histograms_in_total ${want.filter((w) => w.kind === 'histogram').length}\\b`,
      ),
    );
  });
}

test('RW1: a histogram series gone stale arrives as a histogram whose sum is the stale marker', async (t) => {
  const rx = await RwReceiver.start();
  const dir = await tmpDir();
  const p = await startPipeline(dir, yaml(rx.url, false));
  t.teardown(async () => {
    await p.stop();
    await rx.close();
    await rmrf(dir);
  });
  const app = p.storage.appender();
  const r = app.ref(labelsFromRecord({ __name__: 'h', job: 'j' }));
  app.appendHistogram(r, T0, hist(3), false);
  await app.commit();
  app.appendStale(r, T0 + 1000);
  await app.commit();
  await rx.waitFor(() => arrivals(rx).length >= 2, 10_000);
  t.deepEqual(arrivals(rx), [
    { name: 'h', t: T0, kind: 'histogram' },
    { name: 'h', t: T0 + 1000, kind: 'stale-histogram' },
  ]);
});

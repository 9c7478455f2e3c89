/**
 * Exemplars, native histograms and metadata from an Outpost WAL, sent by Outpost's remote-write
 * queue to a real Prometheus 2.42 receiver started with exemplar storage and native histograms.
 * The records are written into the WAL directly (the scrape side is not involved), so this checks
 * the wire format against Prometheus' own decoder and storage.
 *
 * Prometheus 2.42 accepts RW1 metadata but does not store it (its /api/v1/metadata only lists its
 * own scrape targets), so for metadata the check is that the receiver answers 2xx and nothing is
 * counted as failed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { freePort, httpOk, startProc, tmpDir, waitUntil, type Proc } from '../helpers/procs.ts';
import { floatHistogram, intHistogram, rwYaml, startWalRemote } from '../remote/wal-fixture.ts';
import { at } from '../helpers/defined.ts';

const P = 'prometheus_remote_storage_';

interface Receiver {
  url: string;
  writeUrl: string;
  proc: Proc;
  api<T>(p: string, params: Record<string, string>): Promise<T>;
  stop(): Promise<void>;
}

/** procs.ts' receiver plus the feature flags this test needs. */
async function startReceiver(features: string[]): Promise<Receiver> {
  const dir = await tmpDir('outpost-prom-meta-');
  const port = await freePort();
  const cfg = path.join(dir, 'prometheus.yml');
  await fs.writeFile(cfg, 'global:\n  scrape_interval: 1m\n');
  const proc = startProc('prometheus', [
    `--config.file=${cfg}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    `--enable-feature=${features.join(',')}`,
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    () => httpOk(`${url}/-/ready`),
    30_000,
    () => `prometheus ready\n${proc.output()}`,
  );
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    proc,
    async api<T>(p: string, params: Record<string, string>): Promise<T> {
      const u = new URL(url + p);
      for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
      const r = await fetch(u);
      const j = (await r.json()) as { status: string; data: T; error?: string };
      if (j.status !== 'success') throw new Error(`${p}: ${j.error}`);
      return j.data;
    },
    async stop() {
      await proc.stop('SIGTERM');
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

type Vector = { metric: Record<string, string>; value: [number, string] }[];
type ExemplarResult = {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}[];

test('e2e: exemplars, native histograms and metadata reach a real Prometheus 2.42 receiver', async (t) => {
  const prom = await startReceiver(['exemplar-storage', 'native-histograms']);
  t.teardown(() => prom.stop());
  const extra =
    '    send_exemplars: true\n    send_native_histograms: true\n' +
    '    metadata_config:\n      send_interval: 200ms\n';
  const w = await startWalRemote(rwYaml(prom.writeUrl, extra), {
    metadataSource: () => [
      { metric: 'req_total', type: 'counter', help: 'Requests.', unit: '' },
      { metric: 'lat', type: 'histogram', help: 'Latency.', unit: 'seconds' },
    ],
  });
  t.teardown(() => w.stop());

  const now = Date.now() - 5000;
  w.series(1, { __name__: 'req_total', job: 'api' });
  w.series(2, { __name__: 'lat', job: 'api' });
  w.series(3, { __name__: 'lat_float', job: 'api' });
  w.samples({ ref: 1, t: now, v: 42 });
  w.exemplars({ ref: 1, t: now, v: 42, labels: { trace_id: 'cafe01' } });
  w.histograms({ ref: 2, t: now, h: intHistogram() });
  w.floatHistograms({ ref: 3, t: now, h: floatHistogram({ counterResetHint: 0 }) });
  await w.flush();

  const evalTime = String(now / 1000);
  const counter = await waitUntil(
    async () => {
      const v = await prom.api<{ result: Vector }>('/api/v1/query', { query: 'req_total', time: evalTime });
      return v.result.length > 0 ? v.result : null;
    },
    20_000,
    'req_total on the receiver',
  );
  t.deepEqual(at(counter, 0, 'req_total result').metric, { __name__: 'req_total', job: 'api', site: 'edge1' });
  t.is(at(counter, 0, 'req_total result').value[1], '42');

  const ex = await waitUntil(
    async () => {
      const d = await prom.api<ExemplarResult>('/api/v1/query_exemplars', {
        query: 'req_total',
        start: String(now / 1000 - 60),
        end: String(now / 1000 + 60),
      });
      return d.length > 0 ? d : null;
    },
    20_000,
    'exemplars on the receiver',
  );
  t.deepEqual(at(ex, 0, 'exemplar series').seriesLabels, { __name__: 'req_total', job: 'api', site: 'edge1' });
  t.deepEqual(
    at(ex, 0, 'exemplar series').exemplars.map((e) => [e.labels, e.value, Math.round(e.timestamp * 1000)]),
    [[{ trace_id: 'cafe01' }, '42', now]],
  );

  for (const [name, count, sum] of [
    ['lat', '10', '12.5'],
    ['lat_float', '7.25', '-3.5'],
  ] as const) {
    const c = await waitUntil(
      async () => {
        const v = await prom.api<{ result: Vector }>('/api/v1/query', {
          query: `histogram_count(${name})`,
          time: evalTime,
        });
        return v.result.length > 0 ? v.result : null;
      },
      20_000,
      `${name} histogram on the receiver`,
    );
    t.is(at(c, 0, `${name} count result`).value[1], count, `${name} count`);
    const s = await prom.api<{ result: Vector }>('/api/v1/query', { query: `histogram_sum(${name})`, time: evalTime });
    t.is(s.result[0]?.value[1], sum, `${name} sum`);
  }

  t.true((await w.settled(P + 'metadata_total', 2)) >= 2, 'metadata-only requests accepted');
  t.is(await w.metric(P + 'metadata_failed_total'), 0);
  t.is(await w.settled(P + 'exemplars_total', 1), 1);
  t.is(await w.metric(P + 'histograms_total'), 2);
  t.is(await w.metric(P + 'samples_failed_total'), 0);
  t.is(await w.metric(P + 'histograms_failed_total'), 0);
});

test('e2e: a 2.0 request to Prometheus 2.42 (a 1.x receiver) gets 2xx without written counts and is counted as failed', async (t) => {
  const prom = await startReceiver(['exemplar-storage']);
  t.teardown(() => prom.stop());
  const w = await startWalRemote(rwYaml(prom.writeUrl, '    protobuf_message: io.prometheus.write.v2.Request\n'));
  t.teardown(() => w.stop());
  const now = Date.now() - 5000;
  w.series(1, { __name__: 'v2_only', job: 'api' });
  w.samples({ ref: 1, t: now, v: 1 });
  await w.flush();
  t.is(await w.settled(P + 'samples_failed_total', 1), 1);
  t.true(w.log.lines.some((l) => l.includes('PRW 2.0 response header statistics')));
  const v = await prom.api<{ result: Vector }>('/api/v1/query', { query: 'v2_only', time: String(now / 1000) });
  t.deepEqual(v.result, [], 'the 1.x receiver decoded nothing from the 2.0 body');
});

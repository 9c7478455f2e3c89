/**
 * OTLP end to end: requests pushed to Outpost's receiver arrive in a real Prometheus 2.42 by remote
 * write, translated as Prometheus 3.x translates them, and survive a receiver outage with an Outpost
 * restart in the middle of it: every pushed point arrives exactly once.
 */
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  freePort,
  httpOk,
  startAgent,
  startOutpost,
  startPrometheusReceiver,
  tmpDir,
  waitUntil,
  type AgentConfig,
  type Proc,
  type Teardown,
} from '../helpers/procs.ts';
import { kv, nanos, otlpJson, otlpProto, postOtlp } from '../helpers/otlp.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';

const RESOURCE = kv({
  'service.name': 'api',
  'service.namespace': 'shop',
  'service.instance.id': 'i-1',
  'host.name': 'edge-1',
});

/** One request: the counter at value `n` (and a gauge, a histogram, a summary) at time t. */
function request(n: number, t: number) {
  const time = nanos(t);
  return {
    resourceMetrics: [
      {
        resource: { attributes: RESOURCE },
        scopeMetrics: [
          {
            scope: { name: 'e2e' },
            metrics: [
              {
                name: 'e2e.pushed',
                unit: '{push}',
                description: 'pushes so far',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [{ timeUnixNano: time, asInt: String(n) }],
                },
              },
              { name: 'e2e.temp', unit: 'Cel', gauge: { dataPoints: [{ timeUnixNano: time, asDouble: 20 + n }] } },
              {
                name: 'e2e.latency',
                unit: 's',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    {
                      timeUnixNano: time,
                      count: String(n),
                      sum: n / 2,
                      bucketCounts: [String(n), '0'],
                      explicitBounds: [0.5],
                    },
                  ],
                },
              },
              {
                name: 'e2e.size',
                unit: 'By',
                summary: {
                  dataPoints: [
                    { timeUnixNano: time, count: '1', sum: 7, quantileValues: [{ quantile: 0.5, value: 7 }] },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** Outpost with the OTLP receiver on (unless other flags are given), ready; returns its port. */
async function readyAgent(t: Teardown, config: AgentConfig, flags = ['--web.enable-otlp-receiver']): Promise<number> {
  const { agent, port } = await startAgent(t, config, flags);
  await waitUntil(
    () => httpOk(`http://127.0.0.1:${port}/-/ready`),
    30_000,
    () => agent.output(),
  );
  return port;
}

test('e2e: OTLP → Outpost → Prometheus 2.42, then a receiver outage with an Outpost restart: every point once', async (t) => {
  const prom = await startPrometheusReceiver();
  const dir = await tmpDir();
  const cfg = path.join(dir, 'agent.yml');
  await fs.writeFile(
    cfg,
    [
      'global:',
      '  scrape_interval: 1m',
      'remote_write:',
      `  - url: ${prom.writeUrl}`,
      '    queue_config:',
      '      batch_send_deadline: 1s',
      '      max_backoff: 500ms',
      '',
    ].join('\n'),
  );
  let port = 0;
  const start = async () => {
    port = await freePort();
    const p = await startOutpost([
      `--config.file=${cfg}`,
      `--storage.agent.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.remote.flush-deadline=1s',
      '--web.enable-otlp-receiver',
    ]);
    await waitUntil(
      () => httpOk(`http://127.0.0.1:${port}/-/ready`),
      30_000,
      () => `ready\n${p.output()}`,
    );
    return p;
  };
  let agent: Proc = await start();
  t.teardown(async () => {
    await agent.stop('SIGKILL');
    await prom.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  let pushed = 0;
  let t0 = Date.now() - 60_000;
  const push = async (encoding: 'proto' | 'json') => {
    pushed++;
    t0 += 1000;
    const req = request(pushed, t0);
    const r = await postOtlp(
      `http://127.0.0.1:${port}/api/v1/otlp/v1/metrics`,
      encoding === 'proto' ? otlpProto(req) : otlpJson(req),
      { gzip: pushed % 2 === 0 },
    );
    t.is(r.status, 200, r.body.toString());
    t.deepEqual(r.json, {}, `push ${pushed}: full success`);
  };

  await push('proto');
  await push('json');
  const sel = '{job="shop/api",instance="i-1"}';
  await waitUntil(
    async () => (await prom.query(`e2e_pushed_total${sel}`))[0]?.value[1] === '2',
    20_000,
    () => `first delivery\n${agent.output()}`,
  );
  // The translation, as seen by Prometheus.
  const names = async (q: string) => (await prom.query(q)).map((s) => s.metric.__name__ ?? '').sort();
  t.deepEqual(await names(`{job="shop/api"}`), [
    'e2e_latency_seconds_bucket',
    'e2e_latency_seconds_bucket',
    'e2e_latency_seconds_count',
    'e2e_latency_seconds_sum',
    'e2e_pushed_total',
    'e2e_size_bytes',
    'e2e_size_bytes_count',
    'e2e_size_bytes_sum',
    'e2e_temp_celsius',
    'target_info',
  ]);
  const info = await prom.query(`target_info${sel}`);
  t.is(info[0]?.metric.host_name, 'edge-1');
  t.is((await prom.query(`e2e_latency_seconds_bucket{le="+Inf"}`))[0]?.value[1], '2');

  // Outage, with a restart of Outpost in the middle of it.
  await prom.pause();
  for (let i = 0; i < 3; i++) await push(i % 2 === 0 ? 'proto' : 'json');
  t.is(await agent.stop('SIGTERM'), 0, agent.output());
  agent = await start();
  for (let i = 0; i < 3; i++) await push('proto');
  await prom.resume();
  const total = pushed;
  await waitUntil(
    async () => {
      const r = await prom.query(`max_over_time(e2e_pushed_total${sel}[10m])`);
      return r.length === 1 && Number(r[0]?.value[1]) === total;
    },
    30_000,
    () => `catch-up\n${agent.output()}`,
  );
  t.is(await agent.stop('SIGTERM'), 0, agent.output());
  const count = await prom.query(`count_over_time(e2e_pushed_total${sel}[10m])`);
  t.is(Number(count[0]?.value[1]), total, `every one of the ${total} pushes arrived exactly once`);
  const sum = await prom.query(`sum_over_time(e2e_pushed_total${sel}[10m])`);
  t.is(Number(sum[0]?.value[1]), (total * (total + 1)) / 2, 'values 1..N with no gap');
});

test('e2e: without --web.enable-otlp-receiver the endpoint answers 404 with the hint', async (t) => {
  const port = await readyAgent(t, 'global: {}\n', []);
  const r = await postOtlp(`http://127.0.0.1:${port}/api/v1/otlp/v1/metrics`, otlpJson(request(1, Date.now())));
  t.is(r.status, 404);
  t.regex(r.body.toString(), /otlp write receiver needs to be enabled with --web.enable-otlp-receiver/);
});

test('e2e: an OTLP exponential histogram arrives in Prometheus 2.42 as a native histogram', async (t) => {
  const prom = await startPrometheusReceiver(['--enable-feature=native-histograms']);
  t.teardown(() => prom.stop());
  const port = await readyAgent(t, [
    'remote_write:',
    `  - url: ${prom.writeUrl}`,
    '    send_native_histograms: true',
    '    queue_config:',
    '      batch_send_deadline: 1s',
  ]);
  const req = {
    resourceMetrics: [
      {
        resource: { attributes: kv({ 'service.name': 'api' }) },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'e2e.exp',
                unit: 's',
                exponentialHistogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    {
                      timeUnixNano: nanos(Date.now() - 5000),
                      count: '7',
                      sum: 12.5,
                      scale: 2,
                      zeroCount: '1',
                      positive: { offset: 1, bucketCounts: ['2', '0', '0', '0', '4'] },
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const r = await postOtlp(`http://127.0.0.1:${port}/api/v1/otlp/v1/metrics`, otlpProto(req));
  t.deepEqual([r.status, r.json], [200, {}]);
  await waitUntil(
    async () => (await prom.query('histogram_count(e2e_exp_seconds{job="api"})'))[0]?.value[1] === '7',
    20_000,
    'native histogram delivery',
  );
  t.is((await prom.query('histogram_sum(e2e_exp_seconds)'))[0]?.value[1], '12.5');
});

test('e2e: metadata of OTLP metrics (type, help, unit) goes out with remote write metadata', async (t) => {
  const rx = await RwReceiver.start();
  t.teardown(() => rx.close());
  const port = await readyAgent(t, [
    'remote_write:',
    `  - url: ${rx.url}`,
    '    metadata_config:',
    '      send_interval: 1s',
  ]);
  const r = await postOtlp(`http://127.0.0.1:${port}/api/v1/otlp/v1/metrics`, otlpJson(request(1, Date.now())));
  t.is(r.status, 200);
  const meta = await waitUntil(
    async () => {
      const all = rx.requests.flatMap((q) => q.metadata);
      return all.find((m) => m.metricFamilyName === 'e2e_pushed_total') && all;
    },
    20_000,
    'metadata',
  );
  const byName = new Map(meta.map((m) => [m.metricFamilyName, m]));
  // RW1 MetricType: COUNTER = 1, GAUGE = 2, HISTOGRAM = 3, SUMMARY = 5.
  t.like(byName.get('e2e_pushed_total'), { type: 1, help: 'pushes so far', unit: '' });
  t.like(byName.get('e2e_temp_celsius'), { type: 2, unit: 'celsius' });
  t.like(byName.get('e2e_latency_seconds'), { type: 3, unit: 'seconds' });
  t.like(byName.get('e2e_size_bytes'), { type: 5, unit: 'bytes' });
  t.like(byName.get('target_info'), { type: 2, help: 'Target metadata' });
});

import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { prometheus2OrSkip, startPrometheusAgent } from '../helpers/compliance.ts';
import { freePort, tmpDir, waitUntil } from '../helpers/procs.ts';
import { fakeAgent, request, shape, startServer, type Reply } from './helpers.ts';

/**
 * Compares our endpoints with the real Prometheus 2.42 agent: same status codes, content types and
 * JSON structure (keys and value kinds, not values). Skipped where the binary is not installed.
 */

interface Probe {
  method?: string;
  path: string;
  body?: string;
  /** exact: status, content type and body; shape: status, content type and JSON shape; status: status only. */
  compare: 'exact' | 'shape' | 'status';
  /** Applied to both JSON bodies before their shapes are compared. */
  pick?: (j: unknown) => unknown;
}

const data = (j: unknown) => (j as { data: unknown }).data;
/** Label sets differ in their names, not in their structure: erase them to "string map". */
const eraseLabels = (x: unknown) => {
  const o = { ...(x as Record<string, unknown>) };
  for (const k of ['discoveredLabels', 'labels', 'target']) if (k in o) o[k] = valueKinds({ data: o[k] });
  return o;
};
const firstTargets = (j: unknown) => {
  const d = data(j) as Record<string, unknown[]>;
  const out: Record<string, unknown> = {};
  for (const [k, list] of Object.entries(d)) out[k] = list.slice(0, 1).map(eraseLabels);
  return out;
};
const firstListItem = (j: unknown) => (data(j) as unknown[]).slice(0, 1).map(eraseLabels);
const firstMapValue = (j: unknown) => Object.values(data(j) as Record<string, unknown>)[0];
const valueKinds = (j: unknown) => [...new Set(Object.values(data(j) as Record<string, unknown>).map((v) => typeof v))];

const probes: Probe[] = [
  { path: '/-/healthy', compare: 'exact' },
  { path: '/-/ready', compare: 'exact' },
  { method: 'POST', path: '/-/healthy', compare: 'exact' },
  { path: '/-/reload', compare: 'exact' },
  { path: '/-/quit', compare: 'exact' },
  { method: 'POST', path: '/-/reload', compare: 'exact' },
  { path: '/version', compare: 'status' },
  { path: '/api/v1/targets', compare: 'shape', pick: firstTargets },
  { path: '/api/v1/targets?state=active', compare: 'shape', pick: firstTargets },
  { path: '/api/v1/targets?state=dropped', compare: 'shape', pick: firstTargets },
  { path: '/api/v1/targets?state=bogus', compare: 'exact' },
  { path: '/api/v1/targets?scrapePool=nope', compare: 'exact' },
  { path: '/api/v1/targets/metadata?limit=2', compare: 'shape', pick: firstListItem },
  { path: '/api/v1/targets/metadata?metric=up&match_target=%7Bjob%3D%22nope%22%7D', compare: 'exact' },
  { path: '/api/v1/targets/metadata?limit=x', compare: 'exact' },
  { path: '/api/v1/metadata?limit=1', compare: 'shape', pick: firstMapValue },
  { path: '/api/v1/metadata?limit=x', compare: 'exact' },
  { path: '/api/v1/scrape_pools', compare: 'shape' },
  { path: '/api/v1/status/config', compare: 'shape' },
  { path: '/api/v1/status/flags', compare: 'shape', pick: valueKinds },
  { path: '/api/v1/status/buildinfo', compare: 'shape' },
  { path: '/api/v1/status/runtimeinfo', compare: 'shape' },
  { path: '/api/v1/status/walreplay', compare: 'shape' },
  { path: '/api/v1/query?query=up', compare: 'exact' },
  { method: 'POST', path: '/api/v1/query_range', compare: 'exact' },
  { path: '/api/v1/series', compare: 'exact' },
  { method: 'DELETE', path: '/api/v1/series', compare: 'exact' },
  { path: '/api/v1/labels', compare: 'exact' },
  { path: '/api/v1/label/job/values', compare: 'exact' },
  { path: '/api/v1/rules', compare: 'exact' },
  { path: '/api/v1/alerts', compare: 'exact' },
  { path: '/api/v1/alertmanagers', compare: 'exact' },
  { path: '/api/v1/status/tsdb', compare: 'exact' },
  { method: 'POST', path: '/api/v1/admin/tsdb/snapshot', compare: 'exact' },
  { method: 'POST', path: '/api/v1/write', body: 'x', compare: 'exact' },
  { path: '/api/v1/write', compare: 'exact' },
  { method: 'POST', path: '/api/v1/read', body: 'x', compare: 'exact' },
  { method: 'OPTIONS', path: '/api/v1/targets', compare: 'exact' },
  { method: 'POST', path: '/api/v1/targets', compare: 'exact' },
  { path: '/federate?match[]=up', compare: 'exact' },
  { path: '/api/v1/nope', compare: 'exact' },
  { path: '/nope', compare: 'exact' },
];

async function probe(base: string, p: Probe): Promise<Reply> {
  const body = p.body === undefined ? {} : { body: p.body };
  return request(base + p.path, { method: p.method ?? 'GET', ...body, headers: { 'Accept-Encoding': 'identity' } });
}

test('our endpoints answer with the status codes, bodies and JSON shapes of the real 2.42 agent', async (t) => {
  const bin = prometheus2OrSkip(t);
  if (!bin) return;
  const dir = await tmpDir('outpost-web-shapes-');
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const deadPort = await freePort();
  const cfg = path.join(dir, 'prometheus.yml');
  await fs.writeFile(
    cfg,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: self',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${port}']`,
      '  - job_name: dropper',
      '    relabel_configs:',
      '      - source_labels: [__address__]',
      "        regex: '.*:1'",
      '        action: drop',
      '    static_configs:',
      `      - targets: ['127.0.0.1:1', '127.0.0.1:${deadPort}']`,
      'remote_write:',
      `  - url: http://127.0.0.1:${deadPort}/write`,
      '    basic_auth: {username: u, password: hunter2}',
      '',
    ].join('\n'),
  );
  const prom = startPrometheusAgent(
    t,
    bin,
    [
      `--config.file=${cfg}`,
      `--storage.agent.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
    ],
    dir,
  );
  const promBase = `http://127.0.0.1:${port}`;
  // Ready, and the self target scraped once, so every list has an element to compare.
  await waitUntil(
    async () => {
      const r = await request(`${promBase}/api/v1/targets?scrapePool=self`).catch(() => null);
      if (r?.status !== 200) return false;
      const d = data(r.json()) as { activeTargets: { health: string }[] };
      return d.activeTargets[0]?.health === 'up';
    },
    30_000,
    () => `prometheus to scrape itself; output:\n${prom.output()}`,
  );

  const ours = await startServer(fakeAgent().deps);
  t.teardown(() => ours.close());

  for (const p of probes) {
    const label = `${p.method ?? 'GET'} ${p.path}`;
    const [want, got] = [await probe(promBase, p), await probe(ours.base, p)];
    t.is(got.status, want.status, `${label}: status`);
    if (p.compare === 'status') continue;
    t.is(got.headers.get('content-type'), want.headers.get('content-type'), `${label}: content type`);
    if (want.headers.has('allow')) t.is(got.headers.get('allow'), want.headers.get('allow'), `${label}: Allow`);
    if (p.compare === 'exact') {
      t.is(got.text, want.text, `${label}: body`);
      continue;
    }
    const pick = p.pick ?? ((j: unknown) => j);
    t.deepEqual(shape(pick(got.json())), shape(pick(want.json())), `${label}: JSON shape`);
  }
});

import test from 'ava';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Agent } from '../../src/app.ts';
import { parseFlags, type Flags } from '../../src/cli/flags.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { replayWal } from '../../src/wal/reader.ts';
import { RecordType, decodeExemplars, decodeSeries, recordType, type RefExemplar } from '../../src/wal/records.ts';
import { prometheus2OrSkip, startPrometheusAgent } from '../helpers/compliance.ts';
import { freePort, tmpDir, waitUntil } from '../helpers/procs.ts';
import { fakeAgent, request, startServer } from './helpers.ts';
import { defined } from '../helpers/defined.ts';

/**
 * Outpost and the real Prometheus 2.42 agent scrape the same loopback target; their metadata
 * endpoints must answer the same bodies, and their WALs must hold the same exemplars. Only what
 * Prometheus leaves to Go's map order (the order of targets and entries, which target or metric a
 * limit keeps) and scrape times are normalised. Skipped where the binary is not installed.
 */

const TEXT_BODY = [
  '# HELP demo_requests Requests served.',
  '# TYPE demo_requests counter',
  'demo_requests{code="200"} 10',
  '# HELP demo_temp_celsius Temperature with \\\\ backslash and \\n newline.',
  '# TYPE demo_temp_celsius gauge',
  'demo_temp_celsius 21.5',
  '# TYPE demo_untyped untyped',
  'demo_untyped 1',
  '# HELP demo_help_only Only help.',
  'demo_help_only 2',
  '# a comment',
  '# TYPE demo_latency histogram',
  'demo_latency_bucket{le="1"} 1',
  'demo_latency_bucket{le="+Inf"} 2',
  'demo_latency_sum 3',
  'demo_latency_count 2',
  '# TYPE demo_summary summary',
  '# HELP demo_summary A summary <with> & html.',
  'demo_summary{quantile="0.5"} 1',
  '# TYPE demo_nodata gauge',
  '# HELP shared_metric Shared, text help.',
  '# TYPE shared_metric gauge',
  'shared_metric 1',
  '',
].join('\n');

const OM_BODY = [
  '# HELP om_bytes Bytes.',
  '# TYPE om_bytes counter',
  '# UNIT om_bytes bytes',
  'om_bytes_total{code="200"} 5 # {trace_id="abc",span_id=""} 1.0',
  'om_bytes_total{code="500"} 1 1700000000.000 # {trace_id="withts"} 2.5 1700000000.123',
  'om_bytes_total{code="404"} 1 # {trace_id="toolong",pad="' + 'x'.repeat(120) + '"} 3',
  'om_bytes_created{code="200"} 1700000000',
  '# TYPE om_info info',
  'om_info_info{v="1"} 1',
  '# TYPE om_state stateset',
  'om_state{om_state="a"} 1',
  '# TYPE om_gh gaugehistogram',
  'om_gh_bucket{le="+Inf"} 1 # {trace_id="gh"} 0.5 1700000001',
  'om_gh_gcount 1',
  'om_gh_gsum 1',
  '# HELP om_escaped Esc \\" q \\\\ b \\n n.',
  '# TYPE om_escaped gauge',
  'om_escaped 1',
  '# TYPE om_unknown unknown',
  'om_unknown 1',
  '# HELP shared_metric Shared, OpenMetrics help.',
  '# TYPE shared_metric gauge',
  'shared_metric 1',
  '# EOF',
  '',
].join('\n');

async function startTarget(): Promise<{ port: number; close(): Promise<void> }> {
  const srv = http.createServer((req, res) => {
    if (req.url?.startsWith('/om')) {
      res.writeHead(200, { 'Content-Type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
      res.end(OM_BODY);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(TEXT_BODY);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

interface Entry {
  target?: Record<string, string>;
  metric?: string;
  type: string;
  help: string;
  unit: string;
}

const key = (e: Entry) =>
  JSON.stringify([e.target?.job ?? '', e.target?.instance ?? '', e.metric ?? '', e.type, e.help, e.unit]);
const sortEntries = (list: Entry[]) => [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
const sortMetadataMap = (m: Record<string, Entry[]>) =>
  Object.fromEntries(
    Object.entries(m)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, entries]) => [k, sortEntries(entries)]),
  );

interface Json {
  status: string;
  data: unknown;
}

async function getJson(base: string, p: string): Promise<{ status: number; body: Json; text: string }> {
  const r = await request(base + p, { headers: { 'Accept-Encoding': 'identity' } });
  return { status: r.status, body: r.json() as Json, text: r.text };
}

async function walExemplars(walDir: string): Promise<string[]> {
  const series = new Map<number, readonly string[]>();
  const ex: RefExemplar[] = [];
  await replayWal(walDir, (rec) => {
    const type = recordType(rec);
    if (type === RecordType.Series) decodeSeries(rec, (ref, ls) => series.set(ref, ls));
    if (type === RecordType.Exemplars) decodeExemplars(rec, ex);
  });
  // Scrape times differ between the two agents: an exemplar without its own timestamp is "scrape".
  return ex
    .map((e) => JSON.stringify([series.get(e.ref), e.labels, e.v, e.t > 1_750_000_000_000 ? 'scrape' : e.t]))
    .sort();
}

test('metadata endpoints and exemplar records match the real Prometheus 2.42 agent', async (t) => {
  const bin = prometheus2OrSkip(t);
  if (!bin) return;
  const dir = await tmpDir('outpost-web-metadata-');
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const tg = await startTarget();
  t.teardown(() => tg.close());
  const cfg = path.join(dir, 'agent.yml');
  await fs.writeFile(
    cfg,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: text',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${tg.port}']`,
      '  - job_name: om',
      '    metrics_path: /om',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${tg.port}']`,
      '',
    ].join('\n'),
  );

  const promPort = await freePort();
  const promData = path.join(dir, 'prom');
  const prom = startPrometheusAgent(
    t,
    bin,
    [
      `--config.file=${cfg}`,
      `--storage.agent.path=${promData}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ],
    dir,
  );
  const promBase = `http://127.0.0.1:${promPort}`;

  const flags = parseFlags([
    `--config.file=${cfg}`,
    `--storage.agent.path=${path.join(dir, 'outpost')}`,
    '--web.listen-address=127.0.0.1:0',
    '--no-tui',
  ]) as Flags;
  t.truthy(flags.configFile, 'flags parsed');
  const agent = new Agent(flags, await loadConfigFile(cfg), memoryLogger('warn'));
  let agentStopped = false;
  t.teardown(async () => {
    if (!agentStopped) await agent.stop();
  });
  await agent.start();
  const ours = `http://${agent.listenAddress}`;

  // Both have scraped both targets (metadata from two targets), and scraped them again since,
  // so every exemplar had a chance to be appended twice (the second one de-duplicated).
  const scrapedTwice = async (base: string) => {
    const r = await getJson(base, '/api/v1/targets');
    const active = (r.body.data as { activeTargets: { health: string; lastScrape: string }[] }).activeTargets;
    return active.length === 2 && active.every((a) => a.health === 'up');
  };
  for (const [name, base] of [
    ['prometheus', promBase],
    ['outpost', ours],
  ] as const) {
    await waitUntil(
      async () => {
        if (!(await scrapedTwice(base))) return false;
        const r = await getJson(base, '/api/v1/targets/metadata');
        return new Set((r.body.data as Entry[]).map((e) => e.target?.job)).size === 2;
      },
      30_000,
      () => `${name} to scrape both targets\n${prom.output()}`,
    );
  }
  await new Promise((r) => setTimeout(r, 2200));

  const exact: string[] = [
    '/api/v1/targets/metadata',
    '/api/v1/targets/metadata?metric=demo_requests',
    '/api/v1/targets/metadata?metric=shared_metric',
    '/api/v1/targets/metadata?metric=nope',
    '/api/v1/targets/metadata?match_target=' + encodeURIComponent('{job="om"}'),
    '/api/v1/targets/metadata?match_target=' + encodeURIComponent('{job=~"o.*"}') + '&metric=om_bytes',
    '/api/v1/targets/metadata?limit=0',
    '/api/v1/targets/metadata?limit=-1',
    '/api/v1/targets/metadata?limit=x',
    '/api/v1/metadata',
    '/api/v1/metadata?metric=om_bytes',
    '/api/v1/metadata?metric=shared_metric',
    '/api/v1/metadata?metric=nope',
    '/api/v1/metadata?limit=0',
    '/api/v1/metadata?limit=1.5',
  ];
  for (const p of exact) {
    const [want, got] = [await getJson(promBase, p), await getJson(ours, p)];
    t.is(got.status, want.status, `${p}: status`);
    if (want.body.status !== 'success') {
      t.is(got.text, want.text, `${p}: error body`);
      continue;
    }
    const norm = (b: Json) =>
      Array.isArray(b.data) ? sortEntries(b.data as Entry[]) : sortMetadataMap(b.data as Record<string, Entry[]>);
    t.deepEqual(norm(got.body), norm(want.body), `${p}: body`);
  }

  // limit on /targets/metadata counts whole targets: one (random in Prometheus) target, all of its entries.
  for (const base of [promBase, ours]) {
    const all = (await getJson(base, '/api/v1/targets/metadata')).body.data as Entry[];
    const one = (await getJson(base, '/api/v1/targets/metadata?limit=1')).body.data as Entry[];
    const jobs = new Set(one.map((e) => e.target?.job));
    t.is(jobs.size, 1, `${base}: limit=1 gives one target`);
    const job = [...jobs][0];
    t.deepEqual(
      sortEntries(one),
      sortEntries(all.filter((e) => e.target?.job === job)),
      `${base}: all of that target's entries`,
    );
    t.true(one.length > 1, 'more entries than the limit');
    const two = (await getJson(base, '/api/v1/metadata?limit=2')).body.data as Record<string, Entry[]>;
    const full = (await getJson(base, '/api/v1/metadata')).body.data as Record<string, Entry[]>;
    t.is(Object.keys(two).length, 2, `${base}: limit=2 keeps two metrics`);
    for (const [k, entries] of Object.entries(two)) {
      t.deepEqual(sortEntries(entries), sortEntries(defined(full[k], `${k} in the full list`)));
    }
  }
  // Two targets disagree on shared_metric's help: both variants are listed.
  const shared = (await getJson(ours, '/api/v1/metadata?metric=shared_metric')).body.data as Record<string, Entry[]>;
  t.is(defined(shared.shared_metric, 'shared.shared_metric').length, 2);

  // Exemplars: stop both so their WALs are complete, then compare what they wrote.
  await prom.stop('SIGTERM', 10_000);
  agentStopped = true;
  await agent.stop();
  const [want, got] = [
    await walExemplars(path.join(promData, 'wal')),
    await walExemplars(path.join(dir, 'outpost', 'wal')),
  ];
  t.true(want.length >= 3, `Prometheus wrote exemplars: ${want.join(' ')}`);
  t.deepEqual(got, want, 'the same exemplars, each once');
});

test('targets/metadata: the limit counts whole targets; metadata: limit_per_metric, sorted names, any name', async (t) => {
  const node = { instance: 'n:9100', job: 'node' };
  const app = { instance: 'a:8080', job: 'app' };
  const s = await startServer(
    fakeAgent({
      targetMetadata: () => [
        { target: node, metric: 'node_load1', type: 'gauge', help: 'Load.', unit: '' },
        { target: node, metric: 'shared', type: 'gauge', help: 'Node flavour.', unit: '' },
        { target: node, metric: '__proto__', type: 'counter', help: 'A valid metric name.', unit: '' },
        { target: app, metric: 'shared', type: 'gauge', help: 'App flavour.', unit: '' },
        { target: app, metric: 'app_up', type: 'gauge', help: '', unit: '' },
      ],
    }).deps,
  );
  t.teardown(() => s.close());
  const count = async (q: string) =>
    ((await request(`${s.base}/api/v1/targets/metadata${q}`)).json() as { data: unknown[] }).data.length;
  for (const [q, want] of [
    ['', 5],
    ['?limit=0', 0],
    ['?limit=1', 3],
    ['?limit=3', 3],
    ['?limit=4', 5],
    ['?limit=-1', 5],
    ['?metric=shared&limit=1', 1],
    ['?metric=shared', 2],
  ] as const) {
    t.is(await count(q), want, `targets/metadata${q}`);
  }
  const meta = async (q: string) => {
    const r = await request(`${s.base}/api/v1/metadata${q}`);
    return {
      status: r.status,
      text: r.text,
      data: r.status === 200 ? (r.json() as { data: Record<string, unknown[]> }).data : {},
    };
  };
  const all = await meta('');
  t.deepEqual(
    Object.keys(all.data),
    ['__proto__', 'app_up', 'node_load1', 'shared'],
    'names sorted, __proto__ an ordinary key',
  );
  t.is(defined(all.data.shared, 'all.data.shared').length, 2);
  t.true(all.text.includes('"__proto__":[{"type":"counter"'));
  t.deepEqual((await meta('?limit_per_metric=1')).data.shared, [{ type: 'gauge', help: 'Node flavour.', unit: '' }]);
  t.is(defined((await meta('?limit_per_metric=0')).data.shared, 'meta(...).data.shared').length, 2, '0 means no limit');
  t.deepEqual(Object.keys((await meta('?limit=2')).data), ['__proto__', 'app_up']);
  const bad = await meta('?limit_per_metric=x');
  t.is(bad.status, 400);
  t.is(bad.text, '{"status":"error","errorType":"bad_data","error":"limit_per_metric must be a number"}');
});

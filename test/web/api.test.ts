import test from 'ava';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import os from 'node:os';
import vm from 'node:vm';
import { FakeClock } from '../helpers/fake-clock.ts';
import { tmpDir } from '../helpers/procs.ts';
import { snappyCompress } from '../../src/util/snappy.ts';
import { WebOptionsError, resolveWebOptions, webOptionsFromFlagMap, globalUrl } from '../../src/web/options.ts';
import { parseSelector, matchesAll, SelectorError } from '../../src/web/selector.ts';
import { ThroughputHistory } from '../../src/web/throughput-history.ts';
import { redactUrlsIn } from '../../src/web/api.ts';
import { clientScript } from '../../src/web/ui/client-script.ts';
import { PAGES } from '../../src/web/ui/pages.ts';
import { fakeAgent, remote, request, snapshot, startServer, T0 } from './helpers.ts';
import { at } from '../helpers/defined.ts';

const AGENT_422 = '{"status":"error","errorType":"execution","error":"unavailable with Prometheus Agent"}';

interface Envelope<T> {
  status: string;
  data: T;
}

test('health and readiness answer like the 2.42 agent', async (t) => {
  const fake = fakeAgent();
  fake.ready = false;
  const s = await startServer(fake.deps);
  t.teardown(() => s.close());

  const healthy = await request(`${s.base}/-/healthy`);
  t.is(healthy.status, 200);
  t.is(healthy.text, 'Prometheus Agent is Healthy.\n');
  t.is((await request(`${s.base}/-/healthy`, { method: 'HEAD' })).status, 200);
  const post = await request(`${s.base}/-/healthy`, { method: 'POST' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD, OPTIONS');
  t.is(post.text, 'Method Not Allowed\n');

  const notReady = await request(`${s.base}/-/ready`);
  t.is(notReady.status, 503);
  t.is(notReady.text, 'Service Unavailable');
  fake.ready = true;
  const ready = await request(`${s.base}/-/ready`);
  t.is(ready.status, 200);
  t.is(ready.text, 'Prometheus Agent is Ready.\n');
});

const lifecycleCases: { enabled: boolean; method: string; path: string; status: number; body: string }[] = [
  { enabled: false, method: 'POST', path: '/-/reload', status: 403, body: 'Lifecycle API is not enabled.' },
  { enabled: false, method: 'PUT', path: '/-/quit', status: 403, body: 'Lifecycle API is not enabled.' },
  { enabled: false, method: 'GET', path: '/-/reload', status: 405, body: 'Only POST or PUT requests allowed' },
  { enabled: true, method: 'GET', path: '/-/quit', status: 405, body: 'Only POST or PUT requests allowed' },
  { enabled: true, method: 'DELETE', path: '/-/reload', status: 405, body: 'Method Not Allowed\n' },
  { enabled: true, method: 'POST', path: '/-/reload', status: 200, body: '' },
  { enabled: true, method: 'PUT', path: '/-/reload', status: 200, body: '' },
  { enabled: true, method: 'POST', path: '/-/quit', status: 200, body: 'Requesting termination... Goodbye!' },
];

for (const c of lifecycleCases) {
  test(`lifecycle ${c.method} ${c.path} with lifecycle ${c.enabled ? 'enabled' : 'disabled'} -> ${c.status}`, async (t) => {
    const fake = fakeAgent({ enableLifecycle: c.enabled });
    const s = await startServer(fake.deps);
    t.teardown(() => s.close());
    const r = await request(s.base + c.path, { method: c.method });
    t.is(r.status, c.status);
    t.is(r.text, c.body);
    const acted = c.status === 200;
    if (c.path === '/-/reload') t.is(fake.reloads, acted ? 1 : 0);
    else {
      // quit fires once the response is flushed
      await new Promise((resolve) => setImmediate(resolve));
      t.is(fake.quits, acted ? 1 : 0);
    }
  });
}

test('/api/v1/status/flags shows the route prefix in force, as 3.x does (main.go 776-781)', async (t) => {
  for (const [given, shown] of [
    ['', '/'],
    ['edge/', '/edge'],
  ]) {
    const fake = fakeAgent();
    fake.deps.flags = { ...fake.deps.flags, 'web.route-prefix': given as string };
    const s = await startServer(fake.deps);
    const p = given === '' ? '' : '/edge';
    const flags = (await request(`${s.base}${p}/api/v1/status/flags`)).json() as { data: Record<string, string> };
    t.is(flags.data['web.route-prefix'], shown);
    await s.close();
  }
});

// Prometheus 3.x takes --web.listen-address several times (cmd/prometheus/main.go 424-425).
test('every listen address serves the endpoints; close() releases them all', async (t) => {
  const s = await startServer(fakeAgent().deps);
  const second = await s.server.listenMore('127.0.0.1:0');
  for (const base of [s.base, `http://${second}`]) t.is((await request(`${base}/-/healthy`)).status, 200, base);
  await s.close();
  await t.throwsAsync(request(`http://${second}/-/healthy`));
});

/** A GET with the path exactly as given (fetch would resolve `..` itself). */
function rawGet(base: string, p: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(base + p, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }));
    });
    req.on('error', reject);
  });
}

// web/web.go serves --web.user-assets under /user/ (cmd/prometheus/main.go 457-458 declares the flag).
test('--web.user-assets: files under /user/, index.html for a directory, nothing outside the directory', async (t) => {
  const dir = await tmpDir('outpost-assets-');
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.mkdir(path.join(dir, 'assets', 'sub'), { recursive: true });
  await fs.writeFile(path.join(dir, 'assets', 'a.css'), 'body{}');
  await fs.writeFile(path.join(dir, 'assets', 'sub', 'index.html'), '<p>hi</p>');
  await fs.writeFile(path.join(dir, 'secret.txt'), 'no');
  const fake = fakeAgent();
  fake.deps.flags = { ...fake.deps.flags, 'web.user-assets': path.join(dir, 'assets') };
  const s = await startServer(fake.deps);
  t.teardown(() => s.close());
  t.deepEqual(await rawGet(s.base, '/user/a.css'), { status: 200, type: 'text/css; charset=utf-8', body: 'body{}' });
  t.is((await rawGet(s.base, '/user/sub/')).body, '<p>hi</p>');
  for (const p of [
    '/user/missing.js',
    '/user/../secret.txt',
    '/user/..%2fsecret.txt',
    '/user/sub/..%2f..%2fsecret.txt',
  ])
    t.is((await rawGet(s.base, p)).status, 404, p);
  // Without the flag there is no /user/.
  const plain = await startServer(fakeAgent().deps);
  t.teardown(() => plain.close());
  t.is((await rawGet(plain.base, '/user/a.css')).status, 404);
});

test('a failed reload answers 500 with the loader error', async (t) => {
  const fake = fakeAgent();
  fake.reloadResult = {
    ok: false,
    error: 'couldn\'t load configuration (--config.file="agent.yml"): field rule_files is not allowed in agent mode',
  };
  const s = await startServer(fake.deps);
  t.teardown(() => s.close());
  const r = await request(`${s.base}/-/reload`, { method: 'POST' });
  t.is(r.status, 500);
  t.is(
    r.text,
    'failed to reload config: couldn\'t load configuration (--config.file="agent.yml"): field rule_files is not allowed in agent mode\n',
  );
});

const unavailable: [string, string][] = [
  ['GET', '/api/v1/query?query=up'],
  ['POST', '/api/v1/query'],
  ['GET', '/api/v1/query_range'],
  ['POST', '/api/v1/query_range'],
  ['GET', '/api/v1/query_exemplars'],
  ['GET', '/api/v1/format_query'],
  ['GET', '/api/v1/series'],
  ['POST', '/api/v1/series'],
  ['DELETE', '/api/v1/series'],
  ['GET', '/api/v1/labels'],
  ['GET', '/api/v1/label/job/values'],
  ['GET', '/api/v1/rules'],
  ['GET', '/api/v1/alerts'],
  ['GET', '/api/v1/alertmanagers'],
  ['GET', '/api/v1/status/tsdb'],
  ['POST', '/api/v1/admin/tsdb/snapshot'],
  ['PUT', '/api/v1/admin/tsdb/delete_series'],
  ['POST', '/api/v1/admin/tsdb/clean_tombstones'],
];

test('query, rules, alerts and admin endpoints answer 422 like the agent', async (t) => {
  const s = await startServer(fakeAgent().deps);
  t.teardown(() => s.close());
  for (const [method, path] of unavailable) {
    const r = await request(s.base + path, { method });
    t.is(r.status, 422, `${method} ${path}`);
    t.is(r.headers.get('content-type'), 'application/json', `${method} ${path}`);
    t.is(r.text, AGENT_422, `${method} ${path}`);
  }
});

test('write, read, federate and unknown paths', async (t) => {
  const s = await startServer(fakeAgent().deps);
  t.teardown(() => s.close());
  const write = await request(`${s.base}/api/v1/write`, { method: 'POST', body: 'x' });
  t.is(write.status, 404);
  t.is(write.text, 'remote write receiver needs to be enabled with --enable-feature=remote-write-receiver\n');
  const getWrite = await request(`${s.base}/api/v1/write`);
  t.is(getWrite.status, 405);
  t.is(getWrite.headers.get('allow'), 'OPTIONS, POST');

  const fed = await request(`${s.base}/federate?match[]=up`);
  t.is(fed.status, 500);
  t.is(fed.text, 'unsupported operation with WAL-only storage\n');

  const junk = await request(`${s.base}/api/v1/read`, { method: 'POST', body: 'x' });
  t.is(junk.status, 400);
  t.is(junk.text, 'snappy: corrupt input\n');
  const emptyRead = await fetch(`${s.base}/api/v1/read`, {
    method: 'POST',
    body: new Uint8Array(snappyCompress(new Uint8Array(0))),
  });
  t.is(emptyRead.status, 200);
  t.is(emptyRead.headers.get('content-type'), 'application/x-protobuf');
  t.deepEqual([...new Uint8Array(await emptyRead.arrayBuffer())], [0]);
  // ReadRequest{queries: [Query{start_timestamp_ms: 1}]}
  const withQuery = await request(`${s.base}/api/v1/read`, {
    method: 'POST',
    body: new Uint8Array(snappyCompress(new Uint8Array([0x0a, 0x02, 0x08, 0x01]))),
  });
  t.is(withQuery.status, 500);
  t.is(withQuery.text, 'unsupported operation with WAL-only storage\n');

  for (const p of ['/nope', '/api/v1/nope', '/api/v1/parse_query', '/graph']) {
    const r = await request(s.base + p);
    t.is(r.status, 404, p);
    t.is(r.text, '404 page not found\n', p);
  }
  const slash = await request(`${s.base}/-/healthy/`);
  t.is(slash.status, 301);
  t.is(slash.headers.get('location'), '/-/healthy');
});

test('the API answers 503 until the agent is ready, except WAL replay and Outpost status', async (t) => {
  const fake = fakeAgent();
  fake.ready = false;
  fake.snap = snapshot({ phase: 'replaying', wal: { ...snapshot().wal, replay: { done: false, current: 2, max: 6 } } });
  const s = await startServer(fake.deps);
  t.teardown(() => s.close());
  for (const p of ['/api/v1/targets', '/api/v1/status/config', '/api/v1/query', '/api/v1/scrape_pools', '/federate']) {
    const r = await request(s.base + p);
    t.is(r.status, 503, p);
    t.is(r.text, 'Service Unavailable', p);
  }
  t.is((await request(`${s.base}/api/v1/targets`, { method: 'OPTIONS' })).status, 503);
  const replay = await request(`${s.base}/api/v1/status/walreplay`);
  t.is(replay.status, 200);
  t.deepEqual(replay.json(), { status: 'success', data: { min: 0, max: 6, current: 2 } });
  const wal = (await request(`${s.base}/api/v1/status/wal`)).json() as Envelope<{ phase: string; replay: unknown }>;
  t.is(wal.data.phase, 'replaying');
  t.deepEqual(wal.data.replay, { done: false, current: 2, max: 6 });
  t.is((await request(`${s.base}/api/v1/status/remote_write`)).status, 200);
  t.is((await request(`${s.base}/agent`)).status, 200, 'the UI loads during replay and shows progress');
});

interface TargetsData {
  activeTargets: Record<string, unknown>[];
  droppedTargets: { discoveredLabels: Record<string, string> }[];
}

test('/api/v1/targets: fields, pool order, state and scrapePool filters', async (t) => {
  const s = await startServer(
    fakeAgent({ options: { externalUrl: 'https://edge-7.example:9443/outpost/', routePrefix: '/' } }).deps,
  );
  t.teardown(() => s.close());
  const all = (await request(`${s.base}/api/v1/targets`)).json() as Envelope<TargetsData>;
  t.is(all.status, 'success');
  t.deepEqual(
    all.data.activeTargets.map((x) => x.scrapePool),
    ['blackbox', 'node', 'node'],
  );
  const first = at(all.data.activeTargets, 1, 'all.data.activeTargets');
  t.deepEqual(Object.keys(first), [
    'discoveredLabels',
    'labels',
    'scrapePool',
    'scrapeUrl',
    'globalUrl',
    'lastError',
    'lastScrape',
    'lastScrapeDuration',
    'health',
    'scrapeInterval',
    'scrapeTimeout',
    'lastScrapeSamples',
    'lastScrapeSeries',
  ]);
  t.deepEqual(first.lastScrapeSamples, { floats: 100, histograms: 0 });
  t.deepEqual(first.lastScrapeSeries, { floats: 100, histograms: 0 });
  t.is(first.scrapeUrl, 'http://127.0.0.1:9100/metrics');
  t.is(first.globalUrl, 'http://edge-7.example:9100/metrics', 'loopback host replaced by the external host');
  t.is(first.lastScrape, new Date(T0 - 3000).toISOString());
  t.is(first.lastScrapeDuration, 0.0125);
  t.is(first.scrapeInterval, '15s');
  t.is(first.scrapeTimeout, '10s');
  const never = at(all.data.activeTargets, 2, 'all.data.activeTargets');
  t.is(never.lastScrape, '0001-01-01T00:00:00Z');
  t.is(never.health, 'unknown');
  t.deepEqual(all.data.droppedTargets, [
    {
      discoveredLabels: {
        __address__: '127.0.0.1:9999',
        __metrics_path__: '/metrics',
        __scheme__: 'http',
        job: 'node',
      },
    },
  ]);

  const cases: { q: string; active: number; dropped: number }[] = [
    { q: 'state=active', active: 3, dropped: 0 },
    { q: 'state=ACTIVE', active: 3, dropped: 0 },
    { q: 'state=dropped', active: 0, dropped: 1 },
    { q: 'state=any', active: 3, dropped: 1 },
    { q: 'state=bogus', active: 0, dropped: 0 },
    { q: 'scrapePool=node', active: 2, dropped: 1 },
    { q: 'scrapePool=blackbox', active: 1, dropped: 0 },
    { q: 'scrapePool=nope&state=active', active: 0, dropped: 0 },
  ];
  for (const c of cases) {
    const r = (await request(`${s.base}/api/v1/targets?${c.q}`)).json() as Envelope<TargetsData>;
    t.is(r.data.activeTargets.length, c.active, c.q);
    t.is(r.data.droppedTargets.length, c.dropped, c.q);
  }
});

test('/api/v1/targets: a target another scrape shard owns is dropped with dropReason; relabeled ones have none', async (t) => {
  const reason = 'scrape shard 2 of 3 owns it: hashmod(__address__, 3) = 2, this agent is shard 0';
  const s = await startServer(
    fakeAgent({
      droppedTargets: () => [
        { pool: 'node', discovered: { __address__: 'a:1', job: 'node' } },
        { pool: 'node', discovered: { __address__: 'b:1', job: 'node' }, reason },
      ],
    }).deps,
  );
  t.teardown(() => s.close());
  const r = (await request(`${s.base}/api/v1/targets?state=dropped`)).json() as Envelope<TargetsData>;
  t.deepEqual(r.data.droppedTargets, [
    { discoveredLabels: { __address__: 'a:1', job: 'node' } },
    { discoveredLabels: { __address__: 'b:1', job: 'node' }, dropReason: reason },
  ]);
});

test('/api/v1/targets/metadata and /api/v1/metadata', async (t) => {
  const s = await startServer(fakeAgent().deps);
  t.teardown(() => s.close());
  const all = (await request(`${s.base}/api/v1/targets/metadata`)).json() as Envelope<Record<string, unknown>[]>;
  t.is(all.data.length, 3);
  t.deepEqual(Object.keys(at(all.data, 0, 'all.data')), ['target', 'metric', 'type', 'help', 'unit']);
  const up = (await request(`${s.base}/api/v1/targets/metadata?metric=up`)).json() as Envelope<
    Record<string, unknown>[]
  >;
  t.is(up.data.length, 2);
  t.deepEqual(
    Object.keys(at(up.data, 0, 'up.data')),
    ['target', 'type', 'help', 'unit'],
    'with ?metric= the name is left out',
  );
  const matched = (
    await request(`${s.base}/api/v1/targets/metadata?match_target=${encodeURIComponent('{job="blackbox"}')}`)
  ).json() as Envelope<unknown[]>;
  t.is(matched.data.length, 1);
  const limited = (await request(`${s.base}/api/v1/targets/metadata?limit=1`)).json() as Envelope<unknown[]>;
  t.is(limited.data.length, 1);

  const badLimit = await request(`${s.base}/api/v1/targets/metadata?limit=x`);
  t.is(badLimit.status, 400);
  t.is(badLimit.text, '{"status":"error","errorType":"bad_data","error":"limit must be a number"}');
  const badMatch = await request(`${s.base}/api/v1/targets/metadata?match_target=${encodeURIComponent('{job=}')}`);
  t.is(badMatch.status, 400);
  const badBody = badMatch.json() as { errorType: string; error: string };
  t.is(badBody.errorType, 'bad_data');
  t.true(badBody.error.startsWith('invalid parameter "match_target": '));

  const meta = (await request(`${s.base}/api/v1/metadata`)).json() as Envelope<Record<string, unknown[]>>;
  t.deepEqual(meta.data, {
    node_load1: [{ type: 'gauge', help: '1m load average.', unit: '' }],
    up: [{ type: 'gauge', help: 'Target health.', unit: '' }],
  });
  const metaLimited = (await request(`${s.base}/api/v1/metadata?limit=1`)).json() as Envelope<
    Record<string, unknown[]>
  >;
  t.is(Object.keys(metaLimited.data).length, 1);
  t.is((await request(`${s.base}/api/v1/metadata?limit=1.5`)).status, 400);

  // Without a metadata source both endpoints answer empty, not an error.
  const bare = fakeAgent();
  delete bare.deps.targetMetadata;
  const s2 = await startServer(bare.deps);
  t.teardown(() => s2.close());
  t.deepEqual((await request(`${s2.base}/api/v1/targets/metadata`)).json(), { status: 'success', data: [] });
  t.deepEqual((await request(`${s2.base}/api/v1/metadata`)).json(), { status: 'success', data: {} });
});

test('status endpoints: pools, config, flags, build and runtime info', async (t) => {
  const fake = fakeAgent();
  const s = await startServer(fake.deps);
  t.teardown(() => s.close());
  t.deepEqual((await request(`${s.base}/api/v1/scrape_pools`)).json(), {
    status: 'success',
    data: { scrapePools: ['blackbox', 'idle', 'node'] },
  });
  const cfg = (await request(`${s.base}/api/v1/status/config`)).json() as Envelope<{ yaml: string }>;
  t.true(cfg.data.yaml.includes('password: <secret>'));
  t.deepEqual((await request(`${s.base}/api/v1/status/flags`)).json(), { status: 'success', data: fake.deps.flags });
  t.deepEqual((await request(`${s.base}/api/v1/status/buildinfo`)).json(), {
    status: 'success',
    data: fake.deps.buildInfo,
  });
  const version = await request(`${s.base}/version`);
  t.is(version.text, JSON.stringify(fake.deps.buildInfo) + '\n');
  const rt = (await request(`${s.base}/api/v1/status/runtimeinfo`)).json() as Envelope<Record<string, unknown>>;
  t.deepEqual(Object.keys(rt.data).sort(), [
    'CWD',
    'GODEBUG',
    'GOGC',
    'GOMAXPROCS',
    'corruptionCount',
    'goroutineCount',
    'lastConfigTime',
    'reloadConfigSuccess',
    'startTime',
    'storageRetention',
  ]);
  t.is(rt.data.reloadConfigSuccess, true);
  t.is(rt.data.lastConfigTime, new Date(T0 - 3_600_000).toISOString().replace('.000Z', 'Z'));

  // A failed reload flips reloadConfigSuccess but keeps the last good time.
  fake.snap = snapshot({ reload: { ok: false, at: T0, error: 'bad' } });
  const rt2 = (await request(`${s.base}/api/v1/status/runtimeinfo`)).json() as Envelope<Record<string, unknown>>;
  t.is(rt2.data.reloadConfigSuccess, false);
  t.is(rt2.data.lastConfigTime, rt.data.lastConfigTime);

  // Before any segment exists our replay counters are -1; Prometheus never reports below 0.
  fake.snap = snapshot({ wal: { ...snapshot().wal, replay: { done: true, current: -1, max: -1 } } });
  t.deepEqual((await request(`${s.base}/api/v1/status/walreplay`)).json(), {
    status: 'success',
    data: { min: 0, max: 0, current: 0 },
  });
});

test('/api/v1/status/remote_write: per-endpoint health, lag, backlog, counters, redacted URL and throughput history', async (t) => {
  const clock = new FakeClock(T0);
  const fake = fakeAgent({ clock, options: { historyIntervalMs: 1000, historyPoints: 4 } });
  const s = await startServer(fake.deps);
  t.teardown(() => s.close());
  for (const rate of [10, 20, 30, 40, 50]) {
    fake.snap = snapshot({ remote: [remote({ sendRate: rate })] });
    clock.advance(1000);
  }
  const r = (await request(`${s.base}/api/v1/status/remote_write`)).json() as Envelope<{
    endpoints: Record<string, unknown>[];
  }>;
  t.is(r.data.endpoints.length, 1);
  const e = at(r.data.endpoints, 0, 'r.data.endpoints');
  t.is(e.url, 'https://user:xxxxx@metrics.example/api/v1/write');
  t.is(e.health, 'up');
  t.is(e.lastErrorTime, null);
  t.is(e.backlogBytes, 65536);
  t.deepEqual(e.throughput, { intervalSeconds: 1, samplesPerSecond: [20, 30, 40, 50] });
  t.deepEqual(Object.keys(e).sort(), [
    'backlogBytes',
    'health',
    'lagSeconds',
    'lastError',
    'lastErrorTime',
    'name',
    'pendingSamples',
    'samplesDropped',
    'samplesFailed',
    'samplesRetried',
    'samplesSent',
    'sendRate',
    'shards',
    'throughput',
    'url',
  ]);

  fake.snap = snapshot({
    remote: [
      remote(),
      remote({
        name: 'backup',
        health: 'down',
        lastError: 'Post "https://user:hunter2@metrics.example/api/v1/write": EOF',
        lastErrorAt: T0 - 5000,
      }),
    ],
  });
  const r2 = (await request(`${s.base}/api/v1/status/remote_write`)).json() as Envelope<{
    endpoints: Record<string, unknown>[];
  }>;
  t.is(at(r2.data.endpoints, 1, 'r2.data.endpoints').lastErrorTime, new Date(T0 - 5000).toISOString());
  t.is(at(r2.data.endpoints, 1, 'r2.data.endpoints').health, 'down');
  t.is(
    at(r2.data.endpoints, 1, 'r2.data.endpoints').lastError,
    'Post "https://user:xxxxx@metrics.example/api/v1/write": EOF',
  );
});

test('/api/v1/status/wal', async (t) => {
  const s = await startServer(fakeAgent().deps);
  t.teardown(() => s.close());
  const r = (await request(`${s.base}/api/v1/status/wal`)).json() as Envelope<Record<string, unknown>>;
  t.deepEqual(r.data, {
    phase: 'running',
    dataDir: '/var/lib/outpost',
    bytes: 3 * 1024 * 1024,
    segments: 3,
    firstSegment: 4,
    lastSegment: 6,
    capBytes: 1024 ** 3,
    oldestTimestamp: new Date(T0 - 7_200_000).toISOString(),
    replay: { done: true, current: 6, max: 6 },
    series: { active: 1234, created: 1500, removed: 266, samplesAppended: 987654, histogramsAppended: 120 },
  });
});

test('/api/v1/status/otlp: the receiver as a source, or enabled: false', async (t) => {
  const off = await startServer(fakeAgent().deps);
  t.teardown(() => off.close());
  const r0 = (await request(`${off.base}/api/v1/status/otlp`)).json() as Envelope<Record<string, unknown>>;
  t.is(r0.data.enabled, false);
  t.deepEqual(r0.data.topResources, []);
  const fake = fakeAgent();
  const snap = fake.deps.snapshot();
  fake.deps.snapshot = () => ({
    ...snap,
    otlp: {
      requests: 5,
      requestsFailed: 1,
      pointsReceived: 100,
      pointsRejected: 2,
      samplesAppended: 300,
      pointsPerSecond: 1.5,
      lastError: '2 of 20 data points rejected: samples refused: 2 duplicate',
      lastErrorAt: T0 - 1000,
      lastRequestAt: T0,
      topResources: [{ job: 'shop/api', instance: 'i-1', points: 100, lastSeen: T0 }],
    },
  });
  const on = await startServer(fake.deps);
  t.teardown(() => on.close());
  const r = (await request(`${on.base}/api/v1/status/otlp`)).json() as Envelope<Record<string, unknown>>;
  t.deepEqual(r.data, {
    enabled: true,
    requests: 5,
    requestsFailed: 1,
    pointsReceived: 100,
    pointsRejected: 2,
    samplesAppended: 300,
    pointsPerSecond: 1.5,
    lastError: '2 of 20 data points rejected: samples refused: 2 duplicate',
    lastErrorTime: new Date(T0 - 1000).toISOString(),
    lastRequestTime: new Date(T0).toISOString(),
    topResources: [{ job: 'shop/api', instance: 'i-1', points: 100, lastSeen: new Date(T0).toISOString() }],
  });
});

test('CORS headers on API requests with an Origin, OPTIONS preflight 204', async (t) => {
  const s = await startServer(fakeAgent().deps);
  t.teardown(() => s.close());
  const r = await request(`${s.base}/api/v1/status/buildinfo`, { headers: { Origin: 'http://grafana.local' } });
  t.is(r.headers.get('access-control-allow-origin'), '*');
  t.is(r.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
  t.is(r.headers.get('vary'), 'Origin');
  t.is((await request(`${s.base}/api/v1/status/buildinfo`)).headers.get('access-control-allow-origin'), null);
  const pre = await request(`${s.base}/api/v1/anything`, { method: 'OPTIONS', headers: { Origin: 'http://x' } });
  t.is(pre.status, 204);

  const restricted = await startServer(fakeAgent({ options: { corsOrigin: 'https?://grafana\\.local' } }).deps);
  t.teardown(() => restricted.close());
  t.is(
    (
      await request(`${restricted.base}/api/v1/status/buildinfo`, { headers: { Origin: 'http://grafana.local' } })
    ).headers.get('access-control-allow-origin'),
    'http://grafana.local',
  );
  t.is(
    (
      await request(`${restricted.base}/api/v1/status/buildinfo`, { headers: { Origin: 'http://evil.example' } })
    ).headers.get('access-control-allow-origin'),
    null,
  );
});

test('large API answers are gzipped when the client accepts it', async (t) => {
  const fake = fakeAgent();
  fake.deps.configYaml = () => 'x: y\n'.repeat(1000);
  const s = await startServer(fake.deps);
  t.teardown(() => s.close());
  // fetch always asks for gzip and decodes it.
  const r = await fetch(`${s.base}/api/v1/status/config`);
  t.is(r.headers.get('content-encoding'), 'gzip');
  const body = (await r.json()) as Envelope<{ yaml: string }>;
  t.is(body.data.yaml.length, 5000);
});

test('/metrics serves the registry in the text format, also when OpenMetrics is asked for (as 2.42 does)', async (t) => {
  const s = await startServer(fakeAgent().deps);
  t.teardown(() => s.close());
  for (const accept of ['*/*', 'application/openmetrics-text; version=1.0.0', '*/*']) {
    const r = await request(`${s.base}/metrics`, { headers: { Accept: accept } });
    t.is(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8', accept);
    t.regex(r.text, /^outpost_test_total 3$/m, accept);
  }
});

test('route prefix and external URL: routes move, redirects follow Prometheus', async (t) => {
  const s = await startServer(
    fakeAgent({ options: { routePrefix: '/prom/', externalUrl: 'http://edge.example:9999/outpost/' } }).deps,
  );
  t.teardown(() => s.close());
  t.is(s.server.routePrefix, '/prom');
  t.is((await request(`${s.base}/prom/-/healthy`)).status, 200);
  t.is((await request(`${s.base}/-/healthy`)).status, 404);
  t.is((await request(`${s.base}/prom/api/v1/status/buildinfo`)).status, 200);
  t.is((await request(`${s.base}/api/v1/status/buildinfo`)).status, 404);
  const redirects: [string, number, string][] = [
    ['/', 302, '/prom'],
    ['/prom', 301, '/prom/'],
    ['/prom/', 302, '/outpost/agent'],
  ];
  for (const [p, status, location] of redirects) {
    const r = await request(s.base + p);
    t.is(r.status, status, p);
    t.is(r.headers.get('location'), location, p);
  }
  const page = await request(`${s.base}/prom/targets`);
  t.is(page.status, 200);
  t.regex(page.text, /href="static\/outpost\.css\?v=/, 'assets are linked relatively, so any prefix works');
  t.is((await request(`${s.base}/prom/static/outpost.js`)).status, 200);

  // The route prefix defaults to the external URL's path.
  const s2 = await startServer(fakeAgent({ options: { externalUrl: 'http://edge.example/outpost' } }).deps);
  t.teardown(() => s2.close());
  t.is(s2.server.routePrefix, '/outpost');
  t.is((await request(`${s2.base}/outpost/-/healthy`)).status, 200);

  // A prefix without an external URL: Prometheus would redirect to /agent (a 404); we stay under the prefix.
  const s3 = await startServer(fakeAgent({ options: { routePrefix: '/p' } }).deps);
  t.teardown(() => s3.close());
  t.is((await request(`${s3.base}/p/`)).headers.get('location'), '/p/agent');
});

test('without --web.external-url the global URL uses this host name and our own port for ourselves', async (t) => {
  const fake = fakeAgent();
  const s = await startServer(fake.deps);
  t.teardown(() => s.close());
  const port = Number(new URL(s.base).port);
  fake.snap = snapshot({
    targets: [
      snapshotTargetAt(`http://127.0.0.1:${port}/metrics`),
      snapshotTargetAt('http://localhost:9100/metrics'),
      snapshotTargetAt('http://10.1.2.3:9100/metrics'),
    ],
  });
  const r = (await request(`${s.base}/api/v1/targets?state=active`)).json() as Envelope<TargetsData>;
  const host = os.hostname();
  t.deepEqual(
    r.data.activeTargets.map((x) => x.globalUrl),
    [`http://${host}:${port}/metrics`, `http://${host}:9100/metrics`, 'http://10.1.2.3:9100/metrics'],
  );
});

function snapshotTargetAt(url: string) {
  return { ...at(snapshot().targets, 0, 'snapshot targets'), url };
}

test('the root redirects to the agent page; every UI page is served with nav, landmarks and a strict CSP', async (t) => {
  const s = await startServer(fakeAgent().deps);
  t.teardown(() => s.close());
  const root = await request(`${s.base}/`);
  t.is(root.status, 302);
  t.is(root.headers.get('location'), '/agent');
  t.is(root.text, '<a href="/agent">Found</a>.\n\n');
  for (const p of PAGES) {
    const r = await request(`${s.base}/${p.id}`);
    t.is(r.status, 200, p.id);
    t.is(r.headers.get('content-type'), 'text/html; charset=utf-8');
    t.regex(r.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    t.regex(r.text, new RegExp(`<a href="${p.id}" aria-current="page">`), p.id);
    t.regex(r.text, /<main id="main"/);
    t.regex(r.text, /<nav aria-label="Main">/);
    t.regex(r.text, /class="skip" href="#main"/);
    t.notRegex(r.text, /(src|href)="(https?:)?\/\//, 'nothing is loaded from another origin');
  }
  const css = await request(`${s.base}/static/outpost.css`);
  t.is(css.headers.get('content-type'), 'text/css; charset=utf-8');
  const js = await request(`${s.base}/static/outpost.js`);
  t.is(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.notThrows(() => new vm.Script(js.text), 'the client script parses');
  t.is(js.text, clientScript());
});

test('--web.max-connections refuses connections over the cap', async (t) => {
  const s = await startServer(fakeAgent({ options: { maxConnections: 1 } }).deps);
  t.teardown(() => s.close());
  const { port } = new URL(s.base);
  const first = net.connect(Number(port), '127.0.0.1');
  t.teardown(() => first.destroy());
  await new Promise((resolve) => first.once('connect', resolve));
  // Give the server a turn to count the first connection.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const second = net.connect(Number(port), '127.0.0.1');
  t.teardown(() => second.destroy());
  const outcome = await new Promise<string>((resolve) => {
    second.once('close', () => resolve('closed'));
    second.once('error', () => resolve('closed'));
    second.once('data', () => resolve('answered'));
    second.once('connect', () => second.write('GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n'));
  });
  t.is(outcome, 'closed');
  first.write('GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const reply = await new Promise<string>((resolve) => {
    let buf = '';
    first.on('data', (d: Buffer) => (buf += d.toString()));
    first.once('close', () => resolve(buf));
  });
  t.regex(reply, /^HTTP\/1\.1 200 OK/);
});

test('--web.read-timeout ends a request that never finishes', async (t) => {
  const s = await startServer(fakeAgent({ options: { readTimeoutMs: 200 } }).deps);
  t.teardown(() => s.close());
  const { port } = new URL(s.base);
  const sock = net.connect(Number(port), '127.0.0.1');
  t.teardown(() => sock.destroy());
  const started = Date.now();
  const reply = await new Promise<string>((resolve) => {
    let buf = '';
    sock.on('data', (d: Buffer) => (buf += d.toString()));
    sock.once('close', () => resolve(buf));
    sock.once('connect', () => sock.write('GET /-/healthy HTTP/1.1\r\nHost: x\r\n'));
  });
  t.regex(reply, /^HTTP\/1\.1 408/);
  t.true(Date.now() - started < 3000);
});

test('web options are validated once and read from the flag map', (t) => {
  const bad: [object, RegExp][] = [
    [{ externalUrl: '"http://x/"' }, /must not begin or end with quotes/],
    [{ externalUrl: 'edge:9090' }, /scheme must be http or https|not an absolute URL/],
    [{ externalUrl: '/relative' }, /not an absolute URL/],
    [{ maxConnections: -1 }, /--web.max-connections/],
    [{ corsOrigin: '(' }, /--web.cors.origin/],
  ];
  for (const [o, re] of bad) t.throws(() => resolveWebOptions(o), { instanceOf: WebOptionsError, message: re });
  t.is(resolveWebOptions({}).routePrefix, '');
  t.is(resolveWebOptions({ routePrefix: '/' }).routePrefix, '');
  t.is(resolveWebOptions({ routePrefix: 'a/b/' }).routePrefix, '/a/b');
  t.is(resolveWebOptions({ externalUrl: 'https://x.example/p/q/', routePrefix: '' }).routePrefix, '/p/q');
  const o = webOptionsFromFlagMap({
    'web.external-url': 'http://e/',
    'web.route-prefix': '/r',
    'web.max-connections': '64',
    'web.read-timeout': '30s',
    'config.file': 'x',
  });
  t.deepEqual(o, {
    externalUrl: 'http://e/',
    routePrefix: '/r',
    maxConnections: 64,
    readTimeoutMs: 30_000,
    corsOrigin: undefined,
    pageTitle: undefined,
  });
  t.throws(() => webOptionsFromFlagMap({ 'web.read-timeout': 'soon' }), {
    instanceOf: WebOptionsError,
    message: /--web.read-timeout/,
  });
  t.throws(() => webOptionsFromFlagMap({ 'web.max-connections': 'many' }), { instanceOf: WebOptionsError });
});

test('globalUrl follows Prometheus for loopback targets', (t) => {
  const ext = new URL('https://edge.example:8443/p');
  t.is(globalUrl('http://127.0.0.1:9090/metrics', ext, 9090), 'https://edge.example:8443/metrics');
  t.is(globalUrl('http://localhost:9100/metrics', ext, 9090), 'http://edge.example:9100/metrics');
  t.is(globalUrl('http://[::1]:9100/metrics', ext, 9090), 'http://edge.example:9100/metrics');
  t.is(globalUrl('http://node-1:9100/metrics', ext, 9090), 'http://node-1:9100/metrics');
});

const selectorCases: { src: string; labels: Record<string, string>; match: boolean }[] = [
  { src: 'up', labels: { __name__: 'up' }, match: true },
  { src: '{job="node"}', labels: { job: 'node' }, match: true },
  { src: '{job="node"}', labels: { job: 'nodes' }, match: false },
  { src: '{job=\'node\', instance=~"db.*"}', labels: { job: 'node', instance: 'db:9100' }, match: true },
  { src: '{job!="node", job=~".+"}', labels: { job: 'blackbox' }, match: true },
  { src: 'up{job!~"node|edge",}', labels: { __name__: 'up', job: 'edge' }, match: false },
  { src: '{job=~"no.e"}', labels: { job: 'xnode' }, match: false },
  { src: '{job="x", role=""}', labels: { job: 'x' }, match: true },
  { src: '{job="x", role=""}', labels: { job: 'x', role: 'db' }, match: false },
];

test('match_target selectors', (t) => {
  for (const c of selectorCases) t.is(matchesAll(c.labels, parseSelector(c.src)), c.match, c.src);
  for (const bad of ['', '{}', '{job=""}', '{job!="node"}', '{job="x"', '{job=x}', '{1a="x"}', 'up}', '{job=~"("}']) {
    t.throws(() => parseSelector(bad), { instanceOf: SelectorError }, bad);
  }
});

test('throughput history keeps the newest points per endpoint and forgets removed endpoints', (t) => {
  const h = new ThroughputHistory(3);
  const a = remote({ name: 'a' });
  const b = remote({ name: 'b' });
  for (const v of [1, 2, 3, 4])
    h.sample([
      { ...a, sendRate: v },
      { ...b, sendRate: v * 10 },
    ]);
  t.deepEqual(h.series(a), [2, 3, 4]);
  t.deepEqual(h.series(b), [20, 30, 40]);
  h.sample([{ ...a, sendRate: Number.NaN }]);
  t.deepEqual(h.series(a), [3, 4, 0]);
  t.deepEqual(h.series(b), []);
});

test('passwords inside error texts are redacted', (t) => {
  t.is(
    redactUrlsIn('Post "http://u:pw@127.0.0.1:19393/api/v1/write": refused'),
    'Post "http://u:xxxxx@127.0.0.1:19393/api/v1/write": refused',
  );
  t.is(redactUrlsIn('https://a:b@x/ and http://c:d@y:1/z'), 'https://a:xxxxx@x/ and http://c:xxxxx@y:1/z');
  t.is(redactUrlsIn('Get "http://host:9100/metrics": EOF'), 'Get "http://host:9100/metrics": EOF');
});

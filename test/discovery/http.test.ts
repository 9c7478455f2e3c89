import test from 'ava';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { HttpSdConfig } from '../../src/config/types.ts';
import { HttpDiscoverer } from '../../src/discovery/http.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { metricValue, newMetrics, plain, Run, scrapeConfigs, waitFor } from './helpers.ts';
import { at, firstN } from '../helpers/defined.ts';

interface Reply {
  status: number;
  contentType?: string;
  body: string;
  /** Answer only after this long (the request deadline is the refresh interval). */
  delayMs?: number;
}

/** A loopback SD endpoint whose reply the test sets; records each request's headers. */
async function sdServer(): Promise<{
  url: string;
  reply: Reply;
  requests: http.IncomingHttpHeaders[];
  paths: string[];
  close(): Promise<void>;
}> {
  const state = {
    reply: { status: 200, contentType: 'application/json', body: '[]' } as Reply,
    requests: [] as http.IncomingHttpHeaders[],
    paths: [] as string[],
  };
  const srv = http.createServer((req, res) => {
    state.paths.push(req.url ?? '');
    if (req.url === '/moved') {
      res.writeHead(302, { Location: '/sd' });
      res.end();
      return;
    }
    state.requests.push(req.headers);
    const r = state.reply;
    const answer = () => {
      res.writeHead(r.status, r.contentType === undefined ? {} : { 'Content-Type': r.contentType });
      res.end(r.body);
    };
    if (r.delayMs) setTimeout(answer, r.delayMs).unref();
    else answer();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sd`,
    get reply() {
      return state.reply;
    },
    set reply(r: Reply) {
      state.reply = r;
    },
    requests: state.requests,
    paths: state.paths,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

function httpConfig(url: string, extra = ''): HttpSdConfig {
  const [cfg] = firstN(
    scrapeConfigs(`scrape_configs:\n  - job_name: j\n    http_sd_configs:\n      - url: ${url}\n${extra}`),
    1,
    'scrapeConfigs(...)',
  );
  return at(cfg.httpSdConfigs, 0, 'cfg.httpSdConfigs');
}

function start(config: HttpSdConfig, opts: { maxBodyBytes?: number } = {}) {
  const { reg, metrics } = newMetrics();
  const clock = new FakeClock();
  const log = memoryLogger();
  const run = new Run(
    new HttpDiscoverer({ config, scheme: 'legacy', log, metrics, clock, userAgent: 'Outpost/test', env: {}, ...opts }),
  );
  return { run, reg, clock, log };
}

const lastRefreshError = (log: { lines: string[] }) =>
  log.lines.filter((l) => l.includes('Unable to refresh target groups')).at(-1) ?? '';

const LIST = JSON.stringify([
  { targets: ['a:1', 'b:2'], labels: { env: 'prod' } },
  { targets: ['c:3'], labels: {} },
]);

test('GET with Prometheus headers and basic auth; list with __meta_url and url:index sources', async (t) => {
  const srv = await sdServer();
  srv.reply = { status: 200, contentType: 'application/json', body: LIST };
  const { run, reg } = start(
    httpConfig(srv.url, '        refresh_interval: 90s\n        basic_auth: {username: u, password: p}\n'),
  );
  try {
    const groups = await run.emitted(1);
    t.deepEqual(plain(groups), [
      { source: `${srv.url}:0`, targets: ['a:1', 'b:2'], labels: ['__meta_url', srv.url, 'env', 'prod'] },
      { source: `${srv.url}:1`, targets: ['c:3'], labels: ['__meta_url', srv.url] },
    ]);
    const h = at(srv.requests, 0, 'srv.requests');
    t.is(h.accept, 'application/json');
    t.is(h['user-agent'], 'Outpost/test');
    t.is(h['x-prometheus-refresh-interval-seconds'], '90');
    t.is(h.authorization, 'Basic ' + Buffer.from('u:p').toString('base64'));
    t.is(await metricValue(reg, 'prometheus_sd_http_failures_total'), 0);
  } finally {
    await run.stop();
    await srv.close();
  }
});

test('failures keep the last list: bad status, wrong content type, bad body; charset variant accepted', async (t) => {
  const srv = await sdServer();
  srv.reply = { status: 200, contentType: 'application/json', body: LIST };
  const { run, reg, clock, log } = start(httpConfig(srv.url, '        authorization: {credentials: tok}\n'));
  const failures = () => metricValue(reg, 'prometheus_sd_http_failures_total');
  try {
    await run.emitted(1);
    t.is(at(srv.requests, 0, 'srv.requests').authorization, 'Bearer tok');
    // Patterns match the logfmt line, where the message's quotes appear escaped.
    const cases: [Reply, RegExp][] = [
      [
        { status: 503, contentType: 'application/json', body: '[]' },
        /server returned HTTP status 503 Service Unavailable/,
      ],
      [{ status: 200, contentType: 'text/plain', body: '[]' }, /unsupported content type \\"text\/plain\\"/],
      [{ status: 200, body: '[]' }, /unsupported content type \\"\\"/],
      [
        { status: 200, contentType: 'application/json', body: '[{"targets": ["x"], "extra": 1}]' },
        /unknown field \\"extra\\"/,
      ],
      [{ status: 200, contentType: 'application/json', body: '[null]' }, /nil target group item found/],
    ];
    for (const [i, [reply, message]] of cases.entries()) {
      srv.reply = reply;
      await waitFor(() => clock.pending > 0, 'discoverer waiting');
      clock.advance(60_000);
      await waitFor(async () => (await failures()) === i + 1, `failure ${i + 1}`);
      t.regex(log.lines.filter((l) => l.includes('Unable to refresh target groups')).at(-1) ?? '', message);
    }
    t.is(run.emits.length, 1, 'nothing emitted while failing');
    t.is(await metricValue(reg, 'prometheus_sd_refresh_failures_total', { mechanism: 'http' }), cases.length);

    srv.reply = { status: 200, contentType: 'application/json; charset="UTF-8"', body: '[]' };
    await waitFor(() => clock.pending > 0, 'discoverer waiting');
    clock.advance(60_000);
    t.deepEqual(await run.emitted(2), [], 'an empty list replaces everything');
  } finally {
    await run.stop();
    await srv.close();
  }
});

test('redirects are followed', async (t) => {
  const srv = await sdServer();
  srv.reply = { status: 200, contentType: 'application/json', body: LIST };
  const url = srv.url.replace(/\/sd$/, '/moved');
  const { run } = start(httpConfig(url));
  try {
    const groups = await run.emitted(1);
    t.deepEqual(srv.paths, ['/moved', '/sd']);
    // The configured URL, not the redirect target, names the source.
    t.is(at(groups, 0, 'groups').source, `${url}:0`);
  } finally {
    await run.stop();
    await srv.close();
  }
});

test('an unreachable endpoint counts failures and stops cleanly', async (t) => {
  const srv = await sdServer();
  const url = srv.url;
  await srv.close();
  const { run, reg } = start(httpConfig(url));
  await waitFor(async () => (await metricValue(reg, 'prometheus_sd_http_failures_total')) === 1, 'connection failure');
  await run.stop();
  t.is(run.emits.length, 0);
});

test('follow_redirects: false reports the 3xx as a failure', async (t) => {
  const srv = await sdServer();
  srv.reply = { status: 200, contentType: 'application/json', body: LIST };
  const { run, reg, log } = start(httpConfig(srv.url.replace(/\/sd$/, '/moved'), '        follow_redirects: false\n'));
  try {
    await waitFor(async () => (await metricValue(reg, 'prometheus_sd_http_failures_total')) === 1, 'redirect failure');
    t.regex(lastRefreshError(log), /server returned HTTP status 302 Found/);
    t.deepEqual(srv.paths, ['/moved']);
    t.is(run.emits.length, 0);
  } finally {
    await run.stop();
    await srv.close();
  }
});

test('the request, body included, must finish within refresh_interval', async (t) => {
  const srv = await sdServer();
  srv.reply = { status: 200, contentType: 'application/json', body: LIST, delayMs: 2000 };
  const { run, reg, log } = start(httpConfig(srv.url, '        refresh_interval: 300ms\n'));
  try {
    const t0 = Date.now();
    await waitFor(async () => (await metricValue(reg, 'prometheus_sd_http_failures_total')) === 1, 'timeout failure');
    t.true(Date.now() - t0 < 1500, 'gave up at the refresh interval, not when the server answered');
    t.regex(lastRefreshError(log), /Get \\"http:\/\/127\.0\.0\.1:\d+\/sd\\": context deadline exceeded/);
    t.is(run.emits.length, 0);
  } finally {
    await run.stop();
    await srv.close();
  }
});

test('response bodies are bounded: at the limit accepted, past it a failure that keeps the last list', async (t) => {
  const srv = await sdServer();
  srv.reply = { status: 200, contentType: 'application/json', body: LIST };
  const { run, reg, clock, log } = start(httpConfig(srv.url), { maxBodyBytes: LIST.length });
  try {
    t.is((await run.emitted(1)).length, 2);
    srv.reply = { status: 200, contentType: 'application/json', body: LIST + ' ' };
    await waitFor(() => clock.pending > 0, 'discoverer waiting');
    clock.advance(60_000);
    await waitFor(async () => (await metricValue(reg, 'prometheus_sd_http_failures_total')) === 1, 'size failure');
    t.regex(lastRefreshError(log), new RegExp(`response body larger than ${LIST.length} bytes`));
    t.is(run.emits.length, 1);
  } finally {
    await run.stop();
    await srv.close();
  }
});

test("http_headers: every value sent, files read per request; the client's own headers win", async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-httpsd-'));
  const file = path.join(dir, 'tenant');
  await fs.writeFile(file, 'from-file-1\n');
  const srv = await sdServer();
  srv.reply = { status: 200, contentType: 'application/json', body: '[]' };
  const extra = `        http_headers:\n          X-Tenant:\n            values: [a, b]\n            files: [${file}]\n          Accept:\n            values: [text/html]\n`;
  const { run, clock } = start(httpConfig(srv.url, extra));
  try {
    await run.emitted(1);
    t.is(at(srv.requests, 0, 'srv.requests')['x-tenant'], 'a, b, from-file-1');
    t.is(at(srv.requests, 0, 'srv.requests').accept, 'application/json');
    await fs.writeFile(file, 'from-file-2\n');
    await waitFor(() => clock.pending > 0, 'discoverer waiting');
    clock.advance(60_000);
    await run.emitted(2);
    t.is(at(srv.requests, 1, 'srv.requests')['x-tenant'], 'a, b, from-file-2');
  } finally {
    await run.stop();
    await srv.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('redirects to another host drop the Authorization header', async (t) => {
  const target = await sdServer();
  target.reply = { status: 200, contentType: 'application/json', body: LIST };
  // 0.0.0.0 and 127.0.0.1 are different hosts to the client, the same loopback listener here.
  const other = target.url.replace('127.0.0.1', '0.0.0.0');
  const origin = http.createServer((_req, res) => {
    res.writeHead(307, { Location: other });
    res.end();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/sd`;
  const { run } = start(httpConfig(url, '        authorization: {credentials: tok}\n'));
  try {
    await run.emitted(1);
    t.is(target.requests.length, 1);
    t.is(at(target.requests, 0, 'target.requests').authorization, undefined);
    t.is(at(target.requests, 0, 'target.requests')['user-agent'], 'Outpost/test');
  } finally {
    await run.stop();
    await target.close();
    await new Promise<void>((r) => origin.close(() => r()));
  }
});

import test from 'ava';
import type { TargetStatus } from '../../src/status/types.ts';
import { reply, startProxy, startServer, type ServerOptions, type TestServer } from '../helpers/http.ts';
import type { Teardown } from '../helpers/procs.ts';
import { scrapeManager } from '../helpers/scrape-loop.ts';
import { tempCert } from '../helpers/tls.ts';
import { at } from '../helpers/defined.ts';

function metricsTarget(t: Teardown, tls?: ServerOptions['tls']): Promise<TestServer> {
  return startServer(reply(200, 'probe_value 1\n', { 'Content-Type': 'text/plain; version=0.0.4' }), { tls, t });
}

/** Runs one scrape of a single-target job through a real ScrapeManager and returns the target's status. */
async function scrapeOnce(t: Teardown, job: string, target: string, env: NodeJS.ProcessEnv): Promise<TargetStatus> {
  const { mgr, scrapeAll } = await scrapeManager(
    t,
    ['  - job_name: j', job, '    static_configs:', `      - targets: ['${target}']`].join('\n'),
    env,
  );
  await scrapeAll();
  return at(mgr.targets(), 0, 'targets');
}

/**
 * 0.0.0.0 reaches the loopback listener, but unlike 127.0.0.1 it is not exempt from the proxy under
 * no_proxy / environment rules, so it can show both routes without leaving the machine.
 */
const ANY = '0.0.0.0';

const CASES: {
  name: string;
  job: (proxy: string) => string;
  env?: (proxy: string) => NodeJS.ProcessEnv;
  host: string;
  proxied: boolean;
}[] = [
  {
    name: 'no_proxy naming the target bypasses proxy_url',
    job: (p) => `    proxy_url: ${p}\n    no_proxy: ${ANY},elsewhere.example`,
    host: ANY,
    proxied: false,
  },
  {
    name: 'no_proxy naming another host leaves the target proxied',
    job: (p) => `    proxy_url: ${p}\n    no_proxy: elsewhere.example`,
    host: ANY,
    proxied: true,
  },
  { name: 'no_proxy as a CIDR', job: (p) => `    proxy_url: ${p}\n    no_proxy: 0.0.0.0/8`, host: ANY, proxied: false },
  {
    name: 'with no_proxy set, loopback targets always go direct',
    job: (p) => `    proxy_url: ${p}\n    no_proxy: elsewhere.example`,
    host: '127.0.0.1',
    proxied: false,
  },
  {
    name: 'a bare proxy_url proxies loopback too',
    job: (p) => `    proxy_url: ${p}`,
    host: '127.0.0.1',
    proxied: true,
  },
  {
    name: 'proxy_from_environment uses HTTP_PROXY',
    job: () => '    proxy_from_environment: true',
    env: (p) => ({ HTTP_PROXY: p }),
    host: ANY,
    proxied: true,
  },
  {
    name: 'proxy_from_environment honours NO_PROXY',
    job: () => '    proxy_from_environment: true',
    env: (p) => ({ http_proxy: p, no_proxy: `elsewhere.example,${ANY}` }),
    host: ANY,
    proxied: false,
  },
  {
    name: 'proxy_from_environment never proxies loopback',
    job: () => '    proxy_from_environment: true',
    env: (p) => ({ HTTP_PROXY: p }),
    host: '127.0.0.1',
    proxied: false,
  },
  {
    name: 'the environment is ignored without proxy_from_environment',
    job: () => '    honor_labels: false',
    env: (p) => ({ HTTP_PROXY: p }),
    host: ANY,
    proxied: false,
  },
];

for (const c of CASES) {
  test(`scrape routing: ${c.name}`, async (t) => {
    const target = await metricsTarget(t);
    const proxy = await startProxy({ t });
    const addr = `${c.host}:${target.port}`;
    const status = await scrapeOnce(t, c.job(proxy.url), addr, c.env?.(proxy.url) ?? {});
    t.is(status.health, 'up', status.lastError);
    t.deepEqual(
      proxy.forwarded.map((f) => f.url),
      c.proxied ? [`http://${addr}/metrics`] : [],
    );
    t.is(proxy.connects.length, 0);
    t.is(target.received.length, 1);
    t.is(at(target.received, 0, 'target.received').headers['user-agent'], 'outpost-test');
  });
}

test('https scrape with proxy_from_environment: HTTPS_PROXY via CONNECT with proxy_connect_header, TLS to the target', async (t) => {
  const pem = await tempCert(t);
  const target = await metricsTarget(t, pem);
  const proxy = await startProxy({ t });
  const job = [
    '    scheme: https',
    '    proxy_from_environment: true',
    '    proxy_connect_header:',
    '      X-Tenant: [edge-3]',
    '    tls_config:',
    `      ca_file: ${pem.certFile}`,
    '      server_name: outpost-test',
  ].join('\n');
  const status = await scrapeOnce(t, job, `${ANY}:${target.port}`, {
    HTTPS_PROXY: proxy.url,
    HTTP_PROXY: 'http://127.0.0.1:9',
  });
  t.is(status.health, 'up', status.lastError);
  t.deepEqual(
    proxy.connects.map((c) => c.authority),
    [`${ANY}:${target.port}`],
  );
  t.is(at(proxy.connects, 0, 'proxy.connects').headers['x-tenant'], 'edge-3');
  t.is(proxy.forwarded.length, 0);
});

test('an unusable proxy from the environment fails the scrapes instead of connecting directly', async (t) => {
  const target = await metricsTarget(t);
  const status = await scrapeOnce(t, '    proxy_from_environment: true', `${ANY}:${target.port}`, {
    HTTP_PROXY: 'socks5://127.0.0.1:1080',
  });
  t.is(status.health, 'down');
  t.regex(status.lastError, /socks5.*not supported/);
  t.is(target.received.length, 0);
});

test('oauth2 token requests of a scrape pool carry the scrape User-Agent', async (t) => {
  const token = JSON.stringify({ access_token: 'scrape-tok', token_type: 'bearer', expires_in: 3600 });
  const tokens = await startServer(reply(200, token, { 'Content-Type': 'application/json' }), { t });
  const target = await metricsTarget(t);
  const job = `    oauth2:\n      client_id: c\n      client_secret: s\n      token_url: ${tokens.url}/token`;
  const status = await scrapeOnce(t, job, `127.0.0.1:${target.port}`, {});
  t.is(status.health, 'up', status.lastError);
  t.is(tokens.received.length, 1);
  t.is(at(tokens.received, 0, 'tokens.received').headers['user-agent'], 'outpost-test');
  t.is(at(target.received, 0, 'target.received').headers.authorization, 'Bearer scrape-tok');
});

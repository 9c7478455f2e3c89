import test from 'ava';
import type { HttpSdConfig } from '../../src/config/types.ts';
import { HttpDiscoverer } from '../../src/discovery/http.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { startProxy, startServer, type Received, type ServerOptions, type TestServer } from '../helpers/http.ts';
import type { Teardown } from '../helpers/procs.ts';
import { tempCert } from '../helpers/tls.ts';
import { metricValue, newMetrics, plain, Run, scrapeConfigs, waitFor } from './helpers.ts';
import { at, firstN } from '../helpers/defined.ts';

const LIST = JSON.stringify([{ targets: ['a:1'], labels: { env: 'prod' } }]);

/** A loopback SD endpoint answering LIST on /sd and redirecting /moved there. */
function sdServer(t: Teardown, tls?: ServerOptions['tls']): Promise<TestServer> {
  return startServer(
    (r, res) => {
      if (r.url === '/moved') {
        res.writeHead(302, { Location: '/sd' });
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(LIST);
    },
    { tls, t },
  );
}

function httpConfig(url: string, extra = ''): HttpSdConfig {
  const [cfg] = firstN(
    scrapeConfigs(`scrape_configs:\n  - job_name: j\n    http_sd_configs:\n      - url: ${url}\n${extra}`),
    1,
    'scrapeConfigs(...)',
  );
  return at(cfg.httpSdConfigs, 0, 'cfg.httpSdConfigs');
}

function start(t: Teardown, config: HttpSdConfig, env: NodeJS.ProcessEnv = {}) {
  const { reg, metrics } = newMetrics();
  const clock = new FakeClock();
  const log = memoryLogger();
  const run = new Run(
    new HttpDiscoverer({ config, scheme: 'legacy', log, metrics, clock, userAgent: 'Outpost/test', env }),
  );
  t.teardown(() => run.stop());
  const failures = async () => (await metricValue(reg, 'prometheus_sd_http_failures_total')) ?? 0;
  const lastError = () => log.lines.filter((l) => l.includes('Unable to refresh target groups')).at(-1) ?? '';
  /** Lets the next refresh run (the FakeClock drives the refresh interval). */
  const refreshAgain = async () => {
    await waitFor(() => clock.pending > 0, 'discoverer waiting');
    clock.advance(60_000);
  };
  return { run, reg, log, failures, lastError, refreshAgain };
}

/** `0.0.0.0` reaches the loopback listener but, unlike 127.0.0.1, is not exempt from the proxy under no_proxy rules. */
function viaAnyAddr(url: string): string {
  return url.replace('127.0.0.1', '0.0.0.0');
}

test('http_sd through an http proxy: absolute-URI requests with Proxy-Authorization, redirects proxied too', async (t) => {
  const sd = await sdServer(t);
  const proxy = await startProxy({ credentials: 'sd:pw', t });
  const url = `${sd.url}/moved`;
  const { run } = start(t, httpConfig(url, `        proxy_url: ${proxy.url.replace('http://', 'http://sd:pw@')}\n`));
  const groups = await run.emitted(1);
  t.deepEqual(plain(groups), [{ source: `${url}:0`, targets: ['a:1'], labels: ['__meta_url', url, 'env', 'prod'] }]);
  t.deepEqual(
    proxy.forwarded.map((f) => f.url),
    [`${sd.url}/moved`, `${sd.url}/sd`],
    'both hops went through the proxy',
  );
  t.is(
    at(proxy.forwarded, 0, 'proxy.forwarded').headers['proxy-authorization'],
    'Basic ' + Buffer.from('sd:pw').toString('base64'),
  );
  t.is(at(proxy.forwarded, 0, 'proxy.forwarded').headers.host, `127.0.0.1:${sd.port}`);
  const h = at(sd.received, 1, 'sd.received').headers;
  t.is(h['user-agent'], 'Outpost/test');
  t.is(h.accept, 'application/json');
  t.is(h['x-prometheus-refresh-interval-seconds'], '60');
  t.is(h['proxy-authorization'], undefined, 'proxy credentials stay with the proxy');
});

test('http_sd to an https server through CONNECT: proxy_connect_header, TLS verified end to end, tunnel reused', async (t) => {
  const pem = await tempCert(t);
  const sd = await sdServer(t, pem);
  const proxy = await startProxy({ t });
  const extra = (tls: string) =>
    `        proxy_url: ${proxy.url}\n        proxy_connect_header:\n          X-Tenant: [edge-1]\n        tls_config:\n          ${tls}\n`;
  const ok = start(t, httpConfig(`${sd.url}/sd`, extra(`ca_file: ${pem.certFile}`)));
  t.is(at(await ok.run.emitted(1), 0, '(await ok.run.emitted(1))').targets[0], 'a:1');
  await ok.refreshAgain();
  await ok.run.emitted(2);
  t.is(proxy.connects.length, 1, 'one tunnel for both refreshes');
  t.is(at(proxy.connects, 0, 'proxy.connects').authority, `127.0.0.1:${sd.port}`);
  t.is(at(proxy.connects, 0, 'proxy.connects').headers['x-tenant'], 'edge-1');
  t.is(proxy.forwarded.length, 0, 'nothing went to the proxy in clear');
  t.is(sd.received.length, 2);

  const untrusted = start(t, httpConfig(`${sd.url}/sd`, extra('insecure_skip_verify: false')));
  await waitFor(async () => (await untrusted.failures()) === 1, 'certificate failure');
  t.regex(untrusted.lastError(), /certificate/i);
  t.is(untrusted.run.emits.length, 0);
});

test('a proxy refusing CONNECT fails the refresh with its status', async (t) => {
  const proxy = await startProxy({ refuseConnect: 407, t });
  const s = start(t, httpConfig('https://127.0.0.1:9/sd', `        proxy_url: ${proxy.url}\n`));
  await waitFor(async () => (await s.failures()) === 1, 'refused CONNECT');
  t.regex(s.lastError(), /Get \\"https:\/\/127\.0\.0\.1:9\/sd\\": proxy refused CONNECT: HTTP status 407/);
  t.is(proxy.connects.length, 1);
});

const ROUTING: {
  name: string;
  extra: (proxy: string) => string;
  env?: (proxy: string) => NodeJS.ProcessEnv;
  anyAddr: boolean;
  proxied: boolean;
}[] = [
  {
    name: 'no_proxy naming the host bypasses proxy_url',
    extra: (p) => `        proxy_url: ${p}\n        no_proxy: 0.0.0.0,elsewhere.example\n`,
    anyAddr: true,
    proxied: false,
  },
  {
    name: 'no_proxy naming another host leaves it proxied',
    extra: (p) => `        proxy_url: ${p}\n        no_proxy: elsewhere.example\n`,
    anyAddr: true,
    proxied: true,
  },
  {
    name: 'with no_proxy set, loopback always goes direct',
    extra: (p) => `        proxy_url: ${p}\n        no_proxy: elsewhere.example\n`,
    anyAddr: false,
    proxied: false,
  },
  {
    name: 'proxy_from_environment uses HTTP_PROXY',
    extra: () => '        proxy_from_environment: true\n',
    env: (p) => ({ HTTP_PROXY: p }),
    anyAddr: true,
    proxied: true,
  },
  {
    name: 'proxy_from_environment honours NO_PROXY',
    extra: () => '        proxy_from_environment: true\n',
    env: (p) => ({ http_proxy: p, NO_PROXY: '0.0.0.0' }),
    anyAddr: true,
    proxied: false,
  },
  {
    name: 'proxy_from_environment: HTTPS_PROXY alone does not proxy http',
    extra: () => '        proxy_from_environment: true\n',
    env: (p) => ({ HTTPS_PROXY: p }),
    anyAddr: true,
    proxied: false,
  },
];

for (const c of ROUTING) {
  test(`http_sd routing: ${c.name}`, async (t) => {
    const sd = await sdServer(t);
    const proxy = await startProxy({ t });
    const url = c.anyAddr ? viaAnyAddr(`${sd.url}/sd`) : `${sd.url}/sd`;
    const { run } = start(t, httpConfig(url, c.extra(proxy.url)), c.env?.(proxy.url) ?? {});
    t.deepEqual(at(await run.emitted(1), 0, '(await run.emitted(1))').targets, ['a:1']);
    t.deepEqual(
      proxy.forwarded.map((f) => f.url),
      c.proxied ? [url] : [],
    );
    t.is(proxy.connects.length, 0);
    t.is(sd.received.length, 1);
  });
}

test('an unusable proxy from the environment fails every refresh rather than connecting directly', async (t) => {
  const sd = await sdServer(t);
  const s = start(t, httpConfig(viaAnyAddr(`${sd.url}/sd`), '        proxy_from_environment: true\n'), {
    HTTP_PROXY: 'socks5://127.0.0.1:1080',
  });
  await waitFor(async () => (await s.failures()) === 1, 'first failure');
  t.regex(s.lastError(), /socks5.*not supported/);
  await s.refreshAgain();
  await waitFor(async () => (await s.failures()) === 2, 'second failure');
  t.is(sd.received.length, 0);
  t.is(s.run.emits.length, 0);
});

/** A token endpoint handing out tok-1, tok-2, ... unless `fail` is set. */
async function tokenServer(t: Teardown): Promise<{ srv: TestServer; fail: { on: boolean } }> {
  const fail = { on: false };
  let n = 0;
  const srv = await startServer(
    (_r, res) => {
      if (fail.on) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('down');
        return;
      }
      n++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ access_token: `tok-${n}`, token_type: 'bearer', expires_in: 3600 }));
    },
    { t },
  );
  return { srv, fail };
}

function form(r: Received): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(r.body.toString('utf8')));
}

test('http_sd with oauth2: client-credentials token (with the SD User-Agent) sent as Bearer and cached across refreshes', async (t) => {
  const sd = await sdServer(t);
  const { srv: tokens } = await tokenServer(t);
  const oauth = `        oauth2:\n          client_id: sd-client\n          client_secret: s3cret\n          token_url: ${tokens.url}/token\n          scopes: [targets]\n`;
  const s = start(t, httpConfig(`${sd.url}/sd`, oauth));
  await s.run.emitted(1);
  t.is(at(sd.received, 0, 'sd.received').headers.authorization, 'Bearer tok-1');
  t.is(tokens.received.length, 1);
  const tr = at(tokens.received, 0, 'tokens.received');
  t.is(tr.method, 'POST');
  t.is(tr.headers['user-agent'], 'Outpost/test');
  t.is(tr.headers.authorization, 'Basic ' + Buffer.from('sd-client:s3cret').toString('base64'));
  t.deepEqual(form(tr), { grant_type: 'client_credentials', scope: 'targets' });
  await s.refreshAgain();
  await s.run.emitted(2);
  t.is(at(sd.received, 1, 'sd.received').headers.authorization, 'Bearer tok-1');
  t.is(tokens.received.length, 1, 'the token is reused until it nears expiry');
});

test('http_sd with oauth2: a failing token endpoint fails the refresh without an SD request; the next refresh recovers', async (t) => {
  const sd = await sdServer(t);
  const { srv: tokens, fail } = await tokenServer(t);
  fail.on = true;
  const oauth = `        oauth2:\n          client_id: sd-client\n          client_secret: s3cret\n          token_url: ${tokens.url}/token\n`;
  const s = start(t, httpConfig(`${sd.url}/sd`, oauth));
  await waitFor(async () => (await s.failures()) === 1, 'token failure');
  t.regex(s.lastError(), /oauth2: cannot fetch token: 500/);
  t.is(sd.received.length, 0, 'no SD request without a token');
  fail.on = false;
  await s.refreshAgain();
  t.deepEqual(at(await s.run.emitted(1), 0, '(await s.run.emitted(1))').targets, ['a:1']);
  t.is(at(sd.received, 0, 'sd.received').headers.authorization, 'Bearer tok-1');
});

test("http_sd through a proxy with oauth2: the token request follows the oauth2 block's own proxy settings", async (t) => {
  const sd = await sdServer(t);
  const { srv: tokens } = await tokenServer(t);
  const proxy = await startProxy({ t });
  // SD through the proxy, token endpoint direct (the oauth2 block has no proxy of its own).
  const extra = `        proxy_url: ${proxy.url}\n        oauth2:\n          client_id: c\n          client_secret: s\n          token_url: ${tokens.url}/token\n`;
  const s = start(t, httpConfig(`${sd.url}/sd`, extra));
  await s.run.emitted(1);
  t.deepEqual(
    proxy.forwarded.map((f) => f.url),
    [`${sd.url}/sd`],
  );
  t.is(at(proxy.forwarded, 0, 'proxy.forwarded').headers.authorization, 'Bearer tok-1');
  t.is(tokens.received.length, 1);
});

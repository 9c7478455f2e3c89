import test from 'ava';
import https from 'node:https';
import { NoProxy, ProxySelector, parseProxyUrl } from '../../src/net/proxy.ts';
import { Secret } from '../../src/config/secret.ts';
import { tlsOptions } from '../../src/net/tls.ts';
import { HttpWriteClient } from '../../src/remote/client.ts';
import { fetchBody } from '../../src/scrape/fetch-body.ts';
import { reply, startProxy, startServer } from '../helpers/http.ts';
import { tempCert } from '../helpers/tls.ts';
import { rwConfig } from './helpers.ts';
import { at } from '../helpers/defined.ts';

const NO_PROXY_CASES: { spec: string; host: string; port: string; bypass: boolean }[] = [
  { spec: '*', host: 'anything.example', port: '80', bypass: true },
  { spec: 'example.com', host: 'example.com', port: '443', bypass: true },
  { spec: 'example.com', host: 'api.example.com', port: '443', bypass: true },
  { spec: 'example.com', host: 'notexample.com', port: '443', bypass: false },
  { spec: '.example.com', host: 'example.com', port: '443', bypass: false },
  { spec: '.example.com', host: 'api.example.com', port: '443', bypass: true },
  { spec: '*.example.com', host: 'api.example.com', port: '80', bypass: true },
  { spec: '*.example.com', host: 'example.com', port: '80', bypass: false },
  { spec: 'example.com:8443', host: 'example.com', port: '8443', bypass: true },
  { spec: 'example.com:8443', host: 'example.com', port: '443', bypass: false },
  { spec: '10.0.0.0/8', host: '10.1.2.3', port: '80', bypass: true },
  { spec: '10.0.0.0/8', host: '11.1.2.3', port: '80', bypass: false },
  { spec: '192.168.1.10', host: '192.168.1.10', port: '80', bypass: true },
  { spec: '192.168.1.10:9090', host: '192.168.1.10', port: '80', bypass: false },
  { spec: 'fd00::/8', host: 'fd00::1', port: '443', bypass: true },
  { spec: '[2001:db8::1]:443', host: '2001:db8::1', port: '443', bypass: true },
  { spec: ' Foo.COM , bar.org ', host: 'x.bar.org', port: '80', bypass: true },
  { spec: ' Foo.COM , bar.org ', host: 'foo.com', port: '80', bypass: true },
  { spec: '', host: 'example.com', port: '80', bypass: false },
];

for (const c of NO_PROXY_CASES) {
  test(`no_proxy ${JSON.stringify(c.spec)}: ${c.host}:${c.port} ${c.bypass ? 'direct' : 'proxied'}`, (t) => {
    t.is(new NoProxy(c.spec).bypass(c.host, c.port), c.bypass);
  });
}

test('proxy selection: bare proxy_url proxies everything, loopback included', (t) => {
  const sel = ProxySelector.fromConfig({ proxyUrl: 'http://proxy.internal:3128', proxyFromEnvironment: false });
  t.is(sel?.select(new URL('http://127.0.0.1:9090/metrics'))?.proxy.href, 'http://proxy.internal:3128/');
  t.is(sel?.select(new URL('https://central.example/api/v1/write'))?.proxy.href, 'http://proxy.internal:3128/');
});

test('proxy selection: with no_proxy (httpproxy rules) localhost and loopback always go direct', (t) => {
  const sel = ProxySelector.fromConfig({
    proxyUrl: 'http://proxy.internal:3128',
    noProxy: 'internal.example',
    proxyFromEnvironment: false,
  });
  t.is(sel?.select(new URL('http://127.0.0.1:9090/')), null);
  t.is(sel?.select(new URL('http://localhost:9090/')), null);
  t.is(sel?.select(new URL('http://[::1]:9090/')), null);
  t.is(sel?.select(new URL('https://db.internal.example/')), null);
  t.truthy(sel?.select(new URL('https://central.example/')));
});

test('proxy selection: proxy_from_environment picks HTTP_PROXY / HTTPS_PROXY by scheme and honours NO_PROXY', (t) => {
  const env = { HTTP_PROXY: 'plain.proxy:3128', https_proxy: 'http://secure.proxy:3129', NO_PROXY: '.skip.example' };
  const sel = ProxySelector.fromConfig({ proxyFromEnvironment: true }, env);
  t.is(
    sel?.select(new URL('http://a.example/'))?.proxy.href,
    'http://plain.proxy:3128/',
    'a proxy without scheme is read as http://',
  );
  t.is(sel?.select(new URL('https://a.example/'))?.proxy.href, 'http://secure.proxy:3129/');
  t.is(sel?.select(new URL('https://x.skip.example/')), null);
  t.is(ProxySelector.fromConfig({ proxyFromEnvironment: true }, {}), null, 'no proxy variables: direct');
  t.is(ProxySelector.fromConfig({ proxyFromEnvironment: false }), null);
});

test('proxy URLs: userinfo becomes Proxy-Authorization; unsupported schemes are refused', (t) => {
  const sel = ProxySelector.fromConfig({
    proxyUrl: 'http://u%40x:p%3Aw@proxy:1',
    proxyFromEnvironment: false,
    proxyConnectHeader: { 'X-Tenant': [new Secret('t1'), new Secret('t2')] },
  });
  const r = sel?.select(new URL('https://x/'));
  t.is(r?.authorization, 'Basic ' + Buffer.from('u@x:p:w').toString('base64'));
  t.deepEqual(r?.connectHeaders, { 'X-Tenant': ['t1', 't2'] });
  t.throws(() => parseProxyUrl('socks5://proxy:1080'), { message: /socks5.*not supported/ });
});

test('remote write through an http proxy: absolute-URI requests, Proxy-Authorization from the proxy URL, one pooled connection', async (t) => {
  const rx = await startServer(reply(204), { t });
  const proxy = await startProxy({ credentials: 'agent:pw', t });
  const proxyUrl = proxy.url.replace('http://', 'http://agent:pw@');
  const c = new HttpWriteClient(rwConfig(`url: ${rx.url}/api/v1/write\n    proxy_url: ${proxyUrl}`), 'Outpost/1');
  t.teardown(() => c.close());
  for (let i = 0; i < 3; i++) t.is((await c.send(Buffer.from(`body-${i}`), 0, 'v1')).kind, 'ok');
  t.deepEqual(
    proxy.forwarded.map((f) => f.url),
    Array(3).fill(`${rx.url}/api/v1/write`),
  );
  t.is(
    at(proxy.forwarded, 0, 'proxy.forwarded').headers['proxy-authorization'],
    'Basic ' + Buffer.from('agent:pw').toString('base64'),
  );
  t.is(at(proxy.forwarded, 0, 'proxy.forwarded').headers.host, `127.0.0.1:${rx.port}`);
  t.deepEqual(
    rx.received.map((r) => r.body.toString()),
    ['body-0', 'body-1', 'body-2'],
  );
  t.is(at(rx.received, 0, 'rx.received').headers['content-encoding'], 'snappy');
});

test('remote write to an https receiver through CONNECT: proxy_connect_header sent, TLS verified end to end, tunnel kept alive', async (t) => {
  const pem = await tempCert(t);
  const rx = await startServer(reply(204), { tls: pem, t });
  const proxy = await startProxy({ t });
  const entry = (tls: string) => `url: ${rx.url}/api/v1/write
    proxy_url: ${proxy.url}
    proxy_connect_header:
      X-Tenant: [edge-1]
    tls_config:
      ${tls}`;
  const c = new HttpWriteClient(rwConfig(entry(`ca_file: ${pem.certFile}`)), 'Outpost/1');
  t.teardown(() => c.close());
  for (let i = 0; i < 3; i++) t.is((await c.send(Buffer.from(`tls-${i}`), 0, 'v1')).kind, 'ok');
  t.is(proxy.connects.length, 1, 'one tunnel for all three requests');
  t.is(at(proxy.connects, 0, 'proxy.connects').authority, `127.0.0.1:${rx.port}`);
  t.is(at(proxy.connects, 0, 'proxy.connects').headers['x-tenant'], 'edge-1');
  t.is(proxy.forwarded.length, 0, 'nothing went to the proxy in clear');
  t.deepEqual(
    rx.received.map((r) => r.body.toString()),
    ['tls-0', 'tls-1', 'tls-2'],
  );

  const untrusted = new HttpWriteClient(rwConfig(entry('insecure_skip_verify: false')), 'Outpost/1');
  t.teardown(() => untrusted.close());
  const r = await untrusted.send(Buffer.from('x'), 0, 'v1');
  t.is(r.kind, 'retry');
  if (r.kind === 'retry') t.regex(r.error, /certificate/i);
});

test('a proxy refusing CONNECT is a retryable send error naming the proxy status', async (t) => {
  const proxy = await startProxy({ refuseConnect: 407, t });
  const c = new HttpWriteClient(
    rwConfig(`url: https://127.0.0.1:9/api/v1/write\n    proxy_url: ${proxy.url}`),
    'Outpost/1',
  );
  t.teardown(() => c.close());
  const r = await c.send(Buffer.from('x'), 0, 'v1');
  t.is(r.kind, 'retry');
  if (r.kind === 'retry')
    t.regex(r.error, /^Post "https:\/\/127\.0\.0\.1:9\/api\/v1\/write": proxy refused CONNECT: HTTP status 407/);
});

test('no_proxy keeps loopback receivers off the proxy', async (t) => {
  const rx = await startServer(reply(204), { t });
  const proxy = await startProxy({ t });
  const c = new HttpWriteClient(
    rwConfig(`url: ${rx.url}/w\n    proxy_url: ${proxy.url}\n    no_proxy: elsewhere.example`),
    'Outpost/1',
  );
  t.teardown(() => c.close());
  t.is((await c.send(Buffer.from('x'), 0, 'v1')).kind, 'ok');
  t.is(proxy.forwarded.length + proxy.connects.length, 0);
  t.is(rx.received.length, 1);
});

test('scrapes share the same proxy code: fetchBody through a selector sends proxy_connect_header and pools the tunnel', async (t) => {
  const pem = await tempCert(t);
  const target = await startServer(reply(200, 'm 1\n', { 'Content-Type': 'text/plain' }), { tls: pem, t });
  const proxy = await startProxy({ t });
  const tls = tlsOptions({ caFile: pem.certFile, insecureSkipVerify: false });
  const agent = new https.Agent({ keepAlive: true, ...tls });
  t.teardown(() => agent.destroy());
  const selector = ProxySelector.fromConfig({
    proxyUrl: proxy.url,
    proxyFromEnvironment: false,
    proxyConnectHeader: { 'X-Tenant': [new Secret('edge-2')] },
  });
  for (let i = 0; i < 2; i++) {
    const res = await fetchBody(
      {
        url: new URL(`${target.url}/metrics`),
        headers: { Accept: 'text/plain' },
        timeoutMs: 5000,
        bodySizeLimit: 0,
        agent,
        tls,
        maxRedirects: 0,
        proxy: selector ?? undefined,
      },
      Buffer.alloc(16),
    );
    t.is(res.buf.subarray(0, res.length).toString(), 'm 1\n');
  }
  t.is(proxy.connects.length, 1);
  t.is(at(proxy.connects, 0, 'proxy.connects').headers['x-tenant'], 'edge-2');
});

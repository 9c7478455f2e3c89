import test from 'ava';
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { OAuth2TokenSource, queryEscape, EXPIRY_DELTA_MS } from '../../src/net/oauth2.ts';
import { HttpWriteClient } from '../../src/remote/client.ts';
import { AuthSource } from '../../src/net/auth.ts';
import { Secret } from '../../src/config/secret.ts';
import type { OAuth2Config } from '../../src/config/types.ts';
import { reply, startProxy, startServer, type Received, type TestServer } from '../helpers/http.ts';
import { tmpDir, type Teardown } from '../helpers/procs.ts';
import { rwConfig } from './helpers.ts';
import { at, firstN } from '../helpers/defined.ts';

const SECRET = 'Sup3r secret/+&';

function basic(id: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${queryEscape(id)}:${queryEscape(secret)}`).toString('base64');
}

function form(r: Received): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(r.body.toString('utf8')));
}

/** A token endpoint that hands out tok-1, tok-2, ... (or whatever `answer` decides). */
async function tokenServer(
  t: Teardown,
  answer?: (r: Received, res: http.ServerResponse, n: number) => boolean,
): Promise<TestServer> {
  let n = 0;
  return startServer(
    (r, res) => {
      n++;
      if (answer?.(r, res, n)) return;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ access_token: `tok-${n}`, token_type: 'bearer', expires_in: 60 }));
    },
    { t },
  );
}

function oauthCfg(tokenUrl: string, extra: Partial<OAuth2Config> = {}): OAuth2Config {
  return {
    clientId: 'outpost agent',
    scopes: ['write', 'metrics:push'],
    tokenUrl,
    endpointParams: { audience: 'central' },
    tlsConfig: { insecureSkipVerify: false },
    proxyFromEnvironment: false,
    ...extra,
  };
}

function withSecret(cfg: OAuth2Config, secret: string): OAuth2Config {
  return { ...cfg, clientSecret: new Secret(secret) };
}

test('client-credentials request: basic auth (escaped), form with grant_type, scope, endpoint_params, User-Agent', async (t) => {
  const s = await tokenServer(t);
  const src = new OAuth2TokenSource(withSecret(oauthCfg(`${s.url}/oauth/token?tenant=a`), SECRET), {
    userAgent: 'Outpost/1.0',
  });
  t.teardown(() => src.close());
  t.is(await src.authorization(), 'Bearer tok-1');
  const [r] = firstN(s.received, 1, 's.received');
  t.is(r.method, 'POST');
  t.is(r.url, '/oauth/token?tenant=a');
  t.is(r.headers.authorization, basic('outpost agent', SECRET));
  t.is(r.headers['content-type'], 'application/x-www-form-urlencoded');
  t.is(r.headers['user-agent'], 'Outpost/1.0');
  t.deepEqual(form(r), { audience: 'central', grant_type: 'client_credentials', scope: 'write metrics:push' });
  t.is(
    r.body.toString(),
    'audience=central&grant_type=client_credentials&scope=write+metrics%3Apush',
    'keys sorted, Go query escaping',
  );
});

test('the token is cached until 10 s before expiry, then refreshed; concurrent callers share one request', async (t) => {
  const s = await tokenServer(t);
  let now = 1_000_000;
  const src = new OAuth2TokenSource(withSecret(oauthCfg(`${s.url}/token`), 'x'), { now: () => now });
  t.teardown(() => src.close());
  const first = await Promise.all([src.authorization(), src.authorization(), src.authorization()]);
  t.deepEqual(first, ['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
  t.is(s.received.length, 1);
  now += 60_000 - EXPIRY_DELTA_MS - 1;
  t.is(await src.authorization(), 'Bearer tok-1', 'still valid just before the expiry delta');
  now += 2;
  t.is(await src.authorization(), 'Bearer tok-2', 'refreshed inside the expiry delta');
  t.is(s.received.length, 2);
});

test('a token without expires_in is kept; token_type casing follows Go (bearer → Bearer, custom kept)', async (t) => {
  const s = await tokenServer(t, (_r, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'forever', token_type: 'DPoP-ish' }));
    return true;
  });
  let now = 0;
  const src = new OAuth2TokenSource(oauthCfg(`${s.url}/t`), { now: () => now });
  t.teardown(() => src.close());
  t.is(await src.authorization(), 'DPoP-ish forever');
  now += 365 * 86_400_000;
  t.is(await src.authorization(), 'DPoP-ish forever');
  t.is(s.received.length, 1);
});

test('form-encoded token responses are understood (text/plain, expires_in as text)', async (t) => {
  const s = await tokenServer(t, (_r, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('access_token=abc&token_type=bearer&expires_in=3600');
    return true;
  });
  const src = new OAuth2TokenSource(oauthCfg(`${s.url}/t`));
  t.teardown(() => src.close());
  t.is(await src.authorization(), 'Bearer abc');
});

test('client_secret_file: re-read, and a changed secret drops the cached token', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'secret');
  await fs.writeFile(file, 'first\n');
  const s = await tokenServer(t);
  const src = new OAuth2TokenSource(oauthCfg(`${s.url}/t`, { clientSecretFile: file }), { secretRecheckMs: 0 });
  t.teardown(() => src.close());
  t.is(await src.authorization(), 'Bearer tok-1');
  t.is(await src.authorization(), 'Bearer tok-1', 'same secret: cached token');
  await fs.writeFile(file, 'second\n');
  t.is(await src.authorization(), 'Bearer tok-2');
  t.is(s.received.length, 2);
  t.is(at(s.received, 0, 's.received').headers.authorization, basic('outpost agent', 'first'));
  t.is(at(s.received, 1, 's.received').headers.authorization, basic('outpost agent', 'second'));
  await fs.rm(file);
  await t.throwsAsync(src.authorization(), { message: /unable to read oauth2 client secret: .*ENOENT/ });
});

test('auth style auto-detection: credentials move to the form body when the header is refused, and stay there', async (t) => {
  const s = await tokenServer(t, (r, res) => {
    if (r.headers.authorization) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_client' }));
      return true;
    }
    return false;
  });
  let now = 0;
  const src = new OAuth2TokenSource(withSecret(oauthCfg(`${s.url}/t`), SECRET), { now: () => now });
  t.teardown(() => src.close());
  t.is(await src.authorization(), 'Bearer tok-2');
  t.like(form(at(s.received, 1, 's.received')), {
    client_id: 'outpost agent',
    client_secret: SECRET,
    grant_type: 'client_credentials',
  });
  now += 3_600_000;
  t.is(await src.authorization(), 'Bearer tok-3');
  t.is(s.received.length, 3, 'the refresh went straight to the body style');
  t.is(at(s.received, 2, 's.received').headers.authorization, undefined);
});

const ERROR_CASES: { name: string; status: number; type?: string; body: string; message: RegExp }[] = [
  {
    name: 'RFC 6749 error object',
    status: 400,
    body: JSON.stringify({ error: 'invalid_client', error_description: 'bad credentials' }),
    message: /^oauth2: "invalid_client" "bad credentials"$/,
  },
  {
    name: 'error code in a 200 answer',
    status: 200,
    body: JSON.stringify({ error: 'unauthorized_client' }),
    message: /^oauth2: "unauthorized_client"$/,
  },
  {
    name: 'plain 500',
    status: 500,
    type: 'text/html',
    body: '<h1>down</h1>',
    message: /^oauth2: cannot fetch token: 500 Internal Server Error; response: <h1>down<\/h1>$/,
  },
  {
    name: 'no access_token',
    status: 200,
    body: JSON.stringify({ token_type: 'bearer' }),
    message: /^oauth2: server response missing access_token$/,
  },
  { name: 'not JSON', status: 200, body: 'garbage', message: /^oauth2: cannot parse json/ },
];

for (const c of ERROR_CASES) {
  test(`token errors: ${c.name}`, async (t) => {
    const s = await tokenServer(t, (_r, res) => {
      res.writeHead(c.status, { 'Content-Type': c.type ?? 'application/json' });
      res.end(c.body);
      return true;
    });
    const src = new OAuth2TokenSource(withSecret(oauthCfg(`${s.url}/t`), SECRET));
    t.teardown(() => src.close());
    const err = await t.throwsAsync(src.authorization(), { message: c.message });
    t.false(err?.message.includes(SECRET));
    t.is(s.received.length, 2, 'both auth styles were tried');
  });
}

test('endpoint_params may replace grant_type but not scope', async (t) => {
  const s = await tokenServer(t);
  const ok = new OAuth2TokenSource(oauthCfg(`${s.url}/t`, { endpointParams: { grant_type: 'urn:custom' } }));
  t.teardown(() => ok.close());
  await ok.authorization();
  t.is(form(at(s.received, 0, 's.received')).grant_type, 'urn:custom');
  const bad = new OAuth2TokenSource(oauthCfg(`${s.url}/t`, { endpointParams: { scope: 'all' } }));
  t.teardown(() => bad.close());
  await t.throwsAsync(bad.authorization(), { message: 'oauth2: cannot overwrite parameter "scope"' });
});

test('remote write with oauth2: Bearer token on the request; a failing token endpoint is a retryable send error', async (t) => {
  let tokenStatus = 200;
  const tokens = await tokenServer(t, (_r, res) => {
    if (tokenStatus === 200) return false;
    res.writeHead(tokenStatus);
    res.end();
    return true;
  });
  const rx = await startServer(reply(204), { t });
  const entry = (url: string) => `url: ${url}/api/v1/write
    oauth2:
      client_id: agent
      client_secret: ${JSON.stringify(SECRET)}
      token_url: ${tokens.url}/token
      scopes: [push]`;
  const c = new HttpWriteClient(rwConfig(entry(rx.url)), 'Outpost/1.2');
  t.teardown(() => c.close());
  t.is((await c.send(Buffer.from('x'), 0, 'v1')).kind, 'ok');
  t.is((await c.send(Buffer.from('y'), 0, 'v1')).kind, 'ok');
  t.is(at(rx.received, 0, 'rx.received').headers.authorization, 'Bearer tok-1');
  t.is(at(rx.received, 1, 'rx.received').headers.authorization, 'Bearer tok-1');
  t.is(tokens.received.length, 1);
  t.is(
    at(tokens.received, 0, 'tokens.received').headers['user-agent'],
    'Outpost/1.2',
    'token requests carry the client User-Agent',
  );

  tokenStatus = 503;
  const c2 = new HttpWriteClient(rwConfig(entry(rx.url)), 'Outpost/1.2');
  t.teardown(() => c2.close());
  const r = await c2.send(Buffer.from('z'), 0, 'v1');
  t.is(r.kind, 'retry');
  if (r.kind === 'retry') {
    t.is(r.error, `Post "${rx.url}/api/v1/write": oauth2: cannot fetch token: 503 Service Unavailable`);
    t.false(r.error.includes(SECRET));
  }
  t.is(rx.received.length, 2, 'nothing sent without a token');
});

test('a 401 from the receiver drops the cached token', async (t) => {
  const tokens = await tokenServer(t);
  let n = 0;
  const rx = await startServer(
    (_r, res) => {
      res.writeHead(n++ === 0 ? 401 : 204);
      res.end();
    },
    { t },
  );
  const c = new HttpWriteClient(
    rwConfig(
      `url: ${rx.url}/w\n    oauth2:\n      client_id: a\n      client_secret: b\n      token_url: ${tokens.url}/t`,
    ),
    'ua',
  );
  t.teardown(() => c.close());
  t.is((await c.send(Buffer.from('x'), 0, 'v1')).kind, 'fail');
  t.is((await c.send(Buffer.from('x'), 0, 'v1')).kind, 'ok');
  t.deepEqual(
    rx.received.map((r) => r.headers.authorization),
    ['Bearer tok-1', 'Bearer tok-2'],
  );
});

test("the token request goes through the oauth2 block's own proxy", async (t) => {
  const tokens = await tokenServer(t);
  const proxy = await startProxy({ t });
  const src = new OAuth2TokenSource(oauthCfg(`${tokens.url}/t`, { proxyUrl: proxy.url }));
  t.teardown(() => src.close());
  t.is(await src.authorization(), 'Bearer tok-1');
  t.deepEqual(
    proxy.forwarded.map((f) => f.url),
    [`${tokens.url}/t`],
  );
});

test('scrape and http_sd clients get oauth2 through AuthSource', async (t) => {
  const tokens = await tokenServer(t);
  const auth = new AuthSource(
    {
      tlsConfig: { insecureSkipVerify: false },
      followRedirects: true,
      enableHttp2: true,
      proxyFromEnvironment: false,
      oauth2: oauthCfg(`${tokens.url}/t`),
    },
    5000,
    { userAgent: 'Prometheus/3' },
  );
  t.teardown(() => auth.close());
  t.false(auth.none);
  t.is(await auth.header(), 'Bearer tok-1');
  t.is(await auth.header(), 'Bearer tok-1');
  t.is(tokens.received.length, 1);
});

test('an unreachable token endpoint fails with a clear message', async (t) => {
  const s = await startServer(() => undefined);
  const url = `${s.url}/t`;
  await s.close();
  const src = new OAuth2TokenSource(oauthCfg(url), { timeoutMs: 2000 });
  t.teardown(() => src.close());
  await t.throwsAsync(src.authorization(), {
    message: new RegExp(`^oauth2: cannot fetch token: Post "${url.replaceAll('.', '\\.')}": .*ECONNREFUSED`),
  });
});

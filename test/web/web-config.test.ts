import test from 'ava';
import bcrypt from 'bcryptjs';
import fs from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import type tls from 'node:tls';
import { memoryLogger } from '../../src/log/logger.ts';
import {
  BasicAuthChecker,
  WebConfigError,
  WebConfigSource,
  parseBasicAuth,
  parseWebConfig,
  subjectAltNames,
} from '../../src/web/web-config.ts';
import { WebServer } from '../../src/web/server.ts';
import { prometheus2OrSkip, startPrometheusAgent } from '../helpers/compliance.ts';
import { freePort, startOutpost, startProc, tmpDir, waitUntil } from '../helpers/procs.ts';
import { certificate } from '../helpers/tls.ts';
import { fakeAgent, request } from './helpers.ts';
import { at } from '../helpers/defined.ts';

// ---------------------------------------------------------------------------------------------
// Helpers

const HASH = bcrypt.hashSync('s3cret', 4);
const HASH2 = bcrypt.hashSync('other', 4);
const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

/**
 * Test PKI: a CA, two self-signed server certificates for 127.0.0.1 (the second to test rotation), a
 * client certificate signed by the CA with SANs, and a self-signed "rogue" client certificate.
 */
async function makePki(dir: string): Promise<void> {
  const both = 'serverAuth,clientAuth';
  const ca = await certificate(dir, { name: 'ca', subject: '/CN=outpost-test-ca', sans: [] });
  await certificate(dir, {
    name: 'server',
    subject: '/CN=localhost',
    sans: ['DNS:localhost', 'IP:127.0.0.1'],
    usage: both,
  });
  await certificate(dir, {
    name: 'server2',
    subject: '/CN=rotated',
    sans: ['DNS:localhost', 'IP:127.0.0.1'],
    usage: both,
  });
  await certificate(dir, { name: 'rogue', subject: '/CN=rogue', sans: ['DNS:scraper.example'], usage: both });
  await certificate(dir, {
    name: 'client',
    subject: '/CN=scraper',
    sans: ['DNS:scraper.example', 'IP:0:0:0:0:0:0:0:1'],
    usage: 'clientAuth',
    ca,
  });
}

interface TlsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  serverCert: string;
}

/** One HTTPS GET on a fresh connection, with optional CA, client certificate and Authorization. */
function httpsGet(
  url: string,
  o: {
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    auth?: string;
    minVersion?: tls.SecureVersion;
    maxVersion?: tls.SecureVersion;
    ciphers?: string;
    ecdhCurve?: string;
  } = {},
): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        agent: false,
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        minVersion: o.minVersion,
        maxVersion: o.maxVersion,
        ciphers: o.ciphers,
        ecdhCurve: o.ecdhCurve,
        headers: o.auth ? { Authorization: o.auth } : {},
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        const serverCert = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            serverCert,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function fingerprint(file: string): Promise<string> {
  const { X509Certificate } = await import('node:crypto');
  return new X509Certificate(await fs.readFile(file)).fingerprint256;
}

/** Our server with `--web.config.file=file`; `base` is http:// or https:// as the file decided. */
async function startOurs(file: string) {
  const fake = fakeAgent();
  const log = memoryLogger('debug');
  fake.deps.flags = { ...fake.deps.flags, 'web.config.file': file };
  fake.deps.log = log;
  const server = new WebServer(fake.deps);
  const addr = await server.listen('127.0.0.1:0');
  return { server, log, base: `${server.tls ? 'https' : 'http'}://${addr}`, close: () => server.close() };
}

async function dirWithFile(
  t: { teardown(fn: () => unknown): void },
  name: string,
  text: string,
): Promise<{ dir: string; file: string }> {
  const dir = await tmpDir('outpost-webcfg-');
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  return { dir, file };
}

// ---------------------------------------------------------------------------------------------
// Parsing

const BAD: { name: string; yaml: string; path: string; msg: RegExp; line?: number }[] = [
  {
    name: 'unknown top-level key',
    yaml: 'basic_auth_users: {}\nbogus: 1\n',
    path: 'bogus',
    msg: /unknown field "bogus"/,
    line: 2,
  },
  {
    name: 'misspelt key gets a hint',
    yaml: 'basic_auth_user:\n  a: x\n',
    path: 'basic_auth_user',
    msg: /did you mean "basic_auth_users"/,
  },
  {
    name: 'unknown tls key',
    yaml: 'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca: c\n',
    path: 'tls_server_config.client_ca',
    msg: /unknown field "client_ca"/,
    line: 4,
  },
  {
    name: 'unknown http key',
    yaml: 'http_server_config:\n  http3: true\n',
    path: 'http_server_config.http3',
    msg: /unknown field/,
  },
  {
    name: 'bad client_auth_type',
    yaml: 'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always\n',
    path: 'tls_server_config.client_auth_type',
    msg: /invalid client_auth_type "Always"/,
  },
  {
    name: 'cert without key',
    yaml: 'tls_server_config:\n  cert_file: a\n',
    path: 'tls_server_config.key_file',
    msg: /missing key_file/,
  },
  {
    name: 'client auth alone still needs a cert',
    yaml: 'tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n',
    path: 'tls_server_config.cert_file',
    msg: /missing cert_file/,
  },
  {
    name: 'client CA without client auth',
    yaml: 'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n',
    path: 'tls_server_config.client_ca_file',
    msg: /without|NoClientCert/,
  },
  {
    name: 'allowed SANs without client certs',
    yaml: 'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n',
    path: 'tls_server_config.client_allowed_sans',
    msg: /needs a client_auth_type/,
  },
  {
    name: 'unknown TLS version',
    yaml: 'tls_server_config:\n  min_version: TLS14\n',
    path: 'tls_server_config.min_version',
    msg: /unknown TLS version "TLS14"/,
  },
  {
    name: 'min above max',
    yaml: 'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n',
    path: 'tls_server_config.min_version',
    msg: /above max_version/,
  },
  {
    name: 'unknown cipher',
    yaml: 'tls_server_config:\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n',
    path: 'tls_server_config.cipher_suites[0]',
    msg: /unknown cipher/,
  },
  {
    name: 'unknown curve',
    yaml: 'tls_server_config:\n  curve_preferences: [CurveP999]\n',
    path: 'tls_server_config.curve_preferences[0]',
    msg: /unknown curve "CurveP999"/,
  },
  {
    name: 'header not on the allow-list',
    yaml: 'http_server_config:\n  headers:\n    Server: outpost\n',
    path: 'http_server_config.headers.Server',
    msg: /"Server" can not be configured/,
  },
  {
    name: 'header value not allowed',
    yaml: 'http_server_config:\n  headers:\n    X-Frame-Options: allow\n',
    path: 'http_server_config.headers.X-Frame-Options',
    msg: /expected one of "deny", "sameorigin"/,
  },
  {
    name: 'header names match exactly, as in Go',
    yaml: 'http_server_config:\n  headers:\n    x-frame-options: deny\n',
    path: 'http_server_config.headers.x-frame-options',
    msg: /can not be configured/,
  },
  {
    name: 'http2 not a boolean',
    yaml: 'http_server_config:\n  http2: maybe\n',
    path: 'http_server_config.http2',
    msg: /boolean/,
  },
  {
    name: 'not a bcrypt hash',
    yaml: 'basic_auth_users:\n  alice: plaintext-password\n',
    path: 'basic_auth_users.alice',
    msg: /not a bcrypt hash/,
  },
  {
    name: 'bcrypt cost out of range',
    yaml: `basic_auth_users:\n  alice: ${HASH.replace('$04$', '$03$')}\n`,
    path: 'basic_auth_users.alice',
    msg: /cost 03/,
  },
  {
    name: 'users not a mapping',
    yaml: 'basic_auth_users: [alice]\n',
    path: 'basic_auth_users',
    msg: /expected a mapping/,
  },
  {
    name: 'duplicate key',
    yaml: `basic_auth_users:\n  alice: ${HASH}\n  alice: ${HASH2}\n`,
    path: '',
    msg: /YAML syntax error/,
  },
  { name: 'YAML syntax', yaml: 'basic_auth_users: {alice: [\n', path: '', msg: /YAML syntax error/ },
];

for (const c of BAD) {
  test(`parse error: ${c.name}`, (t) => {
    const file = '/etc/outpost/web.yml';
    const err = t.throws(() => parseWebConfig(c.yaml, file), { instanceOf: WebConfigError });
    t.is(err.file, file);
    t.true(err.message.includes(file), err.message);
    t.is(at(err.issues, 0, 'err.issues').path, c.path, err.message);
    t.regex(err.message, c.msg);
    if (c.line) t.is(at(err.issues, 0, 'err.issues').line, c.line);
    t.is(err.code, 'OUTPOST_WEB_CONFIG_INVALID');
  });
}

test('parse errors never echo a password hash', (t) => {
  const hashy = '$2y$10$' + 'x'.repeat(52); // one character short
  const err = t.throws(() => parseWebConfig(`basic_auth_users:\n  alice: "${hashy}"\n`, 'w.yml'), {
    instanceOf: WebConfigError,
  });
  t.false(err.message.includes(hashy));
  t.false(err.message.includes('xxxx'));
});

test('defaults and mappings of a valid file', (t) => {
  const empty = parseWebConfig('', '/x/web.yml');
  t.is(empty.tls, null);
  t.true(empty.http2);
  t.is(empty.users.size, 0);
  t.deepEqual(empty.headers, []);

  // TLS settings without any of cert/key/client auth/CA leave plain HTTP, as in exporter-toolkit.
  t.is(parseWebConfig('tls_server_config:\n  min_version: TLS13\n', '/x/web.yml').tls, null);

  const c = parseWebConfig(
    [
      'tls_server_config:',
      '  cert_file: certs/server.crt',
      '  key_file: /abs/server.key',
      '  client_auth_type: RequireClientCert', // the old spelling Go still accepts
      '  client_ca_file: ca.crt',
      '  min_version: TLS13',
      '  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]',
      '  curve_preferences: [X25519, CurveP256]',
      '  prefer_server_cipher_suites: false',
      '  client_allowed_sans: [scraper.example, "0:0:0:0:0:0:0:1"]',
      'http_server_config:',
      '  http2: false',
      '  headers:',
      '    X-Frame-Options: deny',
      '    Strict-Transport-Security: max-age=31536000',
      'basic_auth_users:',
      `  alice: ${HASH}`,
      '',
    ].join('\n'),
    '/x/web.yml',
  );
  const s = c.tls;
  if (!s) return t.fail('tls expected');
  t.is(s.certFile, '/x/certs/server.crt');
  t.is(s.keyFile, '/abs/server.key');
  t.is(s.clientCaFile, '/x/ca.crt');
  t.is(s.clientAuthType, 'RequireAnyClientCert');
  t.is(s.minVersion, 'TLSv1.3');
  t.is(s.maxVersion, 'TLSv1.3');
  t.is(
    s.ciphers,
    'ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
  );
  t.is(s.ecdhCurve, 'X25519:P-256');
  t.false(s.preferServerCipherSuites);
  t.deepEqual(s.clientAllowedSans, ['scraper.example', '::1']);
  t.false(c.http2);
  t.deepEqual(c.headers, [
    ['X-Frame-Options', 'deny'],
    ['Strict-Transport-Security', 'max-age=31536000'],
  ]);
  t.is(c.users.get('alice')?.reveal(), HASH);
  // Hashes are secrets: they never print.
  t.false(JSON.stringify([...c.users]).includes(HASH));
  t.false(String(c.users.get('alice')).includes('$2'));
});

test('subject alternative names as Node formats them', (t) => {
  t.deepEqual(
    subjectAltNames('DNS:a.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, email:x@y, URI:spiffe://t/w'),
    ['a.example', '127.0.0.1', '::1', 'x@y', 'spiffe://t/w'],
  );
  t.deepEqual(subjectAltNames('DNS:"a, b", DNS:c'), ['a, b', 'c']);
  t.deepEqual(subjectAltNames(''), []);
});

// ---------------------------------------------------------------------------------------------
// Basic auth

test('Authorization header parsing follows Go', (t) => {
  const cases: [string | undefined, [string, string] | null][] = [
    [basic('alice', 's3cret'), ['alice', 's3cret']],
    ['bAsIc ' + Buffer.from('a:b:c').toString('base64'), ['a', 'b:c']],
    [basic('', ''), ['', '']],
    [undefined, null],
    ['Bearer abc', null],
    ['Basic', null],
    ['Basic !!!!', null],
    ['Basic ' + Buffer.from('nocolon').toString('base64'), null],
    ['Basic YWxpY2U6czNjcmV0', ['alice', 's3cret']],
    ['Basic YWxpY2U6czNjcmV0=', null], // padding where none belongs: Go's StdEncoding refuses it
  ];
  for (const [h, want] of cases) {
    const got = parseBasicAuth(h);
    t.deepEqual(got ? [got.user.toString(), got.password.toString()] : null, want, String(h));
  }
});

test('basic auth accepts the right password only, and caches each check', async (t) => {
  const checker = new BasicAuthChecker();
  const users = new Map([['alice', parseWebConfig(`basic_auth_users:\n  alice: ${HASH}\n`, 'w').users.get('alice')!]]);
  t.true(await checker.check(new Map(), undefined), 'no users: open');
  t.false(await checker.check(users, undefined));
  t.false(await checker.check(users, basic('alice', 'wrong')));
  t.false(await checker.check(users, basic('Alice', 's3cret')));
  t.false(await checker.check(users, basic('bob', 's3cret')), 'unknown user');
  t.true(await checker.check(users, basic('alice', 's3cret')));
  const runs = checker.bcryptRuns;
  t.is(runs, 4, 'one bcrypt per distinct (user, hash, password); none for a missing header');
  // A hot scrape: many requests, concurrent and sequential, with cached credentials cost no bcrypt.
  const results = await Promise.all(Array.from({ length: 50 }, () => checker.check(users, basic('alice', 's3cret'))));
  t.true(results.every(Boolean));
  t.false(await checker.check(users, basic('alice', 'wrong')), 'failures are cached too');
  t.is(checker.bcryptRuns, runs);
  // A new hash for the same user is a new key: the old cached success does not carry over.
  const changed = new Map([
    ['alice', parseWebConfig(`basic_auth_users:\n  alice: ${HASH2}\n`, 'w').users.get('alice')!],
  ]);
  t.false(await checker.check(changed, basic('alice', 's3cret')));
  t.true(await checker.check(changed, basic('alice', 'other')));
  t.is(checker.bcryptRuns, runs + 2);
});

test('concurrent identical checks share one bcrypt run, and bcrypt runs one at a time', async (t) => {
  let active = 0;
  let peak = 0;
  const checker = new BasicAuthChecker({
    compare: async (p, h) => {
      active++;
      peak = Math.max(peak, active);
      const ok = await bcrypt.compare(p, h);
      active--;
      return ok;
    },
  });
  const users = parseWebConfig(`basic_auth_users:\n  alice: ${HASH}\n  bob: ${HASH2}\n`, 'w').users;
  const all = await Promise.all([
    ...Array.from({ length: 10 }, () => checker.check(users, basic('alice', 's3cret'))),
    ...Array.from({ length: 10 }, () => checker.check(users, basic('bob', 'other'))),
    checker.check(users, basic('bob', 'nope')),
  ]);
  t.deepEqual(
    all.map((x) => (x ? 1 : 0)),
    [...Array(20).fill(1), 0],
  );
  t.is(checker.bcryptRuns, 3);
  t.is(peak, 1);
});

test('the cache is bounded', async (t) => {
  const checker = new BasicAuthChecker({ cacheSize: 10, compare: async () => false });
  const users = parseWebConfig(`basic_auth_users:\n  alice: ${HASH}\n`, 'w').users;
  for (let i = 0; i < 35; i++) await checker.check(users, basic('alice', `p${i}`));
  t.true(checker.cached <= 10);
  t.is(checker.bcryptRuns, 35);
});

// ---------------------------------------------------------------------------------------------
// The server over plain HTTP

test('basic auth guards every endpoint; 401 carries WWW-Authenticate: Basic; headers on every response', async (t) => {
  const { file } = await dirWithFile(
    t,
    'web.yml',
    `http_server_config:\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  alice: ${HASH}\n`,
  );
  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  t.false(ours.server.tls);
  for (const p of ['/-/healthy', '/-/ready', '/metrics', '/api/v1/status/config', '/agent', '/nope', '/']) {
    for (const auth of [undefined, basic('alice', 'wrong'), basic('mallory', 's3cret'), 'Bearer x']) {
      const r = await request(ours.base + p, { headers: auth ? { Authorization: auth } : {} });
      t.is(r.status, 401, `${p} ${auth}`);
      t.is(r.headers.get('www-authenticate'), 'Basic');
      t.is(r.text, 'Unauthorized\n');
      t.is(r.headers.get('x-frame-options'), 'deny');
    }
    const ok = await request(ours.base + p, { headers: { Authorization: basic('alice', 's3cret') } });
    t.not(ok.status, 401, p);
    t.is(ok.headers.get('x-frame-options'), 'deny', p);
    t.is(ok.headers.get('www-authenticate'), null);
  }
  // CORS preflights carry no credentials, so (as in Prometheus) they are refused too.
  t.is((await request(ours.base + '/api/v1/targets', { method: 'OPTIONS' })).status, 401);
  // Hashes never reach the log.
  t.false(ours.log.lines.some((l) => l.includes(HASH) || l.includes('s3cret')));
  t.true(ours.log.lines.some((l) => l.includes('TLS is disabled.')));
});

test('the OTLP receiver sits behind basic auth like every endpoint', async (t) => {
  const { file } = await dirWithFile(t, 'web.yml', `basic_auth_users:\n  alice: ${HASH}\n`);
  const fake = fakeAgent();
  let served = 0;
  fake.deps.flags = { ...fake.deps.flags, 'web.config.file': file };
  fake.deps.otlpWrite = async (_req, res) => {
    served++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  };
  const server = new WebServer(fake.deps);
  const base = `http://${await server.listen('127.0.0.1:0')}`;
  t.teardown(() => server.close());
  const post = (auth?: string) =>
    request(base + '/api/v1/otlp/v1/metrics', {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
    });
  t.is((await post()).status, 401);
  t.is((await post(basic('alice', 'wrong'))).status, 401);
  t.is(served, 0, 'the receiver never saw an unauthenticated request');
  t.is((await post(basic('alice', 's3cret'))).status, 200);
  t.is(served, 1);
});

test('edits to the file apply to the next request without a restart', async (t) => {
  const { file } = await dirWithFile(t, 'web.yml', `basic_auth_users:\n  alice: ${HASH}\n`);
  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  const get = async (auth?: string) =>
    (await request(ours.base + '/-/healthy', { headers: auth ? { Authorization: auth } : {} })).status;
  t.is(await get(basic('alice', 's3cret')), 200);
  t.is(await get(basic('bob', 'other')), 401);

  await fs.writeFile(file, `basic_auth_users:\n  bob: ${HASH2}\n`);
  t.is(await get(basic('alice', 's3cret')), 401, 'alice removed');
  t.is(await get(basic('bob', 'other')), 200, 'bob added');

  // A broken file answers 500 (logged once, without the hashes) until it is fixed.
  await fs.writeFile(file, `basic_auth_users:\n  bob: ${HASH2}\nbogus: true\n`);
  t.is(await get(basic('bob', 'other')), 500);
  t.is(await get(), 500);
  const errs = ours.log.lines.filter((l) => l.includes('Unable to use web configuration file'));
  t.is(errs.length, 1);
  t.true(at(errs, 0, 'errs').includes(file) && at(errs, 0, 'errs').includes('bogus'));

  await fs.writeFile(file, '');
  t.is(await get(), 200, 'no users any more: open');
  // HTTP or HTTPS is decided at startup (as in Prometheus): TLS added later is reported, not applied.
  await fs.writeFile(file, 'tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n');
  t.is(await get(), 200);
  t.true(ours.log.lines.some((l) => l.includes('level=warn') && l.includes('only after a restart')));
  await fs.rm(file);
  t.is(await get(), 500, 'file gone');
});

test('an invalid file at startup: listen rejects, naming the file and the key', async (t) => {
  const { file } = await dirWithFile(
    t,
    'web.yml',
    `basic_auth_users:\n  alice: ${HASH}\ntls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n`,
  );
  const fake = fakeAgent();
  fake.deps.flags = { ...fake.deps.flags, 'web.config.file': file };
  const server = new WebServer(fake.deps);
  t.teardown(() => server.close());
  const err = await t.throwsAsync(server.listen('127.0.0.1:0'), { instanceOf: WebConfigError });
  t.true(err.message.includes(file), err.message);
  t.regex(err.message, /tls_server_config\.(cert|key)_file: cannot read ".*nope\.(crt|key)"/);

  await fs.writeFile(file, 'tls_server_config:\n  certfile: x\n');
  const err2 = await t.throwsAsync(new WebServer(fake.deps).listen('127.0.0.1:0'), { instanceOf: WebConfigError });
  t.regex(
    err2.message,
    /web\.yml:2:3: tls_server_config\.certfile: unknown field "certfile" \(did you mean "cert_file"\?\)/,
  );

  const missing = path.join(path.dirname(file), 'missing.yml');
  fake.deps.flags = { ...fake.deps.flags, 'web.config.file': missing };
  const err3 = await t.throwsAsync(new WebServer(fake.deps).listen('127.0.0.1:0'), { instanceOf: WebConfigError });
  t.true(err3.message.includes(missing));
});

test('the agent exits with an error naming the file when the web config is invalid', async (t) => {
  const { dir, file } = await dirWithFile(t, 'web.yml', 'basic_auth_users:\n  alice: not-a-hash\n');
  await fs.writeFile(path.join(dir, 'agent.yml'), 'global:\n  scrape_interval: 1m\n');
  const port = await freePort();
  const proc = await startOutpost([
    `--config.file=${path.join(dir, 'agent.yml')}`,
    `--storage.agent.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.config.file=${file}`,
  ]);
  t.teardown(() => proc.stop('SIGKILL', 2000).then(() => undefined));
  const code = await Promise.race([
    proc.exited,
    new Promise<string>((r) => setTimeout(() => r('still running'), 20_000)),
  ]);
  t.is(code, 1, proc.output());
  t.true(proc.output().includes(file), proc.output());
  t.regex(proc.output(), /basic_auth_users\.alice: not a bcrypt hash/);
  t.false(proc.output().includes('not-a-hash'), 'the value is a secret');
});

// ---------------------------------------------------------------------------------------------
// TLS

test('TLS: served with the configured certificate; plain HTTP is refused; basic auth over TLS', async (t) => {
  const { dir, file } = await dirWithFile(
    t,
    'web.yml',
    `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  alice: ${HASH}\n`,
  );
  await makePki(dir);
  const ca = await fs.readFile(path.join(dir, 'server.crt'));
  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  t.true(ours.server.tls);
  t.true(ours.base.startsWith('https://'));
  t.true(ours.log.lines.some((l) => l.includes('TLS is enabled.')));

  const r = await httpsGet(ours.base + '/-/healthy', { ca, auth: basic('alice', 's3cret') });
  t.is(r.status, 200);
  t.is(r.body, 'Prometheus Agent is Healthy.\n');
  t.is(r.serverCert, await fingerprint(path.join(dir, 'server.crt')));
  const denied = await httpsGet(ours.base + '/-/healthy', { ca });
  t.is(denied.status, 401);
  t.is(denied.headers['www-authenticate'], 'Basic');
  // An untrusted server certificate fails on the client side; plain HTTP gets no HTTP answer.
  await t.throwsAsync(httpsGet(ours.base + '/-/healthy'));
  await t.throwsAsync(request(ours.base.replace('https:', 'http:') + '/-/healthy'));
  // Default min_version is TLS 1.2: a TLS 1.1 client cannot connect.
  await t.throwsAsync(httpsGet(ours.base + '/-/healthy', { ca, maxVersion: 'TLSv1.1' }));
  t.is(
    (await httpsGet(ours.base + '/-/healthy', { ca, maxVersion: 'TLSv1.2', auth: basic('alice', 's3cret') })).status,
    200,
  );
});

// Prometheus 3.x takes --web.listen-address several times (cmd/prometheus/main.go 424-425).
test('TLS: a second listen address serves the same endpoints through the same TLS and auth', async (t) => {
  const { dir, file } = await dirWithFile(
    t,
    'web.yml',
    `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  alice: ${HASH}\n`,
  );
  await makePki(dir);
  const ca = await fs.readFile(path.join(dir, 'server.crt'));
  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  const second = await ours.server.listenMore('127.0.0.1:0');
  t.not(`https://${second}`, ours.base);
  const r = await httpsGet(`https://${second}/-/healthy`, { ca, auth: basic('alice', 's3cret') });
  t.is(r.status, 200);
  t.is((await httpsGet(`https://${second}/-/healthy`, { ca })).status, 401);
  await t.throwsAsync(request(`http://${second}/-/healthy`));
});

test('TLS: a rotated certificate and changed settings apply to the next connection', async (t) => {
  const { dir, file } = await dirWithFile(
    t,
    'web.yml',
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n',
  );
  await makePki(dir);
  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  const url = ours.base + '/-/healthy';
  const ca1 = await fs.readFile(path.join(dir, 'server.crt'));
  const ca2 = await fs.readFile(path.join(dir, 'server2.crt'));
  t.is((await httpsGet(url, { ca: ca1 })).serverCert, await fingerprint(path.join(dir, 'server.crt')));

  // Rotate the files in place (what cert-manager and friends do).
  await fs.copyFile(path.join(dir, 'server2.crt'), path.join(dir, 'server.crt'));
  await fs.copyFile(path.join(dir, 'server2.key'), path.join(dir, 'server.key'));
  t.is((await httpsGet(url, { ca: ca2 })).serverCert, await fingerprint(path.join(dir, 'server2.crt')));

  // Point the config at other files and require client certificates: the next connection obeys.
  await fs.writeFile(
    file,
    'tls_server_config:\n  cert_file: server2.crt\n  key_file: server2.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n',
  );
  await t.throwsAsync(httpsGet(url, { ca: ca2 }), undefined, 'no client cert any more');
  const cert = await fs.readFile(path.join(dir, 'client.crt'));
  const key = await fs.readFile(path.join(dir, 'client.key'));
  t.is((await httpsGet(url, { ca: ca2, cert, key })).status, 200);

  // A file that loses its TLS settings refuses connections (and says so once) until fixed.
  await fs.writeFile(file, '');
  await t.throwsAsync(httpsGet(url, { ca: ca2, cert, key }));
  t.true(ours.log.lines.some((l) => l.includes('no longer has TLS settings')));
  await fs.writeFile(file, 'tls_server_config:\n  cert_file: server2.crt\n  key_file: server2.key\n');
  t.is((await httpsGet(url, { ca: ca2 })).status, 200);
});

const CLIENT_AUTH: { mode: string; none: boolean; good: boolean; rogue: boolean }[] = [
  { mode: 'NoClientCert', none: true, good: true, rogue: true },
  { mode: 'RequestClientCert', none: true, good: true, rogue: true },
  { mode: 'RequireAnyClientCert', none: false, good: true, rogue: true },
  { mode: 'VerifyClientCertIfGiven', none: true, good: true, rogue: false },
  { mode: 'RequireAndVerifyClientCert', none: false, good: true, rogue: false },
];

test('TLS: client_auth_type semantics (no certificate / CA-signed / self-signed)', async (t) => {
  const { dir, file } = await dirWithFile(
    t,
    'web.yml',
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n',
  );
  await makePki(dir);
  const ca = await fs.readFile(path.join(dir, 'server.crt'));
  const good = {
    cert: await fs.readFile(path.join(dir, 'client.crt')),
    key: await fs.readFile(path.join(dir, 'client.key')),
  };
  const rogue = {
    cert: await fs.readFile(path.join(dir, 'rogue.crt')),
    key: await fs.readFile(path.join(dir, 'rogue.key')),
  };
  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  const url = ours.base + '/-/healthy';
  const outcome = (o: { cert?: Buffer; key?: Buffer }) =>
    httpsGet(url, { ca, ...o }).then(
      (r) => r.status === 200,
      () => false,
    );
  for (const c of CLIENT_AUTH) {
    const caLine = c.mode === 'NoClientCert' ? '' : '  client_ca_file: ca.crt\n';
    await fs.writeFile(
      file,
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: ${c.mode}\n${caLine}`,
    );
    t.is(await outcome({}), c.none, `${c.mode}: no certificate`);
    t.is(await outcome(good), c.good, `${c.mode}: CA-signed certificate`);
    t.is(await outcome(rogue), c.rogue, `${c.mode}: self-signed certificate`);
    // The same over TLS 1.2, where the server reads the client certificate inside the handshake.
    t.is(
      await httpsGet(url, { ca, maxVersion: 'TLSv1.2' }).then(
        (r) => r.status === 200,
        () => false,
      ),
      c.none,
      `${c.mode}: no certificate, TLS 1.2`,
    );
  }
});

test('TLS: client_allowed_sans', async (t) => {
  const { dir, file } = await dirWithFile(t, 'web.yml', '');
  await makePki(dir);
  const ca = await fs.readFile(path.join(dir, 'server.crt'));
  const good = {
    cert: await fs.readFile(path.join(dir, 'client.crt')),
    key: await fs.readFile(path.join(dir, 'client.key')),
  };
  const write = (sans: string, mode = 'RequireAndVerifyClientCert') =>
    fs.writeFile(
      file,
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: ${mode}\n  client_ca_file: ca.crt\n  client_allowed_sans: ${sans}\n`,
    );
  await write('[scraper.example]');
  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  const url = ours.base + '/-/healthy';
  const ok = () =>
    httpsGet(url, { ca, ...good }).then(
      (r) => r.status === 200,
      () => false,
    );
  t.true(await ok(), 'DNS SAN');
  await write('["::1"]');
  t.true(await ok(), 'IP SAN in another spelling');
  await write('[other.example]');
  t.false(await ok(), 'no allowed SAN');
  await write('[scraper.example]', 'VerifyClientCertIfGiven');
  t.false(
    await httpsGet(url, { ca }).then(
      () => true,
      () => false,
    ),
    'no certificate while SANs are required',
  );
  t.true(await ok());
});

test('TLS: cipher_suites, versions and curves reach OpenSSL', async (t) => {
  const { dir, file } = await dirWithFile(t, 'web.yml', '');
  await makePki(dir);
  const ca = await fs.readFile(path.join(dir, 'server.crt'));
  await fs.writeFile(
    file,
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n  curve_preferences: [CurveP384]\n',
  );
  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  const url = ours.base + '/-/healthy';
  const ok = (o: { ciphers?: string; ecdhCurve?: string; maxVersion?: tls.SecureVersion }) =>
    httpsGet(url, { ca, ...o }).then(
      (r) => r.status === 200,
      () => false,
    );
  t.true(await ok({}), 'defaults of the client overlap');
  t.false(await ok({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), 'a cipher not in cipher_suites');
  t.true(await ok({ ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }));
  t.false(await ok({ ecdhCurve: 'P-256' }), 'a curve not in curve_preferences');
  // (Under TLS 1.2 the client must also list P-256, the curve of the server's certificate.)
  t.true(await ok({ ecdhCurve: 'P-384:P-256' }));
  // max_version TLS12: a client that insists on TLS 1.3 is refused.
  await fs.writeFile(
    file,
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  max_version: TLS12\n',
  );
  t.true(await ok({}));
  t.false(
    await httpsGet(url, { ca, minVersion: 'TLSv1.3' }).then(
      () => true,
      () => false,
    ),
  );
});

test('TLS: an invalid key pair or CA file fails at startup, naming the file', async (t) => {
  const { dir, file } = await dirWithFile(
    t,
    'web.yml',
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server2.key\n',
  );
  await makePki(dir);
  const fake = fakeAgent();
  fake.deps.flags = { ...fake.deps.flags, 'web.config.file': file };
  const e1 = await t.throwsAsync(new WebServer(fake.deps).listen('127.0.0.1:0'), { instanceOf: WebConfigError });
  t.true(e1.message.includes(file));
  t.regex(e1.message, /key values mismatch|KEY_VALUES_MISMATCH|private key/i);
  await fs.writeFile(path.join(dir, 'empty-ca.pem'), 'not a certificate\n');
  await fs.writeFile(
    file,
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: empty-ca.pem\n',
  );
  const e2 = await t.throwsAsync(new WebServer(fake.deps).listen('127.0.0.1:0'), { instanceOf: WebConfigError });
  t.regex(e2.message, /client_ca_file: .*empty-ca\.pem" contains no PEM certificate/);
});

test('WebConfigSource: reads coalesce but never return a read older than the call', async (t) => {
  const { file } = await dirWithFile(t, 'web.yml', `basic_auth_users:\n  alice: ${HASH}\n`);
  const src = new WebConfigSource(file);
  const first = src.current();
  await fs.writeFile(file, `basic_auth_users:\n  bob: ${HASH}\n`);
  const second = src.current();
  const [a, b] = await Promise.all([first, second]);
  t.true(b.users.has('bob'), 'the second call saw the edit');
  t.true(a.users.has('alice') || a.users.has('bob'));
  // Unchanged bytes are not parsed again.
  const c1 = await src.current();
  const c2 = await src.current();
  t.is(c1, c2);
});

// ---------------------------------------------------------------------------------------------
// Against the real Prometheus 2.42 agent

test('same status codes and WWW-Authenticate as the real 2.42 agent, and the same files refused', async (t) => {
  const bin = prometheus2OrSkip(t);
  if (!bin) return;
  const { dir, file } = await dirWithFile(
    t,
    'web.yml',
    `http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\nbasic_auth_users:\n  alice: ${HASH}\n`,
  );
  const cfg = path.join(dir, 'prometheus.yml');
  await fs.writeFile(cfg, 'global:\n  scrape_interval: 1m\n');
  const port = await freePort();
  const promArgs = (webFile: string, p: number) => [
    `--config.file=${cfg}`,
    `--storage.agent.path=${path.join(dir, `data-${p}`)}`,
    `--web.listen-address=127.0.0.1:${p}`,
    `--web.config.file=${webFile}`,
  ];
  const prom = startPrometheusAgent(t, bin, promArgs(file, port), dir);
  const promBase = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () =>
      (await request(`${promBase}/-/ready`, { headers: { Authorization: basic('alice', 's3cret') } })).status === 200,
    30_000,
    () => `prometheus ready\n${prom.output()}`,
  );

  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  const creds: [string, string | undefined][] = [
    ['missing', undefined],
    ['wrong password', basic('alice', 'nope')],
    ['unknown user', basic('bob', 's3cret')],
    ['garbage', 'Basic %%%'],
    ['good', basic('alice', 's3cret')],
  ];
  for (const p of ['/-/healthy', '/api/v1/status/config', '/metrics', '/nope']) {
    for (const [what, auth] of creds) {
      const init = { headers: auth ? { Authorization: auth } : {} };
      const [want, got] = [await request(promBase + p, init), await request(ours.base + p, init)];
      const label = `${p} with ${what} credentials`;
      t.is(got.status, want.status, `${label}: status`);
      t.is(got.headers.get('www-authenticate'), want.headers.get('www-authenticate'), `${label}: WWW-Authenticate`);
      t.is(
        got.headers.get('x-content-type-options'),
        want.headers.get('x-content-type-options'),
        `${label}: configured header`,
      );
      if (want.status === 401) {
        t.is(got.text, want.text, `${label}: body`);
        t.is(got.headers.get('content-type'), want.headers.get('content-type'), `${label}: content type`);
      }
    }
  }

  // Files both refuse at startup (Prometheus exits 1; our listen rejects).
  const refused = [
    'bogus: 1\n',
    'tls_server_config:\n  cert_file: x.crt\n',
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Sometimes\n',
    'http_server_config:\n  headers:\n    Server: x\n',
    'basic_auth_users:\n  alice: plain\n',
    'tls_server_config:\n  cipher_suites: [NOPE]\n',
  ];
  for (const [i, text] of refused.entries()) {
    const bad = path.join(dir, `bad-${i}.yml`);
    await fs.writeFile(bad, text);
    const p = startProc(bin, ['--enable-feature=agent', ...promArgs(bad, await freePort())], { cwd: dir });
    t.is(await p.exited, 1, `prometheus refuses ${JSON.stringify(text)}`);
    const fake = fakeAgent();
    fake.deps.flags = { ...fake.deps.flags, 'web.config.file': bad };
    await t.throwsAsync(
      new WebServer(fake.deps).listen('127.0.0.1:0'),
      { instanceOf: WebConfigError },
      `we refuse ${JSON.stringify(text)}`,
    );
  }
});

test('TLS client auth matches the real 2.42 agent (RequireAndVerifyClientCert)', async (t) => {
  const bin = prometheus2OrSkip(t);
  if (!bin) return;
  const { dir, file } = await dirWithFile(
    t,
    'web.yml',
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n',
  );
  await makePki(dir);
  const cfg = path.join(dir, 'prometheus.yml');
  await fs.writeFile(cfg, 'global:\n  scrape_interval: 1m\n');
  const port = await freePort();
  const prom = startPrometheusAgent(
    t,
    bin,
    [
      `--config.file=${cfg}`,
      `--storage.agent.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.config.file=${file}`,
    ],
    dir,
  );
  const ca = await fs.readFile(path.join(dir, 'server.crt'));
  const good = {
    cert: await fs.readFile(path.join(dir, 'client.crt')),
    key: await fs.readFile(path.join(dir, 'client.key')),
  };
  const rogue = {
    cert: await fs.readFile(path.join(dir, 'rogue.crt')),
    key: await fs.readFile(path.join(dir, 'rogue.key')),
  };
  const promBase = `https://127.0.0.1:${port}`;
  await waitUntil(
    async () => (await httpsGet(`${promBase}/-/ready`, { ca, ...good })).status === 200,
    30_000,
    () => `prometheus ready\n${prom.output()}`,
  );
  const ours = await startOurs(file);
  t.teardown(() => ours.close());
  for (const [what, o] of [
    ['none', {}],
    ['CA-signed', good],
    ['self-signed', rogue],
  ] as const) {
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      const probe = (base: string) =>
        httpsGet(base + '/-/healthy', { ca, maxVersion, ...o }).then(
          (r) => r.status,
          () => 'refused',
        );
      t.is(await probe(ours.base), await probe(promBase), `${what} client certificate over ${maxVersion}`);
    }
  }
});

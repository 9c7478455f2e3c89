import test from 'ava';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { HttpWriteClient, parseRetryAfter, writtenCounts, type SendResult } from '../../src/remote/client.ts';
import { RW1_CONTENT_TYPE, RW2_CONTENT_TYPE } from '../../src/remote/proto.ts';
import { reply, startServer, type TestServer } from '../helpers/http.ts';
import { tmpDir, type Teardown } from '../helpers/procs.ts';
import { tempCert } from '../helpers/tls.ts';
import { rwConfig } from '../net/helpers.ts';
import { at, firstN } from '../helpers/defined.ts';

const BODY = Buffer.from('snappy-bytes-stand-in');

async function server(
  t: Teardown,
  answer: (res: import('node:http').ServerResponse, n: number) => void,
): Promise<TestServer> {
  let n = 0;
  return startServer((_req, res) => answer(res, n++), { t });
}

function client(t: { teardown(fn: () => void): void }, entry: string): HttpWriteClient {
  const c = new HttpWriteClient(rwConfig(entry), 'Outpost/9.9.9');
  t.teardown(() => c.close());
  return c;
}

test('headers: protocol, version, User-Agent, custom and http_headers, Retry-Attempt only on retries; body sent as is', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.writeFile(path.join(dir, 'tenant'), 'from-file\n');
  const s = await startServer(reply(204), { t });
  const c = client(
    t,
    `url: ${s.url}/api/v1/write?x=1
    headers:
      X-Scope-OrgID: edge1
    http_headers:
      X-Values:
        values: [a]
        secrets: [s3cr3t]
      X-File:
        files: [${path.join(dir, 'tenant')}]`,
  );
  t.is((await c.send(BODY, 0, 'v1')).kind, 'ok');
  t.is((await c.send(new Uint8Array(BODY.buffer, BODY.byteOffset + 2, 5), 2, 'v2')).kind, 'ok');
  const [a, b] = firstN(s.received, 2, 's.received');
  t.is(a.method, 'POST');
  t.is(a.url, '/api/v1/write?x=1');
  t.deepEqual(a.body, BODY);
  t.is(a.headers['content-length'], String(BODY.length));
  t.is(a.headers['content-encoding'], 'snappy');
  t.is(a.headers['content-type'], RW1_CONTENT_TYPE);
  t.is(a.headers['x-prometheus-remote-write-version'], '0.1.0');
  t.is(a.headers['user-agent'], 'Outpost/9.9.9');
  t.is(a.headers['x-scope-orgid'], 'edge1');
  t.is(a.headers['x-values'], 'a, s3cr3t');
  t.is(a.headers['x-file'], 'from-file');
  t.is(a.headers['retry-attempt'], undefined);
  t.is(a.headers.authorization, undefined);
  t.is(a.headers.host, `127.0.0.1:${s.port}`);
  t.is(a.headers['accept-encoding'], undefined, 'Prometheus sends no Accept-Encoding');
  t.deepEqual(b.body, BODY.subarray(2, 7), 'a Uint8Array view sends exactly its bytes');
  t.is(b.headers['content-type'], RW2_CONTENT_TYPE);
  t.is(b.headers['x-prometheus-remote-write-version'], '2.0.0');
  t.is(b.headers['retry-attempt'], '2');
});

const STATUS_CASES: {
  status: number;
  retry429?: boolean;
  headers?: Record<string, string>;
  kind: SendResult['kind'];
  retryAfterMs?: number;
}[] = [
  { status: 200, kind: 'ok' },
  { status: 204, kind: 'ok' },
  { status: 500, kind: 'retry', retryAfterMs: 0 },
  { status: 503, headers: { 'Retry-After': '3' }, kind: 'retry', retryAfterMs: 3000 },
  { status: 429, kind: 'fail' },
  { status: 429, retry429: true, headers: { 'Retry-After': '2' }, kind: 'retry', retryAfterMs: 2000 },
  { status: 400, kind: 'fail' },
  { status: 401, kind: 'fail' },
  { status: 413, kind: 'fail' },
  { status: 415, kind: 'fail' },
];

for (const c of STATUS_CASES) {
  test(`HTTP ${c.status}${c.retry429 ? ' (retry_on_http_429)' : ''}${c.headers ? ' with Retry-After' : ''} → ${c.kind}`, async (t) => {
    const s = await server(t, (res) => {
      res.writeHead(c.status, c.headers);
      res.end(c.status >= 300 ? `reason for ${c.status}` : '');
    });
    const cl = client(
      t,
      `url: ${s.url}/w\n    queue_config:\n      retry_on_http_429: ${c.retry429 ? 'true' : 'false'}`,
    );
    const r = await cl.send(BODY, 0, 'v1');
    t.is(r.kind, c.kind);
    if (r.kind === 'ok') return;
    t.is(r.status, c.status);
    t.regex(r.error, new RegExp(`^server returned HTTP status ${c.status} .*: reason for ${c.status}$`));
    if (r.kind === 'retry') t.is(r.retryAfterMs, c.retryAfterMs ?? 0);
  });
}

test('Retry-After as an HTTP date; unparsable values read 0', (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.is(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  t.is(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a date in the past: no wait');
  t.is(parseRetryAfter(' 7 ', now), 7000);
  t.is(parseRetryAfter('soon', now), 0);
  t.is(parseRetryAfter(null, now), 0);
});

test('error bodies are cut at 1024 bytes', async (t) => {
  const s = await server(t, (res) => {
    res.writeHead(400);
    res.end('x'.repeat(5000));
  });
  const r = await client(t, `url: ${s.url}/w`).send(BODY, 0, 'v1');
  t.is(r.kind, 'fail');
  if (r.kind === 'fail') t.is(r.error.match(/x+$/)?.[0].length, 1024);
});

test('written counts come from the X-Prometheus-Remote-Write-*-Written headers; -1 when absent', async (t) => {
  const s = await server(t, (res, n) => {
    if (n === 0)
      res.writeHead(204, {
        'X-Prometheus-Remote-Write-Samples-Written': '7',
        'X-Prometheus-Remote-Write-Histograms-Written': '2',
        'X-Prometheus-Remote-Write-Exemplars-Written': '0',
      });
    else if (n === 1) res.writeHead(204, { 'X-Prometheus-Remote-Write-Samples-Written': 'many' });
    else res.writeHead(200);
    res.end();
  });
  const c = client(t, `url: ${s.url}/w`);
  t.deepEqual(await c.send(BODY, 0, 'v2'), { kind: 'ok', written: { samples: 7, histograms: 2, exemplars: 0 } });
  // 'many' is no count, but the header is there: stats.go 71-76 confirms the receiver with 0 written.
  t.deepEqual(await c.send(BODY, 0, 'v2'), { kind: 'ok', written: { samples: 0, histograms: -1, exemplars: -1 } });
  t.deepEqual(await c.send(BODY, 0, 'v1'), { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } });
});

test('remote_timeout bounds the request: retryable "context deadline exceeded", and the client works afterwards', async (t) => {
  const s = await server(t, (res, n) => {
    if (n === 0) return; // never answers
    res.writeHead(204);
    res.end();
  });
  const c = client(t, `url: ${s.url}/w\n    remote_timeout: 400ms`);
  const started = Date.now();
  const r = await c.send(BODY, 0, 'v1');
  t.like(r, { kind: 'retry', status: 0, error: `Post "${s.url}/w": context deadline exceeded` });
  t.true(Date.now() - started < 3000);
  const again = await c.send(BODY, 1, 'v1');
  t.is(again.kind, 'ok', JSON.stringify(again));
});

test('connection errors are retryable and name the URL with its password redacted', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const r = await client(t, `url: http://user:hunter2@127.0.0.1:${port}/w`).send(BODY, 0, 'v1');
  t.is(r.kind, 'retry');
  if (r.kind !== 'retry') return;
  t.true(r.error.startsWith(`Post "http://user:xxxxx@127.0.0.1:${port}/w": `), r.error);
  t.regex(r.error, /ECONNREFUSED/);
  t.false(r.error.includes('hunter2'));
});

test('a connection reset mid-response is retryable', async (t) => {
  const s = await startServer(
    (_req, res) => {
      res.socket?.destroy();
    },
    { t },
  );
  const r = await client(t, `url: ${s.url}/w`).send(BODY, 0, 'v1');
  t.is(r.kind, 'retry');
});

test('keep-alive: sequential requests share one connection', async (t) => {
  const s = await startServer(reply(204), { t });
  const c = client(t, `url: ${s.url}/w`);
  for (let i = 0; i < 20; i++) t.is((await c.send(BODY, 0, 'v1')).kind, 'ok');
  t.is(s.received.length, 20);
  t.is(s.connections(), 1);
});

test('credentials: basic_auth, authorization from a file, URL userinfo', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, 'token');
  await fs.writeFile(tokenFile, 'tok1\n');
  const s = await startServer(reply(204), { t });
  await client(t, `url: ${s.url}/w\n    basic_auth:\n      username: u\n      password: p`).send(BODY, 0, 'v1');
  await client(t, `url: ${s.url}/w\n    authorization:\n      credentials_file: ${tokenFile}`).send(BODY, 0, 'v1');
  await client(t, `url: http://alice:s%20cret@127.0.0.1:${s.port}/w`).send(BODY, 0, 'v1');
  t.is(at(s.received, 0, 's.received').headers.authorization, 'Basic ' + Buffer.from('u:p').toString('base64'));
  t.is(at(s.received, 1, 's.received').headers.authorization, 'Bearer tok1');
  t.is(
    at(s.received, 2, 's.received').headers.authorization,
    'Basic ' + Buffer.from('alice:s cret').toString('base64'),
  );
});

test('an unreadable credentials file makes the send retryable, with a message naming the problem', async (t) => {
  const s = await startServer(reply(204), { t });
  const r = await client(
    t,
    `url: ${s.url}/w\n    authorization:\n      credentials_file: /nonexistent/outpost-token`,
  ).send(BODY, 0, 'v1');
  t.is(r.kind, 'retry');
  if (r.kind === 'retry') t.regex(r.error, /ENOENT.*outpost-token/);
  t.is(s.received.length, 0, 'nothing was sent without the credentials');
});

test('https receivers: verified against tls_config.ca_file, refused without it, server_name checked', async (t) => {
  const pem = await tempCert(t);
  const s = await startServer(reply(204), { tls: pem, t });
  t.is(
    (await client(t, `url: ${s.url}/w\n    tls_config:\n      ca_file: ${pem.certFile}`).send(BODY, 0, 'v1')).kind,
    'ok',
  );
  t.is(
    (
      await client(
        t,
        `url: ${s.url}/w\n    tls_config:\n      ca_file: ${pem.certFile}\n      server_name: outpost-test`,
      ).send(BODY, 0, 'v1')
    ).kind,
    'ok',
  );
  const wrongName = await client(
    t,
    `url: ${s.url}/w\n    tls_config:\n      ca_file: ${pem.certFile}\n      server_name: other-name`,
  ).send(BODY, 0, 'v1');
  t.is(wrongName.kind, 'retry');
  if (wrongName.kind === 'retry') t.regex(wrongName.error, /other-name/);
  const untrusted = await client(t, `url: ${s.url}/w`).send(BODY, 0, 'v1');
  t.is(untrusted.kind, 'retry');
  if (untrusted.kind === 'retry') t.regex(untrusted.error, /certificate/i);
  t.is(s.received.length, 2);
});

test('written-count headers read as Prometheus 3.x reads them (storage/remote/stats.go 68-94)', (t) => {
  const read = (h: Record<string, string>) => writtenCounts((name) => h[name] ?? null);
  const S = 'x-prometheus-remote-write-samples-written';
  const H = 'x-prometheus-remote-write-histograms-written';
  const E = 'x-prometheus-remote-write-exemplars-written';
  // Absent, or empty ("Empty means zero" there, and it does not confirm a 2.0 receiver): not reported.
  t.deepEqual(read({}), { samples: -1, histograms: -1, exemplars: -1 });
  t.deepEqual(read({ [S]: '' }), { samples: -1, histograms: -1, exemplars: -1 });
  t.deepEqual(read({ [S]: '12', [H]: '0', [E]: '+3' }), { samples: 12, histograms: 0, exemplars: 3 });
  // Present but not a number: the header still confirms the receiver, with a count of 0.
  t.deepEqual(read({ [S]: 'lots' }), { samples: 0, histograms: -1, exemplars: -1 });
});

import test, { type ExecutionContext } from 'ava';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { Http1Pool } from '../../src/net/http1-client.ts';
import { fetchBody, type FetchOptions, ScrapeError } from '../../src/scrape/fetch-body.ts';
import { startServer } from '../helpers/http.ts';
import { waitUntil } from '../helpers/procs.ts';

/** A TCP server answering each request head with whatever `answer` writes (raw bytes, any framing). */
interface RawServer {
  url: string;
  requests: string[];
  connections(): number;
}

async function rawServer(
  t: ExecutionContext,
  answer: (sock: net.Socket, n: number, head: string) => void,
): Promise<RawServer> {
  const requests: string[] = [];
  let conns = 0;
  const socks = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    conns++;
    socks.add(sock);
    sock.on('close', () => socks.delete(sock));
    sock.on('error', () => {});
    let pending = '';
    sock.on('data', (d) => {
      pending += d.toString('latin1');
      for (let i = pending.indexOf('\r\n\r\n'); i >= 0; i = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, i + 4);
        pending = pending.slice(i + 4);
        requests.push(head);
        answer(sock, requests.length, head);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of socks) s.destroy();
    return new Promise<void>((r) => srv.close(() => r()));
  });
  const port = (srv.address() as net.AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/metrics`, requests, connections: () => conns };
}

const HEADERS = { Accept: 'text/plain', 'Accept-Encoding': 'gzip', 'User-Agent': 'Outpost-test' };

function options(t: ExecutionContext, url: string, o: Partial<FetchOptions> = {}): FetchOptions {
  const pool = new Http1Pool();
  const agent = new http.Agent({ keepAlive: true });
  t.teardown(() => {
    pool.close();
    agent.destroy();
  });
  return {
    url: new URL(url),
    headers: { ...HEADERS },
    timeoutMs: 2000,
    bodySizeLimit: 0,
    agent,
    maxRedirects: 0,
    http1: pool,
    ...o,
  };
}

async function body(o: FetchOptions): Promise<string> {
  const r = await fetchBody(o, Buffer.alloc(0));
  return r.buf.toString('utf8', 0, r.length);
}

const ok = (b: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${b.length}\r\n${extra}\r\n${b}`;

test('sends the same request headers as node:http through a keep-alive agent', async (t) => {
  const srv = await startServer((_req, res) => res.end('a 1\n'), { t });
  const url = `${srv.url}/metrics?x=1`;
  const viaNode = options(t, url);
  delete viaNode.http1;
  t.is(await body(viaNode), 'a 1\n');
  t.is(await body(options(t, url)), 'a 1\n');
  const [a, b] = srv.received;
  t.truthy(a && b);
  t.is(b?.url, '/metrics?x=1');
  t.deepEqual(b?.rawHeaders, a?.rawHeaders);
});

test('Content-Length bodies, the socket reused across scrapes', async (t) => {
  const srv = await rawServer(t, (s, n) => s.write(ok(`m ${n}\n`, 'Content-Type: text/plain\r\n')));
  const o = options(t, srv.url);
  const r = await fetchBody(o, Buffer.alloc(0));
  t.is(r.contentType, 'text/plain');
  t.is(await body(o), 'm 2\n');
  t.is(await body(o), 'm 3\n');
  t.is(srv.connections(), 1);
  t.is(o.http1?.idleCount(), 1);
});

test('chunked bodies with chunk extensions and trailers, split at every byte', async (t) => {
  const raw =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '4;name=value\r\nab c\r\n' +
    'A\r\n 1\nxyzzy 2\r\n' +
    '0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n';
  const srv = await rawServer(t, (s) => {
    let i = 0;
    const drip = (): void => {
      if (i < raw.length && !s.destroyed) s.write(raw[i++] ?? '', () => setImmediate(drip));
    };
    drip();
  });
  const o = options(t, srv.url);
  t.is(await body(o), 'ab c 1\nxyzzy 2');
  t.is(await body(o), 'ab c 1\nxyzzy 2');
  t.is(srv.connections(), 1);
});

test('gzip bodies are inflated; a gzip bomb is refused by the ratio guard', async (t) => {
  const text = 'metric{a="b"} 1\n'.repeat(1000);
  const gz = zlib.gzipSync(text);
  const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
  const srv = await rawServer(t, (s, n) => {
    const b = n === 1 ? gz : bomb;
    s.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${b.length}\r\n\r\n`);
    s.write(b);
  });
  const o = options(t, srv.url);
  t.is(await body(o), text);
  const e = await t.throwsAsync(fetchBody(o, Buffer.alloc(0)), { instanceOf: ScrapeError });
  t.regex(e.message, /gzip body inflates more than 200 times/);
  t.true(e.bodyLimit);
});

test('Connection: close and HTTP/1.0 replies are read to the end and their sockets never reused', async (t) => {
  const srv = await rawServer(t, (s, n) => {
    if (n === 1) s.write(ok('one\n', 'Connection: close\r\n'));
    else if (n === 2) s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\ntwo\n');
    else s.write('HTTP/1.1 200 OK\r\n\r\nthree\n', () => s.end());
  });
  const o = options(t, srv.url);
  t.is(await body(o), 'one\n');
  t.is(await body(o), 'two\n');
  t.is(await body(o), 'three\n');
  t.is(srv.connections(), 3);
  t.is(o.http1?.idleCount(), 0);
});

test('a kept-alive socket the server closed is not reused; a request racing the close is retried once', async (t) => {
  const srv = await rawServer(t, (s, n) => {
    if (n === 1) s.write(ok('a\n'), () => s.end());
    else if (n === 2) s.write(ok('b\n'));
    else if (n === 3) s.destroy();
    else s.write(ok('d\n'));
  });
  const o = options(t, srv.url);
  t.is(await body(o), 'a\n');
  await waitUntil(async () => o.http1?.idleCount() === 0, 2000, 'the closed socket to leave the pool');
  t.is(await body(o), 'b\n');
  // The server drops the next request on the reused socket without answering: sent again on a new one.
  t.is(await body(o), 'd\n');
  t.is(srv.connections(), 3);
});

test('the body size limit stops the scrape while streaming', async (t) => {
  const big = 'x'.repeat(10_000);
  const srv = await rawServer(t, (s) =>
    s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2710\r\n${big}\r\n`),
  );
  const o = options(t, srv.url, { bodySizeLimit: 5000 });
  const e = await t.throwsAsync(fetchBody(o, Buffer.alloc(0)), { instanceOf: ScrapeError });
  t.is(e.message, 'body size limit exceeded (limit: 5000 bytes)');
  t.true(e.bodyLimit);
  t.is(o.http1?.idleCount(), 0);
});

test('an endless chunked body hits the limit; a slow drip hits the timeout', async (t) => {
  const endless = await rawServer(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const more = (): void => {
      if (!s.destroyed) s.write('400\r\n' + 'y'.repeat(1024) + '\r\n', () => setImmediate(more));
    };
    more();
  });
  const e = await t.throwsAsync(fetchBody(options(t, endless.url, { bodySizeLimit: 1 << 20 }), Buffer.alloc(0)));
  t.regex(e.message, /body size limit exceeded/);
  const drip = await rawServer(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
    const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('z')), 20);
  });
  const e2 = await t.throwsAsync(fetchBody(options(t, drip.url, { timeoutMs: 300 }), Buffer.alloc(0)));
  t.is(e2.message, 'context deadline exceeded (timeout 300ms)');
});

for (const [name, raw, re] of [
  [
    'garbage status line',
    'SSH-2.0-OpenSSH\r\n\r\n',
    /malformed HTTP response from 127\.0\.0\.1:\d+: invalid status line/,
  ],
  ['header line without a colon', 'HTTP/1.1 200 OK\r\nbogus\r\n\r\n', /invalid header line "bogus"/],
  ['invalid Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /invalid Content-Length "-1"/],
  ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /conflicting/],
  ['invalid chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /invalid chunk size "zz"/],
  [
    'chunk longer than its size',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n',
    /longer than its size/,
  ],
  [
    'unsupported transfer coding',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
    /unsupported Transfer-Encoding/,
  ],
  ['endless header lines', `HTTP/1.1 200 OK\r\n${'X-A: b\r\n'.repeat(5000)}`, /response head longer than 16384 bytes/],
  ['close before a response', '', /closed before a response \(socket hang up\)/],
  ['close mid-body', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort', /closed while reading body/],
] as const)
  test(`malformed or cut responses fail clearly: ${name}`, async (t) => {
    const srv = await rawServer(t, (s) => s.end(raw));
    const e = await t.throwsAsync(fetchBody(options(t, srv.url), Buffer.alloc(0)), { instanceOf: ScrapeError });
    t.regex(e.message, re);
  });

test('redirects return the Location to fetchBody, which follows it or reports the status', async (t) => {
  const srv = await rawServer(t, (s, _n, head) => {
    if (head.startsWith('GET /metrics ')) s.write('HTTP/1.1 302 Found\r\nLocation: /real\r\nContent-Length: 0\r\n\r\n');
    else s.write(ok('real 1\n'));
  });
  t.is(await body(options(t, srv.url, { maxRedirects: 10 })), 'real 1\n');
  const e = await t.throwsAsync(fetchBody(options(t, srv.url), Buffer.alloc(0)));
  t.is(e.message, 'server returned HTTP status 302 (redirects are not followed)');
});

test('non-200 statuses are errors with the status text; 1xx answers are skipped', async (t) => {
  const srv = await rawServer(t, (s, n) => {
    if (n === 1) s.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy');
    else s.write('HTTP/1.1 100 Continue\r\n\r\n' + ok('after 1\n'));
  });
  const o = options(t, srv.url);
  const e = await t.throwsAsync(fetchBody(o, Buffer.alloc(0)));
  t.is(e.message, 'server returned HTTP status 503 Service Unavailable');
  t.is(await body(o), 'after 1\n');
});

test('connection refused fails with the same message as node:http; closing the pool closes idle sockets', async (t) => {
  const srv = await rawServer(t, (s) => s.write(ok('a 1\n')));
  const o = options(t, srv.url);
  t.is(await body(o), 'a 1\n');
  t.is(o.http1?.idleCount(), 1);
  o.http1?.close();
  t.is(o.http1?.idleCount(), 0);
  const e = await t.throwsAsync(fetchBody(o, Buffer.alloc(0)));
  t.is(e.message, 'the scrape pool is closed');
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const port = (dead.address() as net.AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const e2 = await t.throwsAsync(fetchBody(options(t, `http://127.0.0.1:${port}/`), Buffer.alloc(0)));
  t.is(e2.message, `connect ECONNREFUSED 127.0.0.1:${port}`);
});

test('idle sockets are closed after idleMs', async (t) => {
  const srv = await rawServer(t, (s) => s.write(ok('a 1\n')));
  const pool = new Http1Pool({ idleMs: 30 });
  t.teardown(() => pool.close());
  const o = { ...options(t, srv.url), http1: pool };
  t.is(await body(o), 'a 1\n');
  t.is(pool.idleCount(), 1);
  await new Promise((r) => setTimeout(r, 120));
  t.is(pool.idleCount(), 0);
  t.is(await body(o), 'a 1\n');
  t.is(srv.connections(), 2);
});

test('IPv6 loopback targets: bracketed Host, same headers as node:http', async (t) => {
  const seen: string[][] = [];
  const srv = http.createServer((req, res) => {
    seen.push(req.rawHeaders);
    res.end('v6 1\n');
  });
  const listening = await new Promise<boolean>((r) => {
    srv.once('error', () => r(false));
    srv.listen(0, '::1', () => r(true));
  });
  if (!listening) {
    t.log('no ::1 on this machine; skipped');
    t.pass();
    return;
  }
  t.teardown(() => {
    srv.closeAllConnections();
    srv.close();
  });
  const url = `http://[::1]:${(srv.address() as net.AddressInfo).port}/metrics`;
  const viaNode = options(t, url);
  delete viaNode.http1;
  t.is(await body(viaNode), 'v6 1\n');
  t.is(await body(options(t, url)), 'v6 1\n');
  t.is(seen.length, 2);
  t.deepEqual(seen[1], seen[0]);
  t.true(seen[1]?.includes(`[::1]:${(srv.address() as net.AddressInfo).port}`));
});

test('a gzip error after a well-framed body leaves its pooled socket alone; trailing junk retires it', async (t) => {
  const gz = zlib.gzipSync('m 1\n');
  const cut = gz.subarray(0, gz.length - 6);
  const srv = await rawServer(t, (s, n) => {
    const b = n === 1 ? cut : gz;
    const extra = n === 3 ? 'junk' : '';
    s.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${b.length}\r\n\r\n`);
    s.write(Buffer.concat([b, Buffer.from(extra)]));
  });
  const o = options(t, srv.url);
  const e = await t.throwsAsync(fetchBody(o, Buffer.alloc(0)));
  t.regex(e.message, /^decompressing body: unexpected end of file/);
  t.is(await body(o), 'm 1\n');
  t.is(srv.connections(), 1);
  t.is(await body(o), 'm 1\n');
  t.is(o.http1?.idleCount(), 0);
  t.is(await body(o), 'm 1\n');
  t.is(srv.connections(), 2);
});

test('trailer sections are bounded like heads', async (t) => {
  const srv = await rawServer(t, (s) =>
    s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n${'X-T: v\r\n'.repeat(3000)}`),
  );
  const e = await t.throwsAsync(fetchBody(options(t, srv.url), Buffer.alloc(0)));
  t.regex(e.message, /trailer section longer than 16384 bytes/);
});

test('the prebuilt request head follows header changes; invalid header values are refused', async (t) => {
  const srv = await startServer((_req, res) => res.end('a 1\n'), { t });
  const o = options(t, `${srv.url}/metrics`);
  await body(o);
  o.headers.Authorization = 'Bearer one';
  await body(o);
  o.headers['X-Custom'] = 'v';
  await body(o);
  t.deepEqual(
    srv.received.map((r) => [r.headers.authorization, r.headers['x-custom']]),
    [
      [undefined, undefined],
      ['Bearer one', undefined],
      ['Bearer one', 'v'],
    ],
  );
  o.headers['X-Custom'] = 'a\r\nInjected: 1';
  const e = await t.throwsAsync(fetchBody(o, Buffer.alloc(0)));
  t.is(e.message, 'invalid character in header content ["X-Custom"]');
  t.is(srv.received.length, 3);
});

// Found in review (reproductions of defects since fixed).

test('a response with both Transfer-Encoding and Content-Length closes its socket', async (t) => {
  // RFC 9112 6.3: such a message is a smuggling attempt or a broken proxy; the client MUST close after it.
  const srv = await rawServer(t, (s) =>
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n4\r\na 1\n\r\n0\r\n\r\n'),
  );
  const o = options(t, srv.url);
  t.is(await body(o), 'a 1\n');
  t.is(o.http1?.idleCount(), 0);
});

test('closing the pool fails an exchange in flight at once, not at the scrape timeout', async (t) => {
  const srv = await rawServer(t, () => {});
  const o = options(t, srv.url, { timeoutMs: 5000 });
  const p = fetchBody(o, Buffer.alloc(0));
  await waitUntil(async () => srv.requests.length === 1, 2000, 'the request to reach the server');
  const t0 = Date.now();
  o.http1?.close();
  await t.throwsAsync(p);
  t.true(Date.now() - t0 < 1000, `settled after ${Date.now() - t0} ms`);
});

test('gzip input is written with backpressure (compressed bytes queued stay bounded)', async (t) => {
  // Incompressible payload: the wire delivers compressed bytes as fast as inflate produces output.
  const gz = zlib.gzipSync(randomBytes(24 * 1024 * 1024), { level: 1 });
  const srv = await rawServer(t, (s) => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`);
    s.write(gz);
  });
  let maxQueued = 0;
  const write = zlib.Gunzip.prototype.write;
  zlib.Gunzip.prototype.write = function (this: zlib.Gunzip, ...args: Parameters<typeof write>) {
    maxQueued = Math.max(maxQueued, this.writableLength);
    return write.apply(this, args);
  } as typeof write;
  t.teardown(() => {
    zlib.Gunzip.prototype.write = write;
  });
  const o = options(t, srv.url, { timeoutMs: 20_000 });
  const r = await fetchBody(o, Buffer.alloc(0));
  t.is(r.length, 24 * 1024 * 1024);
  t.log(`max queued ${maxQueued}, compressed ${gz.length}`);
  t.true(maxQueued <= 1024 * 1024, `up to ${maxQueued} compressed bytes queued in the inflater`);
});

test('a header name with whitespace before the colon is refused, not framed as unknown', async (t) => {
  // node:http ("Invalid header field char") and Go both refuse it; read as an unknown header, the body runs
  // to the close and takes in what follows the declared length (here, or a scrape timeout on a kept-alive socket).
  const srv = await rawServer(t, (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length : 4\r\n\r\na 1\nGARBAGE'));
  const e = await t.throwsAsync(body(options(t, srv.url)), { instanceOf: ScrapeError });
  t.regex(e.message, /invalid header/);
});

test('credentials in the target URL are sent as Basic auth, as node:http and Go do', async (t) => {
  // An __address__ of user:password@host:port reaches the scrape URL; node:http (and Go's http.Client, so
  // Prometheus) turn its userinfo into Authorization: Basic when no Authorization header is set.
  const srv = await startServer((_req, res) => res.end('a 1\n'), { t });
  const url = srv.url.replace('http://', 'http://user:s%40cret@') + '/metrics';
  const viaNode = options(t, url);
  delete viaNode.http1;
  t.is(await body(viaNode), 'a 1\n');
  t.is(await body(options(t, url)), 'a 1\n');
  const [a, b] = srv.received;
  const basic = `Basic ${Buffer.from('user:s@cret').toString('base64')}`;
  t.is(a?.headers.authorization, basic);
  t.is(b?.headers.authorization, basic);
});

import http from 'node:http';
import type https from 'node:https';
import type { Gunzip } from 'node:zlib';
import { Dispatcher, ProxySelector } from '../net/proxy.ts';
import { requestOnce } from '../net/request-once.ts';
import { OutpostError } from '../util/errors.ts';
import { logDuration } from '../log/logger.ts';
import { lazyHttps, lazyZlib } from '../util/lazy-builtin.ts';
import type { TlsClientOptions } from '../net/tls.ts';
import { type Http1Exchange, type Http1Pool, type Http1Response, requestHead } from '../net/http1-client.ts';

export class ScrapeError extends OutpostError {
  /** True when the body size limit stopped the scrape (reported as scrape_body_size_bytes = -1). */
  readonly bodyLimit: boolean;
  constructor(message: string, bodyLimit = false) {
    super('OUTPOST_SCRAPE_FAILED', message);
    this.bodyLimit = bodyLimit;
  }
}

export interface FetchOptions {
  url: URL;
  headers: Record<string, string>;
  timeoutMs: number;
  /** 0 = unlimited. The scrape fails once the uncompressed body reaches this many bytes. */
  bodySizeLimit: number;
  /** Said in the error when the limit is Outpost's default rather than the config's body_size_limit. */
  defaultLimit?: boolean | undefined;
  /**
   * Called for the body buffer when a 200 response arrives and `buf` is empty. Taking it only then
   * means a target that refuses connections or times out never holds one: 10,000 dead targets
   * allocated (and collected) a 64 KiB buffer each per scrape.
   */
  takeBuffer?: () => Buffer;
  agent: http.Agent | https.Agent;
  tls?: TlsClientOptions | undefined;
  /** Follow up to this many redirects (0 = report 3xx as an error, like follow_redirects: false). */
  maxRedirects: number;
  /**
   * HTTP forward proxy: a bare proxy_url, or a selector built from the whole proxy config
   * (ProxySelector.fromConfig: no_proxy, proxy_from_environment, proxy_connect_header). Absolute-URI
   * requests for http targets, CONNECT tunnels (pooled, kept alive) for https.
   */
  proxy?: URL | ProxySelector | undefined;
  /** The scrape pool's lean HTTP/1.1 client; plain-http requests without a proxy go through it (leanOnce). */
  http1?: Http1Pool | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A gzip body may inflate at most this many times its compressed size once it is past
 * RATIO_GUARD_FROM bytes. Exposition text compresses 5-50x; a body of one repeated line ~400x (measured),
 * identical bytes ~1000x: both are bombs, not metrics. Checked while inflating, so a bomb is
 * refused after a few MiB whatever body_size_limit says.
 */
const MAX_GZIP_RATIO = 200;
const RATIO_GUARD_FROM = 4 * 1024 * 1024;

/**
 * Inflate output chunk size. zlib's default (16 KiB) makes a 150 KB exposition ten stream pushes and
 * data events; 64 KiB cut the CPU per gzip scrape by ~40 % in bench/scrape-client.ts.
 */
const GUNZIP_CHUNK = 64 * 1024;

export interface FetchResult {
  /** Body bytes are buf[0, length); buf is the caller's reused buffer unless it had to grow. */
  buf: Buffer;
  length: number;
  contentType: string | undefined;
}

/**
 * GETs a target into a reused buffer. The body limit is enforced while streaming, so a hostile target
 * cannot make us buffer more than the limit; gzip is inflated on the fly under the same limit.
 */
export async function fetchBody(opts: FetchOptions, buf: Buffer): Promise<FetchResult> {
  let url = opts.url;
  for (let hop = 0; ; hop++) {
    const r = await fetchOnce(opts, url, buf);
    if (r.kind === 'body') return r.res;
    if (hop >= opts.maxRedirects)
      throw new ScrapeError(
        opts.maxRedirects === 0
          ? `server returned HTTP status ${r.status} (redirects are not followed)`
          : `stopped after ${opts.maxRedirects} redirects`,
      );
    url = new URL(r.location, url);
  }
}

type Once = { kind: 'body'; res: FetchResult } | { kind: 'redirect'; status: number; location: string };

/** Idle proxied connections are closed after this long (Go's transport: 5 minutes). */
const PROXY_IDLE_MS = 5 * 60_000;

/**
 * Dispatchers for proxied scrapes, per direct agent (one per scrape pool) and proxy, so tunnels are
 * pooled with the pool's other connections and go away with it.
 */
const dispatchers = new WeakMap<http.Agent, Map<string | ProxySelector, Dispatcher>>();

/** Node's agents carry their protocol; `instanceof https.Agent` would load https for plain-http pools. */
function isHttpsAgent(a: http.Agent | https.Agent): a is https.Agent {
  return (a as { protocol?: unknown }).protocol === 'https:';
}

function dispatcherFor(opts: FetchOptions, proxy: URL | ProxySelector): Dispatcher {
  let byProxy = dispatchers.get(opts.agent);
  if (!byProxy) {
    byProxy = new Map();
    dispatchers.set(opts.agent, byProxy);
  }
  const key = proxy instanceof URL ? proxy.href : proxy;
  let d = byProxy.get(key);
  if (!d) {
    d = new Dispatcher({
      proxy: proxy instanceof URL ? ProxySelector.fixed(proxy) : proxy,
      tls: opts.tls,
      agent: { keepAlive: true, maxSockets: opts.agent.maxSockets, timeout: PROXY_IDLE_MS },
      connectTimeoutMs: opts.timeoutMs,
      direct: isHttpsAgent(opts.agent) ? { https: opts.agent } : { http: opts.agent },
    });
    byProxy.set(key, d);
  }
  return d;
}

function deadline(opts: FetchOptions): () => Error {
  return () => new ScrapeError(`context deadline exceeded (timeout ${logDuration(opts.timeoutMs)})`);
}

/** Only this path decides between the lean client and node:http (plain http, no proxy, a pool given). */
function fetchOnce(opts: FetchOptions, url: URL, buf: Buffer): Promise<Once> {
  // Credentials in the URL (user:pw@host) go the node:http way, which sends them as Basic auth.
  if (opts.http1 && url.protocol === 'http:' && !opts.proxy && url.username === '' && url.password === '')
    return leanOnce(opts, opts.http1, url, buf);
  return requestOnce<Once>(opts.timeoutMs, deadline(opts), (finish, done) => {
    const reqOpts: https.RequestOptions = { method: 'GET', headers: opts.headers, agent: opts.agent, ...opts.tls };
    let req: http.ClientRequest;
    const d = opts.proxy ? dispatcherFor(opts, opts.proxy).dispatch(url) : null;
    if (d) {
      // Through a proxy (src/net/proxy.ts): absolute-URI request to it, or a request over a tunnel.
      reqOpts.host = d.host;
      reqOpts.port = d.port;
      reqOpts.path = d.path;
      reqOpts.agent = d.agent;
      reqOpts.headers = { ...opts.headers, ...d.headers };
      if (d.servername !== undefined) reqOpts.servername = d.servername;
      req = (d.secure ? lazyHttps() : http).request(reqOpts, onResponse);
    } else {
      req = (url.protocol === 'https:' ? lazyHttps() : http).request(url, reqOpts, onResponse);
    }
    function onResponse(res: http.IncomingMessage): void {
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status) && res.headers.location) {
        res.resume();
        finish(null, { kind: 'redirect', status, location: res.headers.location });
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        finish(new ScrapeError(`server returned HTTP status ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd()));
        return;
      }
      if (buf.length === 0 && opts.takeBuffer) buf = opts.takeBuffer();
      const body = new BodyCollector(opts, buf);
      let stream: NodeJS.ReadableStream = res;
      if ((res.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
        const gunzip = lazyZlib().createGunzip({ chunkSize: GUNZIP_CHUNK });
        gunzip.on('error', (e) => finish(new ScrapeError(`decompressing body: ${e.message}`)));
        body.compressed = 0;
        res.on('data', (c: Buffer) => body.countCompressed(c.length));
        res.pipe(gunzip);
        stream = gunzip;
      }
      stream.on('data', (chunk: Buffer) => {
        if (done()) return;
        const err = body.add(chunk);
        if (err) {
          finish(err);
          res.destroy();
        }
      });
      stream.on('end', () =>
        finish(null, {
          kind: 'body',
          res: { buf: body.buf, length: body.length, contentType: res.headers['content-type'] },
        }),
      );
      stream.on('error', (e: Error) => finish(new ScrapeError(e.message)));
      res.on('aborted', () => finish(new ScrapeError('connection closed while reading body')));
    }
    req.on('error', (e) => finish(new ScrapeError(e.message)));
    req.end();
    return req;
  });
}

/**
 * Copies body chunks into the reused buffer (growing it when needed) under the body size limit and,
 * for gzip, the inflation ratio guard; add() returns the error that stops the scrape.
 */
class BodyCollector {
  buf: Buffer;
  length = 0;
  /** Compressed bytes received so far; -1 when the body is not gzip. */
  compressed = -1;
  private readonly opts: FetchOptions;

  constructor(opts: FetchOptions, buf: Buffer) {
    this.opts = opts;
    this.buf = buf;
  }

  countCompressed(n: number): void {
    this.compressed += n;
  }

  add(chunk: Buffer): ScrapeError | null {
    const need = this.length + chunk.length;
    const limit = this.opts.bodySizeLimit;
    if (limit > 0 && need >= limit) {
      const why = this.opts.defaultLimit ? "; Outpost's default when body_size_limit is not set" : '';
      return new ScrapeError(`body size limit exceeded (limit: ${limit} bytes${why})`, true);
    }
    if (this.compressed >= 0 && need > RATIO_GUARD_FROM && need > this.compressed * MAX_GZIP_RATIO)
      return new ScrapeError(
        `gzip body inflates more than ${MAX_GZIP_RATIO} times (${need} bytes from ${this.compressed}): ` +
          'refused as a decompression bomb',
        true,
      );
    if (need > this.buf.length) {
      let size = Math.max(this.buf.length * 2, 4096);
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.length);
    this.length = need;
    return null;
  }
}

/**
 * The request head per headers object (one per scrape loop), reused while the URL and every header are
 * unchanged: the loop sets Authorization per scrape, and headers may come from files that change.
 */
const heads = new WeakMap<Record<string, string>, { href: string; pairs: string[]; head: Buffer }>();

function sameHeaders(pairs: readonly string[], headers: Record<string, string>): boolean {
  let i = 0;
  for (const k in headers) if (pairs[i++] !== k || pairs[i++] !== headers[k]) return false;
  return i === pairs.length;
}

function headFor(url: URL, headers: Record<string, string>): Buffer {
  const c = heads.get(headers);
  if (c && c.href === url.href && sameHeaders(c.pairs, headers)) return c.head;
  const head = requestHead(url, headers);
  heads.set(headers, { href: url.href, pairs: Object.entries(headers).flat(), head });
  return head;
}

/** fetchOnce over the lean HTTP/1.1 client: same outcomes, same errors, same limits. */
function leanOnce(opts: FetchOptions, pool: Http1Pool, url: URL, buf: Buffer): Promise<Once> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? 80 : Number(url.port);
  return requestOnce<Once>(opts.timeoutMs, deadline(opts), (finish, done) => {
    let body: BodyCollector | null = null;
    let contentType: string | undefined;
    let gunzip: Gunzip | null = null;
    const fail = (err: ScrapeError): false => {
      finish(err);
      return false;
    };
    const add = (chunk: Buffer): boolean => {
      if (done() || !body) return false;
      const err = body.add(chunk);
      return err ? fail(err) : true;
    };
    const bodyDone = (): void => {
      if (body) finish(null, { kind: 'body', res: { buf: body.buf, length: body.length, contentType } });
    };
    let ex: Http1Exchange | null = null;
    ex = pool.request(host, port, headFor(url, opts.headers), {
      onHead(res: Http1Response): boolean {
        const location = res.headers.get('location');
        if (REDIRECTS.has(res.status) && location) {
          finish(null, { kind: 'redirect', status: res.status, location });
          return false;
        }
        if (res.status !== 200)
          return fail(new ScrapeError(`server returned HTTP status ${res.status} ${res.statusText}`.trimEnd()));
        if (buf.length === 0 && opts.takeBuffer) buf = opts.takeBuffer();
        body = new BodyCollector(opts, buf);
        contentType = res.headers.get('content-type');
        if ((res.headers.get('content-encoding') ?? '').toLowerCase() === 'gzip') {
          body.compressed = 0;
          gunzip = lazyZlib().createGunzip({ chunkSize: GUNZIP_CHUNK });
          gunzip.on('error', (e) => finish(new ScrapeError(`decompressing body: ${e.message}`)));
          gunzip.on('data', (c: Buffer) => {
            if (!add(c)) gunzip?.destroy();
          });
          gunzip.on('end', bodyDone);
        }
        return true;
      },
      onBody(chunk: Buffer): boolean {
        if (done() || !body) return false;
        if (!gunzip) return add(chunk);
        body.countCompressed(chunk.length);
        // The inflater is behind: stop reading the socket until it drained, as res.pipe() does.
        if (!gunzip.write(chunk) && ex) {
          const paused = ex;
          paused.pause();
          gunzip.once('drain', () => paused.resume());
        }
        return true;
      },
      onEnd(): void {
        if (gunzip) gunzip.end();
        else bodyDone();
      },
      onError(err: Error): void {
        finish(new ScrapeError(err.message));
      },
    });
    return ex;
  });
}

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { OutpostError } from '../util/errors.ts';
import type { TlsClientOptions } from './http-client.ts';

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
  agent: http.Agent | https.Agent;
  tls?: TlsClientOptions;
  /** Follow up to this many redirects (0 = report 3xx as an error, like follow_redirects: false). */
  maxRedirects: number;
  /** HTTP forward proxy (proxy_url): absolute-URI requests for http targets, CONNECT tunnels for https. */
  proxy?: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

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
    if (hop >= opts.maxRedirects) throw new ScrapeError(opts.maxRedirects === 0 ? `server returned HTTP status ${r.status} (redirects are not followed)` : `stopped after ${opts.maxRedirects} redirects`);
    url = new URL(r.location, url);
  }
}

type Once = { kind: 'body'; res: FetchResult } | { kind: 'redirect'; status: number; location: string };

/** Opens a CONNECT tunnel through an HTTP proxy to the target's host:port. */
function connectTunnel(proxy: URL, url: URL, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const req = http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: `${url.hostname}:${port}`, headers: { Host: `${url.hostname}:${port}` } });
    const timer = setTimeout(() => req.destroy(new ScrapeError(`proxy CONNECT timed out (timeout ${timeoutMs}ms)`)), timeoutMs);
    req.once('connect', (res, socket) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new ScrapeError(`proxy refused CONNECT: HTTP status ${res.statusCode}`));
      } else resolve(socket);
    });
    req.once('error', (e) => {
      clearTimeout(timer);
      reject(e instanceof ScrapeError ? e : new ScrapeError(`proxy: ${e.message}`));
    });
    req.end();
  });
}

async function fetchOnce(opts: FetchOptions, url: URL, buf: Buffer): Promise<Once> {
  const secure = url.protocol === 'https:';
  // https through a proxy: TLS runs end to end inside a CONNECT tunnel.
  const tunnel = opts.proxy && secure ? await connectTunnel(opts.proxy, url, opts.timeoutMs) : null;
  return new Promise((resolve, reject) => {
    const mod = secure ? https : http;
    let done = false;
    let length = 0;
    const finish = (err: Error | null, res?: Once) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(res as Once);
    };
    // Through a proxy, the request goes to the proxy with the absolute URL as its path.
    const target = opts.proxy && !tunnel ? opts.proxy : url;
    const reqOpts: https.RequestOptions = { method: 'GET', headers: opts.headers, agent: opts.agent, ...opts.tls };
    if (tunnel) {
      reqOpts.agent = false;
      reqOpts.createConnection = () => tls.connect({ socket: tunnel, servername: opts.tls?.servername ?? url.hostname, ...opts.tls });
    } else if (opts.proxy) {
      reqOpts.host = opts.proxy.hostname;
      reqOpts.port = opts.proxy.port || 80;
      reqOpts.path = url.toString();
      reqOpts.headers = { ...opts.headers, Host: url.host };
    }
    const req = opts.proxy && !tunnel ? mod.request(reqOpts, onResponse) : mod.request(target, reqOpts, onResponse);
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
      let stream: NodeJS.ReadableStream = res;
      if ((res.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
        const gunzip = zlib.createGunzip();
        gunzip.on('error', (e) => finish(new ScrapeError(`decompressing body: ${e.message}`)));
        res.pipe(gunzip);
        stream = gunzip;
      }
      const limit = opts.bodySizeLimit;
      stream.on('data', (chunk: Buffer) => {
        if (done) return;
        const need = length + chunk.length;
        if (limit > 0 && need >= limit) {
          finish(new ScrapeError(`body size limit exceeded (limit: ${limit} bytes)`, true));
          return;
        }
        if (need > buf.length) {
          let size = Math.max(buf.length * 2, 4096);
          while (size < need) size *= 2;
          const grown = Buffer.allocUnsafe(size);
          buf.copy(grown, 0, 0, length);
          buf = grown;
        }
        chunk.copy(buf, length);
        length = need;
      });
      stream.on('end', () => finish(null, { kind: 'body', res: { buf, length, contentType: res.headers['content-type'] } }));
      stream.on('error', (e: Error) => finish(new ScrapeError(e.message)));
      res.on('aborted', () => finish(new ScrapeError('connection closed while reading body')));
    }
    const timer = setTimeout(() => finish(new ScrapeError(`context deadline exceeded (timeout ${opts.timeoutMs}ms)`)), opts.timeoutMs);
    req.on('error', (e) => finish(new ScrapeError(e.message)));
    req.end();
  });
}

import http from 'node:http';
import https from 'node:https';
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
}

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
export function fetchBody(opts: FetchOptions, buf: Buffer): Promise<FetchResult> {
  return new Promise((resolve, reject) => {
    const mod = opts.url.protocol === 'https:' ? https : http;
    let done = false;
    let length = 0;
    const finish = (err: Error | null, res?: FetchResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(res as FetchResult);
    };
    const req = mod.request(opts.url, { method: 'GET', headers: opts.headers, agent: opts.agent, ...opts.tls }, (res) => {
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
      stream.on('end', () => finish(null, { buf, length, contentType: res.headers['content-type'] }));
      stream.on('error', (e: Error) => finish(new ScrapeError(e.message)));
      res.on('aborted', () => finish(new ScrapeError('connection closed while reading body')));
    });
    const timer = setTimeout(() => finish(new ScrapeError(`context deadline exceeded (timeout ${opts.timeoutMs}ms)`)), opts.timeoutMs);
    req.on('error', (e) => finish(new ScrapeError(e.message)));
    req.end();
  });
}

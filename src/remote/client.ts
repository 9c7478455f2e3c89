import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { RemoteWriteConfig } from '../config/types.ts';
import { AuthSource } from '../net/auth.ts';
import { Dispatcher, ProxySelector, dispatchOptions, type Dispatch } from '../net/proxy.ts';
import { roundRobinLookup, type LookupAll } from '../net/round-robin-dns.ts';
import { tlsOptions } from '../net/tls.ts';
import { errorMessage } from '../util/errors.ts';
import { lazyHttps } from '../util/lazy-builtin.ts';
import { redactUrl } from '../config/redact.ts';
import type { Random } from '../util/random.ts';
import { RW1_CONTENT_TYPE, RW1_VERSION, RW2_CONTENT_TYPE, RW2_VERSION } from './proto.ts';

/** Which protobuf message a request body holds. */
export type WireProtocol = 'v1' | 'v2';

/**
 * What a remote-write 2.0 receiver says it stored (`X-Prometheus-Remote-Write-*-Written`);
 * -1 where the header was absent, which for a 1.0 receiver is every field.
 */
export interface WrittenCounts {
  samples: number;
  histograms: number;
  exemplars: number;
}

/** Outcome of one POST, as a union so the retry policy is one switch. */
export type SendResult =
  | { kind: 'ok'; written: WrittenCounts }
  /** refused: nothing listened on the first hop (ECONNREFUSED), so a probe can tell when it is back. */
  | { kind: 'retry'; error: string; status: number; retryAfterMs: number; refused?: boolean }
  | { kind: 'fail'; error: string; status: number };

export interface WriteClient {
  /** A 415 comes back as `fail` with status 415, so the caller can fall back to v1. */
  send(body: Uint8Array, attempt: number, protocol: WireProtocol): Promise<SendResult>;
  /** Whether the first hop (receiver or proxy) accepts TCP connections again; no request is sent. */
  probe?(): Promise<boolean>;
  close(): void;
}

/** A probe gives up on a connection attempt after this long. */
const PROBE_TIMEOUT_MS = 1000;

/** Reads at most this much of an error response into the log line. */
const MAX_ERROR_BODY = 1024;
/** `http_headers` read from files are re-read at most this often (Prometheus reads them per request). */
const HEADER_FILE_RECHECK_MS = 5000;

/**
 * Remote write over Node's http/https.request with keep-alive agents, through a proxy when
 * configured (src/net/proxy.ts), with basic/authorization/oauth2 credentials (AuthSource).
 *
 * Why not node-fetch (the project's usual HTTP client): bench/rw-client.ts, 63 KiB snappy bodies
 * (one 2000-sample batch) to a loopback receiver, Node 26, median of 5 rounds × 3000 POSTs on the
 * shared 2-core dev VM (load ~4):
 *   1 in flight: node-fetch 1168 req/s, 633 CPU µs/req  →  http.request 2180 req/s, 218 CPU µs/req
 *   4 in flight: node-fetch 1286 req/s, 578 CPU µs/req  →  http.request 2876 req/s, 184 CPU µs/req
 * i.e. about a third of the CPU per request. node-fetch wraps every request in WHATWG Headers,
 * Request and Response objects, an AbortController and body streams; here the per-request work is
 * one header array, one timer and the response drain.
 */
export class HttpWriteClient implements WriteClient {
  private readonly url: string;
  private readonly shownUrl: string;
  private readonly cfg: RemoteWriteConfig;
  private readonly auth: AuthSource;
  private readonly dispatcher: Dispatcher;
  private readonly route: Dispatch;
  private readonly request: typeof http.request;
  /** Headers that never change, per protocol, as flat [name, value, ...] arrays (copied per request). */
  private readonly fixedV1: string[];
  private readonly fixedV2: string[];
  private readonly headerFiles: HeaderFiles | null;
  private readonly authFromUrl: boolean;
  private readonly setupError: string | null = null;

  /** `dns` replaces the resolver and random source of round_robin_dns (tests). */
  constructor(cfg: RemoteWriteConfig, userAgent: string, dns: { lookupAll?: LookupAll; random?: Random } = {}) {
    this.cfg = cfg;
    this.url = cfg.url;
    this.shownUrl = redactUrl(cfg.url);
    this.auth = new AuthSource(cfg, 5000, { userAgent, timeoutMs: cfg.remoteTimeout });
    const target = new URL(cfg.url);
    let proxy: ProxySelector | null = null;
    try {
      proxy = ProxySelector.fromConfig(cfg);
    } catch (err) {
      // Only a bad HTTP(S)_PROXY variable gets here (proxy_url was validated with the config): like
      // Go's per-request proxy lookup, every send reports it instead of the endpoint failing to start.
      this.setupError = errorMessage(err);
    }
    this.dispatcher = new Dispatcher({
      proxy,
      tls: tlsOptions(cfg.tlsConfig),
      agent: { keepAlive: true, ...(cfg.roundRobinDns ? { lookup: roundRobinLookup(dns.lookupAll, dns.random) } : {}) },
      connectTimeoutMs: cfg.remoteTimeout,
    });
    this.route = this.dispatcher.dispatch(target);
    this.request = this.route.secure ? lazyHttps().request : http.request;
    const common: string[] = [];
    for (const [k, v] of Object.entries(this.route.headers)) common.push(k, v);
    // URL userinfo becomes basic auth, as Go's http.Client sets it before the auth round trippers
    // (which then leave it alone; only oauth2 overrides it).
    this.authFromUrl = (target.username !== '' || target.password !== '') && !cfg.oauth2;
    if (this.authFromUrl) {
      common.push(
        'Authorization',
        'Basic ' +
          Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString(
            'base64',
          ),
      );
    }
    for (const [k, v] of Object.entries(cfg.headers ?? {})) common.push(k, v);
    const files: [string, string][] = [];
    for (const [name, h] of Object.entries(cfg.httpHeaders ?? {})) {
      for (const v of h.values) common.push(name, v);
      for (const s of h.secrets) common.push(name, s.reveal());
      for (const f of h.files) files.push([name, f]);
    }
    this.headerFiles = files.length > 0 ? new HeaderFiles(files) : null;
    common.push('Content-Encoding', 'snappy', 'User-Agent', userAgent);
    this.fixedV1 = [...common, 'Content-Type', RW1_CONTENT_TYPE, 'X-Prometheus-Remote-Write-Version', RW1_VERSION];
    this.fixedV2 = [...common, 'Content-Type', RW2_CONTENT_TYPE, 'X-Prometheus-Remote-Write-Version', RW2_VERSION];
  }

  async send(body: Uint8Array, attempt: number, protocol: WireProtocol): Promise<SendResult> {
    if (this.setupError)
      return { kind: 'retry', error: `Post "${this.shownUrl}": ${this.setupError}`, status: 0, retryAfterMs: 0 };
    const headers = (protocol === 'v2' ? this.fixedV2 : this.fixedV1).slice();
    headers.push('Content-Length', String(body.byteLength));
    if (attempt > 0) headers.push('Retry-Attempt', String(attempt));
    try {
      if (!this.authFromUrl && !this.auth.none) {
        const auth = await this.auth.header();
        if (auth) headers.push('Authorization', auth);
      }
      if (this.headerFiles) await this.headerFiles.appendTo(headers);
    } catch (err) {
      return {
        kind: 'retry',
        error: `Post "${this.shownUrl}": ${this.redact(errorMessage(err))}`,
        status: 0,
        retryAfterMs: 0,
      };
    }
    return this.post(body, headers);
  }

  probe(): Promise<boolean> {
    return new Promise((resolve) => {
      const sock = net.connect({ host: this.route.host, port: this.route.port });
      const done = (ok: boolean): void => {
        sock.destroy();
        resolve(ok);
      };
      sock.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
      sock.once('connect', () => done(true));
      sock.once('error', () => done(false));
    });
  }

  private redact(msg: string): string {
    return this.shownUrl === this.url ? msg : msg.replaceAll(this.url, this.shownUrl);
  }

  private post(body: Uint8Array, headers: string[]): Promise<SendResult> {
    return new Promise<SendResult>((resolve) => {
      const r = this.route;
      let settled = false;
      const finish = (res: SendResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(res);
      };
      const opts = dispatchOptions(r, 'POST', headers);
      const req = this.request(opts, (res) => this.onResponse(res, finish));
      // remote_timeout bounds the whole exchange, as the request context does in Prometheus.
      const timer = setTimeout(() => {
        finish({
          kind: 'retry',
          error: `Post "${this.shownUrl}": context deadline exceeded`,
          status: 0,
          retryAfterMs: 0,
        });
        req.destroy();
      }, this.cfg.remoteTimeout);
      req.on('error', (e: NodeJS.ErrnoException) => {
        const error = `Post "${this.shownUrl}": ${this.redact(e.message)}`;
        finish(
          e.code === 'ECONNREFUSED'
            ? { kind: 'retry', error, status: 0, retryAfterMs: 0, refused: true }
            : { kind: 'retry', error, status: 0, retryAfterMs: 0 },
        );
      });
      // The body goes out as a view of the caller's buffer: no copy.
      req.end(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  }

  private onResponse(res: http.IncomingMessage, finish: (r: SendResult) => void): void {
    const status = res.statusCode ?? 0;
    const raw = res.rawHeaders;
    res.on('error', (e) =>
      finish({ kind: 'retry', error: `Post "${this.shownUrl}": ${e.message}`, status: 0, retryAfterMs: 0 }),
    );
    res.on('close', () => {
      if (!res.complete)
        finish({ kind: 'retry', error: `Post "${this.shownUrl}": unexpected EOF`, status: 0, retryAfterMs: 0 });
    });
    if (status >= 200 && status < 300) {
      const written = writtenCounts((name) => rawHeader(raw, name));
      // Drained to the end so the connection goes back to the pool.
      res.on('end', () => finish({ kind: 'ok', written }));
      res.resume();
      return;
    }
    if (status === 401) this.auth.invalidate();
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < MAX_ERROR_BODY) {
        chunks.push(c);
        size += c.length;
      }
    });
    res.on('end', () => {
      const text = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
      const error = `server returned HTTP status ${status} ${res.statusMessage ?? ''}: ${text}`.trim();
      if (status >= 500 || (status === 429 && this.cfg.queueConfig.retryOnHttp429)) {
        finish({
          kind: 'retry',
          error,
          status,
          retryAfterMs: parseRetryAfter(rawHeader(raw, 'retry-after'), Date.now()),
        });
      } else {
        finish({ kind: 'fail', error, status });
      }
    });
  }

  close(): void {
    this.dispatcher.destroy();
    this.auth.close();
  }
}

/** `http_headers` values read from files: re-read at most every few seconds, without blocking the loop. */
class HeaderFiles {
  private readonly files: readonly [string, string][];
  private values: string[] = [];
  private checkedAt = -Infinity;

  constructor(files: [string, string][]) {
    this.files = files;
  }

  async appendTo(headers: string[]): Promise<void> {
    const now = Date.now();
    if (now - this.checkedAt >= HEADER_FILE_RECHECK_MS) {
      const next: string[] = [];
      for (const [name, f] of this.files) next.push(name, (await fsp.readFile(f, 'utf8')).trim());
      this.values = next;
      this.checkedAt = now;
    }
    for (const v of this.values) headers.push(v);
  }
}

/** First value of a header in IncomingMessage.rawHeaders (no parsed-headers object is built). */
function rawHeader(raw: readonly string[], lowerName: string): string | null {
  // Names sit at even indices, each followed by its value.
  const at = raw.findIndex((k, i) => i % 2 === 0 && k.length === lowerName.length && k.toLowerCase() === lowerName);
  return at < 0 ? null : (raw[at + 1] ?? null);
}

function writtenHeader(get: (name: string) => string | null, name: string): number {
  const v = get(name)?.trim() ?? '';
  if (v === '') return -1;
  return /^[+-]?\d+$/.test(v) ? Math.max(0, Number(v)) : 0;
}

/**
 * Reads the RW2 "written" response headers as Prometheus 3.x does (storage/remote/stats.go
 * ParseWriteResponseStats): an absent or empty header reads -1 (not reported); one that is present
 * but not a count still confirms a 2.0 receiver and reads 0.
 */
export function writtenCounts(get: (name: string) => string | null): WrittenCounts {
  return {
    samples: writtenHeader(get, 'x-prometheus-remote-write-samples-written'),
    histograms: writtenHeader(get, 'x-prometheus-remote-write-histograms-written'),
    exemplars: writtenHeader(get, 'x-prometheus-remote-write-exemplars-written'),
  };
}

/** Retry-After as integer seconds or an HTTP date; 0 when absent or unparsable. */
export function parseRetryAfter(v: string | null, now: number): number {
  if (!v) return 0;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const d = Date.parse(s);
  return Number.isNaN(d) ? 0 : Math.max(0, d - now);
}

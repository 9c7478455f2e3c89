/**
 * A small Kubernetes API client: paginated LIST and streamed WATCH of one resource path, JSON only,
 * over the HTTP client code scrapes use (src/net: TLS, proxies, credentials re-read from files).
 *
 * WATCH answers with one JSON event per line (`{"type":"ADDED","object":{...}}`). The apiserver
 * ends a watch at `timeoutSeconds`; a line longer than MAX_EVENT_BYTES or a response body longer than
 * MAX_LIST_BYTES is refused rather than buffered without bound.
 */
import http from 'node:http';
import { AuthSource } from '../../net/auth.ts';
import { Dispatcher, ProxySelector, dispatchOptions } from '../../net/proxy.ts';
import { tlsOptions } from '../../net/tls.ts';
import { errorMessage, OutpostError } from '../../util/errors.ts';
import { lazyHttps } from '../../util/lazy-builtin.ts';
import { DiscoveryError } from '../discoverer.ts';
import type { ApiEndpoint } from './credentials.ts';

const MAX_LIST_BYTES = 256 << 20;
const MAX_EVENT_BYTES = 16 << 20;

/** A non-2xx answer (or an ERROR watch event), with the apiserver's Status code and reason. */
export class KubeApiError extends OutpostError {
  readonly status: number;
  readonly reason: string;
  constructor(message: string, status: number, reason: string) {
    super('OUTPOST_KUBE_API', message);
    this.status = status;
    this.reason = reason;
  }

  /** 410 Gone / reason Expired: the resourceVersion is too old to watch from; list again. */
  get gone(): boolean {
    return this.status === 410 || this.reason === 'Expired' || this.reason === 'Gone';
  }
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  readonly object: unknown;
}

export interface ListPage {
  readonly items: readonly unknown[];
  readonly resourceVersion: string;
  readonly continueToken: string;
}

export interface KubeClientOptions {
  readonly userAgent: string;
  readonly env?: NodeJS.ProcessEnv | undefined;
}

export class KubeClient {
  private readonly base: URL;
  private readonly dispatcher: Dispatcher;
  private readonly auth: AuthSource;
  private readonly userAgent: string;

  /** Throws DiscoveryError when TLS files cannot be read or the proxy settings are unusable. */
  constructor(endpoint: ApiEndpoint, o: KubeClientOptions) {
    this.base = new URL(endpoint.server);
    this.userAgent = o.userAgent;
    try {
      this.dispatcher = new Dispatcher({
        proxy: ProxySelector.fromConfig(endpoint.http, o.env),
        tls: tlsOptions(endpoint.http.tlsConfig),
        agent: { keepAlive: true },
        connectTimeoutMs: 30_000,
      });
    } catch (err) {
      throw new DiscoveryError(`kubernetes_sd ${endpoint.server}: ${errorMessage(err)}`, { cause: err });
    }
    this.auth = new AuthSource(endpoint.http, 5000, { userAgent: o.userAgent, timeoutMs: 30_000 });
  }

  /** One page of a LIST; `timeoutMs` bounds the whole exchange, body included. */
  async list(path: string, query: URLSearchParams, signal: AbortSignal, timeoutMs: number): Promise<ListPage> {
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    let body: string;
    try {
      const res = await this.request(path, query, deadline, timeoutMs);
      body = await readAll(res, MAX_LIST_BYTES, deadline);
    } catch (err) {
      if (deadline.aborted && !signal.aborted)
        throw new DiscoveryError(`list ${path}: no complete answer within ${timeoutMs} ms`, { cause: err });
      throw err;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch (err) {
      throw new DiscoveryError(`list ${path}: invalid JSON: ${errorMessage(err)}`, { cause: err });
    }
    const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
    const meta = (typeof o.metadata === 'object' && o.metadata !== null ? o.metadata : {}) as Record<string, unknown>;
    return {
      items: Array.isArray(o.items) ? o.items : [],
      resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
      continueToken: typeof meta.continue === 'string' ? meta.continue : '',
    };
  }

  /**
   * Streams a WATCH: resolves when the server ends it (its timeoutSeconds), rejects with
   * KubeApiError on an error status or ERROR event, with DiscoveryError when the connection drops
   * or nothing arrives for `idleTimeoutMs` (a half-open connection never ends by itself).
   */
  async watch(
    path: string,
    query: URLSearchParams,
    signal: AbortSignal,
    idleTimeoutMs: number,
    onEvent: (e: WatchEvent) => void,
  ): Promise<void> {
    const res = await this.request(path, query, signal, idleTimeoutMs);
    await new Promise<void>((resolve, reject) => {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let done = false;
      const finish = (err: Error | null): void => {
        if (done) return;
        done = true;
        clearTimeout(idle);
        signal.removeEventListener('abort', onAbort);
        if (err) {
          res.destroy();
          reject(err);
        } else resolve();
      };
      const onAbort = (): void => finish(new DiscoveryError('watch aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      let idle = setTimeout(
        () => finish(new DiscoveryError(`watch ${path}: no data for ${idleTimeoutMs} ms`)),
        idleTimeoutMs,
      );
      const line = (buf: Buffer): void => {
        if (buf.length === 0) return;
        let ev: { type?: unknown; object?: unknown };
        try {
          ev = JSON.parse(buf.toString('utf8')) as typeof ev;
        } catch (err) {
          throw new DiscoveryError(`watch ${path}: invalid event: ${errorMessage(err)}`, { cause: err });
        }
        if (ev.type === 'ERROR') throw statusError(`watch ${path}`, ev.object, 500);
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED' || ev.type === 'BOOKMARK') {
          onEvent({ type: ev.type, object: ev.object });
        }
      };
      res.on('data', (chunk: Buffer) => {
        if (done) return;
        clearTimeout(idle);
        idle = setTimeout(
          () => finish(new DiscoveryError(`watch ${path}: no data for ${idleTimeoutMs} ms`)),
          idleTimeoutMs,
        );
        try {
          let start = 0;
          for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
            const part = chunk.subarray(start, nl);
            start = nl + 1;
            if (pendingBytes > 0) {
              pending.push(part);
              line(Buffer.concat(pending));
              pending = [];
              pendingBytes = 0;
            } else line(part);
            if (done) return;
          }
          if (start < chunk.length) {
            pendingBytes += chunk.length - start;
            if (pendingBytes > MAX_EVENT_BYTES)
              throw new DiscoveryError(`watch ${path}: event larger than ${MAX_EVENT_BYTES} bytes`);
            pending.push(chunk.subarray(start));
          }
        } catch (err) {
          finish(err instanceof Error ? err : new Error(String(err)));
        }
      });
      res.on('end', () => {
        if (pendingBytes > 0) {
          try {
            line(Buffer.concat(pending));
          } catch (err) {
            finish(err instanceof Error ? err : new Error(String(err)));
            return;
          }
        }
        finish(null);
      });
      res.on('aborted', () => finish(new DiscoveryError(`watch ${path}: connection dropped`)));
      res.on('error', (e) => finish(new DiscoveryError(`watch ${path}: ${e.message}`, { cause: e })));
      res.on('close', () => {
        if (!res.complete) finish(new DiscoveryError(`watch ${path}: connection dropped`));
      });
    });
  }

  /** Sends a GET; resolves with a 2xx response (headers received), rejects with KubeApiError otherwise. */
  private async request(
    path: string,
    query: URLSearchParams,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<http.IncomingMessage> {
    if (signal.aborted) throw new DiscoveryError(`GET ${path}: aborted`);
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    url.search = query.toString();
    const authorization = await this.auth.header();
    const r = this.dispatcher.dispatch(url);
    const headers: Record<string, string> = { ...r.headers, Accept: 'application/json', 'User-Agent': this.userAgent };
    if (authorization) headers.Authorization = authorization;
    const opts = dispatchOptions(r, 'GET', headers);
    const send = r.secure ? lazyHttps().request : http.request;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = send(opts, resolve);
      const timer = setTimeout(() => {
        req.destroy();
        reject(new DiscoveryError(`GET ${redact(url)}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = (): void => {
        req.destroy();
        reject(new DiscoveryError(`GET ${redact(url)}: aborted`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('response', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      });
      req.on('error', (e) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(new DiscoveryError(`GET ${redact(url)}: ${e.message}`, { cause: e }));
      });
      req.end();
    });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    if (status === 401) this.auth.invalidate();
    let body = '';
    try {
      body = await readAll(res, 64 << 10, signal);
    } catch {
      // The status alone still says what went wrong.
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    throw statusError(`GET ${redact(url)}`, parsed, status);
  }

  close(): void {
    this.dispatcher.destroy();
    this.auth.close();
  }
}

/** A metav1.Status (or anything else) as KubeApiError. */
function statusError(what: string, status: unknown, httpStatus: number): KubeApiError {
  const s = (typeof status === 'object' && status !== null ? status : {}) as Record<string, unknown>;
  const code = typeof s.code === 'number' ? s.code : httpStatus;
  const reason = typeof s.reason === 'string' ? s.reason : '';
  const message = typeof s.message === 'string' ? s.message : `HTTP status ${code}`;
  return new KubeApiError(`${what}: ${message}${reason ? ` (${reason})` : ''}`, code, reason);
}

/** The URL without userinfo (an api_server URL may carry credentials). */
function redact(u: URL): string {
  return `${u.origin}${u.pathname}${u.search}`;
}

function readAll(res: http.IncomingMessage, max: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const onAbort = (): void => {
      res.destroy();
      reject(new DiscoveryError('aborted'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        res.destroy();
        reject(new DiscoveryError(`response body larger than ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(new DiscoveryError(e.message, { cause: e }));
    });
    res.on('aborted', () => reject(new DiscoveryError('connection dropped')));
  });
}

import http from 'node:http';
import https from 'node:https';
import fetch, { type RequestInit } from 'node-fetch';
import type { RemoteWriteConfig } from '../config/types.ts';
import { AuthSource, tlsOptions } from '../scrape/http-client.ts';
import { errorMessage } from '../util/errors.ts';
import { redactUrl } from '../config/redact.ts';
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
  | { kind: 'retry'; error: string; status: number; retryAfterMs: number }
  | { kind: 'fail'; error: string; status: number };

export interface WriteClient {
  /** A 415 comes back as `fail` with status 415, so the caller can fall back to v1. */
  send(body: Uint8Array, attempt: number, protocol: WireProtocol): Promise<SendResult>;
  close(): void;
}

/** Reads at most this much of an error response into the log line. */
const MAX_ERROR_BODY = 1024;

/** Remote-write 1.0 over node-fetch with keep-alive. */
export class HttpWriteClient implements WriteClient {
  private readonly url: string;
  private readonly cfg: RemoteWriteConfig;
  private readonly agent: http.Agent | https.Agent;
  private readonly userAgent: string;
  private readonly auth: AuthSource;

  constructor(cfg: RemoteWriteConfig, userAgent: string) {
    this.cfg = cfg;
    this.auth = new AuthSource(cfg);
    this.url = cfg.url;
    this.userAgent = userAgent;
    const tls = tlsOptions(cfg.tlsConfig);
    this.agent = cfg.url.startsWith('https:') ? new https.Agent({ keepAlive: true, ...tls }) : new http.Agent({ keepAlive: true });
  }

  async send(body: Uint8Array, attempt: number, protocol: WireProtocol): Promise<SendResult> {
    const v2 = protocol === 'v2';
    const headers: Record<string, string> = {
      ...(this.cfg.headers ?? {}),
      'Content-Encoding': 'snappy',
      'Content-Type': v2 ? RW2_CONTENT_TYPE : RW1_CONTENT_TYPE,
      'X-Prometheus-Remote-Write-Version': v2 ? RW2_VERSION : RW1_VERSION,
      'User-Agent': this.userAgent,
    };
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.cfg.remoteTimeout);
    try {
      const auth = await this.auth.header();
      if (auth) headers.Authorization = auth;
    } catch (err) {
      clearTimeout(timer);
      return { kind: 'retry', error: `reading credentials: ${errorMessage(err)}`, status: 0, retryAfterMs: 0 };
    }
    if (attempt > 0) headers['Retry-Attempt'] = String(attempt);
    try {
      const init: RequestInit = { method: 'POST', body: Buffer.from(body.buffer, body.byteOffset, body.byteLength), headers, agent: this.agent, signal: ac.signal, compress: false };
      const res = await fetch(this.url, init);
      if (res.status >= 200 && res.status < 300) {
        await res.arrayBuffer().catch(() => undefined);
        return { kind: 'ok', written: writtenCounts((name) => res.headers.get(name)) };
      }
      const text = (await res.text().catch(() => '')).slice(0, MAX_ERROR_BODY);
      const error = `server returned HTTP status ${res.status} ${res.statusText}: ${text}`.trim();
      if (res.status >= 500 || (res.status === 429 && this.cfg.queueConfig.retryOnHttp429)) {
        return { kind: 'retry', error, status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), Date.now()) };
      }
      return { kind: 'fail', error, status: res.status };
    } catch (err) {
      // The URL may carry a password: errors are logged and shown, so they get the redacted form.
      const shown = redactUrl(this.url);
      const error = ac.signal.aborted ? `Post "${shown}": context deadline exceeded` : `Post "${shown}": ${errorMessage(err).replaceAll(this.url, shown)}`;
      return { kind: 'retry', error, status: 0, retryAfterMs: 0 };
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

function writtenHeader(get: (name: string) => string | null, name: string): number {
  const v = get(name);
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v.trim()) : -1;
}

/** Reads the RW2 "written" response headers; a header that is absent or not a count reads -1. */
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

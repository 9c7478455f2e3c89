/**
 * The remote-write client as it was before src/remote/client.ts moved to http.request: node-fetch
 * over a keep-alive agent, a header object per request. Kept only as the baseline of
 * bench/rw-client.ts and bench/rw-catchup.ts (CATCHUP_CLIENT=node-fetch); no auth, TLS or proxy.
 */
import http from 'node:http';
import fetch, { type RequestInit } from 'node-fetch';
import type { RemoteWriteConfig } from '../src/config/types.ts';
import { writtenCounts, type SendResult, type WireProtocol, type WriteClient } from '../src/remote/client.ts';
import { RW1_CONTENT_TYPE, RW1_VERSION, RW2_CONTENT_TYPE, RW2_VERSION } from '../src/remote/proto.ts';

export class NodeFetchWriteClient implements WriteClient {
  private readonly cfg: RemoteWriteConfig;
  private readonly agent: http.Agent;
  private readonly userAgent: string;

  constructor(cfg: RemoteWriteConfig, userAgent: string) {
    this.cfg = cfg;
    this.userAgent = userAgent;
    this.agent = new http.Agent({ keepAlive: true });
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
    if (attempt > 0) headers['Retry-Attempt'] = String(attempt);
    try {
      const init: RequestInit = {
        method: 'POST',
        body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        headers,
        agent: this.agent,
        signal: ac.signal,
        compress: false,
      };
      const res = await fetch(this.cfg.url, init);
      if (res.status >= 200 && res.status < 300) {
        await res.arrayBuffer().catch(() => undefined);
        return { kind: 'ok', written: writtenCounts((name) => res.headers.get(name)) };
      }
      const text = (await res.text().catch(() => '')).slice(0, 1024);
      return { kind: 'fail', error: `server returned HTTP status ${res.status}: ${text}`, status: res.status };
    } catch (err) {
      return { kind: 'retry', error: String(err), status: 0, retryAfterMs: 0 };
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

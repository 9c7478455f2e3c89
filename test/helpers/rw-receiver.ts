/**
 * Loopback remote-write receiver for tests. It decodes snappy + protobuf on its own (RW 1.0, or
 * RW 2.0 when the Content-Type says so), recognises stale markers from the raw double bits, and
 * can be told how to answer: planned responses are consumed one per request, then the default
 * applies. Every request is logged in `attempts`; only 2xx-answered ones land in `requests`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  decodeRequestV2,
  decodeWriteRequest,
  type DecodedLabel,
  type DecodedMetadata,
  type DecodedMetadataV2,
  type DecodedRequestV2,
  type DecodedWriteRequest,
} from './rw-proto.ts';
import { snappyUncompress } from '../../src/remote/snappy.ts';

export interface ReceivedSample {
  labels: Record<string, string>;
  value: number;
  stale: boolean;
  timestamp: number;
}

export interface PlannedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Wait this long (after reading the body) before answering or resetting. */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  body?: string;
  /** RW 2.0 only: add the X-Prometheus-Remote-Write-*-Written headers on 2xx (default true). */
  writtenHeaders?: boolean;
}

type RwProtocol = 'rw1' | 'rw2';

interface ReceivedMetadata {
  /** RW1: metric_family_name; RW2: the series' __name__. */
  metricFamilyName: string;
  type: number;
  help: string;
  unit: string;
}

export interface ReceivedRequest {
  headers: Record<string, string>;
  protocol: RwProtocol;
  samples: ReceivedSample[];
  /** RW1: the request's MetricMetadata entries. RW2: each series' metadata (only non-empty ones). */
  metadata: ReceivedMetadata[];
  /** Labels in wire order, one entry per TimeSeries (duplicates and order kept). */
  rawLabels: DecodedLabel[][];
  decoded: DecodedWriteRequest | DecodedRequestV2;
  /** ms since epoch when the response was sent. */
  at: number;
  /** ms since epoch when the body had been read. */
  receivedAt: number;
  bodyBytes: number;
}

export interface Attempt {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Status answered, or 0 if the socket was reset. */
  status: number;
  sampleCount: number;
  /** Delay applied before answering (planned or from randomLatency). */
  delayMs: number;
  /** Decode error, if the body could not be decoded (answered 400 unless planned otherwise). */
  error?: string;
  receivedAt: number;
  at: number;
}

export interface RwReceiverOptions {
  host?: '127.0.0.1';
  /** Largest accepted compressed body; bigger ones are answered 413. */
  maxBodyBytes?: number;
  /** Listen on this port (e.g. one an agent already sends to) instead of a free one. */
  port?: number;
}

const DEFAULT_RESPONSE: Readonly<PlannedResponse> = Object.freeze({ status: 204 });

/** mulberry32: tiny deterministic PRNG so latency plans repeat exactly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function labelsRecord(ls: DecodedLabel[]): Record<string, string> {
  const rec: Record<string, string> = {};
  for (const l of ls) rec[l.name] = l.value;
  return rec;
}

interface Decoded {
  protocol: RwProtocol;
  samples: ReceivedSample[];
  metadata: ReceivedMetadata[];
  rawLabels: DecodedLabel[][];
  decoded: DecodedWriteRequest | DecodedRequestV2;
  histograms: number;
  exemplars: number;
}

function decodeBody(contentType: string, body: Buffer): Decoded {
  const raw = snappyUncompress(body);
  const samples: ReceivedSample[] = [];
  const rawLabels: DecodedLabel[][] = [];
  let histograms = 0;
  let exemplars = 0;
  if (/proto=io\.prometheus\.write\.v2\.Request/.test(contentType)) {
    const req = decodeRequestV2(raw);
    const metadata: ReceivedMetadata[] = [];
    for (const ts of req.timeseries) {
      const labels = labelsRecord(ts.labels);
      rawLabels.push(ts.labels);
      for (const s of ts.samples) samples.push({ labels, value: s.value, stale: s.stale, timestamp: s.timestamp });
      histograms += ts.histograms.length;
      exemplars += ts.exemplars.length;
      const m: DecodedMetadataV2 = ts.metadata;
      if (m.type !== 0 || m.help !== '' || m.unit !== '') {
        metadata.push({ metricFamilyName: labels.__name__ ?? '', type: m.type, help: m.help, unit: m.unit });
      }
    }
    return { protocol: 'rw2', samples, metadata, rawLabels, decoded: req, histograms, exemplars };
  }
  const req = decodeWriteRequest(raw);
  for (const ts of req.timeseries) {
    const labels = labelsRecord(ts.labels);
    rawLabels.push(ts.labels);
    for (const s of ts.samples) samples.push({ labels, value: s.value, stale: s.stale, timestamp: s.timestamp });
    histograms += ts.histograms.length;
    exemplars += ts.exemplars.length;
  }
  const metadata = req.metadata.map((m: DecodedMetadata) => ({ ...m }));
  return { protocol: 'rw1', samples, metadata, rawLabels, decoded: req, histograms, exemplars };
}

export class RwReceiver {
  readonly url: string;
  readonly requests: ReceivedRequest[] = [];
  readonly attempts: Attempt[] = [];

  private readonly server: http.Server;
  private readonly maxBodyBytes: number;
  private readonly planned: PlannedResponse[] = [];
  private defaultResponse: PlannedResponse = DEFAULT_RESPONSE;
  private latency: { maxMs: number; rand: () => number } | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<() => void>();
  private closed = false;

  private constructor(server: http.Server, url: string, opts: RwReceiverOptions) {
    this.server = server;
    this.url = url;
    this.maxBodyBytes = opts.maxBodyBytes ?? 32 * 1024 * 1024;
  }

  static async start(opts: RwReceiverOptions = {}): Promise<RwReceiver> {
    const host = opts.host ?? '127.0.0.1';
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const rx = new RwReceiver(server, `http://${host}:${port}/api/v1/write`, opts);
    server.on('request', (req, res) => rx.handle(req, res));
    return rx;
  }

  /** All accepted samples, in the order their requests were answered. */
  samples(): ReceivedSample[] {
    const out: ReceivedSample[] = [];
    for (const r of this.requests) for (const s of r.samples) out.push(s);
    return out;
  }

  /** Accepted samples whose __name__ is name. */
  series(name: string): ReceivedSample[] {
    return this.samples().filter((s) => s.labels.__name__ === name);
  }

  /** Queues responses, consumed one per incoming request in arrival order. */
  plan(...responses: PlannedResponse[]): void {
    for (const r of responses) this.planned.push({ ...r });
  }

  /** The response used once the plan is exhausted (initially 204). */
  setDefault(r: PlannedResponse): void {
    this.defaultResponse = { ...r };
  }

  /**
   * Delays every response without its own delayMs by a deterministic pseudo-random 0..maxMs,
   * drawn in request arrival order. maxMs 0 turns it off.
   */
  randomLatency(maxMs: number, seed: number): void {
    this.latency = maxMs > 0 ? { maxMs, rand: mulberry32(seed) } : null;
  }

  /** Number of planned responses not yet consumed. */
  get pendingPlan(): number {
    return this.planned.length;
  }

  /** Resolves once pred holds (checked after every request and every 10 ms); rejects after timeoutMs. */
  waitFor(pred: (r: RwReceiver) => boolean, timeoutMs: number): Promise<void> {
    if (pred(this)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        let ok = false;
        try {
          ok = pred(this);
        } catch (err) {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (ok) {
          done();
          resolve();
        }
      };
      const poll = setInterval(check, 10);
      const deadline = setTimeout(() => {
        done();
        reject(
          new Error(
            `RwReceiver.waitFor: condition not met within ${timeoutMs} ms ` +
              `(${this.attempts.length} attempts, ${this.requests.length} accepted, ${this.samples().length} samples)`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearInterval(poll);
        clearTimeout(deadline);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closing;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private nextResponse(): { plan: PlannedResponse; fromQueue: boolean } {
    const queued = this.planned.shift();
    const r = queued ?? this.defaultResponse;
    if (r.delayMs === undefined && this.latency) {
      const delayMs = Math.floor(this.latency.rand() * (this.latency.maxMs + 1));
      return { plan: { ...r, delayMs }, fromQueue: queued !== undefined };
    }
    return { plan: r, fromQueue: queued !== undefined };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.maxBodyBytes) tooBig = true;
      else chunks.push(c);
    });
    req.on('error', () => {
      // A client that hangs up mid-body is its own test's business; nothing to record.
    });
    req.on('end', () => this.respond(req, res, tooBig ? null : Buffer.concat(chunks)));
  }

  private respond(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer | null): void {
    const receivedAt = Date.now();
    const headers = flatHeaders(req.headers);
    const { plan, fromQueue } = this.nextResponse();
    const attempt: Attempt = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers,
      status: 0,
      sampleCount: 0,
      delayMs: plan.delayMs ?? 0,
      receivedAt,
      at: receivedAt,
    };

    let decoded: Decoded | null = null;
    let ownStatus = 204;
    let errorBody = '';
    if (req.method !== 'POST') {
      attempt.error = `method ${req.method ?? ''} not allowed`;
      ownStatus = 405;
    } else if (body === null) {
      attempt.error = `body larger than ${this.maxBodyBytes} bytes`;
      ownStatus = 413;
    } else {
      const enc = headers['content-encoding'] ?? '';
      if (enc !== 'snappy') {
        attempt.error = `unsupported Content-Encoding ${JSON.stringify(enc)}`;
        ownStatus = 415;
      } else {
        try {
          decoded = decodeBody(headers['content-type'] ?? '', body);
          attempt.sampleCount = decoded.samples.length;
        } catch (err) {
          attempt.error = err instanceof Error ? err.message : String(err);
          ownStatus = 400;
        }
      }
    }
    if (attempt.error !== undefined) errorBody = attempt.error + '\n';
    // A queued plan's status always wins (a test may answer even a malformed request as it likes);
    // the default's status applies only to requests that decoded.
    const status = fromQueue || decoded !== null ? (plan.status ?? ownStatus) : ownStatus;

    const finish = (): void => {
      if (this.closed) {
        res.destroy();
        return;
      }
      attempt.at = Date.now();
      if (plan.reset) {
        attempt.status = 0;
        this.attempts.push(attempt);
        req.socket.destroy();
        this.notify();
        return;
      }
      attempt.status = status;
      const outHeaders: Record<string, string> = {};
      const ok = status >= 200 && status < 300;
      if (ok && decoded !== null && decoded.protocol === 'rw2' && plan.writtenHeaders !== false) {
        outHeaders['x-prometheus-remote-write-samples-written'] = String(decoded.samples.length);
        outHeaders['x-prometheus-remote-write-histograms-written'] = String(decoded.histograms);
        outHeaders['x-prometheus-remote-write-exemplars-written'] = String(decoded.exemplars);
      }
      if (plan.headers) for (const [k, v] of Object.entries(plan.headers)) outHeaders[k.toLowerCase()] = v;
      const text = plan.body ?? (ok ? '' : errorBody);
      if (ok && decoded !== null && body !== null) {
        this.requests.push({
          headers,
          protocol: decoded.protocol,
          samples: decoded.samples,
          metadata: decoded.metadata,
          rawLabels: decoded.rawLabels,
          decoded: decoded.decoded,
          at: attempt.at,
          receivedAt,
          bodyBytes: body.length,
        });
      }
      this.attempts.push(attempt);
      res.writeHead(status, outHeaders);
      // 204 and 304 must not carry a body.
      res.end(status === 204 || status === 304 ? undefined : text);
      this.notify();
    };

    const delay = plan.delayMs ?? 0;
    if (delay > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        finish();
      }, delay);
      this.timers.add(t);
    } else finish();
  }
}

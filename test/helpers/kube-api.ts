/**
 * A fake Kubernetes API server on 127.0.0.1 speaking the real list/watch protocol over HTTP(S):
 *  - LIST `/api/v1/[namespaces/<ns>/]<plural>` and `/apis/<group>/<version>/[namespaces/<ns>/]<plural>`,
 *    paginated with `limit` / `continue`, answering `metadata.resourceVersion`;
 *  - WATCH (`watch=true`) from a `resourceVersion`: the events after it from the history, then live
 *    events, one JSON object per line; BOOKMARK events when `allowWatchBookmarks=true`; the stream
 *    ends after `timeoutSeconds`;
 *  - a resourceVersion older than the compacted history is 410 Gone: an ERROR event with a 410
 *    Status (what the apiserver sends) or, with `goneAsStatus`, an HTTP 410;
 *  - equality label selectors (`k=v`, `k!=v`, `k`) and field selectors (`metadata.name`,
 *    `metadata.namespace`, `spec.nodeName`);
 *  - bearer-token checks, injected failures and dropped connections.
 * Every request is recorded, so tests can see what the client asked for.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type KubeObject = {
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> } & Record<
    string,
    unknown
  >;
} & Record<string, unknown>;

interface HistoryEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly resource: string;
  readonly object: KubeObject;
}

interface Watcher {
  readonly resource: string;
  readonly namespace: string;
  readonly query: URLSearchParams;
  readonly res: http.ServerResponse;
  readonly bookmarks: boolean;
}

export interface RecordedRequest {
  readonly resource: string;
  readonly namespace: string;
  readonly watch: boolean;
  readonly query: URLSearchParams;
  readonly authorization: string;
}

export interface FakeKubeApiOptions {
  /** Serve HTTPS with this certificate. */
  readonly tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Required `Authorization: Bearer <token>`; a function is read per request (token rotation). */
  readonly token?: (() => string) | undefined;
  /** Answer an expired resourceVersion with HTTP 410 instead of an ERROR event. */
  readonly goneAsStatus?: boolean | undefined;
}

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: HistoryEvent[] = [];
  private compactedRv = 0;
  private rv = 100;
  private readonly watchers = new Set<Watcher>();
  private readonly server: http.Server;
  private readonly o: FakeKubeApiOptions;
  /** Answers the next requests with this status (and a Status body), then serves normally. */
  private failures: number[] = [];
  url = '';

  constructor(o: FakeKubeApiOptions = {}) {
    this.o = o;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    this.server = o.tls
      ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, handler)
      : http.createServer(handler);
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  /** Creates or replaces an object (ADDED or MODIFIED). */
  upsert(resource: string, obj: KubeObject): void {
    const store = this.store(resource);
    const key = keyOf(obj);
    const type = store.has(key) ? 'MODIFIED' : 'ADDED';
    const o = structuredClone(obj);
    o.metadata.resourceVersion = String(++this.rv);
    store.set(key, o);
    this.record({ rv: this.rv, type, resource, object: o });
  }

  remove(resource: string, namespace: string, name: string): void {
    const store = this.store(resource);
    const key = namespace === '' ? name : `${namespace}/${name}`;
    const o = store.get(key);
    if (!o) throw new Error(`no ${resource} ${key}`);
    store.delete(key);
    const gone = structuredClone(o);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, type: 'DELETED', resource, object: gone });
  }

  /** Moves the resourceVersion on without a change (other resources changing), as etcd does. */
  tick(n = 1): void {
    this.rv += n;
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const kind = w.resource;
      w.res.write(
        `${JSON.stringify({ type: 'BOOKMARK', object: { kind, metadata: { resourceVersion: this.resourceVersion } } })}\n`,
      );
    }
  }

  /** Forgets the history: a watch from a version before now gets 410 Gone. Open watches get the ERROR too. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
    for (const w of [...this.watchers]) {
      w.res.end(`${JSON.stringify({ type: 'ERROR', object: goneStatus() })}\n`);
      this.watchers.delete(w);
    }
  }

  /** Cuts every open watch connection without ending the response (a dropped connection). */
  dropWatches(): void {
    for (const w of [...this.watchers]) {
      w.res.socket?.destroy();
      this.watchers.delete(w);
    }
  }

  /** The next requests are answered with these HTTP statuses. */
  failNext(...statuses: number[]): void {
    this.failures.push(...statuses);
  }

  /** Recorded LIST or WATCH requests of one resource. */
  calls(resource: string, watch: boolean): RecordedRequest[] {
    return this.requests.filter((r) => r.resource === resource && r.watch === watch);
  }

  private store(resource: string): Map<string, KubeObject> {
    let s = this.objects.get(resource);
    if (!s) this.objects.set(resource, (s = new Map()));
    return s;
  }

  private record(ev: HistoryEvent): void {
    this.history.push(ev);
    for (const w of this.watchers) {
      if (w.resource === ev.resource && matches(ev.object, w.namespace, w.query)) {
        w.res.write(`${JSON.stringify({ type: ev.type, object: ev.object })}\n`);
      }
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = parsePath(url.pathname);
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const authorization = req.headers.authorization ?? '';
    if (route) {
      this.requests.push({
        resource: route.resource,
        namespace: route.namespace,
        watch,
        query: url.searchParams,
        authorization,
      });
    }
    const failure = this.failures.shift();
    if (failure !== undefined) return sendStatus(res, failure, 'InternalError', 'injected failure');
    if (this.o.token && authorization !== `Bearer ${this.o.token()}`) {
      return sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
    }
    if (!route) return sendStatus(res, 404, 'NotFound', `the server could not find the requested resource`);
    if (watch) this.serveWatch(route.resource, route.namespace, url.searchParams, res);
    else this.serveList(route.resource, route.namespace, url.searchParams, res);
  }

  private serveList(resource: string, namespace: string, q: URLSearchParams, res: http.ServerResponse): void {
    const all = [...this.store(resource).values()]
      .filter((o) => matches(o, namespace, q))
      .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const limit = Number(q.get('limit') ?? '0');
    const cont = q.get('continue') ?? '';
    let start = 0;
    let listRv = this.rv;
    if (cont !== '') {
      const [rv, off] = cont.split(':').map(Number);
      // A continue token from before a compaction has expired.
      if ((rv ?? 0) < this.compactedRv) return sendStatus(res, 410, 'Expired', 'continue token expired');
      start = off ?? 0;
      listRv = rv ?? this.rv;
    }
    const end = limit > 0 ? Math.min(all.length, start + limit) : all.length;
    const items = all.slice(start, end);
    const metadata: Record<string, string> = { resourceVersion: String(listRv) };
    if (end < all.length) metadata.continue = `${listRv}:${end}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata, items }));
  }

  private serveWatch(resource: string, namespace: string, q: URLSearchParams, res: http.ServerResponse): void {
    const from = Number(q.get('resourceVersion') ?? '0');
    if (from !== 0 && from < this.compactedRv) {
      if (this.o.goneAsStatus) return sendStatus(res, 410, 'Expired', 'too old resource version');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: goneStatus() })}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    for (const ev of this.history) {
      if (ev.rv > from && ev.resource === resource && matches(ev.object, namespace, q)) {
        res.write(`${JSON.stringify({ type: ev.type, object: ev.object })}\n`);
      }
    }
    const w: Watcher = { resource, namespace, query: q, res, bookmarks: q.get('allowWatchBookmarks') === 'true' };
    this.watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const timer =
      timeout > 0
        ? setTimeout(() => {
            this.watchers.delete(w);
            res.end();
          }, timeout * 1000)
        : null;
    res.on('close', () => {
      if (timer) clearTimeout(timer);
      this.watchers.delete(w);
    });
  }
}

function goneStatus(): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message: 'too old resource version',
    reason: 'Expired',
    code: 410,
  };
}

function sendStatus(res: http.ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }));
}

function keyOf(o: KubeObject): string {
  const ns = o.metadata.namespace ?? '';
  return ns === '' ? o.metadata.name : `${ns}/${o.metadata.name}`;
}

const CLUSTER_SCOPED = new Set(['nodes', 'namespaces']);

/** `resource` is the plural; `namespace` '' for all namespaces or cluster-scoped resources. */
function parsePath(p: string): { resource: string; namespace: string } | null {
  const parts = p.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 3) rest = parts.slice(3);
  else return null;
  if (rest.length === 1 && rest[0] !== undefined) return { resource: rest[0], namespace: '' };
  if (rest.length === 3 && rest[0] === 'namespaces' && rest[1] !== undefined && rest[2] !== undefined) {
    if (CLUSTER_SCOPED.has(rest[2])) return null;
    return { resource: rest[2], namespace: decodeURIComponent(rest[1]) };
  }
  return null;
}

function field(o: KubeObject, name: string): string {
  let v: unknown = o;
  for (const p of name.split('.'))
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  return typeof v === 'string' ? v : '';
}

function matches(o: KubeObject, namespace: string, q: URLSearchParams): boolean {
  if (namespace !== '' && (o.metadata.namespace ?? '') !== namespace) return false;
  const labels = o.metadata.labels ?? {};
  for (const term of (q.get('labelSelector') ?? '').split(',').filter(Boolean)) {
    const m = /^([^!=]+?)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) {
      if (!(term.trim() in labels)) return false;
      continue;
    }
    const [, k = '', op, v] = m;
    const have = labels[k.trim()];
    if (op === '!=' ? have === v : have !== v) return false;
  }
  for (const term of (q.get('fieldSelector') ?? '').split(',').filter(Boolean)) {
    const m = /^([^!=]+?)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) return false;
    const [, k = '', op, v] = m;
    const have = field(o, k.trim());
    if (op === '!=' ? have === v : have !== v) return false;
  }
  return true;
}

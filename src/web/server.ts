import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log/logger.ts';
import type { StatusSnapshot } from '../status/types.ts';
import { errorMessage } from '../util/errors.ts';

/** What the HTTP surface needs from the agent; main wires it. */
export interface WebDeps {
  registry: Registry;
  log: Logger;
  isReady: () => boolean;
  snapshot: () => StatusSnapshot;
  enableLifecycle: boolean;
  reload: () => Promise<{ ok: boolean; error?: string }>;
  quit: () => void;
  configYaml: () => string;
  flags: Readonly<Record<string, string>>;
  buildInfo: Readonly<Record<string, string>>;
  droppedTargets: () => { pool: string; discovered: Record<string, string> }[];
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void | Promise<void>;

/** Endpoints the agent refuses like Prometheus' agent does (422 "unavailable with Prometheus Agent"). */
const AGENT_UNAVAILABLE = [
  '/api/v1/query', '/api/v1/query_range', '/api/v1/query_exemplars', '/api/v1/format_query', '/api/v1/series',
  '/api/v1/labels', '/api/v1/rules', '/api/v1/alerts', '/api/v1/alertmanagers', '/api/v1/status/tsdb', '/api/v1/parse_query',
];

export class WebServer {
  private readonly deps: WebDeps;
  private server: http.Server | null = null;
  private readonly routes = new Map<string, Handler>();

  constructor(deps: WebDeps) {
    this.deps = deps;
    this.routes.set('/-/healthy', (_q, res) => text(res, 200, 'Prometheus Agent is Healthy.\n'));
    this.routes.set('/-/ready', (_q, res) => (deps.isReady() ? text(res, 200, 'Prometheus Agent is Ready.\n') : text(res, 503, 'Service Unavailable')));
    this.routes.set('/-/reload', (q, res) => this.lifecycle(q, res, async () => {
      const r = await deps.reload();
      if (r.ok) text(res, 200, '');
      else text(res, 500, `failed to reload config: ${r.error ?? 'unknown error'}\n`);
    }));
    this.routes.set('/-/quit', (q, res) => this.lifecycle(q, res, () => {
      text(res, 200, 'Requesting termination... Goodbye!');
      deps.quit();
    }));
    this.routes.set('/metrics', async (q, res) => {
      const accept = q.headers.accept ?? '';
      const om = accept.includes('application/openmetrics-text');
      const reg = deps.registry;
      if (om) reg.setContentType('application/openmetrics-text; version=1.0.0; charset=utf-8' as never);
      const body = await reg.metrics();
      res.writeHead(200, { 'Content-Type': om ? 'application/openmetrics-text; version=1.0.0; charset=utf-8' : 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(body);
      if (om) reg.setContentType('text/plain; version=0.0.4; charset=utf-8' as never);
    });
    this.routes.set('/version', (_q, res) => json(res, 200, deps.buildInfo));
    this.routes.set('/api/v1/status/buildinfo', (_q, res) => ok(res, deps.buildInfo));
    this.routes.set('/api/v1/status/flags', (_q, res) => ok(res, deps.flags));
    this.routes.set('/api/v1/status/config', (_q, res) => ok(res, { yaml: deps.configYaml() }));
    this.routes.set('/api/v1/status/runtimeinfo', (_q, res) => {
      const s = deps.snapshot();
      ok(res, {
        startTime: new Date(s.startedAt).toISOString(),
        CWD: process.cwd(),
        reloadConfigSuccess: s.reload.ok,
        lastConfigTime: new Date(s.reload.at).toISOString(),
        corruptionCount: 0,
        goroutineCount: 0,
        GOMAXPROCS: 1,
        GOMEMLIMIT: 0,
        GOGC: '',
        GODEBUG: '',
        storageRetention: '',
      });
    });
    this.routes.set('/api/v1/status/walreplay', (_q, res) => {
      const w = deps.snapshot().wal.replay;
      ok(res, { min: 0, max: w.max, current: w.current });
    });
    this.routes.set('/api/v1/status/remote_write', (_q, res) => ok(res, { endpoints: deps.snapshot().remote }));
    this.routes.set('/api/v1/status/wal', (_q, res) => ok(res, deps.snapshot().wal));
    this.routes.set('/api/v1/scrape_pools', (_q, res) => ok(res, { scrapePools: [...new Set(deps.snapshot().targets.map((t) => t.pool))].sort() }));
    this.routes.set('/api/v1/targets', (_q, res, url) => this.targets(res, url));
    for (const p of AGENT_UNAVAILABLE) this.routes.set(p, (_q, res) => json(res, 422, { status: 'error', errorType: 'execution', error: 'unavailable with Prometheus Agent' }));
  }

  private lifecycle(q: http.IncomingMessage, res: http.ServerResponse, fn: () => void | Promise<void>): void | Promise<void> {
    if (!this.deps.enableLifecycle) return text(res, 403, 'Lifecycle API is not enabled.');
    if (q.method !== 'POST' && q.method !== 'PUT') return text(res, 405, 'Only POST or PUT requests allowed');
    return fn();
  }

  private targets(res: http.ServerResponse, url: URL): void {
    const state = url.searchParams.get('state') ?? 'any';
    const pool = url.searchParams.get('scrapePool');
    const s = this.deps.snapshot();
    const active = state === 'dropped' ? [] : s.targets.filter((t) => !pool || t.pool === pool).map((t) => ({
      discoveredLabels: t.discoveredLabels,
      labels: t.labels,
      scrapePool: t.pool,
      scrapeUrl: t.url,
      globalUrl: t.url,
      lastError: t.lastError,
      lastScrape: t.lastScrape ? new Date(t.lastScrape).toISOString() : '0001-01-01T00:00:00Z',
      lastScrapeDuration: t.lastDurationMs / 1000,
      health: t.health,
      scrapeInterval: `${t.intervalMs / 1000}s`,
      scrapeTimeout: '',
    }));
    const dropped = state === 'active' ? [] : this.deps.droppedTargets().filter((d) => !pool || d.pool === pool).map((d) => ({ discoveredLabels: d.discovered }));
    ok(res, { activeTargets: active, droppedTargets: dropped });
  }

  listen(address: string): Promise<string> {
    const m = /^(.*):(\d+)$/.exec(address);
    const host = m ? m[1].replace(/^\[|\]$/g, '') || '0.0.0.0' : '0.0.0.0';
    const port = m ? Number(m[2]) : 9090;
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const a = server.address();
        resolve(typeof a === 'object' && a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : address);
      });
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'OPTIONS' && url.pathname.startsWith('/api/v1/')) {
        res.writeHead(204, { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS' });
        res.end();
        return;
      }
      const h = this.routes.get(url.pathname);
      if (h) await h(req, res, url);
      else if (url.pathname === '/') {
        res.writeHead(302, { Location: '/agent' });
        res.end();
      } else text(res, 404, '404 page not found\n');
    } catch (err) {
      this.deps.log.error('HTTP handler failed', { path: req.url, err: errorMessage(err) });
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function ok(res: http.ServerResponse, data: unknown): void {
  json(res, 200, { status: 'success', data });
}

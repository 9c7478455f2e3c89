import http from 'node:http';
import type net from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.ts';
import { errorMessage } from '../util/errors.ts';
import { registerApi } from './api.ts';
import type { WebDeps } from './deps.ts';
import { externalUrl, resolveWebOptions, webOptionsFromFlagMap, type ResolvedWebOptions } from './options.ts';
import { allowHeader, methodNotAllowed, notFound, redirect, sendBody, sendHttpError, sendPlain } from './respond.ts';
import { Router, type Handler } from './router.ts';
import { ThroughputHistory } from './throughput-history.ts';
import { CLIENT_JS } from './ui/client.ts';
import { PAGES, renderPage } from './ui/pages.ts';
import { STYLES } from './ui/styles.ts';

export type { ScrapePoolInfo, TargetMetadata, WebDeps } from './deps.ts';
export type { WebOptions } from './options.ts';
export { WebOptionsError, resolveWebOptions, webOptionsFromFlagMap } from './options.ts';

/** The agent's landing page, as Prometheus' React UI names it in agent mode. */
const HOME_PAGE = '/agent';

const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Headers': 'Accept, Authorization, Content-Type, Origin',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Expose-Headers': 'Date',
  Vary: 'Origin',
};

// Pages only talk to their own origin; nothing external is loaded.
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Outpost's HTTP surface: Prometheus' agent endpoints (same paths, codes and bodies as 2.42), Outpost's
 * status endpoints, and the operator UI. Every route lives under `--web.route-prefix`.
 */
export class WebServer {
  private readonly deps: WebDeps;
  private readonly opts: ResolvedWebOptions;
  private readonly router = new Router();
  private readonly history: ThroughputHistory;
  private readonly clock: Clock;
  private server: http.Server | null = null;
  private port = 0;
  private ext: URL | null = null;
  private historyTimer: TimerHandle | null = null;
  private lastGoodConfig = 0;
  private readonly apiBase: string;

  constructor(deps: WebDeps) {
    this.deps = deps;
    this.opts = resolveWebOptions(deps.options ?? webOptionsFromFlagMap(deps.flags));
    this.clock = deps.clock ?? systemClock;
    this.history = new ThroughputHistory(this.opts.historyPoints);
    this.apiBase = this.opts.routePrefix + '/api/v1';
    this.registerRoutes();
  }

  /** Route prefix in force ('' at the root). */
  get routePrefix(): string {
    return this.opts.routePrefix;
  }

  /** The external URL (derived from the listen address unless --web.external-url was given). */
  externalUrl(): URL {
    this.ext ??= externalUrl(this.opts, this.port);
    return this.ext;
  }

  private registerRoutes(): void {
    const { deps, router } = this;
    const p = this.opts.routePrefix;
    const ready = (h: Handler): Handler => (req, res, url, params) => (deps.isReady() ? h(req, res, url, params) : sendPlain(res, 503, 'Service Unavailable'));

    // Prometheus: the root redirects to the home page under the *external* path; with a prefix the
    // bare root first redirects to the prefix. Without --web.external-url Prometheus would send a
    // prefixed server to /agent, a 404; we use the prefix then.
    const home = (this.opts.externalUrlFlag !== '' ? this.opts.externalPath : p) + HOME_PAGE;
    router.on('GET', p + '/', (_q, res) => redirect(res, 302, home));
    if (p !== '') {
      router.on('GET', '/', (_q, res) => redirect(res, 302, p));
      router.on('GET', p, (_q, res) => redirect(res, 301, p + '/'));
    }

    router.on(['GET', 'HEAD'], p + '/-/healthy', (_q, res) => sendPlain(res, 200, 'Prometheus Agent is Healthy.\n'));
    router.on(['GET', 'HEAD'], p + '/-/ready', ready((_q, res) => sendPlain(res, 200, 'Prometheus Agent is Ready.\n')));
    const onlyPostPut: Handler = (_q, res) => sendPlain(res, 405, 'Only POST or PUT requests allowed');
    router.on('GET', p + '/-/reload', onlyPostPut);
    router.on('GET', p + '/-/quit', onlyPostPut);
    router.on(['POST', 'PUT'], p + '/-/reload', (_q, res) => this.reload(res));
    router.on(['POST', 'PUT'], p + '/-/quit', (_q, res) => this.quit(res));

    router.on('GET', p + '/metrics', (req, res) => this.metrics(req, res));
    router.on('GET', p + '/version', (_q, res) => sendPlain(res, 200, JSON.stringify(deps.buildInfo) + '\n'));
    router.on('GET', p + '/federate', ready((_q, res) => sendHttpError(res, 500, 'unsupported operation with WAL-only storage')));

    for (const page of PAGES) router.on(['GET', 'HEAD'], `${p}/${page.id}`, (_q, res) => this.page(res, page.id));
    router.on(['GET', 'HEAD'], p + '/static/outpost.css', (_q, res) => this.asset(res, 'text/css; charset=utf-8', STYLES));
    router.on(['GET', 'HEAD'], p + '/static/outpost.js', (_q, res) => this.asset(res, 'text/javascript; charset=utf-8', CLIENT_JS));

    registerApi(router, this.apiBase, {
      deps,
      externalUrl: () => this.externalUrl(),
      ownPort: () => this.port,
      history: this.history,
      historyIntervalMs: this.opts.historyIntervalMs,
      lastGoodConfigAt: () => this.observeReload(),
    });
  }

  private async reload(res: http.ServerResponse): Promise<void> {
    if (!this.deps.enableLifecycle) return sendPlain(res, 403, 'Lifecycle API is not enabled.');
    const r = await this.deps.reload();
    this.observeReload();
    if (r.ok) return sendPlain(res, 200, '');
    sendHttpError(res, 500, `failed to reload config: ${r.error ?? 'unknown error'}`);
  }

  private quit(res: http.ServerResponse): void {
    if (!this.deps.enableLifecycle) return sendPlain(res, 403, 'Lifecycle API is not enabled.');
    // Quit only once the answer is on the wire: shutdown closes this server and its connections.
    res.once('finish', () => this.deps.quit());
    sendPlain(res, 200, 'Requesting termination... Goodbye!');
  }

  /**
   * Always the text format, as the 2.42 agent does (promhttp without OpenMetrics). Rendering
   * OpenMetrics through prom-client would also rename counters for good: it strips `_total` from
   * each counter object while doing so.
   */
  private async metrics(_req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await this.deps.registry.metrics();
    await sendBody(res, 200, 'text/plain; version=0.0.4; charset=utf-8', body);
  }

  private page(res: http.ServerResponse, id: (typeof PAGES)[number]['id']): void {
    const html = renderPage(id, { pageTitle: this.opts.pageTitle, version: this.deps.buildInfo.version ?? '' });
    const buf = Buffer.from(html);
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': buf.length,
      'Content-Security-Policy': PAGE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    });
    res.end(res.req.method === 'HEAD' ? undefined : buf);
  }

  private asset(res: http.ServerResponse, type: string, body: string): Promise<void> {
    // The page links assets with ?v=<version>, so a year of caching is safe.
    return sendBody(res, 200, type, body, { 'Cache-Control': 'public, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff' });
  }

  /** Tracks the last successful config load, which the snapshot only tells while it is the latest. */
  private observeReload(): number {
    const s = this.deps.snapshot();
    if (this.lastGoodConfig === 0) this.lastGoodConfig = s.startedAt;
    if (s.reload.ok && s.reload.at > this.lastGoodConfig) this.lastGoodConfig = s.reload.at;
    return this.lastGoodConfig;
  }

  listen(address: string): Promise<string> {
    const m = /^(.*):(\d+)$/.exec(address);
    const host = m ? m[1].replace(/^\[|\]$/g, '') || '0.0.0.0' : '0.0.0.0';
    const port = m ? Number(m[2]) : 9090;
    const readTimeout = this.opts.readTimeoutMs;
    const server = http.createServer({
      // Node checks request deadlines on this period; keep it well under the timeout.
      connectionsCheckingInterval: readTimeout > 0 ? Math.max(50, Math.min(30_000, Math.floor(readTimeout / 4))) : 30_000,
      requestTimeout: readTimeout,
      headersTimeout: readTimeout > 0 ? Math.min(60_000, readTimeout) : 60_000,
    }, (req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    // Node refuses (closes) connections over the cap, where Go's LimitListener makes them wait.
    if (this.opts.maxConnections > 0) server.maxConnections = this.opts.maxConnections;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const a = server.address() as net.AddressInfo | null;
        this.port = a ? a.port : port;
        this.ext = null;
        this.startHistory();
        resolve(a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : address);
      });
    });
  }

  private startHistory(): void {
    const tick = () => {
      try {
        this.history.sample(this.deps.snapshot().remote);
        this.observeReload();
      } catch (err) {
        this.deps.log.warn('Sampling remote-write throughput failed', { err: errorMessage(err) });
      }
      this.historyTimer = this.clock.setTimeout(tick, this.opts.historyIntervalMs);
      (this.historyTimer as { unref?: () => void }).unref?.();
    };
    tick();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      const isApi = path.startsWith(this.apiBase + '/');
      if (isApi) this.cors(req, res);
      if (isApi && method === 'OPTIONS') {
        if (!this.deps.isReady()) return sendPlain(res, 503, 'Service Unavailable');
        res.writeHead(204);
        res.end();
        return;
      }
      const route = this.router.match(path);
      if (route) {
        const h = route.methods.get(method);
        if (h) return await h(req, res, url, route.params);
        if (method === 'OPTIONS') {
          res.writeHead(200, { Allow: allowHeader([...route.methods.keys()]), 'Content-Length': 0 });
          res.end();
          return;
        }
        return methodNotAllowed(res, [...route.methods.keys()]);
      }
      // httprouter's RedirectTrailingSlash.
      if (method === 'GET' && path.length > 1 && path.endsWith('/')) {
        const alt = this.router.match(path.replace(/\/+$/, ''));
        if (alt?.methods.has('GET')) return redirect(res, 301, path.replace(/\/+$/, '') + url.search);
      }
      notFound(res);
    } catch (err) {
      this.deps.log.error('HTTP handler failed', { path: req.url, err: errorMessage(err) });
      if (!res.headersSent) sendHttpError(res, 500, 'internal error');
      else res.destroy();
    }
  }

  private cors(req: http.IncomingMessage, res: http.ServerResponse): void {
    const origin = req.headers.origin;
    if (!origin) return;
    for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
    const allow = this.opts.corsOrigin;
    if (allow === '*') res.setHeader('Access-Control-Allow-Origin', '*');
    else if (allow.test(origin)) res.setHeader('Access-Control-Allow-Origin', origin);
  }

  async close(): Promise<void> {
    if (this.historyTimer) this.clock.clearTimeout(this.historyTimer);
    this.historyTimer = null;
    const s = this.server;
    if (!s) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}

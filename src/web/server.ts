import http from 'node:http';
import net from 'node:net';
import type tls from 'node:tls';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.ts';
import { errorMessage } from '../util/errors.ts';
import { renderText } from '../metrics/render.ts';
import { registerApi } from './api.ts';
import type { WebDeps } from './deps.ts';
import type { StatusSnapshot } from '../status/types.ts';
import { externalUrl, resolveWebOptions, webOptionsFromFlagMap, type ResolvedWebOptions } from './options.ts';
import { allowHeader, methodNotAllowed, notFound, redirect, sendBody, sendHttpError, sendPlain } from './respond.ts';
import { Router, type Handler } from './router.ts';
import { ThroughputHistory } from './throughput-history.ts';
import { serveUserAsset } from './user-assets.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, WebConfigSource, type TlsMaterial, type WebConfig } from './web-config.ts';
import { clientScript } from './ui/client-script.ts';
import { PAGES, renderPage } from './ui/pages.ts';
import { STYLES } from './ui/styles.ts';

export type { WebDeps } from './deps.ts';

/** The agent's landing page, as Prometheus' React UI names it in agent mode. */
const HOME_PAGE = '/agent';

const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Headers': 'Accept, Authorization, Content-Type, Origin',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Expose-Headers': 'Date',
  Vary: 'Origin',
};

// Pages only talk to their own origin; nothing external is loaded.
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

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
  /** `--web.config.file`, read again for every request and every new TLS connection; null = none. */
  private readonly webConfig: WebConfigSource | null;
  /** Whether this server speaks TLS (decided at startup, as Prometheus does). */
  private tlsEnabled = false;
  /** With TLS: the listening socket; connections are handed to `server` once their handshake passed. */
  private tlsListener: net.Server | null = null;
  /** Listeners of the second and later `--web.listen-address`, handing their connections to `server`. */
  private readonly moreListeners: net.Server[] = [];
  /** Accepted TLS connections (destroyed on close, also those still in their handshake). */
  private readonly tlsSockets = new Set<net.Socket>();
  /** TLS servers (one per version of the TLS settings and files) whose events are wired to this server. */
  private readonly wiredTls = new WeakSet<tls.Server>();
  /**
   * The last web-config problem logged per path (requests read the file, new TLS connections also the
   * cert files), so a broken file logs once per change, not once per request.
   */
  private readonly webConfigProblem = { request: '', tls: '' };

  constructor(deps: WebDeps) {
    this.deps = deps;
    this.opts = resolveWebOptions(deps.options ?? webOptionsFromFlagMap(deps.flags));
    this.clock = deps.clock ?? systemClock;
    this.history = new ThroughputHistory(this.opts.historyPoints);
    this.apiBase = this.opts.routePrefix + '/api/v1';
    const webConfigFile = deps.flags['web.config.file'] ?? '';
    // Go's http.Server gives the TLS handshake the read timeout.
    const handshakeTimeoutMs = this.opts.readTimeoutMs > 0 ? this.opts.readTimeoutMs : DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.webConfig = webConfigFile !== '' ? new WebConfigSource(webConfigFile, { handshakeTimeoutMs }) : null;
    this.registerRoutes();
  }

  /** Whether the server speaks HTTPS (known once listen() resolved). */
  get tls(): boolean {
    return this.tlsEnabled;
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
    const ready =
      (h: Handler): Handler =>
      (req, res, url, params) =>
        deps.isReady() ? h(req, res, url, params) : sendPlain(res, 503, 'Service Unavailable');

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
    router.on(
      ['GET', 'HEAD'],
      p + '/-/ready',
      ready((_q, res) => sendPlain(res, 200, 'Prometheus Agent is Ready.\n')),
    );
    const onlyPostPut: Handler = (_q, res) => sendPlain(res, 405, 'Only POST or PUT requests allowed');
    router.on('GET', p + '/-/reload', onlyPostPut);
    router.on('GET', p + '/-/quit', onlyPostPut);
    router.on(['POST', 'PUT'], p + '/-/reload', (_q, res) => this.reload(res));
    router.on(['POST', 'PUT'], p + '/-/quit', (_q, res) => this.quit(res));

    router.on('GET', p + '/metrics', (req, res) => this.metrics(req, res));
    router.on('GET', p + '/version', (_q, res) => sendPlain(res, 200, JSON.stringify(deps.buildInfo) + '\n'));
    router.on(
      'GET',
      p + '/federate',
      ready((_q, res) => sendHttpError(res, 500, 'unsupported operation with WAL-only storage')),
    );

    for (const page of PAGES) router.on(['GET', 'HEAD'], `${p}/${page.id}`, (_q, res) => this.page(res, page.id));
    router.on(['GET', 'HEAD'], p + '/static/outpost.css', (_q, res) =>
      this.asset(res, 'text/css; charset=utf-8', STYLES),
    );
    router.on(['GET', 'HEAD'], p + '/static/outpost.js', (_q, res) =>
      this.asset(res, 'text/javascript; charset=utf-8', clientScript()),
    );

    // Prometheus 3.x (web/api/v1 otlpWrite): the route always exists; without the flag it says how to enable it.
    router.on(
      'POST',
      this.apiBase + '/otlp/v1/metrics',
      ready((req, res) =>
        deps.otlpWrite
          ? deps.otlpWrite(req, res)
          : sendHttpError(res, 404, 'otlp write receiver needs to be enabled with --web.enable-otlp-receiver'),
      ),
    );

    registerApi(router, this.apiBase, {
      deps,
      externalUrl: () => this.externalUrl(),
      ownPort: () => this.port,
      history: this.history,
      historyIntervalMs: this.opts.historyIntervalMs,
      lastGoodConfigAt: () => this.observeReload(),
      routePrefix: this.opts.routePrefix,
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
    const body = await renderText(this.deps.registry);
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
    return sendBody(res, 200, type, body, {
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
    });
  }

  /** Tracks the last successful config load, which the snapshot only tells while it is the latest. */
  private observeReload(s: Pick<StatusSnapshot, 'reload' | 'startedAt'> = this.deps.snapshot()): number {
    if (this.lastGoodConfig === 0) this.lastGoodConfig = s.startedAt;
    if (s.reload.ok && s.reload.at > this.lastGoodConfig) this.lastGoodConfig = s.reload.at;
    return this.lastGoodConfig;
  }

  /**
   * Binds the listen address. With `--web.config.file`, the file is validated first (an invalid file
   * rejects with a WebConfigError naming it) and decides between HTTP and HTTPS.
   */
  async listen(address: string): Promise<string> {
    let webCfg: WebConfig | null = null;
    if (this.webConfig) webCfg = await this.webConfig.validate();
    this.tlsEnabled = webCfg?.tls != null;
    const { port } = hostPort(address);
    const readTimeout = this.opts.readTimeoutMs;
    const server = http.createServer(
      {
        // Node checks request deadlines on this period; keep it well under the timeout.
        connectionsCheckingInterval:
          readTimeout > 0 ? Math.max(50, Math.min(30_000, Math.floor(readTimeout / 4))) : 30_000,
        requestTimeout: readTimeout,
        headersTimeout: readTimeout > 0 ? Math.min(60_000, readTimeout) : 60_000,
      },
      (req, res) => void this.handle(req, res),
    );
    server.keepAliveTimeout = 5000;
    this.server = server;
    // With TLS a plain listener accepts, and each connection gets the TLS settings the file has at that
    // moment (Go's GetConfigForClient); the HTTP server only sees connections whose handshake passed.
    const listener: net.Server = this.tlsEnabled
      ? net.createServer({ pauseOnConnect: true }, (raw) => this.acceptTls(raw, server))
      : server;
    if (this.tlsEnabled) this.tlsListener = listener;
    // Node refuses (closes) connections over the cap, where Go's LimitListener makes them wait.
    if (this.opts.maxConnections > 0) listener.maxConnections = this.opts.maxConnections;
    const bound = await bind(listener, address);
    this.port = (listener.address() as net.AddressInfo | null)?.port ?? port;
    // The HTTP server tracks connections and enforces request/header timeouts once it saw 'listening'.
    if (this.tlsEnabled) server.emit('listening');
    this.ext = null;
    this.startHistory();
    if (this.tlsEnabled) this.deps.log.info('TLS is enabled.', { http2: false, address: bound });
    else this.deps.log.info('TLS is disabled.', { http2: false, address: bound });
    return bound;
  }

  /**
   * Serves the same endpoints on one more address (Prometheus 3.x takes `--web.listen-address`
   * several times). Call after listen(); connections go to the same HTTP server, through TLS when
   * it is on. Returns the bound address.
   */
  async listenMore(address: string): Promise<string> {
    const server = this.server;
    if (!server) throw new Error('listenMore() before listen()');
    const listener = this.tlsEnabled
      ? net.createServer({ pauseOnConnect: true }, (raw) => this.acceptTls(raw, server))
      : net.createServer((socket) => server.emit('connection', socket));
    if (this.opts.maxConnections > 0) listener.maxConnections = this.opts.maxConnections;
    this.moreListeners.push(listener);
    const bound = await bind(listener, address);
    this.deps.log.info(this.tlsEnabled ? 'TLS is enabled.' : 'TLS is disabled.', { http2: false, address: bound });
    return bound;
  }

  private acceptTls(raw: net.Socket, server: http.Server): void {
    const src = this.webConfig as WebConfigSource;
    const log = this.deps.log;
    this.tlsSockets.add(raw);
    raw.once('close', () => this.tlsSockets.delete(raw));
    raw.on('error', (err) => log.debug('TLS connection error', { remote: raw.remoteAddress, err: errorMessage(err) }));
    // Covers the wait for the file; the TLS server's own handshake timeout takes over after.
    raw.setTimeout(DEFAULT_HANDSHAKE_TIMEOUT_MS, () => raw.destroy());
    src
      .tlsMaterial()
      .then((material) => {
        if (raw.destroyed) return;
        if (!material)
          throw new Error('the web config file no longer has TLS settings; the server keeps TLS until restarted');
        this.webConfigRecovered('tls');
        raw.setTimeout(0);
        this.wireTls(material, server).emit('connection', raw);
      })
      .catch((err: unknown) => {
        this.webConfigFailed('tls', err);
        raw.destroy();
      });
  }

  private wireTls(material: TlsMaterial, server: http.Server): tls.Server {
    const ts = material.server;
    if (this.wiredTls.has(ts)) return ts;
    this.wiredTls.add(ts);
    const log = this.deps.log;
    ts.on('secureConnection', (s: tls.TLSSocket) => {
      const refused = material.admit(s);
      if (refused !== null) {
        log.debug('TLS client refused', { remote: s.remoteAddress, reason: refused });
        s.destroy();
        return;
      }
      server.emit('connection', s);
    });
    // Port scanners and clients that distrust our certificate end up here: debug, not error.
    ts.on('tlsClientError', (err: Error, s: tls.TLSSocket) => {
      log.debug('TLS handshake error', { remote: s.remoteAddress, err: errorMessage(err) });
      s.destroy();
    });
    return ts;
  }

  /** Logs a broken web config once per distinct problem (Prometheus logs it on every request). */
  private webConfigFailed(where: 'request' | 'tls', err: unknown, level: 'error' | 'warn' = 'error'): void {
    const msg = errorMessage(err);
    if (msg === this.webConfigProblem[where]) return;
    this.webConfigProblem[where] = msg;
    if (level === 'warn')
      this.deps.log.warn('Web configuration file changed in a way that needs a restart', {
        file: this.webConfig?.file,
        err: msg,
      });
    else this.deps.log.error('Unable to use web configuration file', { file: this.webConfig?.file, err: msg });
  }

  private webConfigRecovered(where: 'request' | 'tls'): void {
    if (this.webConfigProblem[where] === '') return;
    this.webConfigProblem[where] = '';
    this.deps.log.info('Web configuration file is valid again', { file: this.webConfig?.file });
  }

  /** Response headers and basic auth from the web config; false when the request was answered here. */
  private async guard(req: http.IncomingMessage, res: http.ServerResponse, src: WebConfigSource): Promise<boolean> {
    let cfg: WebConfig;
    try {
      cfg = await src.current();
    } catch (err) {
      this.webConfigFailed('request', err);
      sendHttpError(res, 500, 'Internal Server Error');
      return false;
    }
    if ((cfg.tls !== null) !== this.tlsEnabled) {
      this.webConfigFailed(
        'request',
        new Error(
          `tls_server_config ${this.tlsEnabled ? 'no longer enables' : 'now enables'} TLS; ` +
            'that takes effect only after a restart',
        ),
        'warn',
      );
    } else this.webConfigRecovered('request');
    for (const [k, v] of cfg.headers) res.setHeader(k, v);
    if (await src.auth.check(cfg.users, req.headers.authorization)) return true;
    sendHttpError(res, 401, 'Unauthorized', { 'WWW-Authenticate': 'Basic' });
    return false;
  }

  private startHistory(): void {
    const tick = () => {
      try {
        const s = this.deps.sampled ? this.deps.sampled() : this.deps.snapshot();
        this.history.sample(s.remote);
        this.observeReload(s);
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
      // Before routing, as exporter-toolkit wraps the whole handler: every path needs the credentials.
      if (this.webConfig && !(await this.guard(req, res, this.webConfig))) return;
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
      const userAssets = this.deps.flags['web.user-assets'] ?? '';
      const userPrefix = this.opts.routePrefix + '/user/';
      if (userAssets !== '' && path.startsWith(userPrefix) && (method === 'GET' || method === 'HEAD'))
        return await serveUserAsset(userAssets, safeDecodePath(path.slice(userPrefix.length)), res);
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
    const l = this.tlsListener;
    this.tlsListener = null;
    const more = this.moreListeners.splice(0);
    for (const raw of this.tlsSockets) raw.destroy();
    this.tlsSockets.clear();
    await Promise.all([
      new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      }),
      l ? new Promise<void>((resolve) => l.close(() => resolve())) : undefined,
      ...more.map((m) => new Promise<void>((resolve) => m.close(() => resolve()))),
    ]);
  }
}

function hostPort(address: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(address);
  return {
    host: m?.[1] ? m[1].replace(/^\[|\]$/g, '') || '0.0.0.0' : '0.0.0.0',
    port: m?.[2] ? Number(m[2]) : 9090,
  };
}

/** Binds a listener to host:port; resolves with the address it got (port 0 resolved). */
function bind(listener: net.Server, address: string): Promise<string> {
  const { host, port } = hostPort(address);
  return new Promise<string>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      const a = listener.address() as net.AddressInfo | null;
      resolve(a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : address);
    });
  });
}

function safeDecodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

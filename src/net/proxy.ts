/**
 * Forward-proxy support shared by every HTTP client (scrapes, remote write, OAuth2 token requests),
 * with prometheus/common's semantics:
 *  - `proxy_url` alone: every request goes through it (Go's http.ProxyURL), loopback included;
 *  - `proxy_url` + `no_proxy`, or `proxy_from_environment` (HTTP_PROXY / HTTPS_PROXY / NO_PROXY):
 *    golang.org/x/net/http/httpproxy rules, which never proxy `localhost` or loopback addresses;
 *  - http targets are requested from the proxy in absolute-URI form; https targets go through a
 *    CONNECT tunnel (with `proxy_connect_header`) and TLS runs end to end inside it;
 *  - userinfo in the proxy URL becomes `Proxy-Authorization: Basic …` on both kinds of request.
 */
import http from 'node:http';
import type https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { ProxyConfig } from '../config/types.ts';
import { OutpostError } from '../util/errors.ts';
import { logDuration } from '../log/logger.ts';
import { lazyHttps, lazyTls } from '../util/lazy-builtin.ts';
import { requestOnce } from './request-once.ts';
import type { TlsClientOptions } from './tls.ts';

class ProxyError extends OutpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUTPOST_PROXY', message, options);
  }
}

type TlsOptions = TlsClientOptions;

/** Where one request goes when it goes through a proxy. */
export interface ProxyRoute {
  readonly proxy: URL;
  /** `Proxy-Authorization` from the proxy URL's userinfo, if it has any. */
  readonly authorization: string | undefined;
  /** `proxy_connect_header`, sent on CONNECT only (as Go's Transport.ProxyConnectHeader). */
  readonly connectHeaders: Readonly<Record<string, readonly string[]>>;
}

interface NoProxyEntry {
  /** Domain suffix with a leading dot, or '' for IP entries. */
  readonly domain: string;
  /**
   * The domain entry also matches the bare host (`foo.com` matches foo.com and x.foo.com; `.foo.com` only the
   * latter).
   */
  readonly matchHost: boolean;
  /** For IP and CIDR entries. */
  readonly ips: net.BlockList | null;
  /** '' = any port. */
  readonly port: string;
}

/**
 * A parsed NO_PROXY list: comma-separated `*`, IPs, CIDRs, `host[:port]`, `.domain[:port]` and
 * `*.domain[:port]`, as golang.org/x/net/http/httpproxy reads it. Malformed entries are skipped.
 */
export class NoProxy {
  private readonly all: boolean;
  private readonly entries: NoProxyEntry[] = [];

  constructor(spec: string) {
    let all = false;
    for (const raw of spec.split(',')) {
      const p = raw.trim().toLowerCase();
      if (p === '') continue;
      if (p === '*') {
        all = true;
        break;
      }
      const cidr = parseCidr(p);
      if (cidr) {
        this.entries.push({ domain: '', matchHost: false, ips: cidr, port: '' });
        continue;
      }
      let [host, port] = splitHostPort(p);
      if (host === '') continue;
      if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
      const family = net.isIP(host);
      if (family !== 0) {
        const list = new net.BlockList();
        list.addAddress(host, family === 6 ? 'ipv6' : 'ipv4');
        this.entries.push({ domain: '', matchHost: false, ips: list, port });
        continue;
      }
      if (host.startsWith('*.')) host = host.slice(1);
      const matchHost = !host.startsWith('.');
      this.entries.push({ domain: matchHost ? '.' + host : host, matchHost, ips: null, port });
    }
    this.all = all;
  }

  /** True when a request to host:port goes direct. `host` is lower-case, without IPv6 brackets. */
  bypass(host: string, port: string): boolean {
    if (this.all) return true;
    const family = net.isIP(host);
    for (const e of this.entries) {
      if (e.port !== '' && e.port !== port) continue;
      if (e.ips) {
        if (family !== 0 && e.ips.check(host, family === 6 ? 'ipv6' : 'ipv4')) return true;
      } else if (host.endsWith(e.domain) || (e.matchHost && host === e.domain.slice(1))) {
        return true;
      }
    }
    return false;
  }
}

function parseCidr(p: string): net.BlockList | null {
  const slash = p.indexOf('/');
  if (slash < 0) return null;
  const addr = p.slice(0, slash);
  const bits = p.slice(slash + 1);
  const family = net.isIP(addr);
  if (family === 0 || !/^\d+$/.test(bits) || Number(bits) > (family === 6 ? 128 : 32)) return null;
  const list = new net.BlockList();
  list.addSubnet(addr, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  return list;
}

/** Go's net.SplitHostPort, leniently: no port → ['host', '']. */
function splitHostPort(p: string): [string, string] {
  if (p.startsWith('[')) {
    const end = p.indexOf(']');
    if (end < 0) return [p, ''];
    const rest = p.slice(end + 1);
    return [p.slice(0, end + 1), rest.startsWith(':') ? rest.slice(1) : ''];
  }
  const i = p.lastIndexOf(':');
  if (i < 0 || p.indexOf(':') !== i) return [p, ''];
  return [p.slice(0, i), p.slice(i + 1)];
}

/** Host of a URL without IPv6 brackets, lower-case, and its port with the scheme default filled in. */
function hostPort(u: URL): { host: string; port: string } {
  const h = u.hostname.toLowerCase();
  return { host: h.startsWith('[') ? h.slice(1, -1) : h, port: u.port || (u.protocol === 'https:' ? '443' : '80') };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = net.isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) return LOOPBACK6.check(host, 'ipv6');
  return false;
}
const LOOPBACK6 = new net.BlockList();
LOOPBACK6.addAddress('::1', 'ipv6');
LOOPBACK6.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * Go's parseProxy: a value without scheme or host is read as `http://<value>`; only http and https proxies
 * are supported.
 */
export function parseProxyUrl(s: string): URL {
  let u: URL | null = null;
  try {
    u = new URL(s);
  } catch {
    // tried again with a scheme below
  }
  if (!u || u.host === '') {
    try {
      u = new URL('http://' + s);
    } catch {
      throw new ProxyError(`invalid proxy address ${JSON.stringify(s)}`);
    }
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ProxyError(
      `proxy scheme ${JSON.stringify(u.protocol.slice(0, -1))} is not supported (use http or https)`,
    );
  return u;
}

function proxyAuthorization(u: URL): string | undefined {
  if (u.username === '' && u.password === '') return undefined;
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
}

/** Picks the proxy (or none) for each request URL, from a client's ProxyConfig. */
export class ProxySelector {
  private readonly httpProxy: URL | null;
  private readonly httpsProxy: URL | null;
  /** null: Go's http.ProxyURL (always proxy); otherwise httpproxy rules with this NO_PROXY list. */
  private readonly noProxy: NoProxy | null;
  private readonly connectHeaders: Readonly<Record<string, readonly string[]>>;

  private constructor(
    httpProxy: URL | null,
    httpsProxy: URL | null,
    noProxy: NoProxy | null,
    connectHeaders: Record<string, readonly string[]>,
  ) {
    this.httpProxy = httpProxy;
    this.httpsProxy = httpsProxy;
    this.noProxy = noProxy;
    this.connectHeaders = Object.freeze(connectHeaders);
  }

  /**
   * The selector for a client config, or null when it never proxies. Throws ProxyError for an
   * unusable proxy address (from the environment; proxy_url was validated with the config).
   */
  static fromConfig(cfg: ProxyConfig, env: NodeJS.ProcessEnv = process.env): ProxySelector | null {
    const connect: Record<string, readonly string[]> = {};
    for (const [name, values] of Object.entries(cfg.proxyConnectHeader ?? {}))
      connect[name] = values.map((v) => v.reveal());
    if (cfg.proxyFromEnvironment) {
      const pick = (upper: string): URL | null => {
        const v = env[upper] || env[upper.toLowerCase()];
        return v ? parseProxyUrl(v) : null;
      };
      const h = pick('HTTP_PROXY');
      const s = pick('HTTPS_PROXY');
      if (!h && !s) return null;
      return new ProxySelector(h, s, new NoProxy(env.NO_PROXY || env.no_proxy || ''), connect);
    }
    if (!cfg.proxyUrl) return null;
    const u = parseProxyUrl(cfg.proxyUrl);
    return new ProxySelector(u, u, cfg.noProxy ? new NoProxy(cfg.noProxy) : null, connect);
  }

  /** Always the same proxy (a bare proxy_url). */
  static fixed(proxy: URL): ProxySelector {
    return new ProxySelector(proxy, proxy, null, {});
  }

  /** The route for a request to `target`, or null to connect directly. */
  select(target: URL): ProxyRoute | null {
    const proxy = target.protocol === 'https:' ? this.httpsProxy : this.httpProxy;
    if (!proxy) return null;
    if (this.noProxy) {
      const { host, port } = hostPort(target);
      if (isLoopback(host) || this.noProxy.bypass(host, port)) return null;
    }
    return { proxy, authorization: proxyAuthorization(proxy), connectHeaders: this.connectHeaders };
  }
}

/** Opens a connection to the proxy itself (TLS for an https:// proxy). */
function dialProxy(proxy: URL, tlsOpts: TlsOptions | undefined): Duplex {
  const { host, port } = hostPort(proxy);
  if (proxy.protocol === 'https:') {
    // The proxy's certificate is checked against the same CAs as the target's, under the proxy's name.
    return lazyTls().connect({ host, port: Number(port), ...tlsOpts, servername: net.isIP(host) ? undefined : host });
  }
  return net.connect({ host, port: Number(port) });
}

/**
 * Opens a CONNECT tunnel to target's host:port through the route's proxy. Rejects with ProxyError
 * when the proxy refuses, fails or does not answer within timeoutMs.
 */
function openTunnel(route: ProxyRoute, target: URL, timeoutMs: number, tlsOpts?: TlsOptions): Promise<Duplex> {
  const deadline = (): Error => new ProxyError(`proxy CONNECT timed out (timeout ${logDuration(timeoutMs)})`);
  return requestOnce<Duplex>(timeoutMs, deadline, (done) => {
    const { host, port } = hostPort(target);
    const authority = net.isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
    const headers: Record<string, string | readonly string[]> = { Host: authority };
    for (const [k, v] of Object.entries(route.connectHeaders)) headers[k] = v;
    if (route.authorization) headers['Proxy-Authorization'] = route.authorization;
    const req = http.request({
      method: 'CONNECT',
      path: authority,
      headers: headers as http.OutgoingHttpHeaders,
      // No agent: a CONNECT socket is never pooled, and only without one is createConnection used.
      createConnection: () => dialProxy(route.proxy, tlsOpts),
    });
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(
          new ProxyError(`proxy refused CONNECT: HTTP status ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd()),
        );
        return;
      }
      // Bytes the proxy sent past its answer belong to the tunnel (rare: the server speaks first only in odd
      // protocols).
      if (head.length > 0) socket.unshift(head);
      done(null, socket);
    });
    req.once('response', (res) => {
      res.resume();
      done(new ProxyError(`proxy refused CONNECT: HTTP status ${res.statusCode}`));
    });
    req.once('error', (e) => done(e instanceof ProxyError ? e : new ProxyError(`proxy: ${e.message}`, { cause: e })));
    req.end();
    return req;
  });
}

interface TunnelAgentOptions extends https.AgentOptions {
  connectTimeoutMs: number;
  proxyTls?: TlsOptions | undefined;
}
type TunnelAgentClass = new (route: ProxyRoute, opts: TunnelAgentOptions) => https.Agent;
let tunnelAgentClass: TunnelAgentClass | undefined;

/**
 * An https agent whose connections are CONNECT tunnels through a proxy, with TLS to the target on
 * top; tunnels are pooled and kept alive like direct connections. The class is defined on first
 * use: it extends https.Agent, and defining it at module level would load https at start-up.
 */
function newTunnelAgent(route: ProxyRoute, opts: TunnelAgentOptions): https.Agent {
  tunnelAgentClass ??= defineTunnelAgent();
  return new tunnelAgentClass(route, opts);
}

function defineTunnelAgent(): TunnelAgentClass {
  const tlsMod = lazyTls();
  return class TunnelAgent extends lazyHttps().Agent {
    private readonly route: ProxyRoute;
    private readonly connectTimeoutMs: number;
    private readonly proxyTls: TlsOptions | undefined;

    constructor(route: ProxyRoute, opts: TunnelAgentOptions) {
      const { connectTimeoutMs, proxyTls, ...agentOpts } = opts;
      super(agentOpts);
      this.route = route;
      this.connectTimeoutMs = connectTimeoutMs;
      this.proxyTls = proxyTls;
    }

    override createConnection(
      options: https.RequestOptions,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      const cb = callback as (err: Error | null, stream?: Duplex) => void;
      const host = String(options.host ?? options.hostname ?? 'localhost');
      const target = new URL(`https://${net.isIP(host) === 6 ? `[${host}]` : host}:${options.port ?? 443}`);
      openTunnel(this.route, target, this.connectTimeoutMs, this.proxyTls).then(
        (socket) => {
          // Only TLS settings pass on: the request options also carry `path`, `headers`, `agent`, ...
          const o = options as tls.ConnectionOptions;
          // `host` only names the peer for the certificate check here; the socket is the tunnel.
          const t = tlsMod.connect({
            socket,
            host,
            servername: options.servername || (net.isIP(host) ? undefined : host),
            ca: o.ca,
            cert: o.cert,
            key: o.key,
            rejectUnauthorized: o.rejectUnauthorized,
            minVersion: o.minVersion,
            maxVersion: o.maxVersion,
          });
          cb(null, t);
        },
        (err: Error) => cb(err),
      );
      return undefined;
    }
  };
}

/**
 * Agent internals @types/node does not declare: every request passes through addRequest before its header is
 * written.
 */
interface AgentWithAddRequest {
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void;
}

/**
 * An http agent for plain-http requests built from the target URL (`http.request(url, { agent })`,
 * node-fetch's `agent`), sending them to a forward proxy in absolute-URI form: its connections go to
 * the proxy (TLS for an https proxy) and each request's target becomes `http://host[:port]/path`,
 * with `Proxy-Authorization` from the proxy URL. Requests must give their headers as an object (an
 * array of raw headers writes the request line before the agent sees it).
 */
class ForwardProxyAgent extends http.Agent {
  private readonly route: ProxyRoute;
  private readonly proxyTls: TlsOptions | undefined;

  constructor(route: ProxyRoute, opts: http.AgentOptions & { proxyTls?: TlsOptions | undefined }) {
    const { proxyTls, ...agentOpts } = opts;
    super(agentOpts);
    this.route = route;
    this.proxyTls = proxyTls;
  }

  override createConnection(): Duplex {
    return dialProxy(this.route.proxy, this.proxyTls);
  }

  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    const hostHeader = req.getHeader('host');
    let authority: string;
    if (typeof hostHeader === 'string' && hostHeader !== '') {
      authority = hostHeader;
    } else {
      const host = String(options.hostname ?? options.host ?? 'localhost');
      const port = options.port !== undefined && String(options.port) !== '80' ? `:${options.port}` : '';
      authority = (net.isIP(host) === 6 ? `[${host}]` : host) + port;
    }
    // The request line is written on the first write/end, which comes after this: the path can still change.
    if (req.path.startsWith('/')) req.path = `http://${authority}${req.path}`;
    if (this.route.authorization && !req.hasHeader('proxy-authorization'))
      req.setHeader('Proxy-Authorization', this.route.authorization);
    (http.Agent.prototype as unknown as AgentWithAddRequest).addRequest.call(this, req, options);
  }
}

function withoutServername(t: TlsOptions | undefined): TlsOptions {
  const o: TlsOptions = { ...t };
  delete o.servername;
  return o;
}

/** Everything needed to send one request: which module, agent, host/port/path, and the headers the route adds. */
export interface Dispatch {
  /** True: https.request (TLS to the first hop, or a tunnel agent); false: http.request. */
  readonly secure: boolean;
  readonly agent: http.Agent;
  readonly host: string;
  readonly port: number;
  /** Request target: path+query, or the absolute URL when an http proxy forwards it. */
  readonly path: string;
  /** `Host` is always present; `Proxy-Authorization` on absolute-URI requests through a proxy with credentials. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Set when TLS runs to an https proxy rather than to the target ('' for an IP: no SNI, identity checked
   * against it).
   */
  readonly servername?: string | undefined;
}

/** The request options that send `method` along a Dispatch, with the caller's complete headers. */
export function dispatchOptions(
  d: Dispatch,
  method: string,
  headers: https.RequestOptions['headers'],
): https.RequestOptions {
  const opts: https.RequestOptions = { method, host: d.host, port: d.port, path: d.path, agent: d.agent, headers };
  if (d.servername !== undefined) opts.servername = d.servername;
  return opts;
}

export interface DispatcherOptions {
  proxy: ProxySelector | null;
  /** TLS options for https targets (and https proxies). */
  tls?: TlsOptions | undefined;
  /** Options for the agents this dispatcher creates. */
  agent: http.AgentOptions;
  /** Bounds the CONNECT handshake (the caller's own request deadline still applies). */
  connectTimeoutMs: number;
  /** Agents for direct requests, when the caller already has them (the scrape manager does). */
  direct?: { http?: http.Agent; https?: https.Agent };
}

/**
 * Turns a request URL into a Dispatch, creating (and pooling) one agent per distinct route. The same
 * code serves scrapes (URL per target, redirects), remote write and OAuth2 token requests.
 */
export class Dispatcher {
  private readonly opts: DispatcherOptions;
  private readonly agents = new Map<string, http.Agent>();
  private readonly owned: http.Agent[] = [];

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
  }

  get proxied(): boolean {
    return this.opts.proxy !== null;
  }

  dispatch(target: URL): Dispatch {
    const route = this.opts.proxy?.select(target) ?? null;
    const { host, port } = hostPort(target);
    const authority = target.host;
    const path = target.pathname + target.search;
    if (!route) {
      const secure = target.protocol === 'https:';
      return { secure, agent: this.directAgent(secure), host, port: Number(port), path, headers: { Host: authority } };
    }
    if (target.protocol === 'https:') {
      return {
        secure: true,
        agent: this.tunnelAgent(route),
        host,
        port: Number(port),
        path,
        headers: { Host: authority },
      };
    }
    // Absolute-URI request to the proxy; the proxy connection is pooled like any other.
    const p = hostPort(route.proxy);
    const secure = route.proxy.protocol === 'https:';
    const key = `forward ${route.proxy.href}`;
    let agent = this.agents.get(key);
    if (!agent) {
      // TLS to an https proxy is checked under the proxy's name, not tls_config.server_name (the target's).
      agent = this.own(
        key,
        secure
          ? new (lazyHttps().Agent)({ ...this.opts.agent, ...withoutServername(this.opts.tls) })
          : new http.Agent(this.opts.agent),
      );
    }
    const headers: Record<string, string> = { Host: authority };
    if (route.authorization) headers['Proxy-Authorization'] = route.authorization;
    const href = `${target.protocol}//${authority}${path}`;
    return {
      secure,
      agent,
      host: p.host,
      port: Number(p.port),
      path: href,
      headers,
      servername: secure ? (net.isIP(p.host) ? '' : p.host) : undefined,
    };
  }

  /**
   * The agent for a request made from the target URL itself (`http.request(url, { agent })`, or
   * node-fetch's per-URL `agent` function, redirects included): the direct agent, a TunnelAgent for
   * https through a proxy, or a ForwardProxyAgent for http through one. Pooled like dispatch()'s.
   */
  agentFor(target: URL): http.Agent {
    const route = this.opts.proxy?.select(target) ?? null;
    if (!route) return this.directAgent(target.protocol === 'https:');
    if (target.protocol === 'https:') return this.tunnelAgent(route);
    const key = `url-forward ${route.proxy.href}`;
    return (
      this.agents.get(key) ??
      this.own(key, new ForwardProxyAgent(route, { ...this.opts.agent, proxyTls: withoutServername(this.opts.tls) }))
    );
  }

  private tunnelAgent(route: ProxyRoute): http.Agent {
    const key = `tunnel ${route.proxy.href}`;
    return (
      this.agents.get(key) ??
      this.own(
        key,
        newTunnelAgent(route, {
          ...this.opts.agent,
          ...this.opts.tls,
          connectTimeoutMs: this.opts.connectTimeoutMs,
          proxyTls: this.opts.tls,
        }),
      )
    );
  }

  private directAgent(secure: boolean): http.Agent {
    const given = secure ? this.opts.direct?.https : this.opts.direct?.http;
    if (given) return given;
    const key = secure ? 'direct https' : 'direct http';
    return (
      this.agents.get(key) ??
      this.own(
        key,
        secure ? new (lazyHttps().Agent)({ ...this.opts.agent, ...this.opts.tls }) : new http.Agent(this.opts.agent),
      )
    );
  }

  private own(key: string, agent: http.Agent): http.Agent {
    this.agents.set(key, agent);
    this.owned.push(agent);
    return agent;
  }

  /** Closes the agents this dispatcher created (not the `direct` ones it was given). */
  destroy(): void {
    for (const a of this.owned) a.destroy();
    this.owned.length = 0;
    this.agents.clear();
  }
}

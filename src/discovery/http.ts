/**
 * http_sd_configs, as Prometheus' discovery/http: GET the URL every refresh_interval (the request,
 * redirects and body included, may take at most that long), require 200 and a JSON content type,
 * decode the same list format as file_sd and emit it whole. Any failure is counted in
 * prometheus_sd_http_failures_total and sends nothing, so the last good list stays in effect.
 *
 * The request goes through node-fetch (one GET per refresh interval: convenience over raw speed)
 * with the HTTP client code scrapes and remote write share: agents per URL from src/net (proxy_url,
 * no_proxy, proxy_from_environment, proxy_connect_header, https through CONNECT) and AuthSource
 * (basic_auth, authorization, oauth2); http_headers are added here. node-fetch is loaded on the
 * first refresh: with its Blob/FormData polyfills it pulls in https, zlib and Node's own undici,
 * several MB that an agent without http_sd_configs should not carry.
 */
import fsp from 'node:fs/promises';
import type { Response } from 'node-fetch';
import type { HttpSdConfig, NameValidationScheme, TargetGroup } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { Dispatcher, ProxySelector } from '../net/proxy.ts';
import { AuthSource } from '../net/auth.ts';
import { tlsOptions, type TlsClientOptions } from '../net/tls.ts';
import type { Clock } from '../util/clock.ts';
import { errorMessage } from '../util/errors.ts';
import { DiscoveryError, runRefreshLoop, type Discoverer } from './discoverer.ts';
import type { SdMetrics } from './metrics.ts';
import { parseGroupsJson, toTargetGroups } from './targetgroups.ts';

const URL_LABEL = '__meta_url';
/** Go's http.Client gives up after 10 redirects. */
const MAX_REDIRECTS = 10;
/** Bounds the memory one response may take; target lists are orders of magnitude smaller. */
const HTTP_SD_MAX_BODY = 64 << 20;
const CONTENT_TYPE = /^application\/json(;\s*charset=("utf-8"|utf-8))?$/i;

type NodeFetch = typeof import('node-fetch');
/** Set once the first refresh loaded node-fetch; until then no error can be its FetchError. */
let nodeFetch: NodeFetch | undefined;

async function loadNodeFetch(): Promise<NodeFetch> {
  return (nodeFetch ??= await import('node-fetch'));
}

export interface HttpDiscovererOptions {
  readonly config: HttpSdConfig;
  readonly scheme: NameValidationScheme;
  readonly log: Logger;
  readonly metrics: SdMetrics;
  readonly clock: Clock;
  readonly userAgent: string;
  /** Where proxy_from_environment reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Largest response body accepted (default HTTP_SD_MAX_BODY). */
  readonly maxBodyBytes?: number;
}

export class HttpDiscoverer implements Discoverer {
  private readonly o: HttpDiscovererOptions;
  private readonly tlsOpts: TlsClientOptions | undefined;
  private readonly proxy: ProxySelector | null = null;
  /**
   * An unusable proxy from the environment fails every refresh (counted and logged), as Go's
   * transport fails each request, rather than the discoverer's setup.
   */
  private readonly proxyError: DiscoveryError | null = null;

  /** Throws DiscoveryError when TLS files cannot be read (counted in prometheus_sd_failed_configs). */
  constructor(o: HttpDiscovererOptions) {
    this.o = o;
    const c = o.config;
    try {
      this.tlsOpts = tlsOptions(c.tlsConfig);
    } catch (err) {
      throw new DiscoveryError(`http_sd ${c.url}: cannot load TLS files: ${errorMessage(err)}`, { cause: err });
    }
    try {
      this.proxy = ProxySelector.fromConfig(c, o.env);
    } catch (err) {
      this.proxyError = new DiscoveryError(`Get ${JSON.stringify(c.url)}: ${errorMessage(err)}`, { cause: err });
    }
  }

  async run(signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void> {
    const { config, clock, log, metrics, userAgent } = this.o;
    const dispatcher = new Dispatcher({
      proxy: this.proxy,
      tls: this.tlsOpts,
      agent: { keepAlive: true, maxSockets: 1 },
      connectTimeoutMs: config.refreshInterval,
    });
    // Token requests carry the SD client's User-Agent and share its deadline, as in prometheus/common.
    const auth = new AuthSource(config, 5000, { userAgent, timeoutMs: config.refreshInterval });
    try {
      await runRefreshLoop(
        {
          mechanism: 'http',
          intervalMs: config.refreshInterval,
          clock,
          log,
          metrics,
          refresh: async (sig) => {
            try {
              return await this.refresh(sig, dispatcher, auth);
            } catch (err) {
              if (!sig.aborted) metrics.httpFailures.inc();
              throw err;
            }
          },
        },
        signal,
        emit,
      );
    } finally {
      dispatcher.destroy();
      auth.close();
    }
  }

  private async refresh(signal: AbortSignal, dispatcher: Dispatcher, auth: AuthSource): Promise<TargetGroup[]> {
    const { config, scheme } = this.o;
    if (this.proxyError) throw this.proxyError;
    // Go's client.Timeout: one deadline for the token, the request, every redirect and the body.
    const timeout = AbortSignal.timeout(config.refreshInterval);
    const sig = AbortSignal.any([signal, timeout]);
    let res: Response;
    let body: string;
    try {
      const headers = await this.headers(auth);
      const { default: fetch } = await loadNodeFetch();
      res = await fetch(config.url, {
        method: 'GET',
        headers,
        agent: (u: URL) => dispatcher.agentFor(u),
        // follow_redirects: false hands back the 3xx itself, which then fails the status check (Go's
        // ErrUseLastResponse).
        redirect: config.followRedirects ? 'follow' : 'manual',
        follow: MAX_REDIRECTS,
        // Go's transport here has DisableCompression: no Accept-Encoding, nothing decoded.
        compress: false,
        size: this.o.maxBodyBytes ?? HTTP_SD_MAX_BODY,
        signal: sig,
      });
      if (res.status !== 200) {
        drain(res);
        throw new DiscoveryError(`server returned HTTP status ${res.status} ${res.statusText}`.trimEnd());
      }
      const ct = res.headers.get('content-type') ?? '';
      if (!CONTENT_TYPE.test(ct.trim())) {
        drain(res);
        throw new DiscoveryError(`unsupported content type ${JSON.stringify(ct)}`);
      }
      body = await res.text();
    } catch (err) {
      throw requestError(err, config.url, timeout.aborted, this.o.maxBodyBytes ?? HTTP_SD_MAX_BODY);
    }
    const raw = parseGroupsJson(body, scheme);
    return toTargetGroups(raw, config.url, URL_LABEL, config.url);
  }

  /** http_headers first, then the client's own headers, which win over http_headers of the same name. */
  private async headers(auth: AuthSource): Promise<[string, string][]> {
    const c = this.o.config;
    const own = new Map<string, string>();
    const authorization = await auth.header();
    if (authorization) own.set('authorization', authorization);
    own.set('accept', 'application/json');
    own.set('user-agent', this.o.userAgent);
    own.set('x-prometheus-refresh-interval-seconds', String(c.refreshInterval / 1000));
    const h: [string, string][] = [];
    if (c.httpHeaders) {
      for (const [name, v] of Object.entries(c.httpHeaders)) {
        if (own.has(name.toLowerCase())) continue;
        for (const value of v.values) h.push([name, value]);
        for (const s of v.secrets) h.push([name, s.reveal()]);
        for (const f of v.files) h.push([name, (await fsp.readFile(f, 'utf8')).trim()]);
      }
    }
    for (const [name, value] of own) h.push([name, value]);
    return h;
  }
}

/** Reads the rest of a rejected response so the connection can serve the next refresh (as Go drains it). */
function drain(res: Response): void {
  res.body?.resume();
}

/** Request failures in the shape of Go's url.Error: `Get "<url>": <reason>`. */
function requestError(err: unknown, url: string, timedOut: boolean, maxBody: number): Error {
  if (err instanceof DiscoveryError) return err;
  const get = `Get ${JSON.stringify(url)}`;
  if (timedOut) return new DiscoveryError(`${get}: context deadline exceeded`, { cause: err });
  if (nodeFetch !== undefined && err instanceof nodeFetch.FetchError) {
    if (err.type === 'max-size')
      return new DiscoveryError(`response body larger than ${maxBody} bytes`, { cause: err });
    if (err.type === 'max-redirect')
      return new DiscoveryError(`${get}: stopped after ${MAX_REDIRECTS} redirects`, { cause: err });
    // "request to <url> failed, reason: <cause>": the cause, under the URL of the request that failed.
    const m = /^request to (.*) failed, reason: (.*)$/s.exec(err.message);
    if (m) return new DiscoveryError(`Get ${JSON.stringify(m[1])}: ${m[2]}`, { cause: err });
  }
  return new DiscoveryError(`${get}: ${errorMessage(err)}`, { cause: err });
}

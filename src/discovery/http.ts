/**
 * http_sd_configs, as Prometheus' discovery/http: GET the URL every refresh_interval (the request
 * may take at most that long), require 200 and a JSON content type, decode the same list format
 * as file_sd and emit it whole. Any failure is counted in prometheus_sd_http_failures_total and
 * sends nothing, so the last good list stays in effect.
 *
 * Not supported (warned about once at start): proxy_url / proxy_from_environment and oauth2.
 */
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { HttpSdConfig, NameValidationScheme, TargetGroup, TlsVersion } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { AuthSource, tlsOptions } from '../scrape/http-client.ts';
import type { Clock } from '../util/clock.ts';
import { DiscoveryError, runRefreshLoop, type Discoverer } from './discoverer.ts';
import type { SdMetrics } from './metrics.ts';
import { parseGroupsJson, toTargetGroups } from './targetgroups.ts';

export const URL_LABEL = '__meta_url';
/** Go's http.Client gives up after 10 redirects. */
const MAX_REDIRECTS = 10;
/** Bounds the memory one response may take; target lists are orders of magnitude smaller. */
export const HTTP_SD_MAX_BODY = 64 << 20;
const CONTENT_TYPE = /^application\/json(;\s*charset=("utf-8"|utf-8))?$/i;

const TLS_VERSIONS: Readonly<Record<TlsVersion, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'>> = {
  TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3',
};

export interface HttpDiscovererOptions {
  readonly config: HttpSdConfig;
  readonly scheme: NameValidationScheme;
  readonly log: Logger;
  readonly metrics: SdMetrics;
  readonly clock: Clock;
  readonly userAgent: string;
}

export class HttpDiscoverer implements Discoverer {
  private readonly o: HttpDiscovererOptions;

  private readonly tlsOpts: https.RequestOptions;

  /** Throws DiscoveryError when TLS files cannot be read (counted in prometheus_sd_failed_configs). */
  constructor(o: HttpDiscovererOptions) {
    this.o = o;
    const c = o.config;
    try {
      this.tlsOpts = this.tls();
    } catch (err) {
      throw new DiscoveryError(`http_sd ${c.url}: cannot load TLS files: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (c.proxyUrl || c.proxyFromEnvironment) o.log.warn('http_sd: proxy settings are not supported; connecting directly', { url: c.url });
    if (c.oauth2) o.log.warn('http_sd: oauth2 is not supported; requests carry no OAuth2 token', { url: c.url });
  }

  async run(signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void> {
    const { config, clock, log, metrics } = this.o;
    const agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 1 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 1 }),
    };
    const auth = new AuthSource(config);
    const tls = this.tlsOpts;
    try {
      await runRefreshLoop({
        mechanism: 'http',
        intervalMs: config.refreshInterval,
        clock,
        log,
        metrics,
        refresh: async (sig) => {
          try {
            return await this.refresh(sig, agents, auth, tls);
          } catch (err) {
            if (!sig.aborted) metrics.httpFailures.inc();
            throw err;
          }
        },
      }, signal, emit);
    } finally {
      agents.http.destroy();
      agents.https.destroy();
    }
  }

  private async refresh(signal: AbortSignal, agents: { http: http.Agent; https: https.Agent }, auth: AuthSource, tls: https.RequestOptions): Promise<TargetGroup[]> {
    const { config, scheme } = this.o;
    const headers = await this.headers(auth);
    const timeout = AbortSignal.timeout(config.refreshInterval);
    const res = await get(new URL(config.url), headers, AbortSignal.any([signal, timeout]), agents, config.followRedirects, tls);
    if (res.status !== 200) throw new DiscoveryError(`server returned HTTP status ${res.status} ${res.statusText}`.trimEnd());
    const ct = res.contentType.trim();
    if (!CONTENT_TYPE.test(ct)) throw new DiscoveryError(`unsupported content type ${JSON.stringify(ct)}`);
    const raw = parseGroupsJson(res.body, scheme);
    return toTargetGroups(raw, config.url, URL_LABEL, config.url);
  }

  private async headers(auth: AuthSource): Promise<Record<string, string | string[]>> {
    const c = this.o.config;
    const h: Record<string, string | string[]> = {};
    if (c.httpHeaders) {
      for (const [name, v] of Object.entries(c.httpHeaders)) {
        const values = [...v.values, ...v.secrets.map((s) => s.reveal())];
        for (const f of v.files) values.push((await fsp.readFile(f, 'utf8')).trim());
        if (values.length > 0) h[name] = values;
      }
    }
    // Set last: Prometheus' own headers win over http_headers of the same name.
    const authorization = await auth.header();
    if (authorization) h.Authorization = authorization;
    h.Accept = 'application/json';
    h['User-Agent'] = this.o.userAgent;
    h['X-Prometheus-Refresh-Interval-Seconds'] = String(c.refreshInterval / 1000);
    return h;
  }

  /** Read once per discoverer, as the scrape client does (a reload that changes the config starts a new one). */
  private tls(): https.RequestOptions {
    const t = this.o.config.tlsConfig;
    const o: https.RequestOptions = { ...tlsOptions(t) };
    if (t.minVersion) o.minVersion = TLS_VERSIONS[t.minVersion];
    if (t.maxVersion) o.maxVersion = TLS_VERSIONS[t.maxVersion];
    return o;
  }
}

interface Response {
  status: number;
  statusText: string;
  contentType: string;
  body: string;
}

function get(
  url: URL, headers: Record<string, string | string[]>, signal: AbortSignal,
  agents: { http: http.Agent; https: https.Agent }, followRedirects: boolean, tls: https.RequestOptions, hops = 0,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    if (!isHttps && url.protocol !== 'http:') {
      reject(new DiscoveryError(`unsupported protocol scheme ${JSON.stringify(url.protocol.replace(/:$/, ''))}`));
      return;
    }
    const opts: https.RequestOptions = { method: 'GET', headers, signal, agent: isHttps ? agents.https : agents.http, ...(isHttps ? tls : {}) };
    const req = (isHttps ? https : http).request(url, opts, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (followRedirects && location && [301, 302, 303, 307, 308].includes(status)) {
        res.resume();
        if (hops >= MAX_REDIRECTS) {
          reject(new DiscoveryError(`stopped after ${MAX_REDIRECTS} redirects`));
          return;
        }
        const next = new URL(location, url);
        const h = { ...headers };
        // Credentials go only where they were configured for.
        if (next.host !== url.host || next.protocol !== url.protocol) delete h.Authorization;
        get(next, h, signal, agents, followRedirects, tls, hops + 1).then(resolve, reject);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > HTTP_SD_MAX_BODY) {
          req.destroy(new DiscoveryError(`response body larger than ${HTTP_SD_MAX_BODY} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        resolve({
          status,
          statusText: res.statusMessage ?? '',
          contentType: res.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

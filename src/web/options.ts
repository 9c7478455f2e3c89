import os from 'node:os';
import { parseDuration } from '../config/duration.ts';
import { OutpostError, errorMessage } from '../util/errors.ts';

export class WebOptionsError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_WEB_OPTIONS_INVALID', message);
  }
}

/** The `--web.*` flags the HTTP surface understands, all optional (Prometheus' defaults apply). */
export interface WebOptions {
  /** `--web.external-url`: the URL under which Outpost is reachable from outside; '' = http://<hostname>:<port>/. */
  readonly externalUrl?: string | undefined;
  /** `--web.route-prefix`: prefix of every internal route; '' = the path of the external URL. */
  readonly routePrefix?: string | undefined;
  /** `--web.max-connections`: simultaneous connections; 0 = unlimited. Default 512. */
  readonly maxConnections?: number | undefined;
  /** `--web.read-timeout`: longest time to receive one whole request (ms). Default 5m. */
  readonly readTimeoutMs?: number | undefined;
  /** `--web.cors.origin`: regex (fully anchored) of origins allowed to call the API. Default `.*`. */
  readonly corsOrigin?: string | undefined;
  /** `--web.page-title`. */
  readonly pageTitle?: string | undefined;
  /** Interval of the remote-write throughput history shown as a sparkline (ms). Default 5s. */
  readonly historyIntervalMs?: number;
  /** Points kept per endpoint in that history. Default 60. */
  readonly historyPoints?: number;
}

const WEB_DEFAULTS = Object.freeze({
  maxConnections: 512,
  readTimeoutMs: 5 * 60_000,
  corsOrigin: '.*',
  pageTitle: 'Outpost',
  historyIntervalMs: 5000,
  historyPoints: 60,
});

export interface ResolvedWebOptions {
  /** Route prefix without trailing slash: '' for the root, else '/foo'. */
  readonly routePrefix: string;
  /** The external URL given or '' when it must be derived from the listen address. */
  readonly externalUrlFlag: string;
  /** Path of the external URL without trailing slash ('' at the root). */
  readonly externalPath: string;
  readonly maxConnections: number;
  readonly readTimeoutMs: number;
  readonly corsOrigin: RegExp | '*';
  readonly pageTitle: string;
  readonly historyIntervalMs: number;
  readonly historyPoints: number;
}

/** Validates the flags once; errors name the flag. */
export function resolveWebOptions(o: WebOptions = {}): ResolvedWebOptions {
  const externalUrlFlag = (o.externalUrl ?? '').trim();
  let externalPath = '';
  if (externalUrlFlag !== '') externalPath = parseExternalUrl(externalUrlFlag).path;
  let prefix = o.routePrefix ?? '';
  if (prefix === '') prefix = externalPath;
  // Prometheus: "/" + strings.Trim(prefix, "/"), and "/" means no prefix.
  prefix = '/' + prefix.replace(/^\/+|\/+$/g, '');
  if (/[?#\s]/.test(prefix)) throw new WebOptionsError(`--web.route-prefix: "${o.routePrefix}" is not a path`);
  const maxConnections = o.maxConnections ?? WEB_DEFAULTS.maxConnections;
  if (!Number.isInteger(maxConnections) || maxConnections < 0)
    throw new WebOptionsError(`--web.max-connections: ${maxConnections} must be a whole number >= 0`);
  const readTimeoutMs = o.readTimeoutMs ?? WEB_DEFAULTS.readTimeoutMs;
  if (!(readTimeoutMs >= 0)) throw new WebOptionsError(`--web.read-timeout: ${readTimeoutMs} must be >= 0`);
  const corsSrc = o.corsOrigin ?? WEB_DEFAULTS.corsOrigin;
  let corsOrigin: RegExp | '*';
  if (corsSrc === '.*') corsOrigin = '*';
  else {
    try {
      corsOrigin = new RegExp(`^(?:${corsSrc})$`, 's');
    } catch {
      throw new WebOptionsError(`--web.cors.origin: "${corsSrc}" is not a valid regular expression`);
    }
  }
  const historyIntervalMs = o.historyIntervalMs ?? WEB_DEFAULTS.historyIntervalMs;
  const historyPoints = o.historyPoints ?? WEB_DEFAULTS.historyPoints;
  if (!(historyIntervalMs > 0) || !Number.isInteger(historyPoints) || historyPoints < 2)
    throw new WebOptionsError('throughput history needs an interval > 0 and at least 2 points');
  return Object.freeze({
    routePrefix: prefix === '/' ? '' : prefix,
    externalUrlFlag,
    externalPath,
    maxConnections,
    readTimeoutMs,
    corsOrigin,
    pageTitle: o.pageTitle ?? WEB_DEFAULTS.pageTitle,
    historyIntervalMs,
    historyPoints,
  });
}

/** Prometheus' computeExternalURL: absolute URL, no surrounding quotes, path without trailing slash. */
function parseExternalUrl(raw: string): { url: URL; path: string } {
  if (/^["']|["']$/.test(raw)) throw new WebOptionsError('--web.external-url: URL must not begin or end with quotes');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebOptionsError(`--web.external-url: "${raw}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new WebOptionsError(`--web.external-url: scheme must be http or https, got "${url.protocol}"`);
  let path = url.pathname.replace(/\/+$/, '');
  if (path !== '' && !path.startsWith('/')) path = '/' + path;
  return { url, path };
}

/** The external URL in force once the listen port is known. */
export function externalUrl(o: ResolvedWebOptions, listenPort: number, hostname: string = os.hostname()): URL {
  if (o.externalUrlFlag !== '') return parseExternalUrl(o.externalUrlFlag).url;
  return new URL(`http://${hostname}:${listenPort}/`);
}

const LOCALHOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Prometheus' globalUrl for a target: a loopback target on our own port is this process, reachable at
 * the external URL; any other loopback target gets the external host name with its own port.
 */
export function globalUrl(scrapeUrl: string, ext: URL, ownPort: number): string {
  let u: URL;
  try {
    u = new URL(scrapeUrl);
  } catch {
    return scrapeUrl;
  }
  if (!LOCALHOSTS.has(u.hostname)) return scrapeUrl;
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  if (Number(port) === ownPort) {
    u.protocol = ext.protocol;
    u.host = ext.host;
  } else {
    u.hostname = ext.hostname;
    u.port = port;
  }
  return u.toString();
}

/**
 * Reads the `--web.*` flags from the flat flag map (/api/v1/status/flags), so wiring is one line and
 * flags the CLI does not define yet simply keep their defaults.
 */
export function webOptionsFromFlagMap(all: Readonly<Record<string, string | undefined>>): WebOptions {
  const num = (k: string): number | undefined => {
    const v = all[k];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v)) throw new WebOptionsError(`--${k}: "${v}" is not a whole number`);
    return Number(v);
  };
  const dur = (k: string): number | undefined => {
    const v = all[k];
    if (v === undefined || v === '') return undefined;
    try {
      return parseDuration(v);
    } catch (err) {
      throw new WebOptionsError(`--${k}: ${errorMessage(err)}`);
    }
  };
  return {
    externalUrl: all['web.external-url'],
    routePrefix: all['web.route-prefix'],
    maxConnections: num('web.max-connections'),
    readTimeoutMs: dur('web.read-timeout'),
    corsOrigin: all['web.cors.origin'],
    pageTitle: all['web.page-title'],
  };
}

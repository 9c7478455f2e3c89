/**
 * OAuth 2.0 client-credentials tokens for the `oauth2:` block of any HTTP client config, with the
 * behaviour of prometheus/common's oauth2 round tripper on golang.org/x/oauth2:
 *  - POST token_url, form-encoded: grant_type=client_credentials, `scope` (scopes joined by spaces),
 *    endpoint_params (which may replace grant_type but no other parameter);
 *  - client credentials sent as HTTP Basic (both parts query-escaped) first; if that request fails in
 *    any way, once more in the form body (AuthStyleAutoDetect), and the style that worked is kept;
 *  - the token is reused until 10 s before it expires (no expires_in: forever);
 *  - client_secret_file is re-read (every `secretRecheckMs`); a changed secret drops the token;
 *  - the token request uses the oauth2 block's own tls_config and proxy settings, and the caller's
 *    User-Agent.
 * Errors never contain the client secret or a token.
 */
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { OAuth2Config } from '../config/types.ts';
import { OutpostError, errorMessage } from '../util/errors.ts';
import { lazyHttps } from '../util/lazy-builtin.ts';
import { Dispatcher, ProxySelector, dispatchOptions } from './proxy.ts';
import { requestOnce } from './request-once.ts';
import { tlsOptions } from './tls.ts';

export class OAuth2Error extends OutpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUTPOST_OAUTH2', message, options);
  }
}

/** golang.org/x/oauth2's expiryDelta: a token this close to expiry counts as expired. */
export const EXPIRY_DELTA_MS = 10_000;
/** Token responses larger than this are cut (x/oauth2 reads at most 1 MiB). */
const MAX_TOKEN_RESPONSE = 1 << 20;
/** How much of an error response goes into the message. */
const MAX_ERROR_BODY = 512;

export interface OAuth2Options {
  /** Sent on token requests (Prometheus passes the requesting client's User-Agent). */
  userAgent?: string | undefined;
  /** Token request deadline. */
  timeoutMs?: number | undefined;
  /** client_secret_file is read again at most this often (0: on every call). */
  secretRecheckMs?: number;
  now?: () => number;
}

interface Token {
  /** Complete Authorization header value. */
  readonly header: string;
  /** ms since epoch; 0 = never expires. */
  readonly expiry: number;
}

type AuthStyle = 'header' | 'params';

/** Go's url.QueryEscape: everything but [A-Za-z0-9-_.~] percent-encoded, space as '+'. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

/** Go's url.Values.Encode: keys sorted, both sides query-escaped. */
function encodeForm(v: Map<string, string>): string {
  return [...v.keys()]
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(v.get(k) as string)}`)
    .join('&');
}

/** Go's Token.Type(): canonical casing for the well-known types, Bearer when none was given. */
function tokenType(t: string): string {
  const l = t.toLowerCase();
  if (l === 'bearer' || l === '') return 'Bearer';
  if (l === 'mac') return 'MAC';
  if (l === 'basic') return 'Basic';
  return t;
}

function expiresIn(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : 0;
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

interface RawResponse {
  status: number;
  statusText: string;
  contentType: string;
  body: string;
}

/** Fetches and caches client-credentials tokens for one `oauth2:` block. */
export class OAuth2TokenSource {
  private readonly cfg: OAuth2Config;
  private readonly opts: {
    readonly userAgent: string | undefined;
    readonly timeoutMs: number;
    readonly secretRecheckMs: number;
    readonly now: () => number;
  };
  private readonly url: URL;
  private readonly dispatcher: Dispatcher;
  private token: Token | null = null;
  private inflight: Promise<Token> | null = null;
  private secret: string | null;
  private secretCheckedAt = -Infinity;
  private style: AuthStyle | null = null;

  /** Throws OutpostError subclasses when the TLS files or the proxy settings are unusable. */
  constructor(cfg: OAuth2Config, opts: OAuth2Options = {}) {
    this.cfg = cfg;
    this.opts = {
      userAgent: opts.userAgent,
      timeoutMs: opts.timeoutMs ?? 30_000,
      secretRecheckMs: opts.secretRecheckMs ?? 5000,
      now: opts.now ?? Date.now,
    };
    this.url = new URL(cfg.tokenUrl);
    this.secret = cfg.clientSecretFile ? null : (cfg.clientSecret?.reveal() ?? '');
    // A short idle timeout: tokens are fetched rarely (x/oauth2's transport keeps idle connections 10 s).
    this.dispatcher = new Dispatcher({
      proxy: ProxySelector.fromConfig(cfg),
      tls: tlsOptions(cfg.tlsConfig),
      agent: { keepAlive: true, maxSockets: 1, timeout: 10_000 },
      connectTimeoutMs: this.opts.timeoutMs,
    });
  }

  /** The Authorization header value, fetching a token when there is none or it is about to expire. */
  async authorization(): Promise<string> {
    await this.checkSecret();
    const t = this.token;
    if (t && (t.expiry === 0 || this.opts.now() < t.expiry - EXPIRY_DELTA_MS)) return t.header;
    // One request at a time: concurrent senders share it.
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = null;
    });
    return (await this.inflight).header;
  }

  /** Forgets the cached token (the next call fetches a new one). */
  invalidate(): void {
    this.token = null;
  }

  close(): void {
    this.dispatcher.destroy();
  }

  private async checkSecret(): Promise<void> {
    const file = this.cfg.clientSecretFile;
    if (!file) return;
    const now = this.opts.now();
    if (this.secret !== null && now - this.secretCheckedAt < this.opts.secretRecheckMs) return;
    let next: string;
    try {
      next = (await fsp.readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new OAuth2Error(`unable to read oauth2 client secret: ${errorMessage(err)}`, { cause: err });
    }
    this.secretCheckedAt = now;
    if (next !== this.secret) {
      // A rotated secret may revoke the old credentials: never keep a token obtained with them.
      this.secret = next;
      this.token = null;
      this.style = null;
    }
  }

  private async fetchToken(): Promise<Token> {
    const secret = this.secret ?? '';
    const params = new Map<string, string>([['grant_type', 'client_credentials']]);
    if (this.cfg.scopes.length > 0) params.set('scope', this.cfg.scopes.join(' '));
    for (const [k, v] of Object.entries(this.cfg.endpointParams)) {
      if (params.has(k) && k !== 'grant_type')
        throw new OAuth2Error(`oauth2: cannot overwrite parameter ${JSON.stringify(k)}`);
      params.set(k, v);
    }
    let token: Token;
    if (this.style) {
      token = await this.request(params, secret, this.style);
    } else {
      try {
        token = await this.request(params, secret, 'header');
        this.style = 'header';
      } catch {
        // Some servers only accept credentials in the body: try that before giving up (the second error is reported).
        token = await this.request(params, secret, 'params');
        this.style = 'params';
      }
    }
    // The secret may have changed while the request was out; then this token is not the one wanted.
    if (secret === (this.secret ?? '')) this.token = token;
    return token;
  }

  private async request(params: Map<string, string>, secret: string, style: AuthStyle): Promise<Token> {
    const form = new Map(params);
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (style === 'params') {
      if (this.cfg.clientId) form.set('client_id', this.cfg.clientId);
      if (secret) form.set('client_secret', secret);
    } else {
      headers.Authorization =
        'Basic ' + Buffer.from(`${queryEscape(this.cfg.clientId)}:${queryEscape(secret)}`).toString('base64');
    }
    if (this.opts.userAgent) headers['User-Agent'] = this.opts.userAgent;
    const body = Buffer.from(encodeForm(form));
    headers['Content-Length'] = String(body.length);
    const res = await this.post(body, headers);
    return this.parse(res);
  }

  private post(body: Buffer, extra: Record<string, string>): Promise<RawResponse> {
    const d = this.dispatcher.dispatch(this.url);
    const shown = this.url.origin + this.url.pathname;
    const deadline = (): Error =>
      new OAuth2Error(`oauth2: cannot fetch token: Post "${shown}": context deadline exceeded`);
    return requestOnce<RawResponse>(this.opts.timeoutMs, deadline, (finish) => {
      const opts = dispatchOptions(d, 'POST', { ...d.headers, ...extra });
      const req = (d.secure ? lazyHttps() : http).request(opts, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size >= MAX_TOKEN_RESPONSE) return;
          chunks.push(c);
          size += c.length;
        });
        res.on('end', () =>
          finish(null, {
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).subarray(0, MAX_TOKEN_RESPONSE).toString('utf8'),
          }),
        );
        res.on('error', (e) => finish(new OAuth2Error(`oauth2: cannot fetch token: ${e.message}`, { cause: e })));
      });
      req.on('error', (e) =>
        finish(new OAuth2Error(`oauth2: cannot fetch token: Post "${shown}": ${e.message}`, { cause: e })),
      );
      req.end(body);
      return req;
    });
  }

  private parse(res: RawResponse): Token {
    const failed = res.status < 200 || res.status > 299;
    const [mediaType = ''] = res.contentType.split(';');
    const media = mediaType.trim().toLowerCase();
    let fields: {
      access_token?: unknown;
      token_type?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
      error_uri?: unknown;
    };
    if (media === 'application/x-www-form-urlencoded' || media === 'text/plain') {
      fields = Object.fromEntries(new URLSearchParams(res.body));
    } else {
      try {
        const j: unknown = JSON.parse(res.body);
        fields = j !== null && typeof j === 'object' ? (j as typeof fields) : {};
      } catch (err) {
        if (failed) throw this.statusError(res);
        throw new OAuth2Error(`oauth2: cannot parse json: ${errorMessage(err)}`);
      }
    }
    const code = typeof fields.error === 'string' ? fields.error : '';
    if (code !== '') {
      let msg = `oauth2: ${JSON.stringify(code)}`;
      if (typeof fields.error_description === 'string' && fields.error_description)
        msg += ` ${JSON.stringify(fields.error_description)}`;
      if (typeof fields.error_uri === 'string' && fields.error_uri) msg += ` ${JSON.stringify(fields.error_uri)}`;
      throw new OAuth2Error(msg);
    }
    if (failed) throw this.statusError(res);
    const access = typeof fields.access_token === 'string' ? fields.access_token : '';
    if (access === '') throw new OAuth2Error('oauth2: server response missing access_token');
    const secs = expiresIn(fields.expires_in);
    return {
      header: `${tokenType(typeof fields.token_type === 'string' ? fields.token_type : '')} ${access}`,
      expiry: secs !== 0 ? this.opts.now() + secs * 1000 : 0,
    };
  }

  private statusError(res: RawResponse): OAuth2Error {
    const body = res.body.length > MAX_ERROR_BODY ? res.body.slice(0, MAX_ERROR_BODY) + '…' : res.body;
    return new OAuth2Error(
      `oauth2: cannot fetch token: ${res.status} ${res.statusText}`.trimEnd() +
        (body ? `; response: ${body.trim()}` : ''),
    );
  }
}

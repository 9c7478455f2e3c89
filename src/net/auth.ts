import fsp from 'node:fs/promises';
import type { HttpClientConfig } from '../config/types.ts';
import { OAuth2TokenSource } from './oauth2.ts';

export interface AuthSourceOptions {
  /** User-Agent of OAuth2 token requests. */
  userAgent?: string;
  /** OAuth2 token request deadline. */
  timeoutMs?: number;
}

/**
 * Produces the Authorization header of a scrape, service-discovery or remote-write client. Credentials
 * given inline are fixed; credentials in files are re-read (asynchronously, at most every `recheckMs`)
 * so a rotated token is picked up without a reload; `oauth2` fetches and caches client-credentials
 * tokens (src/net/oauth2.ts). header() rejects when a file cannot be read or no token can be had.
 */
export class AuthSource {
  private readonly cfg: HttpClientConfig;
  private readonly recheckMs: number;
  private readonly opts: AuthSourceOptions;
  private cached: string | undefined;
  private checkedAt = -Infinity;
  private readonly fileBased: boolean;
  private oauth2: OAuth2TokenSource | null = null;

  constructor(cfg: HttpClientConfig, recheckMs = 5000, opts: AuthSourceOptions = {}) {
    this.cfg = cfg;
    this.recheckMs = recheckMs;
    this.opts = opts;
    this.fileBased = Boolean(
      cfg.basicAuth?.passwordFile ||
        cfg.basicAuth?.usernameFile ||
        cfg.authorization?.credentialsFile ||
        cfg.bearerTokenFile,
    );
    if (!this.fileBased) this.cached = build(cfg, () => '');
  }

  /** True when no Authorization header is ever sent. */
  get none(): boolean {
    return !this.fileBased && this.cached === undefined && !this.cfg.oauth2;
  }

  async header(now = Date.now()): Promise<string | undefined> {
    if (this.cfg.oauth2) {
      // Built on first use, so unreadable oauth2 TLS files fail requests (visibly) rather than the caller's setup.
      this.oauth2 ??= new OAuth2TokenSource(this.cfg.oauth2, {
        userAgent: this.opts.userAgent,
        timeoutMs: this.opts.timeoutMs,
        secretRecheckMs: this.recheckMs,
      });
      return this.oauth2.authorization();
    }
    if (!this.fileBased || now - this.checkedAt < this.recheckMs) return this.cached;
    const files = new Map<string, string>();
    for (const f of [
      this.cfg.basicAuth?.passwordFile,
      this.cfg.basicAuth?.usernameFile,
      this.cfg.authorization?.credentialsFile,
      this.cfg.bearerTokenFile,
    ]) {
      if (f) files.set(f, (await fsp.readFile(f, 'utf8')).trim());
    }
    this.cached = build(this.cfg, (f) => files.get(f) ?? '');
    this.checkedAt = now;
    return this.cached;
  }

  /** Drops a cached OAuth2 token, e.g. after the server answered 401 (the next request fetches a new one). */
  invalidate(): void {
    this.oauth2?.invalidate();
  }

  /** Releases the OAuth2 token client's connections. */
  close(): void {
    this.oauth2?.close();
    this.oauth2 = null;
  }
}

function build(cfg: HttpClientConfig, file: (path: string) => string): string | undefined {
  if (cfg.basicAuth) {
    const user = cfg.basicAuth.usernameFile ? file(cfg.basicAuth.usernameFile) : cfg.basicAuth.username;
    const pw = cfg.basicAuth.password
      ? cfg.basicAuth.password.reveal()
      : cfg.basicAuth.passwordFile
        ? file(cfg.basicAuth.passwordFile)
        : '';
    return 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');
  }
  if (cfg.authorization) {
    const cred = cfg.authorization.credentials
      ? cfg.authorization.credentials.reveal()
      : cfg.authorization.credentialsFile
        ? file(cfg.authorization.credentialsFile)
        : '';
    return `${cfg.authorization.type || 'Bearer'} ${cred}`;
  }
  if (cfg.bearerToken) return `Bearer ${cfg.bearerToken.reveal()}`;
  if (cfg.bearerTokenFile) return `Bearer ${file(cfg.bearerTokenFile)}`;
  return undefined;
}

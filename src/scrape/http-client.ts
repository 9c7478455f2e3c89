import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type https from 'node:https';
import type { HttpClientConfig, TlsConfig } from '../config/types.ts';

/**
 * Produces the Authorization header of a scrape or remote-write client. Credentials given inline are
 * fixed; credentials in files are re-read (asynchronously, at most every `recheckMs`) so a rotated
 * token is picked up without a reload.
 */
export class AuthSource {
  private readonly cfg: HttpClientConfig;
  private readonly recheckMs: number;
  private cached: string | undefined;
  private checkedAt = -Infinity;
  private readonly fileBased: boolean;

  constructor(cfg: HttpClientConfig, recheckMs = 5000) {
    this.cfg = cfg;
    this.recheckMs = recheckMs;
    this.fileBased = Boolean(cfg.basicAuth?.passwordFile || cfg.basicAuth?.usernameFile || cfg.authorization?.credentialsFile || cfg.bearerTokenFile);
    if (!this.fileBased) this.cached = build(cfg, () => '');
  }

  /** True when no Authorization header is ever sent. */
  get none(): boolean {
    return !this.fileBased && this.cached === undefined;
  }

  async header(now = Date.now()): Promise<string | undefined> {
    if (!this.fileBased || now - this.checkedAt < this.recheckMs) return this.cached;
    const files = new Map<string, string>();
    for (const f of [this.cfg.basicAuth?.passwordFile, this.cfg.basicAuth?.usernameFile, this.cfg.authorization?.credentialsFile, this.cfg.bearerTokenFile]) {
      if (f) files.set(f, (await fsp.readFile(f, 'utf8')).trim());
    }
    this.cached = build(this.cfg, (f) => files.get(f) ?? '');
    this.checkedAt = now;
    return this.cached;
  }
}

function build(cfg: HttpClientConfig, file: (path: string) => string): string | undefined {
  if (cfg.basicAuth) {
    const user = cfg.basicAuth.usernameFile ? file(cfg.basicAuth.usernameFile) : cfg.basicAuth.username;
    const pw = cfg.basicAuth.password ? cfg.basicAuth.password.reveal() : cfg.basicAuth.passwordFile ? file(cfg.basicAuth.passwordFile) : '';
    return 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');
  }
  if (cfg.authorization) {
    const cred = cfg.authorization.credentials ? cfg.authorization.credentials.reveal() : cfg.authorization.credentialsFile ? file(cfg.authorization.credentialsFile) : '';
    return `${cfg.authorization.type || 'Bearer'} ${cred}`;
  }
  if (cfg.bearerToken) return `Bearer ${cfg.bearerToken.reveal()}`;
  if (cfg.bearerTokenFile) return `Bearer ${file(cfg.bearerTokenFile)}`;
  return undefined;
}

export type TlsClientOptions = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>;

/** TLS options for an agent; read once when the client is built (a reload rebuilds it). */
export function tlsOptions(t: TlsConfig | undefined): TlsClientOptions | undefined {
  if (!t) return undefined;
  const o: TlsClientOptions = {};
  if (t.caFile) o.ca = fs.readFileSync(t.caFile);
  if (t.ca) o.ca = t.ca;
  if (t.certFile) o.cert = fs.readFileSync(t.certFile);
  if (t.cert) o.cert = t.cert;
  if (t.keyFile) o.key = fs.readFileSync(t.keyFile);
  if (t.key) o.key = t.key.reveal();
  if (t.serverName) o.servername = t.serverName;
  if (t.insecureSkipVerify) o.rejectUnauthorized = false;
  return o;
}

import fs from 'node:fs';
import type https from 'node:https';
import type { HttpClientConfig, TlsConfig } from '../config/types.ts';

/** Authorization header for a scrape or remote-write client; credential files are read each call so rotation works. */
export function authHeader(cfg: HttpClientConfig): string | undefined {
  if (cfg.basicAuth) {
    const pw = cfg.basicAuth.password ? cfg.basicAuth.password.reveal() : cfg.basicAuth.passwordFile ? readSecretFile(cfg.basicAuth.passwordFile) : '';
    return 'Basic ' + Buffer.from(`${cfg.basicAuth.username}:${pw}`).toString('base64');
  }
  if (cfg.authorization) {
    const cred = cfg.authorization.credentials ? cfg.authorization.credentials.reveal() : cfg.authorization.credentialsFile ? readSecretFile(cfg.authorization.credentialsFile) : '';
    return `${cfg.authorization.type || 'Bearer'} ${cred}`;
  }
  if (cfg.bearerToken) return `Bearer ${cfg.bearerToken.reveal()}`;
  if (cfg.bearerTokenFile) return `Bearer ${readSecretFile(cfg.bearerTokenFile)}`;
  return undefined;
}

export function scrapeAuthHeaders(cfg: HttpClientConfig): Record<string, string> {
  const a = authHeader(cfg);
  return a ? { Authorization: a } : {};
}

function readSecretFile(file: string): string {
  // Small file read at client setup; secrets files are tiny and rarely change.
  return fs.readFileSync(file, 'utf8').trim();
}

export type TlsClientOptions = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>;

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

import fs from 'node:fs';
import type https from 'node:https';
import type { TlsConfig, TlsVersion } from '../config/types.ts';

/** TLS settings handed to agents and tls.connect; built once per client (a reload rebuilds the client). */
export type TlsClientOptions = Pick<
  https.AgentOptions,
  'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized' | 'minVersion' | 'maxVersion'
>;

const VERSIONS: Readonly<Record<TlsVersion, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

/** TLS options for a client's tls_config; files are read here, synchronously, when the client is built. */
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
  if (t.minVersion) o.minVersion = VERSIONS[t.minVersion];
  if (t.maxVersion) o.maxVersion = VERSIONS[t.maxVersion];
  return o;
}

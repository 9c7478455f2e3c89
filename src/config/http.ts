/**
 * prometheus/common's HTTPClientConfig, which Prometheus inlines into scrape configs, remote_write
 * entries and http_sd_configs. Validation follows HTTPClientConfig.Validate and TLSConfig.Validate
 * (same rules, same order, Prometheus' wording), plus the TLS version order check Prometheus only
 * makes when it builds the client.
 */
import type {
  Authorization,
  BasicAuth,
  HttpClientConfig,
  HttpHeader,
  OAuth2Config,
  ProxyConfig,
  TlsConfig,
  TlsVersion,
} from './types.ts';
import type { Secret } from './secret.ts';
import {
  fieldAt,
  joinPath,
  keyError,
  readBool,
  readMap,
  readPath,
  readSecret,
  readSeq,
  readString,
  readStringList,
  readStringMap,
} from './reader.ts';
import type { Ctx, Field, MapView } from './reader.ts';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const PROXY_KEYS = ['proxy_url', 'no_proxy', 'proxy_from_environment', 'proxy_connect_header'] as const;

/** Keys of the inlined HTTP client block; callers add them to their own known keys. */
export const HTTP_CLIENT_KEYS: readonly string[] = [
  'basic_auth',
  'authorization',
  'oauth2',
  'bearer_token',
  'bearer_token_file',
  'tls_config',
  'follow_redirects',
  'enable_http2',
  ...PROXY_KEYS,
  'http_headers',
];

const TLS_KEYS = [
  'ca',
  'ca_file',
  'cert',
  'cert_file',
  'key',
  'key_file',
  'server_name',
  'insecure_skip_verify',
  'min_version',
  'max_version',
  'next_protos',
  'ca_ref',
  'cert_ref',
  'key_ref',
];
const BASIC_AUTH_KEYS = ['username', 'username_file', 'password', 'password_file', 'username_ref', 'password_ref'];
const AUTHORIZATION_KEYS = ['type', 'credentials', 'credentials_file', 'credentials_ref'];
const OAUTH2_KEYS = [
  'client_id',
  'client_secret',
  'client_secret_file',
  'client_secret_ref',
  'scopes',
  'token_url',
  'endpoint_params',
  'tls_config',
  ...PROXY_KEYS,
];
const HEADER_KEYS = ['values', 'secrets', 'files'];

const TLS_VERSIONS: readonly TlsVersion[] = ['TLS10', 'TLS11', 'TLS12', 'TLS13'];

/** Header names prometheus/common refuses in `http_headers` (compared in canonical form). */
const HTTP_HEADERS_RESERVED = new Set([
  'Authorization',
  'Host',
  'Content-Encoding',
  'Content-Length',
  'Content-Type',
  'User-Agent',
  'Connection',
  'Keep-Alive',
  'Proxy-Authenticate',
  'Proxy-Authorization',
  'Www-Authenticate',
  'Accept-Encoding',
  'X-Prometheus-Remote-Write-Version',
  'X-Prometheus-Remote-Read-Version',
  'X-Prometheus-Scrape-Timeout-Seconds',
  'X-Amz-Date',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
]);

/** Go's http.CanonicalHeaderKey for ASCII names: `x-foo-bar` → `X-Foo-Bar`. */
function canonicalHeaderKey(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

function refUnsupported(key: string): string | undefined {
  return key.endsWith('_ref')
    ? `${key} is not supported by Outpost (it has no secret manager); use the inline or _file form`
    : undefined;
}

/** Reports each of `keys` (all `_ref` forms) that is set: Outpost has no secret manager to resolve it. */
function refuseRefs(ctx: Ctx, m: MapView, p: string, keys: readonly string[]): void {
  for (const k of keys) {
    if (m.has(k)) ctx.error(m.keyNode(k), joinPath(p, k), refUnsupported(k) as string);
  }
}

/** Reports the later of two mutually exclusive fields (the one the user most likely added last). */
function exclusive(ctx: Ctx, m: MapView, keys: readonly string[], message: string): boolean {
  const set = keys.filter((k) => m.has(k) && m.get(k)?.node !== null);
  const k = set.at(-1);
  if (set.length <= 1 || k === undefined) return false;
  keyError(ctx, m, k, message);
  return true;
}

/** Sets out[key] to v when v is set and not empty: an absent or empty setting leaves the key out. */
function setIf<T, K extends keyof T>(out: T, key: K, v: T[K] | undefined): void {
  if (v) out[key] = v;
}

/** A secret set inline (`key`) or in a file (`key_file`), read into out[key] and out[keyFile]. */
type SecretOrFile<K extends string> = { [P in K]?: Secret | undefined } & { [P in `${K}File`]?: string | undefined };

/** Reads a secret given inline or in a file; when both are set, `message` is reported at `key_file`. */
function readSecretOrFile<K extends string>(ctx: Ctx, m: MapView, out: SecretOrFile<K>, key: K, message: string): void {
  // SecretOrFile<K> checks the callers; in here K is just a string.
  const o = out as Record<string, Secret | string>;
  setIf(o, key, readSecret(ctx, m.get(key)));
  setIf(o, `${key}File`, readPath(ctx, m.get(`${key}_file`)));
  exclusive(ctx, m, [key, `${key}_file`], message);
}

export function readUrlString(ctx: Ctx, f: Field | undefined, what: string): string | undefined {
  const s = readString(ctx, f);
  if (s === undefined || !f) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    ctx.error(f.at, f.path, `${JSON.stringify(s)} is not a valid ${what} URL`);
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    ctx.error(
      f.at,
      f.path,
      `${what} URL scheme must be 'http' or 'https', got ${JSON.stringify(u.protocol.replace(/:$/, ''))}`,
    );
    return undefined;
  }
  if (u.host === '') {
    ctx.error(f.at, f.path, `host is missing in ${what} URL ${JSON.stringify(s)}`);
    return undefined;
  }
  return s;
}

function readTlsConfig(ctx: Ctx, f: Field | undefined, p: string): TlsConfig {
  const out: Mutable<TlsConfig> = { insecureSkipVerify: false };
  if (!f) return out;
  const m = readMap(ctx, f, { known: TLS_KEYS, unknown: refUnsupported });
  if (!m) return out;
  refuseRefs(ctx, m, p, ['ca_ref', 'cert_ref', 'key_ref']);
  setIf(out, 'ca', readString(ctx, m.get('ca')));
  setIf(out, 'cert', readString(ctx, m.get('cert')));
  setIf(out, 'key', readSecret(ctx, m.get('key')));
  setIf(out, 'caFile', readPath(ctx, m.get('ca_file')));
  setIf(out, 'certFile', readPath(ctx, m.get('cert_file')));
  setIf(out, 'keyFile', readPath(ctx, m.get('key_file')));
  setIf(out, 'serverName', readString(ctx, m.get('server_name')));
  out.insecureSkipVerify = readBool(ctx, m.get('insecure_skip_verify')) ?? false;
  for (const k of ['min_version', 'max_version'] as const) {
    const f2 = m.get(k);
    const v = readString(ctx, f2);
    if (v === undefined || !f2) continue;
    if (!(TLS_VERSIONS as readonly string[]).includes(v)) {
      ctx.error(f2.at, f2.path, `unknown TLS version: ${v} (expected one of ${TLS_VERSIONS.join(', ')})`);
      continue;
    }
    if (k === 'min_version') out.minVersion = v as TlsVersion;
    else out.maxVersion = v as TlsVersion;
  }
  if (m.has('next_protos')) {
    readStringList(ctx, m.get('next_protos'));
    ctx.warn(m.keyNode('next_protos'), joinPath(p, 'next_protos'), 'next_protos is ignored by Outpost');
  }

  if (exclusive(ctx, m, ['ca', 'ca_file'], 'at most one of ca, ca_file & ca_ref must be configured')) return out;
  if (exclusive(ctx, m, ['cert', 'cert_file'], 'at most one of cert, cert_file & cert_ref must be configured'))
    return out;
  if (exclusive(ctx, m, ['key', 'key_file'], 'at most one of key and key_file must be configured')) return out;
  const usingCert = out.cert !== undefined || out.certFile !== undefined;
  const usingKey = out.key !== undefined || out.keyFile !== undefined;
  if (usingCert && !usingKey) {
    ctx.error(
      fieldAt(m, out.cert !== undefined ? 'cert' : 'cert_file'),
      p,
      'exactly one of key or key_file must be configured when a client certificate is configured',
    );
  } else if (usingKey && !usingCert) {
    ctx.error(
      fieldAt(m, out.key !== undefined ? 'key' : 'key_file'),
      p,
      'exactly one of cert or cert_file must be configured when a client key is configured',
    );
  }
  if (out.minVersion && out.maxVersion && TLS_VERSIONS.indexOf(out.maxVersion) < TLS_VERSIONS.indexOf(out.minVersion)) {
    ctx.error(
      fieldAt(m, 'max_version'),
      joinPath(p, 'max_version'),
      'tls_config.max_version must be greater than or equal to tls_config.min_version if both are specified',
    );
  }
  return out;
}

function readProxy(ctx: Ctx, m: MapView, out: Mutable<ProxyConfig>): void {
  setIf(out, 'proxyUrl', readUrlString(ctx, m.get('proxy_url'), 'proxy'));
  setIf(out, 'noProxy', readString(ctx, m.get('no_proxy')));
  out.proxyFromEnvironment = readBool(ctx, m.get('proxy_from_environment')) ?? false;
  const pch = m.get('proxy_connect_header');
  if (pch) {
    const hm = readMap(ctx, pch);
    if (hm) {
      const headers: Record<string, readonly Secret[]> = {};
      for (const name of hm.keys) {
        const items = readSeq(ctx, hm.get(name) as Field);
        if (!items) continue;
        const vals: Secret[] = [];
        for (const it of items) {
          const s = readSecret(ctx, it);
          if (s) vals.push(s);
        }
        headers[name] = vals;
      }
      if (Object.keys(headers).length > 0) out.proxyConnectHeader = headers;
    }
  }
  const hasProxyUrl = out.proxyUrl !== undefined;
  if (out.proxyConnectHeader && !out.proxyFromEnvironment && !hasProxyUrl) {
    keyError(
      ctx,
      m,
      'proxy_connect_header',
      'if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured',
    );
  } else if (out.proxyFromEnvironment && hasProxyUrl) {
    keyError(ctx, m, 'proxy_url', 'if proxy_from_environment is configured, proxy_url must not be configured');
  } else if (out.proxyFromEnvironment && out.noProxy) {
    keyError(ctx, m, 'no_proxy', 'if proxy_from_environment is configured, no_proxy must not be configured');
  } else if (!hasProxyUrl && out.noProxy && !m.has('proxy_url')) {
    keyError(ctx, m, 'no_proxy', 'if no_proxy is configured, proxy_url must also be configured');
  }
}

function readBasicAuth(ctx: Ctx, f: Field): BasicAuth | undefined {
  const m = readMap(ctx, f, { known: BASIC_AUTH_KEYS, unknown: refUnsupported });
  if (!m) return undefined;
  refuseRefs(ctx, m, f.path, ['username_ref', 'password_ref']);
  const out: Mutable<BasicAuth> = { username: readString(ctx, m.get('username')) ?? '' };
  setIf(out, 'usernameFile', readPath(ctx, m.get('username_file')));
  exclusive(
    ctx,
    m,
    ['username', 'username_file'],
    'at most one of basic_auth username, username_file & username_ref must be configured',
  );
  readSecretOrFile(
    ctx,
    m,
    out,
    'password',
    'at most one of basic_auth password, password_file & password_ref must be configured',
  );
  return out;
}

function readAuthorization(ctx: Ctx, f: Field): Authorization | undefined {
  const m = readMap(ctx, f, { known: AUTHORIZATION_KEYS, unknown: refUnsupported });
  if (!m) return undefined;
  refuseRefs(ctx, m, f.path, ['credentials_ref']);
  const type = (readString(ctx, m.get('type')) ?? '').trim() || 'Bearer';
  const out: Mutable<Authorization> = { type };
  readSecretOrFile(
    ctx,
    m,
    out,
    'credentials',
    'at most one of authorization credentials & credentials_file must be configured',
  );
  if (type.toLowerCase() === 'basic') {
    keyError(ctx, m, 'type', 'authorization type cannot be set to "basic", use "basic_auth" instead');
  }
  return out;
}

function readOAuth2(ctx: Ctx, f: Field): OAuth2Config | undefined {
  const m = readMap(ctx, f, { known: OAUTH2_KEYS, unknown: refUnsupported });
  if (!m) return undefined;
  refuseRefs(ctx, m, f.path, ['client_secret_ref']);
  const out: Mutable<OAuth2Config> = {
    clientId: readString(ctx, m.get('client_id')) ?? '',
    scopes: readStringList(ctx, m.get('scopes')) ?? [],
    tokenUrl: readUrlString(ctx, m.get('token_url'), 'oauth2 token') ?? '',
    endpointParams: {},
    tlsConfig: readTlsConfig(ctx, m.get('tls_config'), joinPath(f.path, 'tls_config')),
    proxyFromEnvironment: false,
  };
  setIf(out, 'clientSecret', readSecret(ctx, m.get('client_secret')));
  setIf(out, 'clientSecretFile', readPath(ctx, m.get('client_secret_file')));
  const ep = readStringMap(ctx, m.get('endpoint_params'));
  if (ep) out.endpointParams = Object.fromEntries([...ep].map(([k, v]) => [k, v.value]));
  readProxy(ctx, m, out);
  if (out.clientId === '') keyError(ctx, m, 'client_id', 'oauth2 client_id must be configured');
  else if (out.tokenUrl === '' && !m.has('token_url'))
    ctx.error(m.at, joinPath(f.path, 'token_url'), 'oauth2 token_url must be configured');
  else
    exclusive(
      ctx,
      m,
      ['client_secret', 'client_secret_file'],
      'at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured',
    );
  return out;
}

function readHttpHeaders(ctx: Ctx, f: Field): Record<string, HttpHeader> | undefined {
  const m = readMap(ctx, f);
  if (!m) return undefined;
  const out: Record<string, HttpHeader> = {};
  for (const name of m.keys) {
    const hf = m.get(name) as Field;
    if (HTTP_HEADERS_RESERVED.has(canonicalHeaderKey(name))) {
      ctx.error(m.keyNode(name), hf.path, `setting header ${JSON.stringify(canonicalHeaderKey(name))} is not allowed`);
      continue;
    }
    const hm = readMap(ctx, hf, { known: HEADER_KEYS });
    if (!hm) continue;
    const secrets: Secret[] = [];
    for (const it of readSeq(ctx, hm.get('secrets') ?? { node: null, at: null, path: '' }) ?? []) {
      const s = readSecret(ctx, it);
      if (s) secrets.push(s);
    }
    out[name] = {
      values: readStringList(ctx, hm.get('values')) ?? [],
      secrets,
      files: (readStringList(ctx, hm.get('files')) ?? []).map((p) => ctx.joinDir(p)),
    };
  }
  return out;
}

/**
 * Reads the HTTP client keys of `m` (the scrape config / remote_write / http_sd mapping itself).
 * `enableHttp2` differs by caller: true for scrapes and SD, false for remote write in head.
 */
export function readHttpClientConfig(
  ctx: Ctx,
  m: MapView,
  defaults: { enableHttp2: boolean },
): Mutable<HttpClientConfig> {
  const out: Mutable<HttpClientConfig> = {
    tlsConfig: readTlsConfig(ctx, m.get('tls_config'), joinPath(m.path, 'tls_config')),
    followRedirects: readBool(ctx, m.get('follow_redirects')) ?? true,
    enableHttp2: readBool(ctx, m.get('enable_http2')) ?? defaults.enableHttp2,
    proxyFromEnvironment: false,
  };
  const ba = m.get('basic_auth');
  setIf(out, 'basicAuth', ba?.node ? readBasicAuth(ctx, ba) : undefined);
  const az = m.get('authorization');
  setIf(out, 'authorization', az?.node ? readAuthorization(ctx, az) : undefined);
  const oa = m.get('oauth2');
  setIf(out, 'oauth2', oa?.node ? readOAuth2(ctx, oa) : undefined);
  const bearerToken = readSecret(ctx, m.get('bearer_token'));
  const bearerTokenFile = readPath(ctx, m.get('bearer_token_file'));
  readProxy(ctx, m, out);
  const hh = m.get('http_headers');
  if (hh?.node) {
    const h = readHttpHeaders(ctx, hh);
    if (h && Object.keys(h).length > 0) out.httpHeaders = h;
  }

  // HTTPClientConfig.Validate, in its order; stop at the first auth conflict like Prometheus.
  const at = (k: string): [ReturnType<typeof fieldAt>, string] => [fieldAt(m, k), joinPath(m.path, k)];
  const bearerKey = bearerTokenFile !== undefined ? 'bearer_token_file' : 'bearer_token';
  const hasBearer = bearerToken !== undefined || bearerTokenFile !== undefined;
  if (bearerToken !== undefined && bearerTokenFile !== undefined) {
    ctx.error(...at('bearer_token_file'), 'at most one of bearer_token & bearer_token_file must be configured');
  } else if ((out.basicAuth || out.oauth2) && hasBearer) {
    ctx.error(
      ...at(bearerKey),
      'at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured',
    );
  } else if (out.authorization && hasBearer) {
    ctx.error(...at(bearerKey), 'authorization is not compatible with bearer_token & bearer_token_file');
  } else if (out.authorization && (out.basicAuth || out.oauth2)) {
    ctx.error(...at('authorization'), 'at most one of basic_auth, oauth2 & authorization must be configured');
  } else if (out.oauth2 && out.basicAuth) {
    ctx.error(...at('oauth2'), 'at most one of basic_auth, oauth2 & authorization must be configured');
  } else if (!out.authorization && hasBearer) {
    // Prometheus rewrites the deprecated fields into `authorization`; readers see one form only.
    out.authorization =
      bearerToken !== undefined
        ? { type: 'Bearer', credentials: bearerToken }
        : { type: 'Bearer', credentialsFile: bearerTokenFile as string };
  }
  return out;
}

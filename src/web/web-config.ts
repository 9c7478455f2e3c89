/**
 * `--web.config.file`: TLS, client certificates, response headers and basic auth for the HTTP surface,
 * in the format of Prometheus' exporter-toolkit (the file Prometheus 2.42 reads with the same flag).
 *
 * Behaviour kept from exporter-toolkit:
 * - unknown keys, bad enum values, non-bcrypt hashes, unreadable or mismatched cert/key files are
 *   errors at startup, each naming the file, the position and the field;
 * - the file is read again for every request (headers, users) and every new TLS connection (TLS
 *   settings, cert, key and CA files), so edits apply without a restart. Reads are asynchronous and
 *   coalesced, and nothing is re-parsed or rebuilt unless the bytes changed;
 * - successful and failed (user, hash, password) checks are cached, so a hot /metrics scrape costs one
 *   bcrypt per credential, not one per request. Cache keys are an HMAC under a per-process random key,
 *   so no plaintext password is kept.
 *
 * Where Node cannot do what Go does, the behaviour is documented on the field (see TlsServerSettings).
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import type tls from 'node:tls';
import { formatIssue } from '../config/errors.ts';
import {
  Ctx,
  fieldAt,
  parseGoYaml,
  readBool,
  readMap,
  readString,
  readStringItems,
  readStringMap,
} from '../config/reader.ts';
import type { Field } from '../config/reader.ts';
import { Secret } from '../config/secret.ts';
import type { ConfigIssue } from '../config/types.ts';
import { OutpostError, errorMessage } from '../util/errors.ts';
import { lazyCrypto, lazyTls } from '../util/lazy-builtin.ts';

/** An invalid or unreadable web config file. The message names the file (and line and field when known). */
export class WebConfigError extends OutpostError {
  readonly file: string;
  readonly issues: readonly ConfigIssue[];

  constructor(file: string, issues: readonly ConfigIssue[]) {
    super(
      'OUTPOST_WEB_CONFIG_INVALID',
      `invalid web config file (--web.config.file): ${issues.map(formatIssue).join('; ')}`,
    );
    this.file = file;
    this.issues = Object.freeze([...issues]);
  }

  static at(file: string, field: string, message: string): WebConfigError {
    return new WebConfigError(file, [{ file, line: 0, column: 0, path: field, message }]);
  }
}

const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS: Readonly<Record<string, tls.SecureVersion>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};
const VERSION_ORDER: readonly tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * The cipher suites Go's tls.CipherSuites() names (the ones exporter-toolkit accepts), with OpenSSL's
 * name for each. TLS 1.3 suites map to null: Go accepts them but cannot configure TLS 1.3, so neither
 * do we (TLS 1.3 always uses OpenSSL's defaults).
 */
const CIPHER_SUITES: Readonly<Record<string, string | null>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};

/** Node disables TLS 1.3 when a cipher list names no TLS 1.3 suite, so these keep it on (Node's default order). */
const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

const CURVES: Readonly<Record<string, string>> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

/**
 * exporter-toolkit's allow-list: only these response headers may be set, some only to given values
 * (names match exactly, as Go's map lookup does).
 */
const EXTRA_HEADERS: Readonly<Record<string, readonly string[] | null>> = {
  'Strict-Transport-Security': null,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': null,
  'Content-Security-Policy': null,
};

/** `tls_server_config`, validated; file paths already resolved against the config file's directory. */
export interface TlsServerSettings {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientAuthType: ClientAuthType;
  /** '' = none: certificates are verified against Node's bundled root CAs (Go uses the system roots). */
  readonly clientCaFile: string;
  readonly minVersion: tls.SecureVersion;
  readonly maxVersion: tls.SecureVersion;
  /** Go names as written; TLS 1.3 names are accepted and have no effect (as in Go). */
  readonly cipherSuites: readonly string[];
  /** The OpenSSL cipher string for them, or undefined for Node's defaults. */
  readonly ciphers: string | undefined;
  /** Maps to Node's honorCipherOrder (Go >= 1.17 ignores the setting; OpenSSL still honours it). */
  readonly preferServerCipherSuites: boolean;
  /** Go names as written (CurveP256, CurveP384, CurveP521, X25519). */
  readonly curvePreferences: readonly string[];
  /** Colon-separated OpenSSL group names for them, or undefined for Node's default ('auto'). */
  readonly ecdhCurve: string | undefined;
  /**
   * A presented client certificate must carry one of these SANs (DNS, email, IP, URI; exact match).
   * Needs a client_auth_type other than NoClientCert; a connection without a certificate is refused.
   * Empty = no restriction. (Prometheus 2.42's exporter-toolkit does not know this key; later ones do.)
   */
  readonly clientAllowedSans: readonly string[];
}

export interface WebConfig {
  readonly file: string;
  /** null = plain HTTP: no cert_file, key_file, client_auth_type or client_ca_file given. */
  readonly tls: TlsServerSettings | null;
  /** Accepted for compatibility; Outpost serves HTTP/1.1 (over TLS it offers only http/1.1 via ALPN). */
  readonly http2: boolean;
  /** Response headers set on every response, including 401s. */
  readonly headers: readonly (readonly [string, string])[];
  /** User name → bcrypt hash. Empty = no authentication. */
  readonly users: ReadonlyMap<string, Secret>;
}

const TOP_KEYS = ['tls_server_config', 'http_server_config', 'basic_auth_users'];
const TLS_KEYS = [
  'cert_file',
  'key_file',
  'client_auth_type',
  'client_ca_file',
  'cipher_suites',
  'curve_preferences',
  'min_version',
  'max_version',
  'prefer_server_cipher_suites',
  'client_allowed_sans',
];
const HTTP_KEYS = ['http2', 'headers'];

/** The shapes bcryptjs can check ($2a$, $2b$, $2y$, cost 04-31); Go's bcrypt.Cost accepts the same in practice. */
const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/**
 * Parses and validates the file's text (no file access: cert and key files are checked when the TLS material
 * is built).
 */
export function parseWebConfig(text: string, file: string): WebConfig {
  const issues: ConfigIssue[] = [];
  const { doc, lc } = parseGoYaml(text);
  if (doc.errors.length > 0) {
    throw new WebConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        // Messages are kept without the source excerpt: the file holds password hashes.
        return {
          file,
          line: pos.line,
          column: pos.col,
          path: '',
          message: `YAML syntax error: ${e.message.replace(/ at line \d+, column \d+[\s\S]*$/, '').trim()}`,
        };
      }),
    );
  }
  const ctx = new Ctx(file, doc, lc, issues, [], {});
  const root = readMap(ctx, ctx.root(), { known: TOP_KEYS });

  let tlsSettings: TlsServerSettings | null = null;
  let http2 = true;
  const headers: [string, string][] = [];
  const users = new Map<string, Secret>();
  if (root) {
    const t = root.get('tls_server_config');
    if (t) tlsSettings = readTls(ctx, t);
    const h = root.get('http_server_config');
    if (h) {
      const m = readMap(ctx, h, { known: HTTP_KEYS });
      if (m) {
        http2 = readBool(ctx, m.get('http2')) ?? true;
        for (const [name, { value, field, keyNode }] of readStringMap(ctx, m.get('headers')) ?? []) {
          const allowed = EXTRA_HEADERS[name];
          if (allowed === undefined || !Object.hasOwn(EXTRA_HEADERS, name)) {
            ctx.error(
              keyNode,
              field.path,
              `HTTP header ${JSON.stringify(name)} can not be configured ` +
                `(allowed: ${Object.keys(EXTRA_HEADERS).join(', ')})`,
            );
          } else if (allowed !== null && !allowed.includes(value)) {
            ctx.error(
              field.at,
              field.path,
              `invalid value for ${name}: ` +
                `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`,
            );
          } else if (/[\r\n\0]/.test(value)) {
            ctx.error(field.at, field.path, 'header values must not contain line breaks');
          } else headers.push([name, value]);
        }
      }
    }
    for (const [user, { value, field }] of readStringMap(ctx, root.get('basic_auth_users')) ?? []) {
      // The value is a secret: never echo it, even when it is malformed.
      const m = BCRYPT_HASH.exec(value);
      if (!m)
        ctx.error(
          field.at,
          field.path,
          'not a bcrypt hash (expected $2a$, $2b$ or $2y$ followed by a two-digit cost and 53 characters)',
        );
      else if (Number(m[1]) < 4 || Number(m[1]) > 31)
        ctx.error(field.at, field.path, `bcrypt cost ${m[1]} is outside 4..31`);
      else users.set(user, new Secret(value));
    }
  }
  if (issues.length > 0) throw new WebConfigError(file, issues);
  return Object.freeze({ file, tls: tlsSettings, http2, headers: Object.freeze(headers), users });
}

function readTls(ctx: Ctx, f: Field): TlsServerSettings | null {
  const m = readMap(ctx, f, { known: TLS_KEYS });
  if (!m) return null;
  const str = (k: string) => readString(ctx, m.get(k)) ?? '';
  const certFile = str('cert_file');
  const keyFile = str('key_file');
  const clientAuthRaw = str('client_auth_type');
  const clientCaFile = str('client_ca_file');

  const version = (k: string, dflt: tls.SecureVersion): tls.SecureVersion => {
    const v = readString(ctx, m.get(k));
    if (v === undefined) return dflt;
    const out = TLS_VERSIONS[v];
    if (!out || !Object.hasOwn(TLS_VERSIONS, v)) {
      ctx.error(
        fieldAt(m, k),
        m.get(k)?.path ?? k,
        `unknown TLS version ${JSON.stringify(v)} (known: ${Object.keys(TLS_VERSIONS).join(', ')})`,
      );
      return dflt;
    }
    return out;
  };
  const minVersion = version('min_version', 'TLSv1.2');
  const maxVersion = version('max_version', 'TLSv1.3');

  const cipherSuites: string[] = [];
  const tls12: string[] = [];
  for (const { value, field } of readStringItems(ctx, m.get('cipher_suites')) ?? []) {
    const ossl = CIPHER_SUITES[value];
    if (ossl === undefined || !Object.hasOwn(CIPHER_SUITES, value)) {
      ctx.error(field.at, field.path, `unknown cipher ${JSON.stringify(value)}`);
      continue;
    }
    cipherSuites.push(value);
    if (ossl !== null) tls12.push(ossl);
  }
  const curvePreferences: string[] = [];
  const groups: string[] = [];
  for (const { value, field } of readStringItems(ctx, m.get('curve_preferences')) ?? []) {
    const g = CURVES[value];
    if (g === undefined || !Object.hasOwn(CURVES, value)) {
      ctx.error(
        field.at,
        field.path,
        `unknown curve ${JSON.stringify(value)} (known: ${Object.keys(CURVES).join(', ')})`,
      );
      continue;
    }
    curvePreferences.push(value);
    groups.push(g);
  }
  const preferServerCipherSuites = readBool(ctx, m.get('prefer_server_cipher_suites')) ?? true;
  const clientAllowedSans = (readStringItems(ctx, m.get('client_allowed_sans')) ?? []).map((i) => i.value);

  // exporter-toolkit: TLS is on as soon as any of these four is set; other keys alone leave plain HTTP.
  if (certFile === '' && keyFile === '' && clientAuthRaw === '' && clientCaFile === '') return null;
  const at = (k: string) => fieldAt(m, k) ?? f.at;
  const p = (k: string) => `${f.path}.${k}`;
  if (certFile === '') ctx.error(f.at, p('cert_file'), 'missing cert_file (TLS needs both cert_file and key_file)');
  if (keyFile === '') ctx.error(f.at, p('key_file'), 'missing key_file (TLS needs both cert_file and key_file)');
  let clientAuthType: ClientAuthType = 'NoClientCert';
  if (clientAuthRaw === 'RequireClientCert')
    clientAuthType = 'RequireAnyClientCert'; // old spelling Go still accepts
  else if ((CLIENT_AUTH_TYPES as readonly string[]).includes(clientAuthRaw))
    clientAuthType = clientAuthRaw as ClientAuthType;
  else if (clientAuthRaw !== '')
    ctx.error(
      at('client_auth_type'),
      p('client_auth_type'),
      `invalid client_auth_type ${JSON.stringify(clientAuthRaw)} (one of ${CLIENT_AUTH_TYPES.join(', ')})`,
    );
  if (clientCaFile !== '' && clientAuthType === 'NoClientCert')
    ctx.error(
      at('client_ca_file'),
      p('client_ca_file'),
      'client_ca_file is set but client_auth_type is NoClientCert: set a client_auth_type that requests certificates',
    );
  // Go silently skips the SAN check when it never asks for a certificate; an ignored access rule is worse
  // than an error.
  if (clientAllowedSans.length > 0 && clientAuthType === 'NoClientCert')
    ctx.error(
      at('client_allowed_sans'),
      p('client_allowed_sans'),
      'client_allowed_sans needs a client_auth_type that requests client certificates',
    );
  if (VERSION_ORDER.indexOf(minVersion) > VERSION_ORDER.indexOf(maxVersion))
    ctx.error(at('min_version'), p('min_version'), 'min_version is above max_version: no TLS version is left');

  return Object.freeze({
    certFile: ctx.joinDir(certFile),
    keyFile: ctx.joinDir(keyFile),
    clientAuthType,
    clientCaFile: ctx.joinDir(clientCaFile),
    minVersion,
    maxVersion,
    cipherSuites: Object.freeze(cipherSuites),
    ciphers: cipherSuites.length > 0 ? [...tls12, TLS13_SUITES].join(':') : undefined,
    preferServerCipherSuites,
    curvePreferences: Object.freeze(curvePreferences),
    ecdhCurve: groups.length > 0 ? groups.join(':') : undefined,
    clientAllowedSans: Object.freeze(clientAllowedSans.map(normalizeSan)),
  });
}

// ---------------------------------------------------------------------------------------------
// TLS material

/** What a new TLS connection needs, built from the settings and the files as they are now. */
export interface TlsMaterial {
  readonly settings: TlsServerSettings;
  /**
   * A TLS server that never listens: inject accepted sockets with `emit('connection', socket)`; those
   * whose handshake passes come out of its 'secureConnection' event (failures: 'tlsClientError').
   * Offers only http/1.1 via ALPN.
   */
  readonly server: tls.Server;
  /**
   * Checks a completed handshake against what OpenSSL cannot enforce for us (a required but unverified
   * certificate, a verified-if-given certificate that failed, allowed SANs). Returns why the client is
   * refused, or null.
   */
  admit(socket: tls.TLSSocket): string | null;
}

interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | null;
}

async function readTlsFile(file: string, field: string, p: string): Promise<Buffer> {
  try {
    return await fs.readFile(p);
  } catch (err) {
    throw WebConfigError.at(
      file,
      `tls_server_config.${field}`,
      `cannot read ${JSON.stringify(p)}: ${errorMessage(err)}`,
    );
  }
}

async function readTlsFiles(file: string, s: TlsServerSettings): Promise<TlsFiles> {
  const [cert, key, ca] = await Promise.all([
    readTlsFile(file, 'cert_file', s.certFile),
    readTlsFile(file, 'key_file', s.keyFile),
    s.clientCaFile !== '' ? readTlsFile(file, 'client_ca_file', s.clientCaFile) : Promise.resolve(null),
  ]);
  return { cert, key, ca };
}

function buildTlsMaterial(file: string, s: TlsServerSettings, f: TlsFiles, handshakeTimeoutMs: number): TlsMaterial {
  if (f.ca && !/-----BEGIN CERTIFICATE-----/.test(f.ca.toString('latin1'))) {
    throw WebConfigError.at(
      file,
      'tls_server_config.client_ca_file',
      `${JSON.stringify(s.clientCaFile)} contains no PEM certificate`,
    );
  }
  const mode = s.clientAuthType;
  let server: tls.Server;
  try {
    server = lazyTls().createServer({
      cert: f.cert,
      key: f.key,
      ca: f.ca ?? undefined,
      minVersion: s.minVersion,
      maxVersion: s.maxVersion,
      ciphers: s.ciphers,
      ecdhCurve: s.ecdhCurve,
      honorCipherOrder: s.preferServerCipherSuites,
      // OpenSSL refuses a handshake without a certificate only with both set; admit() does the rest.
      requestCert: mode !== 'NoClientCert',
      rejectUnauthorized: mode === 'RequireAndVerifyClientCert',
      ALPNProtocols: ['http/1.1'],
      handshakeTimeout: handshakeTimeoutMs,
    });
  } catch (err) {
    // OpenSSL's reason is enough to tell a bad PEM from a cert/key mismatch or an unusable cipher list.
    throw WebConfigError.at(
      file,
      'tls_server_config',
      `cannot use cert_file ${JSON.stringify(s.certFile)} with key_file ${JSON.stringify(s.keyFile)} ` +
        `and these settings: ${errorMessage(err)}`,
    );
  }
  const allowed = s.clientAllowedSans;
  return Object.freeze({
    settings: s,
    server,
    admit(socket: tls.TLSSocket): string | null {
      if (mode === 'NoClientCert') return null;
      const peer = socket.getPeerCertificate();
      const hasCert = peer !== null && typeof peer === 'object' && Buffer.isBuffer(peer.raw);
      if (!hasCert) {
        if (mode === 'RequireAnyClientCert' || mode === 'RequireAndVerifyClientCert')
          return 'client certificate required';
        if (allowed.length > 0) return 'client certificate required (client_allowed_sans is set)';
        return null;
      }
      if ((mode === 'VerifyClientCertIfGiven' || mode === 'RequireAndVerifyClientCert') && !socket.authorized) {
        return `client certificate not verified: ${String(socket.authorizationError ?? 'unknown reason')}`;
      }
      if (allowed.length > 0) {
        const sans = subjectAltNames(peer.subjectaltname ?? '');
        if (!sans.some((v) => allowed.includes(v)))
          return `client certificate has none of the allowed SANs (it has: ${sans.join(', ') || 'none'})`;
      }
      return null;
    },
  });
}

/** Node's own default for tls.Server. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000;

/**
 * SAN values of a certificate as Node formats them (`DNS:a, IP Address:10.0.0.1, email:x@y, URI:u`;
 * values with special characters are JSON-quoted), in Go's canonical spellings.
 */
export function subjectAltNames(formatted: string): string[] {
  const out: string[] = [];
  const re = /(DNS|IP Address|email|URI):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(formatted); m !== null; m = re.exec(formatted)) {
    if (m[0] === '') re.lastIndex++;
    const [, kind, raw] = m;
    if (kind === undefined || raw === undefined) continue;
    let v = raw;
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        continue;
      }
    }
    out.push(kind === 'IP Address' ? normalizeSan(v) : v);
  }
  return out;
}

/** IPv6 in its compressed lower-case form (Go's net.IP.String), so `::1` matches `0:0:0:0:0:0:0:1`. */
function normalizeSan(v: string): string {
  if (net.isIPv6(v)) {
    try {
      return new URL(`http://[${v}]/`).hostname.slice(1, -1);
    } catch {
      return v;
    }
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Basic auth

/**
 * A bcrypt hash (cost 10) of a random string, compared against for unknown users so that a wrong user
 * name costs as much time as a wrong password (no user enumeration by timing).
 */
const UNKNOWN_USER_HASH = '$2b$10$8ntU7fkyCHVgmG5kx1IG5e9ckp3dwy9LzvWNwczfXQ/5H9GGexSNy';

/** Go's Request.BasicAuth: `Basic ` (any case), strict base64, user before the first colon. */
export function parseBasicAuth(header: string | undefined): { user: Buffer; password: Buffer } | null {
  if (header === undefined || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const b64 = header.slice(6);
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  const raw = Buffer.from(b64, 'base64');
  const colon = raw.indexOf(0x3a);
  if (colon < 0) return null;
  return { user: raw.subarray(0, colon), password: raw.subarray(colon + 1) };
}

export interface BasicAuthOptions {
  /** Cached results kept; the oldest tenth is dropped when full. Default 100 (exporter-toolkit's size). */
  readonly cacheSize?: number;
  /** Injected for tests; defaults to bcryptjs' asynchronous compare. */
  readonly compare?: (password: string, hash: string) => Promise<boolean>;
}

/** bcryptjs imports crypto when it loads, so it loads with the first password check. */
async function bcryptCompare(password: string, hash: string): Promise<boolean> {
  const { default: bcrypt } = await import('bcryptjs');
  return bcrypt.compare(password, hash);
}

/**
 * Checks `Authorization` headers against bcrypt hashes. bcrypt runs through bcryptjs' asynchronous
 * compare, one at a time (as exporter-toolkit serialises it), identical concurrent checks share one
 * run, and every result is cached under HMAC-SHA256(user, hash, password).
 */
export class BasicAuthChecker {
  private readonly cache = new Map<string, boolean>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  /** Made on the first check with users: crypto (and bcryptjs) stay unloaded without basic auth. */
  private hmacKey: Buffer | null = null;
  private readonly cacheSize: number;
  private readonly compare: (password: string, hash: string) => Promise<boolean>;
  private queue: Promise<unknown> = Promise.resolve();
  /** bcrypt comparisons run so far (cache misses), for tests and diagnostics. */
  bcryptRuns = 0;

  constructor(opts: BasicAuthOptions = {}) {
    this.cacheSize = Math.max(1, opts.cacheSize ?? 100);
    this.compare = opts.compare ?? bcryptCompare;
  }

  /** True when no users are configured or the header carries a known user with the right password. */
  async check(users: ReadonlyMap<string, Secret>, authorization: string | undefined): Promise<boolean> {
    if (users.size === 0) return true;
    const creds = parseBasicAuth(authorization);
    if (!creds) return false;
    const user = creds.user.toString('utf8');
    const password = creds.password.toString('utf8');
    // Bytes that are not UTF-8 cannot be handed to bcryptjs faithfully: refuse rather than guess.
    if (!Buffer.from(user, 'utf8').equals(creds.user) || !Buffer.from(password, 'utf8').equals(creds.password))
      return false;
    const secret = users.get(user);
    const hash = secret ? secret.reveal() : UNKNOWN_USER_HASH;
    const key = this.cacheKey(creds.user, hash, creds.password);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached && secret !== undefined;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.run(password, hash).then((ok) => {
        this.remember(key, ok);
        this.inflight.delete(key);
        return ok;
      });
      this.inflight.set(key, pending);
    }
    return (await pending) && secret !== undefined;
  }

  private run(password: string, hash: string): Promise<boolean> {
    const next = this.queue
      .then(() => {
        this.bcryptRuns++;
        return this.compare(password, hash);
      })
      .catch(() => false);
    this.queue = next;
    return next;
  }

  private cacheKey(user: Buffer, hash: string, password: Buffer): string {
    const crypto = lazyCrypto();
    this.hmacKey ??= crypto.randomBytes(32);
    const h = crypto.createHmac('sha256', this.hmacKey);
    // Length prefixes keep (user, hash, password) triples from colliding by shifting bytes between parts.
    for (const part of [user, Buffer.from(hash), password]) {
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(part.length);
      h.update(len);
      h.update(part);
    }
    return h.digest('base64');
  }

  private remember(key: string, ok: boolean): void {
    if (this.cache.size >= this.cacheSize) {
      let drop = Math.max(1, Math.floor(this.cache.size / 10));
      for (const k of this.cache.keys()) {
        this.cache.delete(k);
        if (--drop === 0) break;
      }
    }
    this.cache.set(key, ok);
  }

  /** Entries cached now. */
  get cached(): number {
    return this.cache.size;
  }
}

// ---------------------------------------------------------------------------------------------
// The live file

/**
 * Runs `load` for callers that arrive while nothing runs; later callers share one run started after the
 * current one.
 */
class FreshLoader<T> {
  private running: Promise<T> | null = null;
  private next: Promise<T> | null = null;
  private readonly load: () => Promise<T>;

  constructor(load: () => Promise<T>) {
    this.load = load;
  }

  get(): Promise<T> {
    if (this.next) return this.next;
    if (!this.running) return (this.running = this.start());
    // The running read may predate the caller's request (and an edit just made): wait for a newer one.
    const after = this.running;
    this.next = after.then(noop, noop).then(() => {
      this.next = null;
      return (this.running = this.start());
    });
    return this.next;
  }

  private start(): Promise<T> {
    const p: Promise<T> = this.load().finally(() => {
      if (this.running === p) this.running = null;
    });
    return p;
  }
}

const noop = (): void => {};

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * The web config file as it is on disk now. Every call reads the file again (asynchronously, coalesced
 * with concurrent callers); text that did not change is not parsed again, and TLS files that did not
 * change do not rebuild the secure context.
 */
export class WebConfigSource {
  readonly file: string;
  readonly auth: BasicAuthChecker;
  private readonly loader: FreshLoader<WebConfig>;
  private lastText: Buffer | null = null;
  private lastOutcome: Outcome<WebConfig> | null = null;
  private tlsCache: { settings: TlsServerSettings; files: TlsFiles; material: TlsMaterial } | null = null;

  private readonly handshakeTimeoutMs: number;

  constructor(file: string, opts: { auth?: BasicAuthChecker; handshakeTimeoutMs?: number } = {}) {
    this.file = file;
    this.auth = opts.auth ?? new BasicAuthChecker();
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.loader = new FreshLoader(() => this.read());
  }

  /** The config as the file says now. Throws WebConfigError when it cannot be read or is invalid. */
  current(): Promise<WebConfig> {
    return this.loader.get();
  }

  /**
   * Startup check (Prometheus' toolkit_web.Validate): the file parses and, when TLS is on, the cert,
   * key and CA files load and fit together. Throws WebConfigError naming the file.
   */
  async validate(): Promise<WebConfig> {
    const cfg = await this.current();
    if (cfg.tls) await this.tlsMaterial(cfg);
    return cfg;
  }

  /**
   * TLS for a new connection, from the current file (or `cfg` when the caller just read it); null when
   * the file has no TLS settings any more. Throws WebConfigError.
   */
  async tlsMaterial(cfg?: WebConfig): Promise<TlsMaterial | null> {
    const c = cfg ?? (await this.current());
    const s = c.tls;
    if (!s) return null;
    const files = await readTlsFiles(this.file, s);
    const hit = this.tlsCache;
    if (
      hit &&
      sameSettings(hit.settings, s) &&
      hit.files.cert.equals(files.cert) &&
      hit.files.key.equals(files.key) &&
      sameBuf(hit.files.ca, files.ca)
    ) {
      return hit.material;
    }
    const material = buildTlsMaterial(this.file, s, files, this.handshakeTimeoutMs);
    this.tlsCache = { settings: s, files, material };
    return material;
  }

  private async read(): Promise<WebConfig> {
    let text: Buffer;
    try {
      text = await fs.readFile(this.file);
    } catch (err) {
      throw WebConfigError.at(this.file, '', `cannot read: ${errorMessage(err)}`);
    }
    let out = this.lastOutcome;
    if (!out || !this.lastText?.equals(text)) {
      try {
        out = { ok: true, value: parseWebConfig(text.toString('utf8'), this.file) };
      } catch (err) {
        out = { ok: false, error: err };
      }
      this.lastText = text;
      this.lastOutcome = out;
    }
    if (out.ok) return out.value;
    throw out.error;
  }
}

function sameBuf(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

function sameSettings(a: TlsServerSettings, b: TlsServerSettings): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

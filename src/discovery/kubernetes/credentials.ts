/**
 * Where the API server is and how to authenticate to it, in the three ways kubernetes_sd_configs
 * allows (kubernetes.go New): `api_server` with the inlined HTTP client config, a `kubeconfig_file`
 * (its current context), or in-cluster (the pod's service account, rest.InClusterConfig).
 *
 * Every way ends as an HttpClientConfig, so the request path is the one scrapes use: a token or
 * credential given as a file is re-read (AuthSource, every 5 s), which is how a rotated
 * service-account token (projected volumes rotate it hourly) is picked up without a restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Secret } from '../../config/secret.ts';
import type { HttpClientConfig, KubernetesSdConfig, TlsConfig } from '../../config/types.ts';
import { errorMessage } from '../../util/errors.ts';
import { DiscoveryError } from '../discoverer.ts';

/** The service-account files every pod gets (unless automountServiceAccountToken is off). */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ApiEndpoint {
  /** Base URL of the API server, without a trailing slash. */
  readonly server: string;
  readonly http: HttpClientConfig;
  /** The pod's own namespace, read when namespaces.own_namespace asks for it. */
  readonly ownNamespace: string;
}

/** Where in-cluster credentials come from; tests point it at a temporary directory. */
export interface InClusterSource {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
}

const NO_AUTH: Omit<HttpClientConfig, 'tlsConfig'> = {
  followRedirects: true,
  enableHttp2: true,
  proxyFromEnvironment: false,
};

/** Resolves the endpoint of one SD config; throws DiscoveryError naming what is missing. */
export function resolveEndpoint(
  c: KubernetesSdConfig,
  inCluster: InClusterSource = { dir: SERVICE_ACCOUNT_DIR, env: process.env },
): ApiEndpoint {
  if (c.kubeconfigFile !== undefined) return fromKubeconfig(c.kubeconfigFile);
  if (c.apiServer !== undefined) return { server: c.apiServer.replace(/\/+$/, ''), http: c, ownNamespace: '' };
  return fromInCluster(c, inCluster);
}

function fromInCluster(c: KubernetesSdConfig, src: InClusterSource): ApiEndpoint {
  const host = src.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = src.env.KUBERNETES_SERVICE_PORT ?? '';
  if (host === '' || port === '') {
    throw new DiscoveryError(
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be ' +
        'defined (not running in a pod? set api_server or kubeconfig_file)',
    );
  }
  const tokenFile = path.join(src.dir, 'token');
  const caFile = path.join(src.dir, 'ca.crt');
  for (const f of [tokenFile, caFile]) {
    try {
      fs.accessSync(f, fs.constants.R_OK);
    } catch (err) {
      throw new DiscoveryError(`unable to load in-cluster configuration: ${errorMessage(err)}`, { cause: err });
    }
  }
  let ownNamespace = '';
  if (c.namespaces.ownNamespace) {
    try {
      ownNamespace = fs.readFileSync(path.join(src.dir, 'namespace'), 'utf8').trim();
    } catch (err) {
      throw new DiscoveryError(`could not determine the pod's namespace: ${errorMessage(err)}`, { cause: err });
    }
    if (ownNamespace === '') throw new DiscoveryError('could not read own namespace name (empty file)');
  }
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${h}:${port}`,
    http: {
      ...NO_AUTH,
      authorization: { type: 'Bearer', credentialsFile: tokenFile },
      tlsConfig: { caFile, insecureSkipVerify: false },
    },
    ownNamespace,
  };
}

type Json = Readonly<Record<string, unknown>>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function named(list: unknown, name: string, what: string, file: string): Json {
  for (const e of Array.isArray(list) ? list : []) {
    const o = obj(e);
    if (o.name === name) return obj(o[what]);
  }
  throw new DiscoveryError(`kubeconfig ${file}: ${what} ${JSON.stringify(name)} not found`);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * The current context of a kubeconfig file (clientcmd.BuildConfigFromFlags with an explicit path):
 * its cluster's server, CA and TLS settings, and its user's token, token file, client certificate
 * or basic credentials. Relative paths are resolved against the file's directory, as kubectl does.
 * exec plugins and auth providers need programs or cloud SDKs Outpost does not run; they are refused.
 */
export function fromKubeconfig(file: string): ApiEndpoint {
  let doc: Json;
  try {
    doc = obj(parseYaml(fs.readFileSync(file, 'utf8')));
  } catch (err) {
    throw new DiscoveryError(`kubeconfig ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const dir = path.dirname(file);
  const rel = (p: string): string => (p === '' || path.isAbsolute(p) ? p : path.join(dir, p));
  const current = str(doc['current-context']);
  if (current === '') throw new DiscoveryError(`kubeconfig ${file}: no current-context`);
  const context = named(doc.contexts, current, 'context', file);
  const cluster = named(doc.clusters, str(context.cluster), 'cluster', file);
  const user = context.user === undefined ? {} : named(doc.users, str(context.user), 'user', file);
  const server = str(cluster.server);
  if (server === '')
    throw new DiscoveryError(`kubeconfig ${file}: cluster ${JSON.stringify(context.cluster)} has no server`);
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new DiscoveryError(
      `kubeconfig ${file}: user ${JSON.stringify(context.user)} authenticates with an exec plugin or auth provider, ` +
        'which Outpost does not support; use a token, tokenFile or client certificate',
    );
  }
  const b64 = (v: unknown): string => Buffer.from(str(v), 'base64').toString('utf8');
  const tls: { -readonly [K in keyof TlsConfig]: TlsConfig[K] } = {
    insecureSkipVerify: cluster['insecure-skip-tls-verify'] === true,
  };
  if (cluster['certificate-authority-data'] !== undefined) tls.ca = b64(cluster['certificate-authority-data']);
  else if (str(cluster['certificate-authority']) !== '') tls.caFile = rel(str(cluster['certificate-authority']));
  if (str(cluster['tls-server-name']) !== '') tls.serverName = str(cluster['tls-server-name']);
  if (user['client-certificate-data'] !== undefined) tls.cert = b64(user['client-certificate-data']);
  else if (str(user['client-certificate']) !== '') tls.certFile = rel(str(user['client-certificate']));
  if (user['client-key-data'] !== undefined) tls.key = new Secret(b64(user['client-key-data']));
  else if (str(user['client-key']) !== '') tls.keyFile = rel(str(user['client-key']));
  const http: { -readonly [K in keyof HttpClientConfig]: HttpClientConfig[K] } = { ...NO_AUTH, tlsConfig: tls };
  if (str(user.token) !== '') http.authorization = { type: 'Bearer', credentials: new Secret(str(user.token)) };
  else if (str(user.tokenFile) !== '')
    http.authorization = { type: 'Bearer', credentialsFile: rel(str(user.tokenFile)) };
  else if (str(user.username) !== '') {
    http.basicAuth = { username: str(user.username), password: new Secret(str(user.password)) };
  }
  if (str(cluster['proxy-url']) !== '') http.proxyUrl = str(cluster['proxy-url']);
  return { server: server.replace(/\/+$/, ''), http, ownNamespace: '' };
}

/**
 * kubernetes_sd_configs, with Prometheus' field names, defaults and validation messages
 * (discovery/kubernetes/kubernetes.go SDConfig.UnmarshalYAML).
 *
 * One departure: `$VAR` and `${VAR}` in `selectors[].label` and `.field` are replaced by the
 * environment variable's value. Prometheus leaves them alone; the Prometheus Operator's config
 * reloader expands them before Prometheus reads the file, which is how its DaemonSet mode selects
 * `spec.nodeName=$NODE_NAME`. Outpost runs without that sidecar, so it expands them itself.
 */
import type { KubernetesRole, KubernetesSdConfig, KubernetesSelector } from './types.ts';
import { HTTP_CLIENT_KEYS, readHttpClientConfig, readUrlString } from './http.ts';
import type { Mutable } from './http.ts';
import { joinPath, keyError, readBool, readMap, readPath, readSeq, readString, readStringList } from './reader.ts';
import type { Ctx, Field } from './reader.ts';

const ROLES: readonly KubernetesRole[] = ['node', 'pod', 'service', 'endpoints', 'endpointslice', 'ingress'];

/** Which selector roles each discovery role accepts, in Prometheus' order (it prints them in errors). */
const ALLOWED_SELECTORS: Readonly<Record<KubernetesRole, readonly KubernetesRole[]>> = {
  pod: ['pod', 'node'],
  service: ['service'],
  endpointslice: ['pod', 'service', 'endpointslice'],
  endpoints: ['pod', 'service', 'endpoints'],
  node: ['node'],
  ingress: ['ingress'],
};

const SD_KEYS = [
  'api_server',
  'role',
  'kubeconfig_file',
  'namespaces',
  'selectors',
  'attach_metadata',
  ...HTTP_CLIENT_KEYS,
];

export function readKubernetesSdConfigs(ctx: Ctx, f: Field | undefined): KubernetesSdConfig[] {
  if (!f) return [];
  const out: KubernetesSdConfig[] = [];
  for (const it of readSeq(ctx, f) ?? []) {
    const c = readOne(ctx, it);
    if (c) out.push(c);
  }
  return out;
}

function readOne(ctx: Ctx, it: Field): KubernetesSdConfig | undefined {
  const m = readMap(ctx, it, { known: SD_KEYS });
  if (!m) return undefined;
  const before = ctx.issues.length;
  const roleRaw = readString(ctx, m.get('role')) ?? '';
  if (roleRaw === '') {
    keyError(ctx, m, 'role', 'role missing (one of: pod, service, endpoints, endpointslice, node, ingress)');
    return undefined;
  }
  if (!(ROLES as readonly string[]).includes(roleRaw)) {
    keyError(ctx, m, 'role', `unknown Kubernetes SD role ${JSON.stringify(roleRaw)}`);
    return undefined;
  }
  const role = roleRaw as KubernetesRole;
  const http = readHttpClientConfig(ctx, m, { enableHttp2: true });
  const apiServer = m.get('api_server')?.node ? readUrlString(ctx, m.get('api_server'), 'api_server') : undefined;
  const kubeconfigFile = readPath(ctx, m.get('kubeconfig_file'));

  const nm = readMap(ctx, m.get('namespaces') ?? { node: null, at: m.at, path: joinPath(m.path, 'namespaces') }, {
    known: ['own_namespace', 'names'],
  });
  const namespaces = {
    ownNamespace: (nm && readBool(ctx, nm.get('own_namespace'))) ?? false,
    names: (nm && readStringList(ctx, nm.get('names'))) ?? [],
  };

  const am = readMap(
    ctx,
    m.get('attach_metadata') ?? { node: null, at: m.at, path: joinPath(m.path, 'attach_metadata') },
    { known: ['node', 'namespace', 'deployment', 'job', 'cronjob'] },
  );
  const flag = (k: string): boolean => (am && readBool(ctx, am.get(k))) ?? false;
  const attachMetadata = {
    node: flag('node'),
    namespace: flag('namespace'),
    deployment: flag('deployment'),
    job: flag('job'),
    cronjob: flag('cronjob'),
  };

  // Prometheus compares with DefaultHTTPClientConfig: writing a default value is not customising.
  const custom =
    HTTP_CLIENT_KEYS.some((k) => k !== 'follow_redirects' && k !== 'enable_http2' && m.get(k)?.node) ||
    !http.followRedirects ||
    !http.enableHttp2;
  if (apiServer !== undefined && kubeconfigFile !== undefined) {
    keyError(ctx, m, 'kubeconfig_file', "cannot use 'kubeconfig_file' and 'api_server' simultaneously");
  } else if (kubeconfigFile !== undefined && custom) {
    keyError(
      ctx,
      m,
      'kubeconfig_file',
      "cannot use a custom HTTP client configuration together with 'kubeconfig_file'",
    );
  } else if (!m.get('api_server')?.node && custom) {
    keyError(ctx, m, 'role', "to use custom HTTP client configuration please provide the 'api_server' URL explicitly");
  } else if (apiServer !== undefined && namespaces.ownNamespace) {
    keyError(ctx, m, 'namespaces', "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously");
  } else if (kubeconfigFile !== undefined && namespaces.ownNamespace) {
    keyError(ctx, m, 'namespaces', "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously");
  }

  const selectors: KubernetesSelector[] = [];
  const seen = new Set<string>();
  for (const sf of readSeq(ctx, m.get('selectors') ?? { node: null, at: null, path: '' }) ?? []) {
    const sm = readMap(ctx, sf, { known: ['role', 'label', 'field'] });
    if (!sm) continue;
    const sr = readString(ctx, sm.get('role')) ?? '';
    if (seen.has(sr)) {
      keyError(ctx, sm, 'role', `duplicated selector role: ${sr}`);
      continue;
    }
    seen.add(sr);
    const allowed = ALLOWED_SELECTORS[role];
    if (!(allowed as readonly string[]).includes(sr)) {
      keyError(ctx, sm, 'role', `${role} role supports only ${allowed.join(', ')} selectors`);
      continue;
    }
    const label = expandEnv(readString(ctx, sm.get('label')) ?? '', ctx.env);
    const field = expandEnv(readString(ctx, sm.get('field')) ?? '', ctx.env);
    const fieldProblem = checkFieldSelector(field);
    if (fieldProblem) keyError(ctx, sm, 'field', fieldProblem);
    const labelProblem = checkLabelSelector(label);
    if (labelProblem) keyError(ctx, sm, 'label', labelProblem);
    selectors.push({ role: sr as KubernetesRole, label, field });
  }
  if (ctx.issues.length > before) return undefined;
  const out: Mutable<KubernetesSdConfig> = { ...http, role, namespaces, selectors, attachMetadata };
  if (apiServer !== undefined) out.apiServer = apiServer;
  if (kubeconfigFile !== undefined) out.kubeconfigFile = kubeconfigFile;
  return out;
}

/** `$VAR` and `${VAR}` from the environment (unset: empty), `$$` for a literal `$`, as os.Expand reads them. */
export function expandEnv(s: string, env: Readonly<Record<string, string | undefined>>): string {
  if (!s.includes('$')) return s;
  return s.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, all: string, b?: string, p?: string) => (all === '$' ? '$' : (env[b ?? p ?? ''] ?? '')),
  );
}

/**
 * The grammar of k8s.io/apimachinery fields.ParseSelector: comma-separated `key=value`,
 * `key==value` or `key!=value`; a backslash escapes `,`, `=`, `!` and `\` in values.
 * Returns a problem, or '' when the selector is valid (an empty one selects everything).
 */
export function checkFieldSelector(s: string): string {
  if (s.trim() === '') return '';
  for (const term of splitUnescaped(s)) {
    const m = /^([^=!\s]+)\s*(==|=|!=)(.*)$/s.exec(term.trim());
    if (!m) return `invalid field selector ${JSON.stringify(s)}: cannot understand ${JSON.stringify(term)}`;
    const value = m[3] ?? '';
    for (let i = 0; i < value.length; i++) {
      const c = value[i];
      if (c === '\\') {
        if (!'\\,=!'.includes(value[i + 1] ?? 'x'))
          return `invalid field selector ${JSON.stringify(s)}: invalid escape in ${JSON.stringify(term)}`;
        i++;
      } else if (c === '=' || c === '!') {
        return `invalid field selector ${JSON.stringify(s)}: unescaped ${c} in the value of ${JSON.stringify(term)}`;
      }
    }
  }
  return '';
}

function splitUnescaped(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * The grammar of k8s.io/apimachinery labels.Parse: comma-separated requirements `key`, `!key`,
 * `key=value`, `key==value`, `key!=value`, `key in (v1,v2)`, `key notin (v1,v2)`, `key>n`, `key<n`.
 */
export function checkLabelSelector(s: string): string {
  if (s.trim() === '') return '';
  const bad = (why: string): string => `invalid label selector ${JSON.stringify(s)}: ${why}`;
  // Commas inside parentheses belong to a value list.
  const terms: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      terms.push(cur);
      cur = '';
    } else cur += c;
  }
  terms.push(cur);
  for (const raw of terms) {
    const t = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^!\s*(\S+)$/.exec(t))) {
      if (!QUALIFIED_NAME.test(m[1] ?? '')) return bad(`invalid label key ${JSON.stringify(m[1])}`);
    } else if ((m = /^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$/.exec(t))) {
      if (!QUALIFIED_NAME.test(m[1] ?? '')) return bad(`invalid label key ${JSON.stringify(m[1])}`);
      for (const v of (m[3] ?? '').split(',')) {
        if (!LABEL_VALUE.test(v.trim())) return bad(`invalid label value ${JSON.stringify(v.trim())}`);
      }
    } else if ((m = /^([^=!<>\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(t))) {
      if (!QUALIFIED_NAME.test(m[1] ?? '')) return bad(`invalid label key ${JSON.stringify(m[1])}`);
      if (!LABEL_VALUE.test(m[3] ?? '')) return bad(`invalid label value ${JSON.stringify(m[3])}`);
    } else if ((m = /^([^=!<>\s]+)\s*(<|>)\s*(\S+)$/.exec(t))) {
      if (!QUALIFIED_NAME.test(m[1] ?? '')) return bad(`invalid label key ${JSON.stringify(m[1])}`);
      if (!/^-?[0-9]+$/.test(m[3] ?? '')) return bad(`for 'Gt', 'Lt' operators, the value must be an integer`);
    } else if (QUALIFIED_NAME.test(t)) {
      // Existence.
    } else {
      return bad(`cannot understand ${JSON.stringify(t)}`);
    }
  }
  return '';
}

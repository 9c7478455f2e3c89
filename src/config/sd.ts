/**
 * The service-discovery blocks Outpost implements: static_configs, file_sd_configs,
 * http_sd_configs and dns_sd_configs, with Prometheus' defaults and messages. Any other
 * `*_sd_configs` is refused by name rather than silently ignored.
 */
import type {
  DnsRecordType,
  DnsSdConfig,
  FileSdConfig,
  HttpSdConfig,
  NameValidationScheme,
  TargetGroup,
} from './types.ts';
import { HTTP_CLIENT_KEYS, readHttpClientConfig, readUrlString } from './http.ts';
import type { Mutable } from './http.ts';
import { readLabelSet } from './labels.ts';
import {
  joinPath,
  keyError,
  readDuration,
  readInt,
  readMap,
  readSeq,
  readString,
  readStringItems,
  readStringList,
} from './reader.ts';
import type { Ctx, Field } from './reader.ts';

export const SUPPORTED_SD_KEYS = [
  'static_configs',
  'file_sd_configs',
  'http_sd_configs',
  'dns_sd_configs',
  'kubernetes_sd_configs',
] as const;

export function unsupportedSdMessage(key: string): string | undefined {
  if (!key.endsWith('_sd_configs')) return undefined;
  return `${key} is not supported by Outpost (supported: ${SUPPORTED_SD_KEYS.join(', ')})`;
}

/** Prometheus' file SD name rule: one `*` at most, only in the last path segment, a JSON/YAML extension. */
const FILE_SD_PATTERN = /^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$/;

const FILE_SD_DEFAULT_REFRESH = 5 * 60_000;
const HTTP_SD_DEFAULT_REFRESH = 60_000;
const DNS_SD_DEFAULT_REFRESH = 30_000;

/**
 * Checks a static target written without relabel_configs (with relabeling, anything may be
 * rewritten into an address, as in blackbox setups). Prometheus only rejects a "/"; Outpost also
 * rejects what can never be dialled: blanks, bad ports, unbracketed IPv6. A missing port is
 * allowed, as in Prometheus 3 (the scheme's default port is used).
 */
function checkTargetAddress(t: string): string | null {
  if (t.includes('/')) {
    return (
      `${JSON.stringify(t)} is not a valid hostname (a target is host:port; ` +
      'put the path in metrics_path or rewrite __address__ with relabel_configs)'
    );
  }
  if (t === '') return 'empty target address';
  if (/\s/.test(t)) return `${JSON.stringify(t)} is not a valid host:port (contains whitespace)`;
  let host = t;
  let port: string | undefined;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0) return `${JSON.stringify(t)} is not a valid host:port (missing ']')`;
    host = t.slice(1, close);
    const rest = t.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return `${JSON.stringify(t)} is not a valid host:port`;
      port = rest.slice(1);
    }
  } else {
    const colons = t.split(':').length - 1;
    if (colons > 1) return `${JSON.stringify(t)} is not a valid host:port (write IPv6 addresses as [addr]:port)`;
    if (colons === 1) {
      const i = t.indexOf(':');
      host = t.slice(0, i);
      port = t.slice(i + 1);
    }
  }
  if (host === '') return `${JSON.stringify(t)} is not a valid host:port (empty host)`;
  if (port !== undefined && (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535)) {
    return `${JSON.stringify(t)} is not a valid host:port (bad port ${JSON.stringify(port)})`;
  }
  return null;
}

export function readStaticConfigs(
  ctx: Ctx,
  f: Field | undefined,
  scheme: NameValidationScheme,
  checkTargets: boolean,
): TargetGroup[] {
  if (!f) return [];
  const out: TargetGroup[] = [];
  const items = readSeq(ctx, f) ?? [];
  items.forEach((it, i) => {
    const m = readMap(ctx, it, { known: ['targets', 'labels'] });
    if (!m) return;
    const items = readStringItems(ctx, m.get('targets')) ?? [];
    if (checkTargets) {
      for (const t of items) {
        const problem = checkTargetAddress(t.value);
        if (problem) ctx.error(t.field.at, t.field.path, problem);
      }
    }
    out.push({
      targets: items.map((t) => t.value),
      labels: readLabelSet(ctx, m.get('labels'), scheme),
      source: String(i),
    });
  });
  return out;
}

export function readFileSdConfigs(ctx: Ctx, f: Field | undefined): FileSdConfig[] {
  if (!f) return [];
  const out: FileSdConfig[] = [];
  for (const it of readSeq(ctx, f) ?? []) {
    const m = readMap(ctx, it, { known: ['files', 'refresh_interval'] });
    if (!m) continue;
    const files = readStringItems(ctx, m.get('files')) ?? [];
    if (files.length === 0) {
      keyError(ctx, m, 'files', 'file service discovery config must contain at least one path name');
      continue;
    }
    let ok = true;
    for (const { value, field } of files) {
      if (!FILE_SD_PATTERN.test(value)) {
        ok = false;
        ctx.error(
          field.at,
          field.path,
          `path name ${JSON.stringify(value)} is not valid for file discovery ` +
            "(it must end in .json, .yml or .yaml; '*' only in the last path segment)",
        );
      }
    }
    if (!ok) continue;
    out.push({
      files: files.map((p) => ctx.joinDir(p.value)),
      refreshInterval: positiveDuration(ctx, m.get('refresh_interval')) ?? FILE_SD_DEFAULT_REFRESH,
    });
  }
  return out;
}

function positiveDuration(ctx: Ctx, f: Field | undefined): number | undefined {
  const d = readDuration(ctx, f);
  if (d === 0 && f) {
    ctx.error(f.at, f.path, 'refresh_interval must be greater than 0');
    return undefined;
  }
  return d;
}

export function readHttpSdConfigs(ctx: Ctx, f: Field | undefined): HttpSdConfig[] {
  if (!f) return [];
  const out: HttpSdConfig[] = [];
  for (const it of readSeq(ctx, f) ?? []) {
    const m = readMap(ctx, it, { known: ['url', 'refresh_interval', ...HTTP_CLIENT_KEYS] });
    if (!m) continue;
    const uf = m.get('url');
    const raw = readString(ctx, uf);
    if (raw === undefined || raw === '') {
      keyError(ctx, m, 'url', 'URL is missing');
      continue;
    }
    const url = readUrlString(ctx, uf, 'http_sd');
    const http = readHttpClientConfig(ctx, m, { enableHttp2: true });
    const refreshInterval = positiveDuration(ctx, m.get('refresh_interval')) ?? HTTP_SD_DEFAULT_REFRESH;
    if (url === undefined) continue;
    const sd: Mutable<HttpSdConfig> = { ...http, url, refreshInterval };
    out.push(sd);
  }
  return out;
}

const DNS_TYPES: readonly DnsRecordType[] = ['SRV', 'A', 'AAAA', 'MX', 'NS'];

export function readDnsSdConfigs(ctx: Ctx, f: Field | undefined): DnsSdConfig[] {
  if (!f) return [];
  const out: DnsSdConfig[] = [];
  for (const it of readSeq(ctx, f) ?? []) {
    const m = readMap(ctx, it, { known: ['names', 'type', 'port', 'refresh_interval'] });
    if (!m) continue;
    const names = readStringList(ctx, m.get('names')) ?? [];
    const tf = m.get('type');
    const typeRaw = readString(ctx, tf) ?? 'SRV';
    const port = readInt(ctx, m.get('port')) ?? 0;
    const refreshInterval = positiveDuration(ctx, m.get('refresh_interval')) ?? DNS_SD_DEFAULT_REFRESH;
    if (names.length === 0) {
      keyError(ctx, m, 'names', 'DNS-SD config must contain at least one SRV record name');
      continue;
    }
    const type = typeRaw.toUpperCase() as DnsRecordType;
    if (!DNS_TYPES.includes(type)) {
      ctx.error(tf?.at, joinPath(it.path, 'type'), `invalid DNS-SD records type ${typeRaw}`);
      continue;
    }
    if (port > 65535) {
      keyError(ctx, m, 'port', `port ${port} is out of range`);
      continue;
    }
    if (type !== 'SRV' && port === 0) {
      keyError(ctx, m, 'port', 'a port is required in DNS-SD configs for all record types except SRV');
      continue;
    }
    out.push({ names, type, port, refreshInterval });
  }
  return out;
}

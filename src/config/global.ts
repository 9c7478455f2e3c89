import { formatDuration } from './duration.ts';
import { readLabelSet } from './labels.ts';
import {
  fieldAt,
  joinPath,
  readBool,
  readByteSize,
  readDuration,
  readInt,
  readMap,
  readPath,
  readString,
  readStringItems,
} from './reader.ts';
import type { Ctx, Field, MapView } from './reader.ts';
import type { Mutable } from './http.ts';
import { DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, DEFAULT_SCRAPE_PROTOCOLS, SCRAPE_PROTOCOLS } from './types.ts';
import type { GlobalConfig, NameEscapingScheme, NameValidationScheme, ScrapeLimits, ScrapeProtocol } from './types.ts';

const DEFAULT_SCRAPE_INTERVAL = 60_000;
const DEFAULT_SCRAPE_TIMEOUT = 10_000;
/** DefaultGlobalConfig.EvaluationInterval; an agent keeps it only to show it. */
const DEFAULT_EVALUATION_INTERVAL = 60_000;

/** Server-only settings: accepted so Prometheus configs load, reported as having no effect. */
const SERVER_ONLY_GLOBAL = ['evaluation_interval', 'rule_query_offset', 'query_log_file'];

const GLOBAL_KEYS = [
  'scrape_interval',
  'scrape_timeout',
  'scrape_protocols',
  ...SERVER_ONLY_GLOBAL,
  'scrape_failure_log_file',
  'external_labels',
  'body_size_limit',
  'sample_limit',
  'target_limit',
  'label_limit',
  'label_name_length_limit',
  'label_value_length_limit',
  'keep_dropped_targets',
  'metric_name_validation_scheme',
  'metric_name_escaping_scheme',
  'scrape_native_histograms',
  'convert_classic_histograms_to_nhcb',
  'always_scrape_classic_histograms',
  'extra_scrape_metrics',
];

export interface ParsedGlobal {
  readonly config: GlobalConfig;
  /** Whether scrape_protocols was written: if not, each job picks its default by its own native-histogram setting. */
  readonly protocolsExplicit: boolean;
}

/**
 * Go's os.Expand with Prometheus' mapping for external label values: `$VAR` / `${VAR}` become
 * the variable's value ("" when unset), `$$` is a literal `$`, a `$` followed by nothing usable
 * stays as is, and a malformed `${...` is dropped.
 */
export function expandEnv(
  s: string,
  getenv: (name: string) => string | undefined,
  onEmpty?: (name: string) => void,
): string {
  const special = (c: string): boolean => '*#$@!?-'.includes(c) || (c >= '0' && c <= '9');
  const alnum = (c: string): boolean => c === '_' || /^[A-Za-z0-9]$/.test(c);
  let out = '';
  let i = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] !== '$' || j + 1 >= s.length) continue;
    out += s.slice(i, j);
    const rest = s.slice(j + 1);
    let name = '';
    let w = 0;
    if (rest[0] === '{') {
      if (rest.length > 2 && special(rest.charAt(1)) && rest[2] === '}') {
        name = rest.charAt(1);
        w = 3;
      } else {
        const close = rest.indexOf('}');
        if (close < 0) w = 1;
        else if (close === 1) w = 2;
        else {
          name = rest.slice(1, close);
          w = close + 1;
        }
      }
    } else if (special(rest.charAt(0))) {
      name = rest.charAt(0);
      w = 1;
    } else {
      while (w < rest.length && alnum(rest.charAt(w))) w++;
      name = rest.slice(0, w);
    }
    if (name === '' && w === 0) out += '$';
    else if (name !== '') {
      if (name === '$') out += '$';
      else {
        const v = getenv(name);
        if (v) out += v;
        else onEmpty?.(name);
      }
    }
    j += w;
    i = j + 1;
  }
  return out + s.slice(i);
}

export function readScrapeProtocols(ctx: Ctx, f: Field | undefined, owner: string): ScrapeProtocol[] | undefined {
  if (!f) return undefined;
  const items = readStringItems(ctx, f);
  if (!items) return undefined;
  if (items.length === 0) {
    ctx.error(f.at, f.path, `scrape_protocols cannot be empty for ${owner}`);
    return undefined;
  }
  const seen = new Set<string>();
  const out: ScrapeProtocol[] = [];
  for (const { value, field } of items) {
    if (seen.has(value.toLowerCase())) {
      ctx.error(
        field.at,
        field.path,
        `duplicated protocol in scrape_protocols, got [${items.map((i) => i.value).join(' ')}] for ${owner}`,
      );
      return undefined;
    }
    seen.add(value.toLowerCase());
    if (!(SCRAPE_PROTOCOLS as readonly string[]).includes(value)) {
      ctx.error(
        field.at,
        field.path,
        `scrape_protocols: unknown scrape protocol ${value}, supported: [${SCRAPE_PROTOCOLS.join(' ')}] for ${owner}`,
      );
      return undefined;
    }
    out.push(value as ScrapeProtocol);
  }
  return out;
}

/** `metric_name_validation_scheme`; "" means unset (prometheus/common model ValidationScheme.Set). */
export function readValidationScheme(ctx: Ctx, f: Field | undefined): NameValidationScheme | undefined {
  const v = readString(ctx, f);
  if (v === undefined || v === '' || !f) return undefined;
  if (v === 'legacy' || v === 'utf8') return v;
  ctx.error(f.at, f.path, `unrecognized ValidationScheme: ${JSON.stringify(v)}`);
  return undefined;
}

const ESCAPING: readonly NameEscapingScheme[] = ['allow-utf-8', 'underscores', 'dots', 'values'];

/**
 * `metric_name_escaping_scheme`; "" means unset. `owner` is "global" or "scrape config", as in 3.x's
 * messages (config/config.go v3.14.0 lines 1002 and 1028).
 */
export function readEscapingScheme(
  ctx: Ctx,
  f: Field | undefined,
  owner: 'global' | 'scrape config',
): NameEscapingScheme | undefined {
  const v = readString(ctx, f);
  if (v === undefined || v === '' || !f) return undefined;
  if ((ESCAPING as readonly string[]).includes(v)) return v as NameEscapingScheme;
  ctx.error(
    f.at,
    f.path,
    `unknown ${owner} name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', ` +
      `or 'values', got ${JSON.stringify(v)}`,
  );
  return undefined;
}

/** Limits shared by global and scrape configs: [yaml key, camelCase key]. */
export const LIMIT_KEYS = [
  ['sample_limit', 'sampleLimit'],
  ['target_limit', 'targetLimit'],
  ['label_limit', 'labelLimit'],
  ['label_name_length_limit', 'labelNameLengthLimit'],
  ['label_value_length_limit', 'labelValueLengthLimit'],
  ['keep_dropped_targets', 'keepDroppedTargets'],
] as const satisfies readonly (readonly [string, keyof ScrapeLimits])[];

/** Every limit unset; the placeholder a config object holds until LIMIT_KEYS are read into it. */
export const NO_LIMITS: ScrapeLimits = {
  sampleLimit: 0,
  labelLimit: 0,
  labelNameLengthLimit: 0,
  labelValueLengthLimit: 0,
  targetLimit: 0,
  keepDroppedTargets: 0,
};

export function readGlobal(ctx: Ctx, f: Field | undefined): ParsedGlobal {
  const m: MapView | null = f ? readMap(ctx, f, { known: GLOBAL_KEYS }) : null;
  const get = (k: string): Field | undefined => m?.get(k);

  for (const k of SERVER_ONLY_GLOBAL) {
    if (m?.has(k)) ctx.warn(m.keyNode(k), joinPath('global', k), `${k} has no effect in agent mode`);
  }
  const evaluationInterval = readDuration(ctx, get('evaluation_interval')) || DEFAULT_EVALUATION_INTERVAL;
  const ruleQueryOffset = readDuration(ctx, get('rule_query_offset')) ?? 0;
  const queryLogFile = readString(ctx, get('query_log_file')) ?? '';

  // 3.x defaults: utf8 validation, and an escaping scheme that follows the validation scheme when
  // unset (config/config.go v3.14.0: DefaultGlobalConfig line 190, ScrapeConfig.Validate line 993).
  // An explicit allow-utf-8 under legacy is refused by each job that inherits it, as in 3.x.
  const validation = readValidationScheme(ctx, get('metric_name_validation_scheme')) ?? 'utf8';
  const escapingExplicit = readEscapingScheme(ctx, get('metric_name_escaping_scheme'), 'global');
  const escaping: NameEscapingScheme = escapingExplicit ?? (validation === 'legacy' ? 'underscores' : 'allow-utf-8');

  const externalLabels = readLabelSet(ctx, get('external_labels'), validation, (v, field) =>
    expandEnv(
      v,
      (n) => ctx.env[n],
      (n) => ctx.warn(field.at, field.path, `environment variable ${n} is empty or unset; it expands to ""`),
    ),
  );

  let interval = readDuration(ctx, get('scrape_interval')) ?? 0;
  if (interval === 0) interval = DEFAULT_SCRAPE_INTERVAL;
  let timeout = readDuration(ctx, get('scrape_timeout')) ?? 0;
  if (timeout > interval) {
    ctx.error(
      fieldAt(m as MapView, 'scrape_timeout'),
      'global.scrape_timeout',
      `global scrape timeout greater than scrape interval (${formatDuration(timeout)} > ${formatDuration(interval)})`,
    );
  }
  if (timeout === 0) timeout = Math.min(DEFAULT_SCRAPE_TIMEOUT, interval);

  const nativeHistograms = readBool(ctx, get('scrape_native_histograms')) ?? false;
  const explicitProtocols = readScrapeProtocols(ctx, get('scrape_protocols'), 'global config');

  const cfg: Mutable<GlobalConfig> = {
    scrapeInterval: interval,
    scrapeTimeout: timeout,
    externalLabels,
    scrapeProtocols:
      explicitProtocols ?? (nativeHistograms ? DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS : DEFAULT_SCRAPE_PROTOCOLS),
    bodySizeLimit: readByteSize(ctx, get('body_size_limit')) ?? 0,
    ...NO_LIMITS,
    metricNameValidationScheme: validation,
    metricNameEscapingScheme: escaping,
    scrapeNativeHistograms: nativeHistograms,
    alwaysScrapeClassicHistograms: readBool(ctx, get('always_scrape_classic_histograms')) ?? false,
    convertClassicHistogramsToNHCB: readBool(ctx, get('convert_classic_histograms_to_nhcb')) ?? false,
    extraScrapeMetrics: readBool(ctx, get('extra_scrape_metrics')) ?? false,
  };
  for (const [yk, ck] of LIMIT_KEYS) cfg[ck] = readInt(ctx, get(yk)) ?? 0;
  const sfl = readPath(ctx, get('scrape_failure_log_file'));
  if (sfl) cfg.scrapeFailureLogFile = sfl;
  cfg.source = {
    scrapeProtocolsGiven: explicitProtocols !== undefined,
    // config.go: an absent or empty global block is DefaultGlobalConfig, whose escaping scheme is set.
    escapingShown: escapingExplicit !== undefined || !m || m.keys.length === 0,
    evaluationInterval,
    ruleQueryOffset,
    queryLogFile,
  };
  return { config: cfg, protocolsExplicit: explicitProtocols !== undefined };
}

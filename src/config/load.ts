/**
 * Loading a Prometheus configuration for agent mode.
 *
 * Errors: parseConfig / loadConfigFile collect every problem they find (up to MAX_ISSUES) and throw
 * one ConfigError; its file/line/column/path describe the earliest problem in the file, `issues`
 * lists all, and the message has one `file:line:col: path: message` line per problem. Nothing is
 * returned unless everything is valid, so a reload can apply all or nothing.
 *
 * Strictness follows Prometheus: unknown fields are errors (with the closest known field as a
 * hint), and so are `rule_files`, `alerting` and `remote_read` when non-empty (agent mode).
 * Sections that do nothing in an agent (`runtime`, `tracing`, most of `storage`, server-only
 * global settings) are accepted and reported in `Config.warnings` instead.
 */
import fs from 'node:fs/promises';
import { glob, GlobPatternError } from '../util/glob.ts';
import { systemErrorText } from '../util/errors.ts';
import type { LineCounter, YAMLError } from 'yaml';
import { ConfigError } from './errors.ts';
import { readGlobal } from './global.ts';
import type { ParsedGlobal } from './global.ts';
import { Ctx, joinPath, parseGoYaml, readDuration, readMap, readSeq, readStringItems } from './reader.ts';
import type { Field, MapView } from './reader.ts';
import { remoteWriteHash, redactUrl } from './redact.ts';
import { readOtlp } from './otlp.ts';
import { readRemoteWrite } from './remote.ts';
import { readScrapeConfig } from './scrape.ts';
import { Secret } from './secret.ts';
import type { Config, ConfigIssue, RemoteWriteConfig, ScrapeConfig, StorageConfig } from './types.ts';
import type { NameValidationScheme } from './types.ts';

export { ConfigError, formatIssue } from './errors.ts';
export { redactedConfigYaml } from './redact.ts';

export interface ParseOptions {
  /** Environment for `${VAR}` in external label values; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const TOP_KEYS = [
  'global',
  'runtime',
  'alerting',
  'rule_files',
  'scrape_config_files',
  'scrape_configs',
  'storage',
  'tracing',
  'remote_write',
  'remote_read',
  'otlp',
];

/** Prometheus' patRulePath: `*` allowed only in the last path segment. */
const SCRAPE_CONFIG_FILE_PATTERN = /^[^*]*(\*[^/]*)?$/;

interface Parsed {
  readonly config: Omit<Config, 'scrapeConfigs'> & { scrapeConfigs: ScrapeConfig[] };
  readonly global: ParsedGlobal;
  readonly seenJobs: Map<string, string>;
}

function yamlIssues(file: string, text: string, lc: LineCounter, errors: readonly YAMLError[]): ConfigIssue[] {
  return errors.map((e) => {
    const pos = lc.linePos(e.pos[0]);
    let message = e.message.replace(/ at line \d+, column \d+[\s\S]*$/, '').trim();
    if (e.code === 'DUPLICATE_KEY') {
      const key = /^[^:\n]*/.exec(text.slice(e.pos[0]))?.[0].trim();
      message = `duplicate key${key ? ` ${JSON.stringify(key)}` : ''} (${message})`;
    }
    return { file, line: pos.line, column: pos.col, path: '', message: `YAML syntax error: ${message}` };
  });
}

/** A YAML document with positions; null (with issues recorded) if it does not even parse. */
function parseYaml(
  text: string,
  file: string,
  issues: ConfigIssue[],
  warnings: ConfigIssue[],
  env: ParseOptions['env'],
): Ctx | null {
  const { doc, lc } = parseGoYaml(text);
  if (doc.errors.length > 0) {
    issues.push(...yamlIssues(file, text, lc, doc.errors));
    return null;
  }
  return new Ctx(file, doc, lc, issues, warnings, env ?? process.env);
}

/** A list that must be empty in agent mode (Prometheus checks len() > 0, so `rule_files: []` passes). */
function nonEmptyList(ctx: Ctx, f: Field | undefined): boolean {
  if (!f || f.node === null) return false;
  const items = readSeq(ctx, f);
  return items !== null && items.length > 0;
}

function notAllowed(ctx: Ctx, top: MapView, key: string): void {
  ctx.error(top.keyNode(key), key, `field ${key} is not allowed in agent mode`);
}

function checkAgentRestrictions(ctx: Ctx, top: MapView): void {
  if (nonEmptyList(ctx, top.get('rule_files'))) notAllowed(ctx, top, 'rule_files');
  if (nonEmptyList(ctx, top.get('remote_read'))) notAllowed(ctx, top, 'remote_read');
  const af = top.get('alerting');
  if (af && af.node !== null) {
    const am = readMap(ctx, af, { known: ['alertmanagers', 'alert_relabel_configs'] });
    if (am && (nonEmptyList(ctx, am.get('alertmanagers')) || nonEmptyList(ctx, am.get('alert_relabel_configs')))) {
      notAllowed(ctx, top, 'alerting');
    }
  }
}

function ignoredSection(ctx: Ctx, top: MapView, key: string, message: string): void {
  const f = top.get(key);
  if (!f || f.node === null) return;
  readMap(ctx, f);
  ctx.warn(top.keyNode(key), key, message);
}

function readStorage(ctx: Ctx, f: Field | undefined): StorageConfig {
  const m = f ? readMap(ctx, f) : null;
  const tsdb = m?.get('tsdb') ? readMap(ctx, m.get('tsdb') as Field) : null;
  let ooo = readDuration(ctx, tsdb?.get('out_of_order_time_window')) ?? 0;
  if (ooo < 0) ooo = 0;
  for (const k of tsdb?.keys ?? []) {
    if (k !== 'out_of_order_time_window')
      ctx.warn(tsdb?.keyNode(k), joinPath('storage.tsdb', k), `storage.tsdb.${k} has no effect in agent mode`);
  }
  for (const k of m?.keys ?? []) {
    if (k !== 'tsdb') ctx.warn(m?.keyNode(k), joinPath('storage', k), `storage.${k} has no effect in agent mode`);
  }
  return { outOfOrderTimeWindow: ooo };
}

function readRemoteWrites(ctx: Ctx, f: Field | undefined, nameValidation: NameValidationScheme): RemoteWriteConfig[] {
  const out: RemoteWriteConfig[] = [];
  if (!f) return out;
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const it of readSeq(ctx, f) ?? []) {
    if (it.node === null) {
      ctx.error(it.at, it.path, 'empty or null remote write config section');
      continue;
    }
    const parsed = readRemoteWrite(ctx, it, nameValidation);
    if (!parsed) continue;
    const { rw, nameAt } = parsed;
    if (rw.nameExplicit) {
      if (names.has(rw.name)) {
        ctx.error(
          nameAt,
          joinPath(it.path, 'name'),
          `found multiple remote write configs with job name ${JSON.stringify(rw.name)}`,
        );
        continue;
      }
      names.add(rw.name);
    }
    const hash = remoteWriteHash(rw);
    if (hashes.has(hash)) {
      ctx.error(
        it.at,
        it.path,
        `duplicate remote write configs are not allowed, found duplicate for URL: ${redactUrl(rw.url)}`,
      );
      continue;
    }
    hashes.add(hash);
    out.push({ ...rw, name: rw.nameExplicit ? rw.name : hash.slice(0, 6), hash });
  }
  return out;
}

function readScrapeConfigList(
  ctx: Ctx,
  f: Field | undefined,
  global: ParsedGlobal,
  seenJobs: Map<string, string>,
): ScrapeConfig[] {
  const out: ScrapeConfig[] = [];
  if (!f) return out;
  for (const it of readSeq(ctx, f) ?? []) {
    if (it.node === null) {
      ctx.error(it.at, it.path, 'empty or null scrape config section');
      continue;
    }
    const sc = readScrapeConfig(ctx, it, global, seenJobs);
    if (sc) out.push(sc);
  }
  return out;
}

function parseMain(text: string, file: string, issues: ConfigIssue[], opts: ParseOptions): Parsed | null {
  const warnings: ConfigIssue[] = [];
  const ctx = parseYaml(text, file, issues, warnings, opts.env);
  if (!ctx) return null;
  const top = readMap(ctx, ctx.root(), { known: TOP_KEYS });
  if (!top) return null;

  checkAgentRestrictions(ctx, top);
  ignoredSection(ctx, top, 'runtime', 'runtime settings (gogc) have no effect in Outpost');
  ignoredSection(ctx, top, 'tracing', 'tracing is not supported by Outpost; the section is ignored');

  const global = readGlobal(ctx, top.get('global'));
  const scrapeConfigFiles: string[] = [];
  for (const { value, field } of readStringItems(ctx, top.get('scrape_config_files')) ?? []) {
    if (!SCRAPE_CONFIG_FILE_PATTERN.test(value))
      ctx.error(field.at, field.path, `invalid scrape config file path ${JSON.stringify(value)}`);
    else scrapeConfigFiles.push(ctx.joinDir(value));
  }
  const seenJobs = new Map<string, string>();
  const scrapeConfigs = readScrapeConfigList(ctx, top.get('scrape_configs'), global, seenJobs);
  const remoteWrite = readRemoteWrites(ctx, top.get('remote_write'), global.config.metricNameValidationScheme);
  const storage = readStorage(ctx, top.get('storage'));
  const otlp = readOtlp(ctx, top.get('otlp'), global.config.metricNameValidationScheme);

  return {
    config: {
      global: global.config,
      scrapeConfigs,
      remoteWrite,
      scrapeConfigFiles,
      storage,
      otlp,
      warnings,
      sourceFile: file,
      sourceText: text,
    },
    global,
    seenJobs,
  };
}

/** Issues of one file in file order, files in the order they were read. */
function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const fileOrder = new Map<string, number>();
  for (const i of issues) if (!fileOrder.has(i.file)) fileOrder.set(i.file, fileOrder.size);
  return [...issues].sort(
    (a, b) =>
      (fileOrder.get(a.file) as number) - (fileOrder.get(b.file) as number) || a.line - b.line || a.column - b.column,
  );
}

function fail(issues: ConfigIssue[]): never {
  throw ConfigError.fromIssues(sortIssues(issues));
}

function finish(parsed: Parsed): Config {
  return deepFreeze({ ...parsed.config, warnings: sortIssues(parsed.config.warnings) });
}

function deepFreeze<T>(o: T): T {
  if (o === null || typeof o !== 'object' || Object.isFrozen(o) || o instanceof Secret) return o;
  Object.freeze(o);
  for (const v of Object.values(o)) deepFreeze(v);
  return o;
}

/**
 * Parses and validates a config held in memory. `file` names it in errors and is the base for
 * relative paths; scrape_config_files are resolved but not read (loadConfigFile reads them).
 */
export function parseConfig(text: string, file: string, opts: ParseOptions = {}): Config {
  const issues: ConfigIssue[] = [];
  const parsed = parseMain(text, file, issues, opts);
  if (!parsed || issues.length > 0) fail(issues);
  return finish(parsed);
}

// ---------------------------------------------------------------------------------------------
// scrape_config_files: Go's filepath.Glob semantics (`*`, `?`, `[...]` with `^` negation, `\`
// escapes; `*` matches dotfiles; unreadable directories simply match nothing), sorted.

async function readScrapeConfigFile(
  file: string,
  parsed: Parsed,
  issues: ConfigIssue[],
  out: ScrapeConfig[],
  opts: ParseOptions,
): Promise<void> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    issues.push({
      file,
      line: 0,
      column: 0,
      path: '',
      message: `cannot read scrape config file: ${(e as Error).message}`,
    });
    return;
  }
  const warnings = parsed.config.warnings as ConfigIssue[];
  const ctx = parseYaml(text, file, issues, warnings, opts.env);
  if (!ctx) return;
  const top = readMap(ctx, ctx.root(), { known: ['scrape_configs'] });
  if (!top) return;
  out.push(...readScrapeConfigList(ctx, top.get('scrape_configs'), parsed.global, parsed.seenJobs));
}

/**
 * Reads, parses and validates a config file, then the files matched by its scrape_config_files
 * (each job validated against the main file's global section, relative paths resolved against
 * the including file's directory, job names unique across all files).
 */
export async function loadConfigFile(file: string, opts: ParseOptions = {}): Promise<Config> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, 0, 0, '', `cannot read config file: ${systemErrorText(e)}`);
  }
  const issues: ConfigIssue[] = [];
  const parsed = parseMain(text, file, issues, opts);
  if (!parsed) fail(issues);
  for (const pattern of parsed.config.scrapeConfigFiles) {
    let files: string[];
    try {
      files = await glob(pattern);
    } catch (e) {
      if (!(e instanceof GlobPatternError)) throw e;
      issues.push({
        file,
        line: 0,
        column: 0,
        path: 'scrape_config_files',
        message: `error retrieving scrape config files for ${JSON.stringify(pattern)}: syntax error in pattern`,
      });
      continue;
    }
    for (const f of files) await readScrapeConfigFile(f, parsed, issues, parsed.config.scrapeConfigs, opts);
  }
  if (issues.length > 0) fail(issues);
  return finish(parsed);
}

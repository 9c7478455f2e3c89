/**
 * The target label pipeline (Prometheus scrape/target.go PopulateLabels, head semantics):
 * discovered labels + scrape defaults → relabel_configs → checks → instance default → URL.
 *
 * Where Prometheus 2.42 differs (all reproducible here through `options`):
 *  - 2.42 always overwrote `__param_<k>` with the first configured value; head sets it only when
 *    absent (`options.overwriteParams`).
 *  - 2.42 appended `:80` / `:443` to an `__address__` without a port after relabeling (and failed
 *    with `invalid scheme` for other schemes); head leaves the address alone
 *    (`options.addDefaultPort`).
 *  - head also adds `__scrape_native_histograms__` and friends; Outpost has no native histograms
 *    and does not add them.
 */
import { parseDuration, DurationError } from '../config/duration.ts';
import { relabel, type CompiledRelabel } from '../relabel/relabel.ts';
import { goQuote } from '../relabel/names.ts';
import { LabelsBuilder, labelPairs, type Labels } from '../util/labels.ts';

export interface TargetDefaults {
  jobName: string;
  /** Prometheus duration strings, e.g. "15s" (as Duration.String() prints them). */
  scrapeInterval: string;
  scrapeTimeout: string;
  metricsPath: string;
  scheme: string;
  params: Readonly<Record<string, readonly string[]>>;
}

export interface TargetLabelOptions {
  /** 2.42: add the scheme's default port to `__address__` when it has none. Default false (head). */
  addDefaultPort?: boolean;
  /** 2.42: configured params overwrite existing `__param_*` labels. Default false (head). */
  overwriteParams?: boolean;
}

export type TargetResult =
  | {
      kind: 'active';
      /** After relabeling, incl. __address__, __scheme__, __param_* …; no __meta_*. */
      labels: Labels;
      /** The labels without a `__` prefix: what the target's series get. */
      publicLabels: Labels;
      url: string;
      /** Milliseconds. */
      interval: number;
      timeout: number;
      /** Labels before relabeling (discovered + scrape defaults), for the API and UI. */
      discovered: Labels;
    }
  | { kind: 'dropped'; discovered: Labels }
  | { kind: 'error'; discovered: Labels; error: string };

const ADDRESS = '__address__';
const SCHEME = '__scheme__';
const METRICS_PATH = '__metrics_path__';
const INTERVAL = '__scrape_interval__';
const TIMEOUT = '__scrape_timeout__';
const PARAM_PREFIX = '__param_';
const META_PREFIX = '__meta_';

export function populateTargetLabels(
  groupLabels: Labels,
  targetLabels: Labels,
  d: TargetDefaults,
  rules: readonly CompiledRelabel[],
  options: TargetLabelOptions = {},
): TargetResult {
  const lb = new LabelsBuilder();
  // Per-target labels win over group labels; a target label that is present but empty still
  // masks the group's value (Prometheus checks presence, then Set("") deletes).
  const targetNames = new Set<string>();
  for (const [name, value] of labelPairs(targetLabels)) {
    targetNames.add(name);
    lb.set(name, value);
  }
  for (const [name, value] of labelPairs(groupLabels)) {
    if (!targetNames.has(name)) lb.set(name, value);
  }
  const setIfEmpty = (name: string, value: string): void => {
    if (lb.get(name) === '') lb.set(name, value);
  };
  setIfEmpty('job', d.jobName);
  setIfEmpty(INTERVAL, d.scrapeInterval);
  setIfEmpty(TIMEOUT, d.scrapeTimeout);
  setIfEmpty(METRICS_PATH, d.metricsPath);
  setIfEmpty(SCHEME, d.scheme);
  for (const [k, [first]] of Object.entries(d.params)) {
    if (first === undefined) continue;
    if (options.overwriteParams) lb.set(PARAM_PREFIX + k, first);
    else setIfEmpty(PARAM_PREFIX + k, first);
  }
  const discovered = lb.labels();

  if (!relabel(rules, lb)) return { kind: 'dropped', discovered };
  const fail = (error: string): TargetResult => ({ kind: 'error', discovered, error });

  let addr = lb.get(ADDRESS);
  if (addr === '') return fail('no address');
  if (options.addDefaultPort) {
    const scheme = lb.get(SCHEME);
    if (needsPort(addr)) {
      if (scheme === 'http' || scheme === '') addr += ':80';
      else if (scheme === 'https') addr += ':443';
      // 2.42 quotes the configured scheme here, not the relabeled one.
      else return fail(`invalid scheme: ${goQuote(d.scheme)}`);
      lb.set(ADDRESS, addr);
    }
  }
  if (addr.includes('/')) return fail(`${goQuote(addr)} is not a valid hostname`);

  const intervalStr = lb.get(INTERVAL);
  const interval = parseDurationFor(intervalStr);
  if (typeof interval === 'string') return fail(`error parsing scrape interval: ${interval}`);
  if (interval === 0) return fail('scrape interval cannot be 0');
  const timeoutStr = lb.get(TIMEOUT);
  const timeout = parseDurationFor(timeoutStr);
  if (typeof timeout === 'string') return fail(`error parsing scrape timeout: ${timeout}`);
  if (timeout === 0) return fail('scrape timeout cannot be 0');
  if (timeout > interval) {
    return fail(
      `scrape timeout cannot be greater than scrape interval (${goQuote(timeoutStr)} > ${goQuote(intervalStr)})`,
    );
  }

  lb.forEach((name) => {
    if (name.startsWith(META_PREFIX)) lb.del(name);
  });
  if (lb.get('instance') === '') lb.set('instance', addr);

  const labels = lb.labels();
  for (const [name, value] of labelPairs(labels)) {
    if (!value.isWellFormed()) return fail(`invalid label value for ${goQuote(name)}: ${goQuote(value)}`);
  }
  const publicLabels: string[] = [];
  for (const [name, value] of labelPairs(labels)) {
    if (!name.startsWith('__')) publicLabels.push(name, value);
  }
  return { kind: 'active', labels, publicLabels, url: targetURL(labels, d.params), interval, timeout, discovered };
}

function parseDurationFor(s: string): number | string {
  try {
    return parseDuration(s);
  } catch (e) {
    if (e instanceof DurationError) return e.message;
    throw e;
  }
}

/**
 * The scrape URL: scheme://address path ? query, where configured params are overridden (first
 * value only) or extended by `__param_<k>` labels. Encoded like Go's url.URL.String() with
 * url.Values.Encode() (keys sorted, `+` for spaces).
 */
export function targetURL(labels: Labels, params: Readonly<Record<string, readonly string[]>>): string {
  const q = new Map<string, string[]>();
  for (const [k, values] of Object.entries(params)) q.set(k, [...values]);
  let scheme = '';
  let host = '';
  let path = '';
  for (const [n, v] of labelPairs(labels)) {
    if (n === SCHEME) scheme = v;
    else if (n === ADDRESS) host = v;
    else if (n === METRICS_PATH) path = v;
    else if (n.startsWith(PARAM_PREFIX)) {
      const k = n.slice(PARAM_PREFIX.length);
      const have = q.get(k);
      if (have && have.length > 0) have[0] = v;
      else q.set(k, [v]);
    }
  }
  const keys = [...q.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const query: string[] = [];
  for (const k of keys) {
    for (const v of q.get(k) as string[]) query.push(goEscape(k, 'query') + '=' + goEscape(v, 'query'));
  }
  let out = '';
  if (scheme !== '') out += scheme + ':';
  if (scheme !== '' || host !== '') {
    if (host !== '' || path !== '') out += '//';
    out += goEscape(host, 'host');
  }
  let p = path === '*' ? '*' : goEscape(path, 'path');
  if (p !== '' && p[0] !== '/' && host !== '') p = '/' + p;
  out += p;
  if (query.length > 0) out += '?' + query.join('&');
  return out;
}

type EscapeMode = 'path' | 'query' | 'host';

/** Go net/url shouldEscape for the three modes used above. */
function shouldEscape(c: number, mode: EscapeMode): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) return false;
  const ch = String.fromCharCode(c);
  if (mode === 'host') {
    if ('!$&\'()*+,;=:[]<>"'.includes(ch)) return false;
  }
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    if (mode === 'path') return ch === '?';
    if (mode === 'query') return true;
    return false;
  }
  return true;
}

function goEscape(s: string, mode: EscapeMode): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (const b of bytes) {
    if (mode === 'query' && b === 0x20) out += '+';
    else if (b < 0x80 && !shouldEscape(b, mode)) out += String.fromCharCode(b);
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * Go's net.SplitHostPort fails on `s` but succeeds on `s + ":1234"`: the address lacks a port
 * and is otherwise valid, so 2.42 appended the scheme's default port.
 */
function needsPort(s: string): boolean {
  return !splitHostPortOk(s) && splitHostPortOk(s + ':1234');
}

function splitHostPortOk(hp: string): boolean {
  const i = hp.lastIndexOf(':');
  if (i < 0) return false;
  let j = 0;
  let k = 0;
  if (hp[0] === '[') {
    const end = hp.indexOf(']');
    if (end < 0) return false;
    if (end + 1 === hp.length) return false;
    if (end + 1 !== i) return false;
    j = 1;
    k = end + 1;
  } else if (hp.slice(0, i).includes(':')) return false;
  if (hp.slice(j).includes('[')) return false;
  if (hp.slice(k).includes(']')) return false;
  return true;
}

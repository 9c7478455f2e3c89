/**
 * Metric, label and unit names from OTLP, following prometheus/otlptranslator v1.0.0 (the version
 * Prometheus 3.x builds with): MetricNamer, LabelNamer and UnitNamer. The rules are cited per function.
 */

import type { OtlpConfig } from '../config/types.ts';
import { OtlpTranslationError } from './errors.ts';

export type TranslationStrategy = OtlpConfig['translationStrategy'];

/** strategy.go ShouldEscape: the two UnderscoreEscaping strategies rewrite names to the legacy charset. */
export function shouldEscape(s: TranslationStrategy): boolean {
  return s === 'UnderscoreEscapingWithSuffixes' || s === 'UnderscoreEscapingWithoutSuffixes';
}

/** strategy.go ShouldAddSuffixes: unit, `_total` and `_ratio` suffixes. */
function shouldAddSuffixes(s: TranslationStrategy): boolean {
  return s === 'UnderscoreEscapingWithSuffixes' || s === 'NoUTF8EscapingWithSuffixes';
}

/** otlptranslator.MetricType, as TranslatorMetricFromOtelMetric derives it. */
export type NamerMetricType =
  | 'gauge'
  | 'monotonic_counter'
  | 'non_monotonic_counter'
  | 'histogram'
  | 'exponential_histogram'
  | 'summary'
  | 'unknown';

/** metric_namer.go unitMap. */
const UNIT_MAP: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

/** metric_namer.go perUnitMap. */
const PER_UNIT_MAP: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

function own(map: Readonly<Record<string, string>>, k: string): string | undefined {
  return Object.hasOwn(map, k) ? map[k] : undefined;
}

/** unit_namer.go buildUnitSuffixes: "main/per" with `{annotations}` ignored, mapped through the unit tables. */
function unitSuffixes(unit: string): [main: string, per: string] {
  const slash = unit.indexOf('/');
  const mainOtel = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  let main = '';
  let per = '';
  if (mainOtel !== '' && !/[{}]/.test(mainOtel)) main = own(UNIT_MAP, mainOtel) ?? mainOtel;
  if (slash >= 0 && unit.slice(slash + 1) !== '') {
    const perOtel = unit.slice(slash + 1).trim();
    if (perOtel !== '' && !/[{}]/.test(perOtel)) per = own(PER_UNIT_MAP, perOtel) ?? perOtel;
    if (per !== '') per = 'per_' + per;
  }
  return [main, per];
}

/** unit_namer.go cleanUpUnit: invalid characters to `_`, runs of `_` collapsed, a leading `_` dropped. */
function cleanUpUnit(unit: string): string {
  return unit
    .replace(/[^a-zA-Z0-9:]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_/, '');
}

/** UnitNamer.Build (UTF8Allowed false, as the metadata path uses it): the unit as metadata carries it. */
export function buildUnit(unit: string): string {
  let [main, per] = unitSuffixes(unit);
  main = cleanUpUnit(main);
  per = cleanUpUnit(per);
  let u = main !== '' && per !== '' ? `${main}_${per}` : main !== '' ? main : per;
  if (u.startsWith('_')) u = u.slice(1);
  if (u.endsWith('_')) u = u.slice(0, -1);
  return u;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Splits on characters outside [a-zA-Z0-9:] (strings.FieldsFunc: no empty tokens). */
function tokens(name: string, keepUnderscore: boolean): string[] {
  const re = keepUnderscore ? /[^a-zA-Z0-9:_]+/ : /[^a-zA-Z0-9:]+/;
  return name.split(re).filter((t) => t !== '');
}

/**
 * MetricNamer.Build. Escaping strategies: buildCompliantMetricName (normalizeName with suffixes: tokens,
 * unit tokens unless already present, `_total` for monotonic counters, `_ratio` for gauges in unit "1",
 * a leading digit prefixed with `_`). UTF-8 strategies: buildMetricName (the name kept, suffixes trimmed
 * and re-appended in the order unit, per-unit, `_total`, `_ratio`).
 */
export function buildMetricName(
  name: string,
  unit: string,
  type: NamerMetricType,
  strategy: TranslationStrategy,
): string {
  const suffixes = shouldAddSuffixes(strategy);
  // Prometheus would go on with an empty __name__ here, which its storage then refuses sample by sample.
  if (name === '') throw new OtlpTranslationError('metric name is empty');
  if (!shouldEscape(strategy)) return utf8MetricName(name, unit, type, suffixes);
  let out: string;
  if (suffixes) out = normalizeName(name, unit, type);
  else {
    out = tokens(name, true).join('_');
    if (isDigit(out[0])) out = '_' + out;
  }
  if (out === '') throw new OtlpTranslationError(`normalization for metric "${name}" resulted in empty name`);
  if (out !== name && /^_+$/.test(out))
    throw new OtlpTranslationError(`normalization for metric "${name}" resulted in invalid name "${out}"`);
  return out;
}

function normalizeName(name: string, unit: string, type: NamerMetricType): string {
  let toks = tokens(name, false);
  const [main, per] = unitSuffixes(unit);
  let mainS = cleanUpUnit(main);
  let perS = cleanUpUnit(per);
  // addUnitTokens
  if (toks.includes(mainS)) mainS = '';
  if (perS === 'per_') perS = '';
  else {
    perS = perS.replace(/_$/, '');
    if (toks.includes(perS)) perS = '';
  }
  if (perS !== '') mainS = mainS.replace(/_$/, '');
  if (mainS !== '') toks.push(mainS);
  if (perS !== '') toks.push(perS);
  if (type === 'monotonic_counter') toks = [...toks.filter((t) => t !== 'total'), 'total'];
  if (unit === '1' && type === 'gauge') toks = [...toks.filter((t) => t !== 'ratio'), 'ratio'];
  let out = toks.join('_');
  if (isDigit(out[0])) out = '_' + out;
  return out;
}

function trimSuffixAndDelimiter(name: string, suffix: string): string {
  return name.endsWith(suffix) && name.length > suffix.length + 1
    ? name.slice(0, name.length - suffix.length - 1)
    : name;
}

function utf8MetricName(name: string, unit: string, type: NamerMetricType, suffixes: boolean): string {
  if (!suffixes) return name;
  let out = name;
  const after: string[] = [];
  if (unit === '1' && type === 'gauge') {
    out = trimSuffixAndDelimiter(out, 'ratio');
    after.unshift('_ratio');
  }
  if (type === 'monotonic_counter') {
    out = trimSuffixAndDelimiter(out, 'total');
    after.unshift('_total');
  }
  const [main, per] = unitSuffixes(unit);
  if (per !== '') {
    out = trimSuffixAndDelimiter(out, per);
    after.unshift('_' + per);
  }
  if (main !== '' && !out.endsWith(main)) out = out + '_' + main;
  return out + after.join('');
}

export interface LabelNamerOptions {
  readonly utf8: boolean;
  /** label_name_underscore_sanitization (default true): `_x` becomes `key_x`. */
  readonly underscoreSanitization: boolean;
  /** label_name_preserve_multiple_underscores (default true). */
  readonly preserveMultipleUnderscores: boolean;
}

/**
 * LabelNamer.Build: UTF-8 keeps the name (only-underscore names refused); escaping replaces characters
 * outside [a-zA-Z0-9] with `_` (runs collapsed unless preserved; `__x__` keeps its wrapping then),
 * prefixes `key_` to a leading digit and, with underscore sanitization, `key` to a single leading `_`.
 */
export function buildLabelName(label: string, o: LabelNamerOptions): string {
  if (label === '') throw new OtlpTranslationError('label name is empty');
  if (o.utf8) {
    if (/^_+$/.test(label)) throw new OtlpTranslationError(`label name "${label}" contains only underscores`);
    return label;
  }
  let n: string;
  if (o.preserveMultipleUnderscores) n = label.replace(/[^a-zA-Z0-9]/gu, '_');
  else {
    const reserved = label.length >= 4 && label.startsWith('__') && label.endsWith('__');
    const inner = reserved ? label.slice(2, -2) : label;
    n = inner.replace(/[^a-zA-Z0-9]+/gu, '_');
    if (reserved) n = `__${n}__`;
  }
  if (isDigit(n[0])) n = 'key_' + n;
  else if (o.underscoreSanitization && n.startsWith('_') && !n.startsWith('__')) n = 'key' + n;
  if (/^_+$/.test(n))
    throw new OtlpTranslationError(`normalization for label name "${label}" resulted in invalid name "${n}"`);
  return n;
}

import { duplicateLabelName } from './base.ts';
import { Entry, MetricType, ParseError, type EntryKind } from './types.ts';
import { FloatScanner, codePointCount } from './scan.ts';

/** Sample-name suffixes each OpenMetrics type may use, by MetricType code. */
const SUFFIXES: ReadonlyMap<number, readonly string[]> = new Map([
  [MetricType.unknown, ['']],
  [MetricType.gauge, ['']],
  [MetricType.counter, ['_total', '_created']],
  [MetricType.histogram, ['_bucket', '_count', '_sum', '_created']],
  [MetricType.gaugehistogram, ['_bucket', '_gcount', '_gsum']],
  [MetricType.summary, ['', '_count', '_sum', '_created']],
  [MetricType.info, ['_info']],
  [MetricType.stateset, ['']],
]);

/** The sample-name suffixes of a family type; every MetricType has an entry, other codes have none. */
function suffixesOf(type: number): readonly string[] {
  return SUFFIXES.get(type) ?? [];
}

const TYPE_NAMES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'];

/** OpenMetrics caps an exemplar's label names and values at 128 code points together. */
const EXEMPLAR_MAX_RUNES = 128;

/**
 * What the checker reads from the OpenMetrics parser positioned on an entry. An interface of its own
 * so om-strict.ts does not import the parser that imports it.
 */
interface StrictCheckedParser {
  readonly line: number;
  readonly entryKind: EntryKind;
  /** MetricType code of a TYPE entry. */
  readonly metricType: number;
  readonly value: number;
  readonly hasTimestamp: boolean;
  readonly timestampSeconds: number;
  readonly hasExemplar: boolean;
  currentName(): string;
  rawLabels(): string[];
  exemplarLabels(): string[];
}

interface Family {
  readonly name: string;
  type: number;
  hasType: boolean;
  hasHelp: boolean;
  hasUnit: boolean;
  samples: number;
}

/** Accumulates one MetricPoint (one label group at one time) of a histogram or gauge histogram. */
class Point {
  readonly seen = new Set<string>();
  buckets = 0;
  lastLe = 0;
  lastBucket = 0;
  hasInf = false;
  infValue = 0;
  negativeLe = false;
  hasCount = false;
  count = 0;
  hasSum = false;
  sum = 0;

  clear(): void {
    this.seen.clear();
    this.buckets = 0;
    this.hasInf = false;
    this.negativeLe = false;
    this.hasCount = false;
    this.hasSum = false;
  }
}

/**
 * The parts of the OpenMetrics 1.0 specification that Prometheus does not check: where metadata
 * may appear and how often, contiguous families and label groups, which sample names, labels and
 * values each type allows, histogram bucket consistency, exemplar placement and size, and
 * non-decreasing timestamps for repeated series. Works on strings; only for strict mode.
 */
export class OmStrictChecker {
  private readonly families = new Set<string>();
  /** Sample name -> family that may emit it. */
  private readonly claims = new Map<string, string>();
  private fam: Family | null = null;
  private groupKey: string | null = null;
  private readonly doneGroups = new Set<string>();
  /** Series in the current label group -> its last timestamp in seconds (null when absent). */
  private readonly seriesTs = new Map<string, number | null>();
  private readonly point = new Point();
  private readonly num = new FloatScanner();
  private line = 0;

  reset(): void {
    this.families.clear();
    this.claims.clear();
    this.fam = null;
    this.groupKey = null;
    this.doneGroups.clear();
    this.seriesTs.clear();
    this.point.clear();
  }

  meta(p: StrictCheckedParser): void {
    this.line = p.line;
    const name = p.currentName();
    let fam = this.fam;
    if (fam !== null && fam.name === name) {
      if (fam.samples > 0) throw this.error(`metadata for ${JSON.stringify(name)} after its samples`);
    } else {
      if (this.families.has(name)) throw this.error(`metric family ${JSON.stringify(name)} appears twice`);
      const owner = this.claims.get(name);
      if (owner !== undefined)
        throw this.error(`metric family ${JSON.stringify(name)} clashes with family ${JSON.stringify(owner)}`);
      fam = this.startFamily(name);
    }
    const kind = p.entryKind;
    if (kind === Entry.Type) {
      if (fam.hasType) throw this.error(`repeated TYPE for ${JSON.stringify(name)}`);
      const type = p.metricType;
      if (fam.hasUnit && (type === MetricType.info || type === MetricType.stateset)) {
        throw this.error(`${TYPE_NAMES[type]} metric ${JSON.stringify(name)} must not have a UNIT`);
      }
      for (const s of suffixesOf(fam.type)) if (this.claims.get(name + s) === name) this.claims.delete(name + s);
      for (const s of suffixesOf(type)) {
        const sample = name + s;
        const owner = this.claims.get(sample) ?? (sample !== name && this.families.has(sample) ? sample : undefined);
        if (owner !== undefined) {
          throw this.error(
            `sample name ${JSON.stringify(sample)} of ${JSON.stringify(name)} ` +
              `clashes with family ${JSON.stringify(owner)}`,
          );
        }
        this.claims.set(sample, name);
      }
      fam.type = type;
      fam.hasType = true;
    } else if (kind === Entry.Help) {
      if (fam.hasHelp) throw this.error(`repeated HELP for ${JSON.stringify(name)}`);
      fam.hasHelp = true;
    } else {
      if (fam.hasUnit) throw this.error(`repeated UNIT for ${JSON.stringify(name)}`);
      if (fam.type === MetricType.info || fam.type === MetricType.stateset) {
        throw this.error(`${TYPE_NAMES[fam.type]} metric ${JSON.stringify(name)} must not have a UNIT`);
      }
      fam.hasUnit = true;
    }
  }

  series(p: StrictCheckedParser): void {
    this.line = p.line;
    const name = p.currentName();
    const ls = p.rawLabels();
    let fam = this.fam;
    let suffix = fam === null ? null : suffixOf(fam, name);
    if (fam === null || suffix === null) {
      if (fam !== null && name === fam.name) {
        throw this.error(
          `${JSON.stringify(name)} is not a sample name of ${TYPE_NAMES[fam.type]} ${JSON.stringify(fam.name)}`,
        );
      }
      if (this.families.has(name))
        throw this.error(`samples of metric family ${JSON.stringify(name)} are not contiguous`);
      const owner = this.claims.get(name);
      if (owner !== undefined)
        throw this.error(`sample ${JSON.stringify(name)} is not next to the rest of family ${JSON.stringify(owner)}`);
      fam = this.startFamily(name);
      suffix = '';
    }
    fam.samples++;
    const type = fam.type;
    const v = p.value;
    const isBucket = (type === MetricType.histogram || type === MetricType.gaugehistogram) && suffix === '_bucket';
    const isQuantile = type === MetricType.summary && suffix === '';
    let groupExclude = '';
    if (isBucket) groupExclude = 'le';
    else if (isQuantile) groupExclude = 'quantile';
    else if (type === MetricType.stateset) groupExclude = fam.name;

    // Label group (MetricPoint identity) contiguity.
    const key = groupKeyOf(ls, groupExclude);
    if (key !== this.groupKey) {
      if (this.groupKey !== null) {
        this.finishPoint(fam);
        this.doneGroups.add(this.groupKey);
      }
      if (this.doneGroups.has(key)) throw this.error(`label group of ${JSON.stringify(name)} is not contiguous`);
      this.groupKey = key;
      this.seriesTs.clear();
      this.point.clear();
    }

    // A repeated series starts the next MetricPoint; its timestamps may not go backwards.
    const skey = name + '\xfe' + groupKeyOf(ls, '');
    if (this.seriesTs.has(skey)) {
      const prev = this.seriesTs.get(skey) ?? null;
      if (prev === null || !p.hasTimestamp)
        throw this.error(`series ${JSON.stringify(name)} repeated without timestamps`);
      if (p.timestampSeconds < prev) throw this.error(`timestamps of ${JSON.stringify(name)} go backwards`);
      if (this.point.seen.has(skey)) {
        this.finishPoint(fam);
        this.point.clear();
      }
    }
    this.seriesTs.set(skey, p.hasTimestamp ? p.timestampSeconds : null);
    this.point.seen.add(skey);

    switch (type) {
      case MetricType.counter:
        if (suffix === '_total') this.nonNegative(v, name);
        break;
      case MetricType.histogram:
      case MetricType.gaugehistogram:
        if (isBucket) this.bucket(ls, v, name);
        else if (suffix === '_count' || suffix === '_gcount') {
          this.nonNegative(v, name);
          this.point.hasCount = true;
          this.point.count = v;
        } else if (suffix === '_sum' || suffix === '_gsum') {
          if (Number.isNaN(v)) throw this.error(`${JSON.stringify(name)} must not be NaN`);
          if (suffix === '_sum') this.nonNegative(v, name);
          this.point.hasSum = true;
          this.point.sum = v;
        }
        break;
      case MetricType.summary:
        if (isQuantile) {
          const q = labelValue(ls, 'quantile');
          if (q === undefined) throw this.error(`summary sample ${JSON.stringify(name)} has no quantile label`);
          const qv = this.number(q);
          if (qv === undefined || Number.isNaN(qv) || qv < 0 || qv > 1) {
            throw this.error(`invalid quantile ${JSON.stringify(q)} for ${JSON.stringify(name)}`);
          }
          if (v < 0) throw this.error(`quantile value of ${JSON.stringify(name)} must not be negative`);
        } else if (suffix === '_count' || suffix === '_sum') {
          this.nonNegative(v, name);
        }
        break;
      case MetricType.info:
        if (v !== 1) throw this.error(`info metric ${JSON.stringify(name)} must have value 1`);
        break;
      case MetricType.stateset:
        if (labelValue(ls, fam.name) === undefined) {
          throw this.error(`stateset sample ${JSON.stringify(name)} has no ${JSON.stringify(fam.name)} label`);
        }
        if (v !== 0 && v !== 1) throw this.error(`stateset ${JSON.stringify(name)} must have value 0 or 1`);
        break;
    }

    if (p.hasExemplar) {
      const allowed = (type === MetricType.counter && suffix === '_total') || isBucket;
      if (!allowed) throw this.error(`exemplars are not allowed on ${JSON.stringify(name)}`);
      const ex = p.exemplarLabels();
      const dup = duplicateLabelName(ex);
      if (dup !== undefined) throw this.error(`exemplar label name ${JSON.stringify(dup)} is not unique`);
      let runes = 0;
      for (const s of ex) runes += codePointCount(s);
      if (runes > EXEMPLAR_MAX_RUNES)
        throw this.error(`exemplar labels of ${JSON.stringify(name)} exceed ${EXEMPLAR_MAX_RUNES} characters`);
    }
  }

  eof(line: number): void {
    this.line = line;
    if (this.fam !== null) this.finishFamily(this.fam);
  }

  private startFamily(name: string): Family {
    if (this.fam !== null) this.finishFamily(this.fam);
    const fam: Family = { name, type: MetricType.unknown, hasType: false, hasHelp: false, hasUnit: false, samples: 0 };
    this.families.add(name);
    this.claims.set(name, name);
    this.fam = fam;
    return fam;
  }

  private finishFamily(fam: Family): void {
    if (this.groupKey !== null) this.finishPoint(fam);
    this.groupKey = null;
    this.doneGroups.clear();
    this.seriesTs.clear();
    this.point.clear();
  }

  private bucket(ls: readonly string[], v: number, name: string): void {
    const le = labelValue(ls, 'le');
    if (le === undefined) throw this.error(`bucket ${JSON.stringify(name)} has no le label`);
    let bound: number | undefined;
    if (le === '+Inf') bound = Infinity;
    else {
      bound = this.number(le);
      if (bound !== undefined && !Number.isFinite(bound)) bound = undefined;
    }
    if (bound === undefined) throw this.error(`invalid le ${JSON.stringify(le)} for ${JSON.stringify(name)}`);
    this.nonNegative(v, name);
    const pt = this.point;
    if (pt.buckets > 0) {
      if (bound <= pt.lastLe) throw this.error(`buckets of ${JSON.stringify(name)} are not in increasing le order`);
      if (v < pt.lastBucket) throw this.error(`bucket counts of ${JSON.stringify(name)} decrease`);
    }
    pt.buckets++;
    pt.lastLe = bound;
    pt.lastBucket = v;
    if (bound < 0) pt.negativeLe = true;
    if (bound === Infinity) {
      pt.hasInf = true;
      pt.infValue = v;
    }
  }

  private finishPoint(fam: Family): void {
    const pt = this.point;
    const n = JSON.stringify(fam.name);
    if (fam.type === MetricType.histogram) {
      if (!pt.hasInf) throw this.error(`histogram ${n} has no +Inf bucket`);
      if (pt.negativeLe && pt.hasSum) throw this.error(`histogram ${n} has negative buckets and a _sum`);
      if (pt.hasCount && pt.count !== pt.infValue)
        throw this.error(`histogram ${n} _count does not match its +Inf bucket`);
      if (pt.hasCount !== pt.hasSum) throw this.error(`histogram ${n} must have both _count and _sum or neither`);
    } else if (fam.type === MetricType.gaugehistogram) {
      if (!pt.hasInf) throw this.error(`gaugehistogram ${n} has no +Inf bucket`);
      if (pt.hasSum && pt.sum < 0 && !pt.negativeLe)
        throw this.error(`gaugehistogram ${n} has a negative _gsum but no negative buckets`);
      if (pt.hasCount && pt.count !== pt.infValue)
        throw this.error(`gaugehistogram ${n} _gcount does not match its +Inf bucket`);
      if (pt.hasCount !== pt.hasSum)
        throw this.error(`gaugehistogram ${n} must have both _gcount and _gsum or neither`);
    }
  }

  private nonNegative(v: number, name: string): void {
    if (Number.isNaN(v) || v < 0) throw this.error(`${JSON.stringify(name)} must be a non-negative number`);
  }

  private number(s: string): number | undefined {
    const b = Buffer.from(s, 'utf8');
    return this.num.parse(b, 0, b.length) ? this.num.value : undefined;
  }

  private error(message: string): ParseError {
    return new ParseError(this.line, message);
  }
}

function suffixOf(fam: Family, name: string): string | null {
  if (!name.startsWith(fam.name)) return null;
  const rest = name.slice(fam.name.length);
  return suffixesOf(fam.type).includes(rest) ? rest : null;
}

function labelValue(ls: readonly string[], name: string): string | undefined {
  for (let k = 2; k < ls.length; k += 2) if (ls[k] === name) return ls[k + 1];
  return undefined;
}

/** Identity of a label set minus one label (name order independent). */
function groupKeyOf(ls: readonly string[], exclude: string): string {
  const pairs: string[] = [];
  for (let k = 2; k < ls.length; k += 2) if (ls[k] !== exclude) pairs.push(ls[k] + '\xff' + ls[k + 1]);
  pairs.sort();
  return pairs.join('\xfe');
}

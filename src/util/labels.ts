/**
 * A label set, flattened as [name0, value0, name1, value1, ...] and sorted by name.
 * One array per series keeps memory per series small and comparisons cheap.
 */
export type Labels = readonly string[];

export const METRIC_NAME = '__name__';

/** Builds a sorted Labels from name/value pairs given in any order; later duplicates win. */
export function labelsFromRecord(rec: Readonly<Record<string, string>>): Labels {
  const b = new LabelsBuilder();
  for (const [name, value] of Object.entries(rec)) b.set(name, value);
  return b.labels();
}

/** The labels of ls as [name, value] pairs, in order, for for-of loops (Labels holds whole pairs). */
export function* labelPairs(ls: Labels): Generator<[name: string, value: string], void, undefined> {
  for (let i = 0; i + 1 < ls.length; i += 2) {
    const name = ls[i];
    const value = ls[i + 1];
    if (name !== undefined && value !== undefined) yield [name, value];
  }
}

export function labelsGet(ls: Labels, name: string): string {
  for (let i = 0; i < ls.length; i += 2) if (ls[i] === name) return ls[i + 1] ?? '';
  return '';
}

/** Prometheus' text form, e.g. {__name__="up", job="x"}. */
export function labelsToString(ls: Labels): string {
  let s = '{';
  for (const [name, value] of labelPairs(ls)) {
    if (s.length > 1) s += ', ';
    // Prometheus 3 quotes names outside the legacy charset (model/labels Labels.String).
    s += (LEGACY_LABEL_NAME.test(name) ? name : JSON.stringify(name)) + '=' + JSON.stringify(value);
  }
  return s + '}';
}

const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A key that identifies a label set: names and values joined with 0xff, which never occurs in UTF-8. */
export function labelsKey(ls: Labels): string {
  return ls.join('\xff');
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Mutable label set used where labels are rewritten (relabeling, target labels). Only runs for
 * new series and targets, never per sample, so clarity wins over speed here. Setting a label to
 * the empty string deletes it, as in Prometheus.
 */
export class LabelsBuilder {
  private readonly map = new Map<string, string>();

  constructor(base?: Labels) {
    if (base) this.reset(base);
  }

  reset(base: Labels): this {
    this.map.clear();
    for (let i = 0; i < base.length; i += 2) {
      const name = base[i];
      const value = base[i + 1];
      if (name !== undefined && value !== undefined && value !== '') this.map.set(name, value);
    }
    return this;
  }

  get(name: string): string {
    return this.map.get(name) ?? '';
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  set(name: string, value: string): this {
    if (value === '') this.map.delete(name);
    else this.map.set(name, value);
    return this;
  }

  del(name: string): this {
    this.map.delete(name);
    return this;
  }

  /** Visits every label (order unspecified); deleting the visited label inside fn is allowed. */
  forEach(fn: (name: string, value: string) => void): void {
    for (const [n, v] of [...this.map]) fn(n, v);
  }

  get size(): number {
    return this.map.size;
  }

  labels(): Labels {
    const names = [...this.map.keys()].sort(compareStrings);
    const out: string[] = new Array(names.length * 2);
    for (const [i, name] of names.entries()) {
      out[2 * i] = name;
      out[2 * i + 1] = this.map.get(name) as string;
    }
    return out;
  }
}

/** Byte-order comparison (Go's string order), which is what Prometheus sorts label names by. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

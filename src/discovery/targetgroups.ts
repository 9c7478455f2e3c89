/**
 * The target-group list format shared by file_sd and http_sd: a list of `{targets: [...], labels: {...}}`.
 * Decoded with the strictness of Prometheus' decoders: JSON as Go's encoding/json with
 * DisallowUnknownFields (field names match case-insensitively), YAML as go-yaml's UnmarshalStrict
 * (unknown and duplicate keys are errors). A null item fails the whole list, as in Prometheus.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { NameValidationScheme, TargetGroup } from '../config/types.ts';
import { labelNameValid } from '../config/labels.ts';
import { parseGoYaml, scalarText } from '../config/reader.ts';
import { goQuote } from '../relabel/names.ts';
import { LabelsBuilder } from '../util/labels.ts';
import { DiscoveryError } from './discoverer.ts';

/** One decoded group before the discoverer adds its meta label and source. */
export interface RawGroup {
  readonly targets: readonly string[];
  /** Name/value pairs in file order; empty values are kept here and dropped by toTargetGroups. */
  readonly labels: readonly (readonly [string, string])[];
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function parseGroupsJson(text: string, scheme: NameValidationScheme): RawGroup[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new DiscoveryError(`invalid JSON: ${errorText(err)}`);
  }
  if (doc === null) return [];
  if (!Array.isArray(doc)) throw new DiscoveryError(`expected a list of target groups, got ${jsonType(doc)}`);
  return doc.map((item: unknown, i: number) => {
    if (item === null) throw new DiscoveryError('nil target group item found');
    if (typeof item !== 'object' || Array.isArray(item))
      throw new DiscoveryError(`target group ${i}: expected an object, got ${jsonType(item)}`);
    let targets: string[] = [];
    let labels: [string, string][] = [];
    for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
      // Go's encoding/json matches struct fields case-insensitively.
      const k = key.toLowerCase();
      if (k === 'targets') {
        if (value === null) targets = [];
        else if (Array.isArray(value) && value.every((t) => typeof t === 'string')) targets = value as string[];
        else throw new DiscoveryError(`target group ${i}: "targets" must be a list of strings`);
      } else if (k === 'labels') {
        labels = [];
        if (value === null) continue;
        if (typeof value !== 'object' || Array.isArray(value))
          throw new DiscoveryError(`target group ${i}: "labels" must be an object of strings`);
        for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
          if (v !== null && typeof v !== 'string')
            throw new DiscoveryError(
              `target group ${i}: label ${goQuote(name)} must have a string value, got ${jsonType(v)}`,
            );
          checkName(name, scheme);
          labels.push([name, v ?? '']);
        }
      } else {
        throw new DiscoveryError(`target group ${i}: unknown field ${goQuote(key)}`);
      }
    }
    return { targets, labels };
  });
}

export function parseGroupsYaml(text: string, scheme: NameValidationScheme): RawGroup[] {
  const { doc, lc } = parseGoYaml(text);
  const [e] = doc.errors;
  if (e !== undefined) {
    const line = lc.linePos(e.pos[0]).line;
    throw new DiscoveryError(`invalid YAML at line ${line}: ${e.message.split('\n')[0]}`);
  }
  const at = (n: Node | null): string => (n?.range ? `line ${lc.linePos(n.range[0]).line}: ` : '');
  const root = deref(doc, doc.contents as Node | null);
  if (root === null || (isScalar(root) && scalarText(root) === null)) return [];
  if (!isSeq(root)) throw new DiscoveryError(`${at(root)}expected a list of target groups`);
  return root.items.map((raw, i) => {
    const item = deref(doc, raw as Node | null);
    if (item === null || (isScalar(item) && scalarText(item) === null))
      throw new DiscoveryError('nil target group item found');
    if (!isMap(item)) throw new DiscoveryError(`${at(item)}target group ${i}: expected a mapping`);
    let targets: string[] = [];
    let labels: [string, string][] = [];
    for (const pair of item.items) {
      const keyNode = deref(doc, pair.key as Node | null);
      const key = keyNode && isScalar(keyNode) ? scalarText(keyNode) : null;
      const value = deref(doc, pair.value as Node | null);
      const isNull = value === null || (isScalar(value) && scalarText(value) === null);
      if (key === 'targets') {
        targets = [];
        if (isNull) continue;
        if (!isSeq(value))
          throw new DiscoveryError(`${at(value)}target group ${i}: "targets" must be a list of strings`);
        for (const t of value.items) {
          const tn = deref(doc, t as Node | null);
          const s = tn && isScalar(tn) ? scalarText(tn) : null;
          // go-yaml leaves a null list item as "" in a []string.
          if (tn !== null && !isScalar(tn))
            throw new DiscoveryError(`${at(tn)}target group ${i}: "targets" must be a list of strings`);
          targets.push(s ?? '');
        }
      } else if (key === 'labels') {
        labels = [];
        if (isNull) continue;
        if (!isMap(value))
          throw new DiscoveryError(`${at(value)}target group ${i}: "labels" must be a mapping of strings`);
        for (const lp of value.items) {
          const ln = deref(doc, lp.key as Node | null);
          const name = ln && isScalar(ln) ? scalarText(ln) : null;
          if (name === null) throw new DiscoveryError(`${at(ln)}target group ${i}: label names must be strings`);
          const lv = deref(doc, lp.value as Node | null);
          if (lv !== null && !isScalar(lv))
            throw new DiscoveryError(`${at(lv)}target group ${i}: label ${goQuote(name)} must have a string value`);
          checkName(name, scheme);
          labels.push([name, lv ? (scalarText(lv) ?? '') : '']);
        }
      } else {
        throw new DiscoveryError(
          `${at(keyNode)}target group ${i}: ` +
            `field ${key === null ? '<non-string key>' : goQuote(key)} not found (known: targets, labels)`,
        );
      }
    }
    return { targets, labels };
  });
}

function deref(doc: Document, n: Node | null): Node | null {
  if (n && isAlias(n)) return (n.resolve(doc) as Node | undefined) ?? null;
  return n;
}

function checkName(name: string, scheme: NameValidationScheme): void {
  if (!labelNameValid(name, scheme)) throw new DiscoveryError(`${goQuote(name)} is not a valid label name`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Turns decoded groups into TargetGroups: the meta label (e.g. `__meta_filepath`) is set on every
 * group and overrides a same-named label from the source, source ids are `<prefix>:<index>`.
 */
export function toTargetGroups(
  raw: readonly RawGroup[],
  sourcePrefix: string,
  metaName: string,
  metaValue: string,
): TargetGroup[] {
  return raw.map((g, i) => {
    const b = new LabelsBuilder();
    for (const [n, v] of g.labels) b.set(n, v);
    b.set(metaName, metaValue);
    return { targets: g.targets, labels: b.labels(), source: `${sourcePrefix}:${i}` };
  });
}

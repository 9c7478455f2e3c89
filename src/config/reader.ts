/**
 * Typed reads over a `yaml` document AST that keep every value's position, so each problem can
 * be reported as file:line:column plus a field path. Scalars are read the way Prometheus' YAML
 * library (go-yaml v2, YAML 1.1) reads them into Go fields: a plain scalar given for a string
 * field keeps its source text (`job_name: 010` is "010"), booleans accept yes/no/on/off, integers
 * accept 0x/0o/0b and underscores, and null (`key:` or `~`) means "not set" (so the default applies).
 */
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Scalar } from 'yaml';
import type { ConfigIssue } from './types.ts';
import { parseDuration, DurationError } from './duration.ts';
import { closest } from '../util/suggest.ts';
import { parseByteSize, ByteSizeError } from './units.ts';
import { Secret } from './secret.ts';

/** One value to read: its (alias-resolved) node, the node to point at, and its field path. */
export interface Field {
  readonly node: Node | null;
  readonly at: Node | null;
  readonly path: string;
}

/** Stop collecting after this many problems: later ones are usually fallout of earlier ones. */
const MAX_ISSUES = 50;

/**
 * Parses YAML the way go-yaml v2 does, which Prometheus, its exporter-toolkit and file_sd read with:
 * YAML 1.1, merge keys, duplicate keys rejected. Positions come from the line counter.
 */
export function parseGoYaml(text: string): { doc: Document; lc: LineCounter } {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    version: '1.1',
    merge: true,
    prettyErrors: false,
    uniqueKeys: true,
  });
  return { doc, lc };
}

export class Ctx {
  readonly file: string;
  /** Directory against which relative file paths in this document are resolved. */
  readonly dir: string;
  readonly doc: Document;
  readonly lc: LineCounter;
  readonly issues: ConfigIssue[];
  readonly warnings: ConfigIssue[];
  readonly env: Readonly<Record<string, string | undefined>>;

  constructor(
    file: string,
    doc: Document,
    lc: LineCounter,
    issues: ConfigIssue[],
    warnings: ConfigIssue[],
    env: Readonly<Record<string, string | undefined>>,
  ) {
    this.file = file;
    this.dir = path.dirname(file);
    this.doc = doc;
    this.lc = lc;
    this.issues = issues;
    this.warnings = warnings;
    this.env = env;
  }

  private issue(at: Node | null | undefined, p: string, message: string): ConfigIssue {
    let line = 1;
    let column = 1;
    const off = at?.range?.[0];
    if (typeof off === 'number') {
      const lp = this.lc.linePos(off);
      line = lp.line;
      column = lp.col;
    }
    return { file: this.file, line, column, path: p, message };
  }

  error(at: Node | null | undefined, p: string, message: string): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push(this.issue(at, p, message));
  }

  warn(at: Node | null | undefined, p: string, message: string): void {
    this.warnings.push(this.issue(at, p, message));
  }

  /** Joins a relative path with the directory of this file, as Prometheus' config.JoinDir does. */
  joinDir(p: string): string {
    if (p === '' || path.isAbsolute(p)) return p;
    return path.join(this.dir, p);
  }

  resolve(node: unknown): Node | null {
    let n: unknown = node;
    // Alias chains are short; the bound guards against a malformed document.
    for (let i = 0; i < 32 && isAlias(n); i++) n = n.resolve(this.doc) ?? null;
    if (n === null || n === undefined || isAlias(n)) return null;
    return n as Node;
  }

  root(): Field {
    const n = this.resolve(this.doc.contents);
    return { node: isNull(n) ? null : n, at: n, path: '' };
  }
}

function isNull(n: Node | null): boolean {
  return n === null || (isScalar(n) && n.value === null);
}

export function joinPath(parent: string, key: string): string {
  const k = /^[A-Za-z0-9_-]+$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (parent === '') return k;
  return k.startsWith('[') ? parent + k : `${parent}.${k}`;
}

function kind(n: Node): string {
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) return `${JSON.stringify(scalarText(n))}`;
  return 'something else';
}

/** The text of a scalar as go-yaml v2 would store it in a string field; null for YAML null. */
export function scalarText(s: Scalar): string | null {
  if (s.value === null || s.value === undefined) return null;
  if (s.type === 'PLAIN' && typeof s.source === 'string') return s.source;
  if (typeof s.value === 'string') return s.value;
  return String(s.value);
}

function isPlain(s: Scalar): boolean {
  return s.type === 'PLAIN' || s.type === undefined;
}

// ---------------------------------------------------------------------------------------------
// Mappings

export interface MapView {
  /** The map node, or the key/parent to point at when the map is absent. */
  readonly at: Node | null;
  readonly path: string;
  /** Keys in document order (merged keys after explicit ones). */
  readonly keys: readonly string[];
  get(key: string): Field | undefined;
  has(key: string): boolean;
  /** Node of the key itself, for "field X ..." errors. */
  keyNode(key: string): Node | null;
}

class MapViewImpl implements MapView {
  readonly at: Node | null;
  readonly path: string;
  readonly fields = new Map<string, Field>();
  readonly keyNodes = new Map<string, Node | null>();
  constructor(at: Node | null, p: string) {
    this.at = at;
    this.path = p;
  }
  get keys(): readonly string[] {
    return [...this.fields.keys()];
  }
  get(key: string): Field | undefined {
    return this.fields.get(key);
  }
  has(key: string): boolean {
    return this.fields.has(key);
  }
  keyNode(key: string): Node | null {
    return this.keyNodes.get(key) ?? this.at;
  }
}

export interface MapSpec {
  /** Allowed keys; anything else is an error naming the key (and the closest allowed one). */
  readonly known?: readonly string[];
  /** Returns a specific message for a key that is not known (e.g. an unsupported SD type). */
  readonly unknown?: (key: string) => string | undefined;
}

/**
 * Reads a mapping. An absent or null value gives an empty view; a non-mapping is an error and
 * gives null. Merge keys (`<<: *anchor`) are expanded the way go-yaml v2 does: keys written in
 * the mapping itself win over merged ones.
 */
export function readMap(ctx: Ctx, f: Field, spec: MapSpec = {}): MapView | null {
  const view = new MapViewImpl(f.node ?? f.at, f.path);
  if (f.node === null || isNull(f.node)) return view;
  if (!isMap(f.node)) {
    ctx.error(f.at, f.path, `expected a mapping, got ${kind(f.node)}`);
    return null;
  }
  const merges: Node[] = [];
  for (const pair of f.node.items) {
    const keyNode = ctx.resolve(pair.key);
    const valueNode = ctx.resolve(pair.value);
    if (
      keyNode &&
      isScalar(keyNode) &&
      (typeof keyNode.value === 'symbol' || (isPlain(keyNode) && keyNode.source === '<<'))
    ) {
      if (valueNode) merges.push(valueNode);
      continue;
    }
    if (!keyNode || !isScalar(keyNode) || scalarText(keyNode) === null) {
      ctx.error(keyNode ?? f.at, f.path, 'mapping keys must be strings');
      continue;
    }
    const key = scalarText(keyNode) as string;
    addField(ctx, view, spec, key, keyNode, valueNode);
  }
  const mergedKeys = new Set<string>();
  const mergeOne = (m: Node): void => {
    if (!isMap(m)) {
      ctx.error(m, f.path, 'a merge key (<<) needs a mapping or a list of mappings');
      return;
    }
    for (const pair of m.items) {
      const keyNode = ctx.resolve(pair.key);
      if (!keyNode || !isScalar(keyNode)) continue;
      const key = scalarText(keyNode);
      if (key === null || view.fields.has(key) || mergedKeys.has(key)) continue;
      mergedKeys.add(key);
      addField(ctx, view, spec, key, keyNode, ctx.resolve(pair.value));
    }
  };
  for (const m of merges) {
    if (isSeq(m))
      for (const item of m.items) {
        const r = ctx.resolve(item);
        if (r) mergeOne(r);
      }
    else mergeOne(m);
  }
  return view;
}

function addField(
  ctx: Ctx,
  view: MapViewImpl,
  spec: MapSpec,
  key: string,
  keyNode: Node,
  valueNode: Node | null,
): void {
  const p = joinPath(view.path, key);
  if (spec.known && !spec.known.includes(key)) {
    const custom = spec.unknown?.(key);
    ctx.error(keyNode, p, custom ?? unknownFieldMessage(key, spec.known));
    return;
  }
  view.fields.set(key, {
    node: isNull(valueNode) ? null : valueNode,
    at: valueNode && !isNull(valueNode) ? valueNode : keyNode,
    path: p,
  });
  view.keyNodes.set(key, keyNode);
}

function unknownFieldMessage(key: string, known: readonly string[]): string {
  const s = suggest(key, known);
  return `unknown field ${JSON.stringify(key)}` + (s ? ` (did you mean ${JSON.stringify(s)}?)` : '');
}

/** The closest known field: its snake_case spelling (sourceLabels → source_labels) or a near edit. */
function suggest(key: string, known: readonly string[]): string | undefined {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
  if (snake !== key && known.includes(snake)) return snake;
  return closest(snake, known);
}

// ---------------------------------------------------------------------------------------------
// Sequences

/** Items of a list; absent/null gives []; a non-list is an error and gives null. */
export function readSeq(ctx: Ctx, f: Field): Field[] | null {
  if (f.node === null) return [];
  if (!isSeq(f.node)) {
    ctx.error(f.at, f.path, `expected a list, got ${kind(f.node)}`);
    return null;
  }
  const out: Field[] = [];
  f.node.items.forEach((item, i) => {
    const n = ctx.resolve(item);
    out.push({ node: isNull(n) ? null : n, at: n ?? f.at, path: `${f.path}[${i}]` });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scalars. Each returns undefined when the field is absent/null or invalid (the error is recorded).

function scalarOf(ctx: Ctx, f: Field, what: string): Scalar | undefined {
  if (f.node === null) return undefined;
  if (!isScalar(f.node)) {
    ctx.error(f.at, f.path, `expected ${what}, got ${kind(f.node)}`);
    return undefined;
  }
  return f.node;
}

export function readString(ctx: Ctx, f: Field | undefined): string | undefined {
  if (!f) return undefined;
  const s = scalarOf(ctx, f, 'a string');
  return s ? (scalarText(s) ?? undefined) : undefined;
}

const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);

export function readBool(ctx: Ctx, f: Field | undefined): boolean | undefined {
  if (!f) return undefined;
  const s = scalarOf(ctx, f, 'a boolean (true or false)');
  if (!s) return undefined;
  const t = scalarText(s) ?? '';
  if (isPlain(s)) {
    if (YAML11_TRUE.has(t)) return true;
    if (YAML11_FALSE.has(t)) return false;
  }
  ctx.error(
    f.at,
    f.path,
    'expected a boolean (true or false), got ' +
      (isPlain(s) ? JSON.stringify(t) : `the quoted string ${JSON.stringify(t)}`),
  );
  return undefined;
}

/** go-yaml v2 integer syntax: decimal, 0x, 0o, 0b, leading-0 octal, `_` separators, sign. */
function parseYamlInt(text: string): number | null {
  let t = text.replace(/_/g, '');
  let neg = false;
  if (t.startsWith('+') || t.startsWith('-')) {
    neg = t[0] === '-';
    t = t.slice(1);
  }
  let v: number;
  if (/^0x[0-9a-fA-F]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^0o[0-7]+$/.test(t)) v = parseInt(t.slice(2), 8);
  else if (/^0b[01]+$/.test(t)) v = parseInt(t.slice(2), 2);
  else if (/^0[0-7]+$/.test(t)) v = parseInt(t.slice(1), 8);
  else if (/^[0-9]+$/.test(t)) v = parseInt(t, 10);
  else return null;
  if (!Number.isSafeInteger(v)) return null;
  return neg ? -v : v;
}

export function readInt(ctx: Ctx, f: Field | undefined, opts: { min?: number } = {}): number | undefined {
  if (!f) return undefined;
  const min = opts.min ?? 0;
  const what = min >= 0 ? 'a non-negative integer' : 'an integer';
  const s = scalarOf(ctx, f, what);
  if (!s) return undefined;
  const t = scalarText(s) ?? '';
  const v = isPlain(s) ? parseYamlInt(t) : null;
  if (v === null || v < min) {
    ctx.error(f.at, f.path, `expected ${what}, got ${JSON.stringify(t)}`);
    return undefined;
  }
  return v;
}

export function readFloat(ctx: Ctx, f: Field | undefined): number | undefined {
  if (!f) return undefined;
  const s = scalarOf(ctx, f, 'a number');
  if (!s) return undefined;
  const t = (scalarText(s) ?? '').replace(/_/g, '');
  const v = isPlain(s) && /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(v)) {
    ctx.error(f.at, f.path, `expected a number, got ${JSON.stringify(t)}`);
    return undefined;
  }
  return v;
}

export function readDuration(ctx: Ctx, f: Field | undefined): number | undefined {
  return readParsed(ctx, f, parseDuration, DurationError, (t, e) => {
    const why = e.reason === 'not a valid duration string' ? '' : ` (${e.reason})`;
    return `${JSON.stringify(t)} is not a valid duration${why}`;
  });
}

export function readByteSize(ctx: Ctx, f: Field | undefined): number | undefined {
  return readParsed(
    ctx,
    f,
    parseByteSize,
    ByteSizeError,
    (t, e) => `${JSON.stringify(t)} is not a valid size: ${e.message}`,
  );
}

/**
 * A string field turned into a number by `parse`. The parser's own error class becomes a config
 * error at the field, worded by `explain`; any other throw is a bug and goes on up.
 */
function readParsed<E extends Error>(
  ctx: Ctx,
  f: Field | undefined,
  parse: (text: string) => number,
  errorClass: new (...args: never[]) => E,
  explain: (text: string, e: E) => string,
): number | undefined {
  const t = readString(ctx, f);
  if (t === undefined || !f) return undefined;
  try {
    return parse(t);
  } catch (e) {
    if (!(e instanceof errorClass)) throw e;
    ctx.error(f.at, f.path, explain(t, e));
    return undefined;
  }
}

export function readSecret(ctx: Ctx, f: Field | undefined): Secret | undefined {
  const t = readString(ctx, f);
  return t === undefined || t === '' ? undefined : new Secret(t);
}

/** A file path, resolved against the config file's directory. Empty means unset. */
export function readPath(ctx: Ctx, f: Field | undefined): string | undefined {
  const t = readString(ctx, f);
  return t === undefined || t === '' ? undefined : ctx.joinDir(t);
}

/** List of strings with each item's field (for errors about one item). Null items read as "". */
export function readStringItems(ctx: Ctx, f: Field | undefined): { value: string; field: Field }[] | undefined {
  if (!f) return undefined;
  const items = readSeq(ctx, f);
  if (!items) return undefined;
  const out: { value: string; field: Field }[] = [];
  for (const it of items) {
    const v = it.node === null ? '' : readString(ctx, it);
    if (v !== undefined) out.push({ value: v, field: it });
  }
  return out;
}

export function readStringList(ctx: Ctx, f: Field | undefined): string[] | undefined {
  return readStringItems(ctx, f)?.map((i) => i.value);
}

/** A mapping of strings to strings (null values read as ""). */
export function readStringMap(
  ctx: Ctx,
  f: Field | undefined,
): Map<string, { value: string; field: Field; keyNode: Node | null }> | undefined {
  if (!f) return undefined;
  const m = readMap(ctx, f);
  if (!m) return undefined;
  const out = new Map<string, { value: string; field: Field; keyNode: Node | null }>();
  for (const k of m.keys) {
    const field = m.get(k) as Field;
    const v = field.node === null ? '' : readString(ctx, field);
    if (v !== undefined) out.set(k, { value: v, field, keyNode: m.keyNode(k) });
  }
  return out;
}

/** The node to point at for a problem with `key` of `m`: its value, else its key, else the mapping. */
export function fieldAt(m: MapView, key: string): Node | null {
  return m.get(key)?.at ?? m.keyNode(key);
}

/** Reports `message` about `key` of the map: at its value, or at the key or the map when it has none. */
export function keyError(ctx: Ctx, m: MapView, key: string, message: string): void {
  ctx.error(fieldAt(m, key), joinPath(m.path, key), message);
}

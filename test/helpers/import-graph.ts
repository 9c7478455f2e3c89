/**
 * The import graph of a source tree, read without a compiler: a small lexer skips comments, strings,
 * template literals and regular expressions, then import / export-from declarations and `import()`
 * calls are picked from the tokens. Type-only imports count: the folder cycles this guards against
 * were made only of types.
 */
import fs from 'node:fs';
import path from 'node:path';

type ImportKind = 'static' | 'type' | 'dynamic';

export interface ImportEdge {
  /** Importing file, relative to the tree's root, with forward slashes. */
  readonly from: string;
  readonly specifier: string;
  /** Imported file relative to the root for relative specifiers; undefined for packages and builtins. */
  readonly to: string | undefined;
  readonly kind: ImportKind;
  readonly line: number;
}

interface Token {
  readonly kind: 'word' | 'punct' | 'string';
  readonly text: string;
  readonly line: number;
}

/** Words after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_WORD = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
]);

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  /** Brace depth at which each open template literal's `${` began. */
  const templates: number[] = [];
  let depth = 0;
  let line = 1;
  let i = 0;
  const n = src.length;

  const skipTemplateText = (): void => {
    // i is just after the opening backtick or the `}` that closed a substitution.
    while (i < n) {
      const c = src[i];
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '\n') line++;
      if (c === '`') {
        i++;
        out.push({ kind: 'string', text: '', line });
        return;
      }
      if (c === '$' && src[i + 1] === '{') {
        i += 2;
        templates.push(depth);
        depth++;
        return;
      }
      i++;
    }
  };

  while (i < n) {
    const c = src[i] ?? '';
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let j = i; j < stop; j++) if (src[j] === '\n') line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      while (j < n && src[j] !== c && src[j] !== '\n') {
        if (src[j] === '\\') j++;
        text += src[j] ?? '';
        j++;
      }
      out.push({ kind: 'string', text, line });
      i = j + 1;
    } else if (c === '`') {
      i++;
      skipTemplateText();
    } else if (c === '/' && startsRegex(out.at(-1))) {
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== '\n') {
        const d = src[j];
        if (d === '\\') j++;
        else if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        j++;
      }
      i = j + 1;
      while (i < n && /[a-z]/i.test(src[i] ?? '')) i++;
      out.push({ kind: 'string', text: '', line });
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(src[j] ?? '')) j++;
      out.push({ kind: 'word', text: src.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(src[j] ?? '')) j++;
      out.push({ kind: 'word', text: src.slice(i, j), line });
      i = j;
    } else {
      if (c === '{') depth++;
      if (c === '}') {
        depth--;
        if (templates.length > 0 && templates.at(-1) === depth) {
          templates.pop();
          i++;
          skipTemplateText();
          continue;
        }
      }
      out.push({ kind: 'punct', text: c, line });
      i++;
    }
  }
  return out;
}

function startsRegex(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.kind === 'string') return false;
  if (prev.kind === 'word') return REGEX_AFTER_WORD.has(prev.text);
  return !(prev.text === ')' || prev.text === ']' || prev.text === '}');
}

/** The import specifiers of one source text. */
function importsOf(src: string): { specifier: string; kind: ImportKind; line: number }[] {
  const toks = tokenize(src);
  const out: { specifier: string; kind: ImportKind; line: number }[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t?.kind !== 'word' || (t.text !== 'import' && t.text !== 'export')) continue;
    const prev = toks[i - 1];
    if (prev?.text === '.') continue;
    const next = toks[i + 1];
    if (t.text === 'import' && next?.text === '(') {
      const spec = toks[i + 2];
      if (spec?.kind === 'string' && toks[i + 3]?.text === ')') {
        out.push({ specifier: spec.text, kind: prev?.text === 'typeof' ? 'type' : 'dynamic', line: t.line });
      }
      continue;
    }
    if (next?.text === '.') continue; // import.meta
    // A declaration: up to its `from 'x'` (or `import 'x'`), stopping where a statement would end.
    const typeOnly = next?.text === 'type' && toks[i + 2]?.text !== 'from';
    if (t.text === 'import' && next?.kind === 'string') {
      out.push({ specifier: next.text, kind: 'static', line: t.line });
      continue;
    }
    for (let j = i + 1; j < toks.length; j++) {
      const u = toks[j];
      if (u === undefined || u.text === ';' || u.text === '=' || u.text === '(' || u.kind === 'string') break;
      if (u.kind === 'word' && u.text === 'from') {
        const spec = toks[j + 1];
        if (spec?.kind === 'string')
          out.push({ specifier: spec.text, kind: typeOnly ? 'type' : 'static', line: t.line });
        break;
      }
      // `export const/function/class ...` declares; only `export {...}` / `export *` can re-export.
      if (t.text === 'export' && j === i + 1 && u.text !== '{' && u.text !== '*' && u.text !== 'type') break;
    }
  }
  return out;
}

const SOURCE = /\.(ts|tsx|mts|cts)$/;

/** All source files under root/dir (relative to root, forward slashes), sorted. */
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const child = rel + '/' + e.name;
      if (e.isDirectory()) walk(child);
      else if (SOURCE.test(e.name)) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/** Every import of every source file under the given folders of root. */
export function importGraph(root: string, dirs: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const dir of dirs) {
    for (const file of sourceFiles(root, dir)) {
      const src = fs.readFileSync(path.join(root, file), 'utf8');
      for (const imp of importsOf(src)) {
        const to = imp.specifier.startsWith('.')
          ? path.posix.normalize(path.posix.join(path.posix.dirname(file), imp.specifier))
          : undefined;
        edges.push({ from: file, specifier: imp.specifier, to, kind: imp.kind, line: imp.line });
      }
    }
  }
  return edges;
}

/** Package name of a bare specifier ('ink', '@scope/pkg', 'react' for 'react/jsx-runtime'); '' for relative ones. */
export function packageName(specifier: string): string {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return '';
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '');
}

/** Strongly connected components with more than one node (Tarjan), each sorted. */
export function cycles(nodes: Iterable<string>, next: (node: string) => Iterable<string>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) visit(v);
  return out;
}

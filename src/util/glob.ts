import fsp from 'node:fs/promises';
import path from 'node:path';
import { compareStrings } from './labels.ts';
import { OutpostError } from './errors.ts';

export class GlobPatternError extends OutpostError {
  constructor() {
    super('OUTPOST_BAD_PATTERN', 'syntax error in pattern');
  }
}

// Go's filepath.Glob: `*` (any run of non-separators, dotfiles included), `?`, `[...]` / `[^...]`
// and `\` escapes; matches sorted; unreadable directories match nothing.

export function hasMeta(p: string): boolean {
  return /[*?[\\]/.test(p);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function globRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (++i >= pattern.length) throw new GlobPatternError();
      re += escapeRe(pattern.charAt(i));
    } else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (pattern[j] === '^') {
        negate = true;
        j++;
      }
      let body = '';
      let first = true;
      for (; j < pattern.length && (first || pattern[j] !== ']'); j++, first = false) {
        let ch = pattern.charAt(j);
        if (ch === '\\') {
          if (++j >= pattern.length) throw new GlobPatternError();
          ch = pattern.charAt(j);
        }
        body += ch === '-' && !first && pattern[j + 1] !== ']' ? '-' : ch.replace(/[\]\\^-]/g, '\\$&');
      }
      if (j >= pattern.length || body === '') throw new GlobPatternError();
      re += `[${negate ? '^' : ''}${body}]`;
      i = j;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(re + '$', 'u');
  } catch {
    throw new GlobPatternError();
  }
}

export async function glob(pattern: string): Promise<string[]> {
  if (!hasMeta(pattern)) {
    try {
      await fsp.lstat(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const dir = path.dirname(pattern);
  const re = globRegExp(path.basename(pattern));
  const dirs = hasMeta(dir) && dir !== pattern ? await glob(dir) : [dir];
  const out: string[] = [];
  for (const d of dirs) {
    let names: string[];
    try {
      names = await fsp.readdir(d);
    } catch {
      continue;
    }
    names.sort(compareStrings);
    for (const n of names) if (re.test(n)) out.push(path.join(d, n));
  }
  return out;
}

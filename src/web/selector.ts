import { compileAnchoredRe2 } from '../relabel/re2.ts';
import { OutpostError, errorMessage } from '../util/errors.ts';

export class SelectorError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_SELECTOR_INVALID', message);
  }
}

type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  readonly test: (v: string) => boolean;
}

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;

/** What a backslash escape in a quoted selector string stands for. */
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['n', '\n'],
  ['t', '\t'],
  ['r', '\r'],
  ['\\', '\\'],
  ['"', '"'],
  ["'", "'"],
]);

/**
 * Parses a PromQL series selector (`metric{a="b", c=~"d.*"}`), the only PromQL the agent API takes
 * (`match_target`). A missing label matches "" as in Prometheus; at least one matcher must not match
 * the empty string.
 */
export function parseSelector(src: string): LabelMatcher[] {
  let i = 0;
  const fail = (msg: string): never => {
    throw new SelectorError(`1:${i + 1}: parse error: ${msg}`);
  };
  const skipWs = () => {
    while (i < src.length && /\s/.test(src.charAt(i))) i++;
  };
  const out: LabelMatcher[] = [];
  skipWs();
  if (i < src.length && NAME_START.test(src.charAt(i))) {
    const start = i;
    while (i < src.length && NAME_CHAR.test(src.charAt(i))) i++;
    out.push(matcher('__name__', '=', src.slice(start, i)));
    skipWs();
  }
  if (i < src.length && src[i] === '{') {
    i++;
    for (;;) {
      skipWs();
      if (i >= src.length) fail('unexpected end of input inside braces');
      if (src[i] === '}') {
        i++;
        break;
      }
      if (!LABEL_START.test(src.charAt(i))) fail(`unexpected character inside braces: ${JSON.stringify(src[i])}`);
      const start = i;
      while (i < src.length && LABEL_CHAR.test(src.charAt(i))) i++;
      const name = src.slice(start, i);
      skipWs();
      const op = (['=~', '!~', '!=', '='] as const).find((o) => src.startsWith(o, i));
      if (!op) fail(`unexpected character after label name ${JSON.stringify(name)}`);
      i += (op as MatchOp).length;
      skipWs();
      const value = readString();
      out.push(matcher(name, op as MatchOp, value));
      skipWs();
      if (src[i] === ',') {
        i++;
        continue;
      }
      if (src[i] === '}') {
        i++;
        break;
      }
      fail('unexpected character in label matching, expected "," or "}"');
    }
    skipWs();
  }
  if (i < src.length) fail(`unexpected character: ${JSON.stringify(src[i])}`);
  if (out.length === 0) fail('unexpected end of input');
  if (out.every((m) => m.test('')))
    throw new SelectorError('vector selector must contain at least one non-empty matcher');
  return out;

  function readString(): string {
    const q = src[i];
    if (q !== '"' && q !== "'" && q !== '`') fail('unexpected character, expected a quoted string');
    i++;
    let s = '';
    while (i < src.length && src[i] !== q) {
      if (src[i] === '\\' && q !== '`') {
        const unescaped = ESCAPES.get(src.charAt(i + 1));
        if (unescaped === undefined) return fail('unknown escape sequence');
        s += unescaped;
        i += 2;
        continue;
      }
      s += src[i++];
    }
    if (i >= src.length) fail('unterminated quoted string');
    i++;
    return s;
  }
}

function matcher(name: string, op: MatchOp, value: string): LabelMatcher {
  if (op === '=') return { name, op, value, test: (v) => v === value };
  if (op === '!=') return { name, op, value, test: (v) => v !== value };
  let re: RegExp;
  try {
    re = compileAnchoredRe2(value);
  } catch (err) {
    throw new SelectorError(`error parsing regexp: ${errorMessage(err)}`);
  }
  return op === '=~' ? { name, op, value, test: (v) => re.test(v) } : { name, op, value, test: (v) => !re.test(v) };
}

export function matchesAll(labels: Readonly<Record<string, string>>, ms: readonly LabelMatcher[]): boolean {
  for (const m of ms) if (!m.test(labels[m.name] ?? '')) return false;
  return true;
}

/**
 * RE2 (Go regexp/syntax, Perl flags) → JavaScript RegExp translation.
 *
 * Prometheus compiles every relabel regex as `^(?s:` + src + `)$`. We parse exactly that string
 * with Go's grammar, so error messages (which quote the wrapped expression) and odd inputs such as
 * `a)|(b` behave as in Prometheus, then emit a `u`-flag JS pattern built only from constructs whose
 * meaning we control: explicit ASCII classes for \d \s \w and POSIX classes, `[^\n]`/`[^]` for the
 * dot, lookarounds for multi-line anchors, `(?i:…)` modifier groups for case folding.
 *
 * Known differences that cannot be expressed (documented, not rejected):
 *  - inside a repeated group JS clears captures at every iteration; Go keeps the last value a
 *    capture got (`(?:(a)|b)+` on "ab": Go $1="a", JS $1=""). Only affects templates.
 *  - JS backtracks, so pathological patterns can be slow where RE2 is linear.
 *  - Unicode tables/case folding come from Node's ICU, not Go's (possibly another Unicode version).
 */
import { OutpostError } from '../util/errors.ts';

export class RegexTranslationError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_RELABEL_REGEX_INVALID', message);
  }
}

export interface CompiledRe2 {
  readonly regexp: RegExp;
  /** Go's SubexpNames: index 0 is the whole match (""), unnamed groups are "". */
  readonly groupNames: readonly string[];
}

export function compileAnchoredRe2(src: string): RegExp {
  return compileRe2Detailed(src).regexp;
}

/** Translates `^(?s:src)$` and keeps the group names, which template expansion needs. */
export function compileRe2Detailed(src: string): CompiledRe2 {
  const whole = '^(?s:' + src + ')$';
  const p = new Parser(whole);
  const ast = p.parseTop();
  const names = p.names;
  const emitter = new Emitter(names);
  const js = emitter.emit(ast, false);
  let regexp: RegExp;
  try {
    regexp = new RegExp(js, 'u');
  } catch (e) {
    // Should not happen: the emitter only produces syntax it controls.
    throw new RegexTranslationError(
      `cannot translate regexp ${JSON.stringify(src)} to JavaScript: ${(e as Error).message}`,
    );
  }
  return { regexp, groupNames: names };
}

// ---------------------------------------------------------------------------------------------
// AST

type ClassItem =
  | { readonly kind: 'ranges'; readonly ranges: readonly number[]; readonly negated: boolean }
  | { readonly kind: 'prop'; readonly prop: string; readonly negated: boolean };

type Node =
  | { readonly t: 'lit'; readonly cp: number; readonly fold: boolean }
  | { readonly t: 'class'; readonly items: readonly ClassItem[]; readonly negated: boolean; readonly fold: boolean }
  | { readonly t: 'any'; readonly dotNL: boolean }
  | { readonly t: 'assert'; readonly kind: 'bot' | 'eot' | 'bol' | 'eol' | 'wb' | 'nwb' }
  | { readonly t: 'group'; readonly cap: number; readonly body: Node }
  | { readonly t: 'concat'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly alts: readonly Node[] }
  | { readonly t: 'repeat'; readonly min: number; readonly max: number; readonly greedy: boolean; readonly sub: Node };

interface Flags {
  fold: boolean;
  multiLine: boolean;
  dotNL: boolean;
  nonGreedy: boolean;
}

/** The zero-width assertions written as an escape: `\A`, `\z`, `\b`, `\B`. */
const ESCAPE_ASSERTIONS: ReadonlyMap<string, Extract<Node, { t: 'assert' }>['kind']> = new Map([
  ['A', 'bot'],
  ['z', 'eot'],
  ['b', 'wb'],
  ['B', 'nwb'],
] as const);

/** The flag letters of `(?flags)` and `(?flags:re)`. */
const FLAG_LETTERS: ReadonlyMap<string, keyof Flags> = new Map([
  ['i', 'fold'],
  ['m', 'multiLine'],
  ['s', 'dotNL'],
  ['U', 'nonGreedy'],
]);

const MAX_RUNE = 0x10ffff;
const MAX_REPEAT = 1000;
const MAX_DEPTH = 1000;

// Go's perl_groups.go (ASCII only, as in RE2).
const PERL_GROUPS: Readonly<Record<string, { ranges: number[]; negated: boolean }>> = {
  '\\d': { ranges: [0x30, 0x39], negated: false },
  '\\D': { ranges: [0x30, 0x39], negated: true },
  '\\s': { ranges: [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20], negated: false },
  '\\S': { ranges: [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20], negated: true },
  '\\w': { ranges: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a], negated: false },
  '\\W': { ranges: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a], negated: true },
};

const POSIX_GROUPS: Readonly<Record<string, number[]>> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x00, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  digit: [0x30, 0x39],
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};

// \p{…} names. Go ≥ 1.25 (Prometheus head) looks names up case-insensitively, ignoring spaces,
// underscores and hyphens, and accepts general-category aliases plus Any/ASCII/Assigned.
const GENERAL_CATEGORIES: readonly (readonly string[])[] = [
  ['C', 'Other'],
  ['Cc', 'Control', 'cntrl'],
  ['Cf', 'Format'],
  ['Cn', 'Unassigned'],
  ['Co', 'Private_Use'],
  ['Cs', 'Surrogate'],
  ['L', 'Letter'],
  ['LC', 'Cased_Letter'],
  ['Ll', 'Lowercase_Letter'],
  ['Lm', 'Modifier_Letter'],
  ['Lo', 'Other_Letter'],
  ['Lt', 'Titlecase_Letter'],
  ['Lu', 'Uppercase_Letter'],
  ['M', 'Mark', 'Combining_Mark'],
  ['Mc', 'Spacing_Mark'],
  ['Me', 'Enclosing_Mark'],
  ['Mn', 'Nonspacing_Mark'],
  ['N', 'Number'],
  ['Nd', 'Decimal_Number', 'digit'],
  ['Nl', 'Letter_Number'],
  ['No', 'Other_Number'],
  ['P', 'Punctuation', 'punct'],
  ['Pc', 'Connector_Punctuation'],
  ['Pd', 'Dash_Punctuation'],
  ['Pe', 'Close_Punctuation'],
  ['Pf', 'Final_Punctuation'],
  ['Pi', 'Initial_Punctuation'],
  ['Po', 'Other_Punctuation'],
  ['Ps', 'Open_Punctuation'],
  ['S', 'Symbol'],
  ['Sc', 'Currency_Symbol'],
  ['Sk', 'Modifier_Symbol'],
  ['Sm', 'Math_Symbol'],
  ['So', 'Other_Symbol'],
  ['Z', 'Separator'],
  ['Zl', 'Line_Separator'],
  ['Zp', 'Paragraph_Separator'],
  ['Zs', 'Space_Separator'],
];

/** Unicode script long names (Go's unicode.Scripts keys), Unicode 15.0. */
export const SCRIPT_NAMES: readonly string[] = (
  'Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali ' +
  'Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian ' +
  'Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret ' +
  'Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian ' +
  'Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo ' +
  'Hatran Hebrew Hiragana Imperial_Aramaic Inherited Inscriptional_Pahlavi Inscriptional_Parthian ' +
  'Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi ' +
  'Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic ' +
  'Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive ' +
  'Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari ' +
  'New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic ' +
  'Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya ' +
  'Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic ' +
  'Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo ' +
  'Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut ' +
  'Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi ' +
  'Zanabazar_Square'
).split(' ');

function looseName(s: string): string {
  return s.replace(/[ _-]/g, '').toLowerCase();
}

const UNICODE_PROPS: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const names of GENERAL_CATEGORIES) for (const n of names) m.set(looseName(n), `gc=${names[0]}`);
  for (const n of SCRIPT_NAMES) m.set(looseName(n), `sc=${n}`);
  m.set('any', 'Any');
  m.set('ascii', 'ASCII');
  m.set('assigned', 'Assigned');
  return m;
})();

function isAlnumAscii(cp: number): boolean {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
}

function isOctal(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '7';
}

function unhex(ch: string | undefined): number {
  if (ch === undefined) return -1;
  if (ch >= '0' && ch <= '9') return ch.charCodeAt(0) - 0x30;
  if (ch >= 'a' && ch <= 'f') return ch.charCodeAt(0) - 0x61 + 10;
  if (ch >= 'A' && ch <= 'F') return ch.charCodeAt(0) - 0x41 + 10;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Parser: Go's regexp/syntax.Parse with the Perl flag set (ClassNL | OneLine | PerlX | UnicodeGroups).

/** Go's parseEscape: the escapes of control characters (octal, hex and punctuation are parsed apart). */
const CONTROL_ESCAPES: ReadonlyMap<string, number> = new Map([
  ['a', 0x07],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
  ['v', 0x0b],
]);

class Parser {
  private readonly s: string;
  private pos = 0;
  private flags: Flags = { fold: false, multiLine: false, dotNL: false, nonGreedy: false };
  private depth = 0;
  readonly names: string[] = [''];

  constructor(s: string) {
    this.s = s;
  }

  private fail(code: string, expr: string): never {
    throw new RegexTranslationError(`error parsing regexp: ${code}: \`${expr}\``);
  }

  parseTop(): Node {
    const node = this.parseSeq();
    if (this.pos < this.s.length) this.fail('unexpected )', this.s);
    return node;
  }

  /** Reads one code point at pos; Go rejects invalid UTF-8, which in JS means a lone surrogate. */
  private cpAt(i: number): number {
    const cp = this.s.codePointAt(i) as number;
    if (cp >= 0xd800 && cp <= 0xdfff) this.fail('invalid UTF-8', this.s.slice(i));
    return cp;
  }

  private static width(cp: number): number {
    return cp > 0xffff ? 2 : 1;
  }

  /** Parses alternatives up to an unconsumed ')' or the end. */
  private parseSeq(): Node {
    const alts: Node[] = [];
    let cur: Node[] = [];
    let lastRepeat = -1;
    const s = this.s;
    while (this.pos < s.length) {
      let repeatStart = -1;
      const c = s[this.pos];
      if (c === ')') break;
      switch (c) {
        case '(':
          this.parseParen(cur);
          break;
        case '|':
          alts.push(concat(cur));
          cur = [];
          this.pos++;
          break;
        case '^':
          cur.push({ t: 'assert', kind: this.flags.multiLine ? 'bol' : 'bot' });
          this.pos++;
          break;
        case '$':
          cur.push({ t: 'assert', kind: this.flags.multiLine ? 'eol' : 'eot' });
          this.pos++;
          break;
        case '.':
          cur.push({ t: 'any', dotNL: this.flags.dotNL });
          this.pos++;
          break;
        case '[':
          cur.push(this.parseClass());
          break;
        case '*':
        case '+':
        case '?': {
          const before = this.pos;
          this.pos++;
          const [min, max] = c === '*' ? [0, -1] : c === '+' ? [1, -1] : [0, 1];
          this.repeat(cur, min, max, before, lastRepeat, false);
          repeatStart = before;
          break;
        }
        case '{': {
          const before = this.pos;
          const r = this.parseRepeatBraces();
          if (r === null) {
            cur.push(this.literal(0x7b));
            this.pos++;
            break;
          }
          const [min, max, after] = r;
          if (min < 0 || min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
            this.fail('invalid repeat count', s.slice(before, after));
          }
          this.pos = after;
          this.repeat(cur, min, max, before, lastRepeat, true);
          repeatStart = before;
          break;
        }
        case '\\':
          this.parseBackslash(cur);
          break;
        default: {
          const cp = this.cpAt(this.pos);
          cur.push(this.literal(cp));
          this.pos += Parser.width(cp);
        }
      }
      lastRepeat = repeatStart;
    }
    if (alts.length === 0) return concat(cur);
    alts.push(concat(cur));
    return { t: 'alt', alts };
  }

  private literal(cp: number): Node {
    return { t: 'lit', cp, fold: this.flags.fold };
  }

  private repeat(cur: Node[], min: number, max: number, before: number, lastRepeat: number, counted: boolean): void {
    let greedy = !this.flags.nonGreedy;
    if (this.s[this.pos] === '?') {
      this.pos++;
      greedy = !greedy;
    }
    // Perl forbids stacked repetition operators: a** is an error, not a doubled star.
    if (lastRepeat >= 0) this.fail('invalid nested repetition operator', this.s.slice(lastRepeat, this.pos));
    const sub = cur.at(-1);
    if (sub === undefined) this.fail('missing argument to repetition operator', this.s.slice(before, this.pos));
    const node: Node = { t: 'repeat', min, max, greedy, sub };
    if (counted && (min >= 2 || max >= 2) && !repeatIsValid(node, MAX_REPEAT)) {
      this.fail('invalid repeat count', this.s.slice(before, this.pos));
    }
    cur[cur.length - 1] = node;
  }

  /** `{n}`, `{n,}`, `{n,m}` at pos; null when it is not a repeat (then `{` is a literal). */
  private parseRepeatBraces(): [number, number, number] | null {
    const s = this.s;
    let i = this.pos + 1;
    const readInt = (): number | null => {
      const start = i;
      while (i < s.length && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
      if (i === start) return null;
      // Go refuses leading zeros.
      if (i - start >= 2 && s[start] === '0') return null;
      // Anything longer than 9 digits is far beyond the limit of 1000 anyway.
      return i - start > 9 ? 1e9 : Number(s.slice(start, i));
    };
    const min = readInt();
    if (min === null) return null;
    let max = min;
    if (s[i] === ',') {
      i++;
      if (s[i] === '}') max = -1;
      else {
        const m = readInt();
        if (m === null) return null;
        max = m;
      }
    }
    if (s[i] !== '}') return null;
    i++;
    return [min, max, i];
  }

  private openGroup(cur: Node[], cap: number): void {
    if (++this.depth > MAX_DEPTH) this.fail('expression nests too deeply', this.s);
    const saved = { ...this.flags };
    const body = this.parseSeq();
    if (this.s[this.pos] !== ')') this.fail('missing closing )', this.s);
    this.pos++;
    this.flags = saved;
    this.depth--;
    cur.push({ t: 'group', cap, body });
  }

  private parseParen(cur: Node[]): void {
    const s = this.s;
    const t = s.slice(this.pos);
    if (!t.startsWith('(?')) {
      this.pos++;
      this.openGroup(cur, this.newCapture(''));
      return;
    }
    if ((t.length > 4 && t[2] === 'P' && t[3] === '<') || (t.length > 3 && t[2] === '<')) {
      const begin = t[2] === '<' ? 3 : 4;
      const end = t.indexOf('>');
      if (end < 0) this.fail('invalid named capture', t);
      const name = t.slice(begin, end);
      if (name === '' || ![...name].every((ch) => ch === '_' || isAlnumAscii(ch.codePointAt(0) as number))) {
        this.fail('invalid named capture', t.slice(0, end + 1));
      }
      this.pos += end + 1;
      this.openGroup(cur, this.newCapture(name));
      return;
    }
    // Flags: (?i) (?-s) (?im-sU:...)
    let i = this.pos + 2;
    const f: Flags = { ...this.flags };
    let negate = false;
    let sawFlag = false;
    for (;;) {
      if (i >= s.length) break;
      const ch = s.charAt(i++);
      const flag = FLAG_LETTERS.get(ch);
      if (flag !== undefined) {
        f[flag] = !negate;
        sawFlag = true;
        continue;
      }
      if (ch === '-') {
        if (negate) break;
        negate = true;
        sawFlag = false;
        continue;
      }
      if (ch === ':' || ch === ')') {
        if (negate && !sawFlag) break;
        this.pos = i;
        if (ch === ')') {
          this.flags = f;
          return;
        }
        if (++this.depth > MAX_DEPTH) this.fail('expression nests too deeply', this.s);
        const saved = this.flags;
        this.flags = f;
        const body = this.parseSeq();
        if (this.s[this.pos] !== ')') this.fail('missing closing )', this.s);
        this.pos++;
        this.flags = saved;
        this.depth--;
        cur.push({ t: 'group', cap: 0, body });
        return;
      }
      // Unknown flag character (also lookarounds like (?= and (?!).
      if (ch >= '\ud800' && ch <= '\udbff' && i < s.length) i++;
      break;
    }
    this.fail('invalid or unsupported Perl syntax', s.slice(this.pos, i));
  }

  private newCapture(name: string): number {
    this.names.push(name);
    return this.names.length - 1;
  }

  private parseBackslash(cur: Node[]): void {
    const s = this.s;
    const p = this.pos;
    const next = s[p + 1];
    const assertion = next === undefined ? undefined : ESCAPE_ASSERTIONS.get(next);
    if (assertion !== undefined) {
      cur.push({ t: 'assert', kind: assertion });
      this.pos += 2;
      return;
    }
    switch (next) {
      case 'C':
        return this.fail('invalid escape sequence', '\\C');
      case 'Q': {
        // Everything up to \E (or the end of the whole expression) is literal.
        const end = s.indexOf('\\E', p + 2);
        const lit = end < 0 ? s.slice(p + 2) : s.slice(p + 2, end);
        for (let i = 0; i < lit.length; ) {
          const cp = lit.codePointAt(i) as number;
          if (cp >= 0xd800 && cp <= 0xdfff) this.fail('invalid UTF-8', lit.slice(i));
          cur.push(this.literal(cp));
          i += Parser.width(cp);
        }
        this.pos = end < 0 ? s.length : end + 2;
        return;
      }
    }
    if (next === 'p' || next === 'P') {
      const item = this.parseUnicodeClass();
      if (item) {
        cur.push({ t: 'class', items: [item], negated: false, fold: this.flags.fold });
        return;
      }
    }
    const perl = PERL_GROUPS[s.slice(p, p + 2)];
    if (perl) {
      this.pos += 2;
      cur.push({
        t: 'class',
        items: [{ kind: 'ranges', ranges: perl.ranges, negated: perl.negated }],
        negated: false,
        fold: this.flags.fold,
      });
      return;
    }
    cur.push(this.literal(this.parseEscape()));
  }

  /** `\pL`, `\p{Greek}`, `\P{^Greek}` at pos, or null if pos is not at \p / \P. */
  private parseUnicodeClass(): ClassItem | null {
    const s = this.s;
    const p = this.pos;
    if (s[p] !== '\\' || (s[p + 1] !== 'p' && s[p + 1] !== 'P')) return null;
    let negated = s[p + 1] === 'P';
    let name: string;
    let seqEnd: number;
    if (s[p + 2] === '{') {
      const end = s.indexOf('}', p + 2);
      if (end < 0) this.fail('invalid character class range', s.slice(p));
      name = s.slice(p + 3, end);
      seqEnd = end + 1;
    } else {
      if (p + 2 >= s.length) this.fail('invalid character class range', s.slice(p));
      const cp = this.cpAt(p + 2);
      name = String.fromCodePoint(cp);
      seqEnd = p + 2 + Parser.width(cp);
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const prop = UNICODE_PROPS.get(looseName(name));
    if (prop === undefined || name === '') this.fail('invalid character class range', s.slice(p, seqEnd));
    this.pos = seqEnd;
    return { kind: 'prop', prop, negated };
  }

  /** Go's parseEscape: a single-character escape at pos (which is at the backslash). */
  private parseEscape(): number {
    const s = this.s;
    const start = this.pos;
    let i = start + 1;
    if (i >= s.length) this.fail('trailing backslash at end of expression', '');
    const c = this.cpAt(i);
    i += Parser.width(c);
    const ch = String.fromCodePoint(c);
    const bad = (): never => this.fail('invalid escape sequence', s.slice(start, i));
    if (c < 0x80 && !isAlnumAscii(c)) {
      this.pos = i;
      return c;
    }
    if ((ch >= '1' && ch <= '7' && isOctal(s[i])) || ch === '0') {
      // Octal: a leading digit plus up to two more; a lone \1-\7 would be a backreference.
      let r = c - 0x30;
      for (let k = 1; k < 3 && isOctal(s[i]); k++) r = r * 8 + (s.charCodeAt(i++) - 0x30);
      this.pos = i;
      return r;
    }
    switch (ch) {
      case 'x': {
        if (i >= s.length) return bad();
        if (s[i] === '{') {
          i++;
          let r = 0;
          let n = 0;
          for (;;) {
            if (i >= s.length) return bad();
            const d = s[i++];
            if (d === '}') break;
            const v = unhex(d);
            if (v < 0) return bad();
            r = r * 16 + v;
            if (r > MAX_RUNE) return bad();
            n++;
          }
          if (n === 0) return bad();
          this.pos = i;
          return r;
        }
        const x = unhex(s[i]);
        const y = unhex(s[i + 1]);
        i += Math.min(2, s.length - i);
        if (x < 0 || y < 0) return bad();
        this.pos = i;
        return x * 16 + y;
      }
    }
    const control = CONTROL_ESCAPES.get(ch);
    if (control === undefined) return bad();
    this.pos = i;
    return control;
  }

  private parseClass(): Node {
    const s = this.s;
    const whole = this.pos;
    this.pos++; // [
    let negated = false;
    if (s[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const items: ClassItem[] = [];
    const literalRanges: number[] = [];
    let first = true;
    while (this.pos >= s.length || s[this.pos] !== ']' || first) {
      if (this.pos >= s.length) this.fail('missing closing ]', s.slice(whole));
      first = false;
      // POSIX [:alpha:]
      if (s.startsWith('[:', this.pos) && this.pos + 2 < s.length) {
        const end = s.indexOf(':]', this.pos + 2);
        if (end >= 0) {
          const full = s.slice(this.pos, end + 2);
          let name = s.slice(this.pos + 2, end);
          let neg = false;
          if (name.startsWith('^')) {
            neg = true;
            name = name.slice(1);
          }
          const ranges = Object.hasOwn(POSIX_GROUPS, name) ? POSIX_GROUPS[name] : undefined;
          if (!ranges) this.fail('invalid character class range', full);
          items.push({ kind: 'ranges', ranges, negated: neg });
          this.pos = end + 2;
          continue;
        }
      }
      const uni = this.parseUnicodeClass();
      if (uni) {
        items.push(uni);
        continue;
      }
      const perl = s[this.pos] === '\\' ? PERL_GROUPS[s.slice(this.pos, this.pos + 2)] : undefined;
      if (perl) {
        items.push({ kind: 'ranges', ranges: perl.ranges, negated: perl.negated });
        this.pos += 2;
        continue;
      }
      const rangeStart = this.pos;
      const lo = this.parseClassChar(whole);
      let hi = lo;
      if (this.pos + 1 < s.length && s[this.pos] === '-' && s[this.pos + 1] !== ']') {
        this.pos++;
        hi = this.parseClassChar(whole);
        if (hi < lo) this.fail('invalid character class range', s.slice(rangeStart, this.pos));
      }
      literalRanges.push(lo, hi);
    }
    this.pos++; // ]
    if (literalRanges.length > 0) items.unshift({ kind: 'ranges', ranges: literalRanges, negated: false });
    return { t: 'class', items, negated, fold: this.flags.fold };
  }

  private parseClassChar(whole: number): number {
    const s = this.s;
    if (this.pos >= s.length) this.fail('missing closing ]', s.slice(whole));
    if (s[this.pos] === '\\') return this.parseEscape();
    const cp = this.cpAt(this.pos);
    this.pos += Parser.width(cp);
    return cp;
  }
}

function concat(items: Node[]): Node {
  const [only] = items;
  return items.length === 1 && only !== undefined ? only : { t: 'concat', items };
}

/** Go's repeatIsValid: nested counted repetitions may not multiply beyond 1000. */
function repeatIsValid(node: Node, n: number): boolean {
  let limit = n;
  if (node.t === 'repeat') {
    // Go applies the check to {n,m} only; * + ? have max -1/1 and never shrink the limit.
    let m = node.max;
    if (m !== 0) {
      if (m < 0) m = node.min;
      if (m > limit) return false;
      if (m > 0) limit = Math.floor(limit / m);
    }
    return repeatIsValid(node.sub, limit);
  }
  if (node.t === 'group') return repeatIsValid(node.body, limit);
  if (node.t === 'concat') return node.items.every((x) => repeatIsValid(x, limit));
  if (node.t === 'alt') return node.alts.every((x) => repeatIsValid(x, limit));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Emitter

function esc(cp: number): string {
  return isAlnumAscii(cp) ? String.fromCharCode(cp) : `\\u{${cp.toString(16)}}`;
}

/** The [lo, hi] pairs of a flat range list [lo0, hi0, lo1, hi1, ...]. */
function* rangePairs(ranges: readonly number[]): Generator<[lo: number, hi: number], void, undefined> {
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    const lo = ranges[i];
    const hi = ranges[i + 1];
    if (lo !== undefined && hi !== undefined) yield [lo, hi];
  }
}

function normalizeRanges(ranges: readonly number[]): number[] {
  const pairs = [...rangePairs(ranges)].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [lo, hi] of pairs) {
    const last = merged.at(-1);
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return merged.flat();
}

function complementRanges(ranges: readonly number[]): number[] {
  const norm = normalizeRanges(ranges);
  const out: number[] = [];
  let next = 0;
  for (const [lo, hi] of rangePairs(norm)) {
    if (lo > next) out.push(next, lo - 1);
    next = hi + 1;
  }
  if (next <= MAX_RUNE) out.push(next, MAX_RUNE);
  return out;
}

function rangesBody(ranges: readonly number[]): string {
  let out = '';
  for (const [lo, hi] of rangePairs(ranges)) {
    out += esc(lo);
    if (hi !== lo) out += '-' + esc(hi);
  }
  return out;
}

/** Class body of one item as a JS set, taken positively (negation ignored). */
function itemPositiveBody(item: ClassItem): string {
  return item.kind === 'ranges' ? rangesBody(normalizeRanges(item.ranges)) : `\\p{${item.prop}}`;
}

class Emitter {
  private readonly jsNames = new Map<number, string>();

  constructor(names: readonly string[]) {
    const seen = new Set<string>();
    for (const [i, n] of names.entries()) {
      if (i === 0) continue;
      // JS group names must be unique identifiers; Go's may repeat or start with a digit.
      if (n !== '' && /^[A-Za-z_]\w*$/.test(n) && !seen.has(n)) {
        seen.add(n);
        this.jsNames.set(i, n);
      }
    }
  }

  /** fold = whether the emitted context is already under the JS `i` modifier. */
  emit(node: Node, fold: boolean): string {
    switch (node.t) {
      case 'lit': {
        const src = esc(node.cp);
        if (node.fold === fold || !hasCaseVariants(node.cp)) return src;
        return node.fold ? `(?i:${src})` : `(?-i:${src})`;
      }
      case 'any':
        return node.dotNL ? '[^]' : '[^\\n]';
      case 'assert':
        switch (node.kind) {
          case 'bot':
            return '^';
          case 'eot':
            return '$';
          case 'bol':
            return '(?<![^\\n])';
          case 'eol':
            return '(?![^\\n])';
          // JS \b is ASCII-only like RE2's, but only while the i modifier is off.
          case 'wb':
            return fold ? '(?-i:\\b)' : '\\b';
          case 'nwb':
            return fold ? '(?-i:\\B)' : '\\B';
        }
        return '';
      case 'class':
        return this.emitClass(node, fold);
      case 'group': {
        const body = this.emit(node.body, fold);
        if (node.cap === 0) return `(?:${body})`;
        const name = this.jsNames.get(node.cap);
        return name ? `(?<${name}>${body})` : `(${body})`;
      }
      case 'concat':
        return node.items.map((x) => this.emitAtomInConcat(x, fold)).join('');
      case 'alt':
        return node.alts.map((x) => this.emit(x, fold)).join('|');
      case 'repeat': {
        const sub = this.emit(node.sub, fold);
        const atom = isAtomic(node.sub) ? sub : `(?:${sub})`;
        let q: string;
        if (node.min === 0 && node.max === -1) q = '*';
        else if (node.min === 1 && node.max === -1) q = '+';
        else if (node.min === 0 && node.max === 1) q = '?';
        else if (node.max === -1) q = `{${node.min},}`;
        else if (node.min === node.max) q = `{${node.min}}`;
        else q = `{${node.min},${node.max}}`;
        return atom + q + (node.greedy ? '' : '?');
      }
    }
  }

  private emitAtomInConcat(node: Node, fold: boolean): string {
    const src = this.emit(node, fold);
    // An alternation directly inside a concatenation only arises at the root; keep it grouped.
    return node.t === 'alt' ? `(?:${src})` : src;
  }

  private emitClass(node: Extract<Node, { t: 'class' }>, fold: boolean): string {
    const wrap = (src: string): string => (node.fold === fold ? src : node.fold ? `(?i:${src})` : `(?-i:${src})`);
    const negItems = node.items.filter((x) => x.negated);
    if (!node.fold || negItems.length === 0) {
      // Without folding, a JS class holds exactly Go's set. With folding and only positive items,
      // JS' `i` matching equals Go's folded class (negated or not).
      let body = '';
      for (const item of node.items) {
        if (!item.negated) body += itemPositiveBody(item);
        else if (item.kind === 'ranges') body += rangesBody(complementRanges(item.ranges));
        else body += `\\P{${item.prop}}`;
      }
      return wrap(`[${node.negated ? '^' : ''}${body}]`);
    }
    // Folding with negated items (e.g. (?i)\W, (?i)[^\PL]): Go negates the *folded* set, which a
    // JS class under `i` cannot say. Express membership with lookaheads instead:
    //   c ∈ class ⇔ c ∈ fold(P) ∨ ∃j: c ∉ fold(Nj)
    const inI = (src: string): string => (fold ? src : `(?i:${src})`);
    const posBody = node.items
      .filter((x) => !x.negated)
      .map(itemPositiveBody)
      .join('');
    const pos = posBody === '' ? null : inI(`[${posBody}]`);
    const negs = negItems.map((x) => inI(`[${itemPositiveBody(x)}]`));
    if (!node.negated) {
      const alts: string[] = [];
      if (pos) alts.push(pos);
      for (const n of negs) alts.push(`(?!${n})[^]`);
      return `(?:${alts.join('|')})`;
    }
    return `(?:${pos ? `(?!${pos})` : ''}${negs.map((n) => `(?=${n})`).join('')}[^])`;
  }
}

function isAtomic(node: Node): boolean {
  // Literals and classes may come back wrapped in a modifier group, which is still one atom.
  return node.t === 'lit' || node.t === 'any' || node.t === 'class' || node.t === 'group';
}

function hasCaseVariants(cp: number): boolean {
  // ASCII digits and punctuation are the only common literals with nothing to fold; everything
  // else gets the modifier group, which is harmless when it turns out to be unneeded.
  return cp >= 0x80 || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
}

/**
 * Relabeling (Prometheus model/relabel, head semantics). Rules are compiled once (regex, templates,
 * modulus) and then applied to a LabelsBuilder; that only happens for new targets and new series,
 * never per sample, so the code favours clarity.
 */
import { OutpostError } from '../util/errors.ts';
import { md5 } from '../util/md5.ts';
import type { LabelsBuilder } from '../util/labels.ts';
import { compileRe2Detailed, RegexTranslationError, type CompiledRe2 } from './re2.ts';
import { isValidLabelNameIn, type NameValidationScheme } from './names.ts';
import type { RelabelAction, RelabelConfig, RelabelField } from './types.ts';
import { validateRelabelConfig } from './validate.ts';

export class RelabelConfigError extends OutpostError {
  readonly index: number;
  readonly field: RelabelField;
  constructor(index: number, field: RelabelField, message: string) {
    super('OUTPOST_RELABEL_CONFIG_INVALID', `relabel rule ${index}: ${field}: ${message}`);
    this.index = index;
    this.field = field;
  }
}

/** A `$…` template split into literal text and group references, resolved against one regex. */
type TemplatePart = string | number | readonly number[];

export interface CompiledRelabel {
  readonly config: RelabelConfig;
  readonly action: RelabelAction;
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** `^(?s:regex)$` translated to JS (stateless: no g/y flag). */
  readonly regex: RegExp;
  /** Same pattern with the `g` flag, for labelmap's replace-all; its lastIndex is set before each use. */
  readonly regexAll: RegExp;
  readonly groupNames: readonly string[];
  readonly targetLabel: string;
  /** null when target_label has no `$`, so it is used literally. */
  readonly targetTemplate: readonly TemplatePart[] | null;
  readonly replacement: string;
  readonly replacementTemplate: readonly TemplatePart[];
  readonly modulus: bigint;
  readonly nameValidation: NameValidationScheme;
}

export function compileRelabelConfigs(rules: readonly RelabelConfig[]): CompiledRelabel[] {
  return rules.map((rc, i) => compileRelabelConfig(rc, i));
}

function compileRelabelConfig(rc: RelabelConfig, index = 0): CompiledRelabel {
  const problem = validateRelabelConfig(rc);
  if (problem) throw new RelabelConfigError(index, problem.field, problem.message);
  let re: CompiledRe2;
  try {
    re = compileRe2Detailed(rc.regex);
  } catch (e) {
    if (e instanceof RegexTranslationError) throw new RelabelConfigError(index, 'regex', e.message);
    throw e;
  }
  const names = re.groupNames;
  return Object.freeze({
    config: rc,
    action: rc.action,
    sourceLabels: Object.freeze([...rc.sourceLabels]),
    separator: rc.separator,
    regex: re.regexp,
    regexAll: new RegExp(re.regexp.source, re.regexp.flags + 'g'),
    groupNames: names,
    targetLabel: rc.targetLabel,
    targetTemplate: rc.targetLabel.includes('$') ? compileTemplate(rc.targetLabel, names) : null,
    replacement: rc.replacement,
    replacementTemplate: compileTemplate(rc.replacement, names),
    modulus: BigInt(rc.modulus),
    nameValidation: rc.nameValidation ?? 'utf8',
  });
}

/**
 * Applies the rules in order to lb. Returns false as soon as a rule drops the label set (lb is
 * then left as that rule saw it); true otherwise.
 */
export function relabel(rules: readonly CompiledRelabel[], lb: LabelsBuilder): boolean {
  for (const r of rules) if (!applyRule(r, lb)) return false;
  return true;
}

function applyRule(r: CompiledRelabel, lb: LabelsBuilder): boolean {
  let val: string;
  const src = r.sourceLabels;
  const [only] = src;
  if (src.length === 1 && only !== undefined) val = lb.get(only);
  else val = src.map((name) => lb.get(name)).join(r.separator);
  switch (r.action) {
    case 'drop':
      return !r.regex.test(val);
    case 'keep':
      return r.regex.test(val);
    case 'dropequal':
      return lb.get(r.targetLabel) !== val;
    case 'keepequal':
      return lb.get(r.targetLabel) === val;
    case 'replace': {
      const m = r.regex.exec(val);
      if (m === null) return true;
      const target = r.targetTemplate ? expandParts(r.targetTemplate, m) : r.targetLabel;
      // 3.x: an expanded target that is not a label name under the rule's scheme makes the rule a
      // no-op (model/relabel/relabel.go v3.14.0 line 326; 2.42 instead deleted a label literally
      // named like the template).
      if (!isValidLabelNameIn(target, r.nameValidation)) return true;
      lb.set(target, expandParts(r.replacementTemplate, m)); // "" deletes
      return true;
    }
    case 'lowercase':
      lb.set(r.targetLabel, goToLower(val));
      return true;
    case 'uppercase':
      lb.set(r.targetLabel, goToUpper(val));
      return true;
    case 'hashmod':
      lb.set(r.targetLabel, hashmod(val, r.modulus).toString());
      return true;
    case 'labelmap':
      lb.forEach((name, value) => {
        if (r.regex.test(name)) lb.set(replaceAll(r, name), value);
      });
      return true;
    case 'labeldrop':
      lb.forEach((name) => {
        if (r.regex.test(name)) lb.del(name);
      });
      return true;
    case 'labelkeep':
      lb.forEach((name) => {
        if (!r.regex.test(name)) lb.del(name);
      });
      return true;
  }
}

/** BE uint64 of MD5 bytes 8..15, mod m (Prometheus kept the last 8 bytes for compatibility). */
export function hashmod(value: string, modulus: bigint): bigint {
  const digest = md5(Buffer.from(value, 'utf8'));
  return new DataView(digest.buffer).getBigUint64(8) % modulus;
}

/**
 * Go's Regexp.ReplaceAllString: every non-overlapping match is replaced by the expanded template,
 * and an empty match right after a previous match is skipped. With the usual fully anchored
 * pattern that is one replacement of the whole string, but a regex like `a)|(b` is not anchored.
 */
function replaceAll(r: CompiledRelabel, src: string): string {
  const re = r.regexAll;
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    re.lastIndex = searchPos;
    const m = re.exec(src);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandParts(r.replacementTemplate, m);
    lastMatchEnd = end;
    const cp = src.codePointAt(searchPos);
    const width = cp !== undefined && cp > 0xffff ? 2 : 1;
    searchPos = Math.max(searchPos + width, end);
  }
  return out + src.slice(lastMatchEnd);
}

// ---------------------------------------------------------------------------------------------
// Templates (Go Regexp.Expand)

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/**
 * Parses a template: `$$` is a literal `$`; `$name` takes the longest run of letters, digits and
 * `_` (so `$1_x` refers to a group named "1_x"); `${name}` is explicit; a number without leading
 * zeros is a group index; anything malformed keeps the `$` as text.
 */
function compileTemplate(template: string, groupNames: readonly string[]): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let lit = '';
  let i = 0;
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) {
      lit += template.slice(i);
      break;
    }
    lit += template.slice(i, d);
    i = d + 1;
    if (template[i] === '$') {
      lit += '$';
      i++;
      continue;
    }
    const ref = extractRef(template, i);
    if (ref === null) {
      lit += '$';
      continue;
    }
    i = ref.end;
    if (lit !== '') parts.push(lit);
    lit = '';
    const num = groupNumber(ref.name);
    if (num >= 0) parts.push(num);
    else {
      const idx: number[] = [];
      for (let g = 0; g < groupNames.length; g++) if (groupNames[g] === ref.name) idx.push(g);
      parts.push(idx);
    }
  }
  if (lit !== '') parts.push(lit);
  return parts;
}

function extractRef(t: string, start: number): { name: string; end: number } | null {
  let i = start;
  const brace = t[i] === '{';
  if (brace) i++;
  const nameStart = i;
  while (i < t.length) {
    const cp = t.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    if (!NAME_CHAR.test(ch)) break;
    i += ch.length;
  }
  if (i === nameStart) return null;
  const name = t.slice(nameStart, i);
  if (brace) {
    if (t[i] !== '}') return null;
    i++;
  }
  return { name, end: i };
}

/** Go's rule: ASCII digits only, no leading zero, below 1e8; otherwise it is a name. */
function groupNumber(name: string): number {
  if (!/^[0-9]+$/.test(name) || (name.length > 1 && name[0] === '0') || name.length > 8) return -1;
  return Number(name);
}

function expandParts(parts: readonly TemplatePart[], m: ArrayLike<string | undefined>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else if (typeof p === 'number') out += (p < m.length ? m[p] : undefined) ?? '';
    else {
      // Go allows repeated names; the first group of that name that took part wins.
      for (const g of p) {
        const v = g < m.length ? m[g] : undefined;
        if (v !== undefined) {
          out += v;
          break;
        }
      }
    }
  }
  return out;
}

/**
 * Go Regexp.Expand semantics for `template` given a match (`exec` result: index 0 = whole match,
 * undefined = group did not take part) and the regex's group names (Go's SubexpNames).
 */
export function expandTemplate(
  template: string,
  match: ArrayLike<string | undefined>,
  groupNames: readonly string[],
): string {
  return expandParts(compileTemplate(template, groupNames), match);
}

// ---------------------------------------------------------------------------------------------
// Go's strings.ToLower / ToUpper: per code point, Unicode *simple* case mapping. JS uses full
// mappings (ß → SS, İ → i̇) and a context rule for final sigma, so map code points one by one and
// fall back to the simple mapping where JS would produce more than one code point.

export function goToLower(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const l = ch.toLowerCase();
    out += [...l].length === 1 ? l : ch === '\u0130' ? 'i' : ch;
  }
  return out;
}

export function goToUpper(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s.toUpperCase();
  let out = '';
  for (const ch of s) {
    const u = ch.toUpperCase();
    out += [...u].length === 1 ? u : simpleUpperOfSpecial(ch);
  }
  return out;
}

/** Simple uppercase of characters whose full uppercase has several code points. */
function simpleUpperOfSpecial(ch: string): string {
  const cp = ch.codePointAt(0) as number;
  // Greek with ypogegrammeni: ᾀ..ᾇ → ᾈ..ᾏ (likewise ᾐ.., ᾠ..), ᾳ → ᾼ, ῃ → ῌ, ῳ → ῼ.
  if ((cp >= 0x1f80 && cp <= 0x1f87) || (cp >= 0x1f90 && cp <= 0x1f97) || (cp >= 0x1fa0 && cp <= 0x1fa7)) {
    return String.fromCodePoint(cp + 8);
  }
  if (cp === 0x1fb3 || cp === 0x1fc3 || cp === 0x1ff3) return String.fromCodePoint(cp + 9);
  // ß, ŉ, ǰ, ΐ, ΰ, և, ẖ.., ligatures ﬀ.. and the Greek titlecase forms have no simple uppercase.
  return ch;
}

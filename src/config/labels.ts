import { isValidLabelNameIn, schemeHint } from '../relabel/names.ts';
import { goQuote } from '../relabel/names.ts';
import { LabelsBuilder } from '../util/labels.ts';
import type { Labels } from '../util/labels.ts';
import type { NameValidationScheme } from './types.ts';
import { readStringMap } from './reader.ts';
import type { Ctx, Field } from './reader.ts';

/** Label-name check for the configured scheme (legacy: [a-zA-Z_][a-zA-Z0-9_]*, utf8: any non-empty text). */
export function labelNameValid(name: string, scheme: NameValidationScheme): boolean {
  return isValidLabelNameIn(name, scheme);
}

/**
 * A `labels:` / `external_labels:` mapping. Names are checked against the scheme, values must be
 * well-formed text; an empty value is kept out of the set (a label set to "" does not exist).
 * `expand` rewrites each value first (external labels' `${VAR}` expansion).
 */
export function readLabelSet(
  ctx: Ctx,
  f: Field | undefined,
  scheme: NameValidationScheme,
  expand?: (v: string, f: Field) => string,
): Labels {
  const m = readStringMap(ctx, f);
  if (!m) return [];
  const b = new LabelsBuilder();
  for (const [name, { value, field, keyNode }] of m) {
    if (!labelNameValid(name, scheme)) {
      // The empty name is refused by either scheme; only legacy refusals name the scheme.
      const hint = name === '' ? '' : schemeHint(scheme);
      ctx.error(keyNode, field.path, `${goQuote(name)} is not a valid label name${hint}`);
      continue;
    }
    const v = expand ? expand(value, field) : value;
    if (!v.isWellFormed()) {
      ctx.error(field.at, field.path, `${goQuote(v)} is not a valid label value`);
      continue;
    }
    b.set(name, v);
  }
  return b.labels();
}

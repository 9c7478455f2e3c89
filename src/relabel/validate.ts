import { RELABEL_ACTIONS, RELABEL_DEFAULTS } from './types.ts';
import type { RelabelAction, RelabelConfig, RelabelField } from './types.ts';
import { compileAnchoredRe2, RegexTranslationError } from './re2.ts';
import { goQuote, hasTemplateVar, isValidLabelNameIn, isValidTemplatedLabelName, schemeHint } from './names.ts';
import type { NameValidationScheme } from './names.ts';

export interface RelabelProblem {
  field: RelabelField;
  /** Prometheus' own wording (model/relabel Config.Validate), so users can search for it. */
  message: string;
}

/** YAML accepts actions in any case (`Replace`, `LABELMAP`). */
export function parseRelabelAction(s: string): RelabelAction | null {
  const lower = s.toLowerCase();
  for (const a of RELABEL_ACTIONS) if (a === lower) return a;
  return null;
}

/** The message Prometheus gives for an action it does not know. */
export function unknownRelabelActionMessage(s: string): string {
  return `unknown relabel action ${goQuote(s)}`;
}

const NEEDS_TARGET: ReadonlySet<RelabelAction> = new Set<RelabelAction>([
  'replace',
  'hashmod',
  'lowercase',
  'uppercase',
  'keepequal',
  'dropequal',
]);
const PLAIN_TARGET: ReadonlySet<RelabelAction> = new Set<RelabelAction>([
  'lowercase',
  'uppercase',
  'keepequal',
  'dropequal',
]);

/**
 * Checks one rule the way Prometheus 3 does while loading YAML: first the field-level checks
 * (source label names, modulus, the regex itself), then Config.Validate's rules in its order, so
 * the first problem reported is the one Prometheus would report. Validate compares against the
 * default *values*, so e.g. `replacement: $1` on a lowercase rule is accepted; only `regex` and
 * `source_labels` count as set whenever they are written, as in Prometheus (pointer / nil checks).
 *
 * Names follow the rule's validation scheme (its job's, or the global one for write relabeling;
 * unset means `utf8`, 3.x's default): model/relabel/relabel.go Config.Validate (v3.14.0, lines
 * 131-170). Source label names are checked as UTF-8 whatever the scheme: they are
 * model.LabelName values, which 3.x unmarshals under the UTF-8 default (prometheus/common
 * model/labels.go LabelName.UnmarshalYAML).
 */
export function validateRelabelConfig(rc: RelabelConfig): RelabelProblem | null {
  const scheme: NameValidationScheme = rc.nameValidation ?? 'utf8';
  for (const name of rc.sourceLabels) {
    if (!isValidLabelNameIn(name, 'utf8'))
      return { field: 'source_labels', message: `${goQuote(name)} is not a valid label name` };
  }
  if (!Number.isSafeInteger(rc.modulus) || rc.modulus < 0) {
    return { field: 'modulus', message: `modulus must be a non-negative integer, got ${String(rc.modulus)}` };
  }
  try {
    compileAnchoredRe2(rc.regex);
  } catch (e) {
    if (e instanceof RegexTranslationError) return { field: 'regex', message: e.message };
    throw e;
  }

  const a = rc.action;
  if (a === 'hashmod' && rc.modulus === 0) {
    return { field: 'modulus', message: 'relabel configuration for hashmod requires non-zero modulus' };
  }
  if (NEEDS_TARGET.has(a) && rc.targetLabel === '') {
    return { field: 'target_label', message: `relabel configuration for ${a} action requires 'target_label' value` };
  }
  const badTarget: RelabelProblem = {
    field: 'target_label',
    message: `${goQuote(rc.targetLabel)} is invalid 'target_label' for ${a} action${schemeHint(scheme)}`,
  };
  // UTF-8 names may hold `$` and `{}` anyway; only legacy needs the template-aware pattern.
  const validWithVars = (v: string): boolean =>
    scheme === 'utf8' ? isValidLabelNameIn(v, 'utf8') : isValidTemplatedLabelName(v);
  if (a === 'replace') {
    const ok = hasTemplateVar(rc.targetLabel)
      ? validWithVars(rc.targetLabel)
      : isValidLabelNameIn(rc.targetLabel, scheme);
    if (!ok) return badTarget;
  }
  if (PLAIN_TARGET.has(a) && !isValidLabelNameIn(rc.targetLabel, scheme)) return badTarget;
  if (PLAIN_TARGET.has(a) && rc.replacement !== RELABEL_DEFAULTS.replacement) {
    return { field: 'replacement', message: `'replacement' can not be set for ${a} action` };
  }
  if (a === 'labelmap' && !validWithVars(rc.replacement)) {
    return {
      field: 'replacement',
      message: `${goQuote(rc.replacement)} is invalid 'replacement' for ${a} action${schemeHint(scheme)}`,
    };
  }
  if (a === 'hashmod' && !isValidLabelNameIn(rc.targetLabel, scheme)) return badTarget;

  if (a === 'keepequal' || a === 'dropequal') {
    const field = firstSet(rc, ['regex', 'modulus', 'separator', 'replacement']);
    if (field)
      return { field, message: `${a} action requires only 'source_labels' and \`target_label\`, and no other fields` };
  }
  if (a === 'labeldrop' || a === 'labelkeep') {
    const field = firstSet(rc, ['source_labels', 'target_label', 'modulus', 'separator', 'replacement']);
    if (field) return { field, message: `${a} action requires only 'regex', and no other fields` };
  }
  return null;
}

/**
 * The first of these fields the rule sets to something other than its default, in the order given
 * (the order Prometheus checks them in), or null.
 */
function firstSet(rc: RelabelConfig, fields: readonly RelabelField[]): RelabelField | null {
  const set: Readonly<Record<RelabelField, boolean>> = {
    source_labels: rc.explicit.has('source_labels') || rc.sourceLabels.length > 0,
    target_label: rc.targetLabel !== '',
    regex: rc.explicit.has('regex'),
    modulus: rc.modulus !== 0,
    separator: rc.separator !== RELABEL_DEFAULTS.separator,
    replacement: rc.replacement !== RELABEL_DEFAULTS.replacement,
    action: false,
  };
  return fields.find((f) => set[f]) ?? null;
}

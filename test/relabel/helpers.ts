import { RELABEL_DEFAULTS } from '../../src/relabel/types.ts';
import type { RelabelAction, RelabelConfig, RelabelField } from '../../src/relabel/types.ts';
import type { NameValidationScheme } from '../../src/relabel/names.ts';

/** The YAML view of a rule: only the keys given count as written, the rest take defaults. */
export interface RuleSpec {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  modulus?: number;
  target_label?: string;
  replacement?: string;
  action?: RelabelAction;
  /** The job's name validation scheme (not a YAML key of the rule); unset = utf8. */
  scheme?: NameValidationScheme;
}

export function rule(spec: RuleSpec): RelabelConfig {
  return {
    sourceLabels: spec.source_labels ?? [],
    separator: spec.separator ?? RELABEL_DEFAULTS.separator,
    regex: spec.regex ?? RELABEL_DEFAULTS.regex,
    modulus: spec.modulus ?? 0,
    targetLabel: spec.target_label ?? '',
    replacement: spec.replacement ?? RELABEL_DEFAULTS.replacement,
    action: spec.action ?? RELABEL_DEFAULTS.action,
    nameValidation: spec.scheme,
    explicit: new Set(Object.keys(spec).filter((k) => k !== 'scheme') as RelabelField[]),
  };
}

import type { NameValidationScheme } from './names.ts';

/** One relabeling rule as written in the config, defaults already applied. */
export type RelabelAction =
  | 'replace'
  | 'keep'
  | 'drop'
  | 'keepequal'
  | 'dropequal'
  | 'hashmod'
  | 'labelmap'
  | 'labeldrop'
  | 'labelkeep'
  | 'lowercase'
  | 'uppercase';

export const RELABEL_ACTIONS: readonly RelabelAction[] = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
];

/** YAML field names of a rule, used to say which field an error is about. */
export type RelabelField =
  | 'source_labels'
  | 'separator'
  | 'regex'
  | 'modulus'
  | 'target_label'
  | 'replacement'
  | 'action';

export interface RelabelConfig {
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** RE2 source as written (unanchored); the default is "(.*)". */
  readonly regex: string;
  readonly modulus: number;
  readonly targetLabel: string;
  readonly replacement: string;
  readonly action: RelabelAction;
  /**
   * The name validation scheme of the rule's job (or the global one for write relabeling): which
   * target labels are valid, at load and when a replace expands its target. Unset means `utf8`,
   * Prometheus 3's default.
   */
  readonly nameValidation?: NameValidationScheme | undefined;
  /** The fields the user wrote explicitly (validation depends on it, e.g. lowercase must not set replacement). */
  readonly explicit: ReadonlySet<RelabelField>;
}

export const RELABEL_DEFAULTS = {
  separator: ';',
  regex: '(.*)',
  replacement: '$1',
  action: 'replace' as RelabelAction,
} as const;

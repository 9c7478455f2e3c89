/**
 * The `otlp:` block (Prometheus 3.x config.OTLPConfig): how the OTLP receiver names what it ingests.
 * Defaults and checks follow 3.x's UnmarshalYAML and Load: promote_all_resource_attributes excludes
 * promote_resource_attributes, ignore_resource_attributes needs it, attribute lists are trimmed and
 * must hold no empty or repeated entries, and the UTF-8 strategies need utf8 name validation.
 */
import { type Ctx, type Field, keyError, readBool, readMap, readString, readStringItems } from './reader.ts';
import type { NameValidationScheme, OtlpConfig } from './types.ts';

export const DEFAULT_OTLP_CONFIG: OtlpConfig = Object.freeze({
  translationStrategy: 'UnderscoreEscapingWithSuffixes',
  promoteAllResourceAttributes: false,
  promoteResourceAttributes: [],
  ignoreResourceAttributes: [],
  keepIdentifyingResourceAttributes: false,
  convertHistogramsToNHCB: false,
  promoteScopeMetadata: false,
  labelNameUnderscoreSanitization: true,
  labelNamePreserveMultipleUnderscores: true,
});

const TRANSLATION_STRATEGIES: readonly OtlpConfig['translationStrategy'][] = [
  'UnderscoreEscapingWithSuffixes',
  'UnderscoreEscapingWithoutSuffixes',
  'NoUTF8EscapingWithSuffixes',
  'NoTranslation',
];

const KEYS = [
  'translation_strategy',
  'promote_resource_attributes',
  'ignore_resource_attributes',
  'promote_all_resource_attributes',
  'keep_identifying_resource_attributes',
  'convert_histograms_to_nhcb',
  'promote_scope_metadata',
  'label_name_underscore_sanitization',
  'label_name_preserve_multiple_underscores',
];

function attributeList(ctx: Ctx, f: Field | undefined, adjective: string): string[] {
  const out: string[] = [];
  for (const { value, field } of readStringItems(ctx, f) ?? []) {
    const a = value.trim();
    if (a === '') ctx.error(field.at, field.path, `empty ${adjective} OTel resource attribute`);
    else if (out.includes(a)) ctx.error(field.at, field.path, `duplicated ${adjective} OTel resource attribute "${a}"`);
    else out.push(a);
  }
  return out;
}

export function readOtlp(ctx: Ctx, f: Field | undefined, validation: NameValidationScheme): OtlpConfig {
  if (!f) return DEFAULT_OTLP_CONFIG;
  const m = readMap(ctx, f, { known: KEYS });
  if (!m) return DEFAULT_OTLP_CONFIG;
  const d = DEFAULT_OTLP_CONFIG;
  const bool = (k: string, def: boolean) => readBool(ctx, m.get(k)) ?? def;
  let strategy = d.translationStrategy;
  const s = readString(ctx, m.get('translation_strategy'));
  if (s !== undefined && s !== '') {
    if (!(TRANSLATION_STRATEGIES as readonly string[]).includes(s))
      keyError(ctx, m, 'translation_strategy', `unsupported OTLP translation strategy "${s}"`);
    else if ((s === 'NoTranslation' || s === 'NoUTF8EscapingWithSuffixes') && validation === 'legacy')
      keyError(
        ctx,
        m,
        'translation_strategy',
        `OTLP translation strategy "${s}" is not allowed when UTF8 is disabled ` +
          '(set global.metric_name_validation_scheme: utf8)',
      );
    else strategy = s as OtlpConfig['translationStrategy'];
  }
  const promoteAll = bool('promote_all_resource_attributes', d.promoteAllResourceAttributes);
  const promote = attributeList(ctx, m.get('promote_resource_attributes'), 'promoted');
  const ignore = attributeList(ctx, m.get('ignore_resource_attributes'), 'ignored');
  if (promoteAll && promote.length > 0)
    keyError(
      ctx,
      m,
      'promote_resource_attributes',
      "'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously",
    );
  if (!promoteAll && ignore.length > 0)
    keyError(
      ctx,
      m,
      'ignore_resource_attributes',
      "'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true",
    );
  return {
    translationStrategy: strategy,
    promoteAllResourceAttributes: promoteAll,
    promoteResourceAttributes: promote,
    ignoreResourceAttributes: ignore,
    keepIdentifyingResourceAttributes: bool(
      'keep_identifying_resource_attributes',
      d.keepIdentifyingResourceAttributes,
    ),
    convertHistogramsToNHCB: bool('convert_histograms_to_nhcb', d.convertHistogramsToNHCB),
    promoteScopeMetadata: bool('promote_scope_metadata', d.promoteScopeMetadata),
    labelNameUnderscoreSanitization: bool('label_name_underscore_sanitization', d.labelNameUnderscoreSanitization),
    labelNamePreserveMultipleUnderscores: bool(
      'label_name_preserve_multiple_underscores',
      d.labelNamePreserveMultipleUnderscores,
    ),
  };
}

/**
 * relabel_configs / metric_relabel_configs / write_relabel_configs entries → RelabelConfig, with
 * defaults applied, the explicitly written fields recorded, and src/relabel's validation mapped
 * back onto the YAML position of the offending field.
 */
import { RELABEL_DEFAULTS } from '../relabel/types.ts';
import type { RelabelConfig, RelabelField } from '../relabel/types.ts';
import { parseRelabelAction, unknownRelabelActionMessage, validateRelabelConfig } from '../relabel/validate.ts';
import { keyError, readInt, readMap, readSeq, readString, readStringList } from './reader.ts';
import type { Ctx, Field } from './reader.ts';
import type { Mutable } from './http.ts';
import type { NameValidationScheme } from './types.ts';

const RELABEL_KEYS: readonly RelabelField[] = [
  'source_labels',
  'separator',
  'regex',
  'modulus',
  'target_label',
  'replacement',
  'action',
];

/**
 * A field written with an empty value (`regex:`) is the Go zero value "" in Prometheus (go-yaml
 * sets zero on null), not the default; in particular an empty regex matches only "".
 */
function relabelString(ctx: Ctx, f: Field | undefined): string | undefined {
  if (!f) return undefined;
  if (f.node === null) return '';
  return readString(ctx, f);
}

function readRelabelConfig(ctx: Ctx, f: Field, nameValidation: NameValidationScheme): RelabelConfig | undefined {
  const m = readMap(ctx, f, { known: RELABEL_KEYS });
  if (!m) return undefined;
  const before = ctx.issues.length;
  const explicit = new Set<RelabelField>();
  for (const k of RELABEL_KEYS) if (m.has(k)) explicit.add(k);

  const rc: Mutable<RelabelConfig> = {
    sourceLabels: [],
    separator: RELABEL_DEFAULTS.separator,
    regex: RELABEL_DEFAULTS.regex,
    modulus: 0,
    targetLabel: '',
    replacement: RELABEL_DEFAULTS.replacement,
    action: RELABEL_DEFAULTS.action,
    nameValidation,
    explicit,
  };
  const sl = m.get('source_labels');
  if (sl) rc.sourceLabels = readStringList(ctx, sl) ?? [];
  rc.separator = relabelString(ctx, m.get('separator')) ?? rc.separator;
  rc.regex = relabelString(ctx, m.get('regex')) ?? rc.regex;
  rc.modulus = readInt(ctx, m.get('modulus')) ?? 0;
  rc.targetLabel = relabelString(ctx, m.get('target_label')) ?? '';
  rc.replacement = relabelString(ctx, m.get('replacement')) ?? rc.replacement;
  const af = m.get('action');
  if (af) {
    const a = af.node === null ? RELABEL_DEFAULTS.action : readString(ctx, af);
    if (a !== undefined) {
      const action = parseRelabelAction(a);
      if (action) rc.action = action;
      else ctx.error(af.at, af.path, unknownRelabelActionMessage(a));
    }
  }
  if (ctx.issues.length > before) return undefined;

  const problem = validateRelabelConfig(rc);
  if (problem) {
    keyError(ctx, m, problem.field, problem.message);
    return undefined;
  }
  return rc;
}

/**
 * `nullMessage` is Prometheus' error for a `- ` (null) rule in that list. `nameValidation` is the
 * scheme of the job (or the global one for write_relabel_configs), which decides valid target labels.
 */
export function readRelabelConfigs(
  ctx: Ctx,
  f: Field | undefined,
  nullMessage: string,
  nameValidation: NameValidationScheme,
): RelabelConfig[] {
  if (!f) return [];
  const items = readSeq(ctx, f);
  if (!items) return [];
  const out: RelabelConfig[] = [];
  for (const it of items) {
    if (it.node === null) {
      ctx.error(it.at, it.path, nullMessage);
      continue;
    }
    const rc = readRelabelConfig(ctx, it, nameValidation);
    if (rc) out.push(rc);
  }
  return out;
}

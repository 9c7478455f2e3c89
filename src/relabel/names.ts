/**
 * Metric- and label-name rules for both of Prometheus 3's validation schemes (prometheus/common
 * model.ValidationScheme), and Go-style quoting used in error messages.
 */

/**
 * `metric_name_validation_scheme`: `utf8` (3.x's default) accepts any non-empty valid UTF-8 name;
 * `legacy` keeps the 2.x charset.
 */
export type NameValidationScheme = 'legacy' | 'utf8';

const LEGACY_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Prometheus' `relabelTargetLegacy`: a name in which `$x` / `${x}` templates may appear. */
const LEGACY_TEMPLATED_NAME = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

function isValidLabelName(name: string): boolean {
  return LEGACY_NAME.test(name);
}

const LEGACY_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Legacy metric-name charset (also allows `:`). */
function isValidMetricName(name: string): boolean {
  return LEGACY_METRIC_NAME.test(name);
}

/** A name under the UTF-8 scheme: non-empty and valid UTF-8 (no lone surrogates in a JS string). */
function isValidUtf8Name(name: string): boolean {
  return name.length > 0 && name.isWellFormed();
}

/** ValidationScheme.IsValidLabelName. */
export function isValidLabelNameIn(name: string, scheme: NameValidationScheme): boolean {
  return scheme === 'legacy' ? isValidLabelName(name) : isValidUtf8Name(name);
}

/** ValidationScheme.IsValidMetricName. */
export function isValidMetricNameIn(name: string, scheme: NameValidationScheme): boolean {
  return scheme === 'legacy' ? isValidMetricName(name) : isValidUtf8Name(name);
}

/**
 * Appended to Prometheus' message when a name is refused only because of the legacy scheme, so the
 * error says which setting refused it (Prometheus' text stays first, searchable as is).
 */
export function schemeHint(scheme: NameValidationScheme): string {
  return scheme === 'legacy' ? ' (metric_name_validation_scheme: legacy)' : '';
}

/** Prometheus only treats a string as a template if it contains a `$`. */
export function hasTemplateVar(s: string): boolean {
  return s.includes('$');
}

export function isValidTemplatedLabelName(s: string): boolean {
  return LEGACY_TEMPLATED_NAME.test(s);
}

/** Go's %q for the strings that appear in error messages (printable Unicode kept, controls escaped). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (/^[\p{C}\p{Z}]$/u.test(ch) && ch !== ' ') {
      out += cp > 0xffff ? '\\U' + cp.toString(16).padStart(8, '0') : '\\u' + cp.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

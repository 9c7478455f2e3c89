/**
 * Prometheus 3 writes the `le` of classic histogram buckets and the `quantile` of summaries in
 * one canonical float form, so `le="1"` and `le="1.0"` are the same series whichever format or
 * client produced them. Both text parsers do it while building a series' labels, by the type of the
 * last TYPE line seen (model/textparse/openmetricsparse.go normalizeFloatsInLabelValues, v3.14.0
 * lines 773-783, called from promparse.go line 262 and openmetricsparse.go line 243).
 */
import { MetricType } from './types.ts';
import { FloatScanner } from './scan.ts';

const scanner = new FloatScanner();

/**
 * model/labels FormatOpenMetricsFloat (v3.14.0 model/labels/float.go): Go's shortest `%g`, with
 * `.0` appended when the result has neither a `.` nor an exponent.
 */
export function formatOpenMetricsFloat(f: number): string {
  if (f === 1) return '1.0';
  if (f === 0) return '0.0';
  if (f === -1) return '-1.0';
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  const [mant = '', expText = '0'] = f.toExponential().split('e');
  const exp = Number(expText);
  // Go's %g with the shortest precision switches to %e below 1e-4 and from 1e6 on; its exponent has
  // at least two digits.
  const s =
    exp < -4 || exp >= 6 ? `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}` : String(f);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/** The label value as 3.x stores it: `le`/`quantile` of histograms/summaries in canonical float form. */
export function normalizeFloatLabelValue(metricType: number, name: string, value: string): string {
  if (
    !(metricType === MetricType.histogram && name === 'le') &&
    !(metricType === MetricType.summary && name === 'quantile')
  )
    return value;
  // strconv.ParseFloat: a value that does not parse (or overflows) stays as it is.
  const b = Buffer.from(value, 'utf8');
  // Non-ASCII text is never a number (and would not map byte for byte).
  if (b.length === 0 || b.length !== value.length || !scanner.parse(b, 0, b.length)) return value;
  return formatOpenMetricsFloat(scanner.value);
}

import { labelsToString } from '../../src/util/labels.ts';
import { Entry, type TextParser } from '../../src/textparse/parser.ts';

const TYPE_NAMES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'];

/** Go-like rendering that keeps -0, NaN and infinities apart. */
export function fmtFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

/**
 * Runs a parser over a whole body and renders every entry on one line. Series always have their
 * labels materialised (the cold path), so duplicate-label errors surface too.
 */
export function parseAll(p: TextParser, body: string | Buffer): string[] {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  p.reset(buf, buf.length);
  const out: string[] = [];
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) out.push(render(p, e));
  return out;
}

export function render(p: TextParser, e: number): string {
  switch (e) {
    case Entry.Series:
    case Entry.Histogram: {
      let s =
        e === Entry.Series
          ? `SERIES ${labelsToString(p.labels())} ${fmtFloat(p.value)}`
          : `HISTOGRAM ${labelsToString(p.labels())} ${renderHistogram(p)}`;
      if (p.hasTimestamp) s += ` @${p.timestamp}`;
      if (p.startTimestamp !== 0) s += ` st@${p.startTimestamp}`;
      if (p.hasExemplar) {
        do {
          s += ` # ${labelsToString(p.exemplarLabels())} ${fmtFloat(p.exemplarValue)}`;
          if (p.exemplarHasTimestamp) s += ` @${p.exemplarTimestamp}`;
        } while (p.nextExemplar());
      }
      return s;
    }
    case Entry.Help:
      return `HELP ${p.family} ${JSON.stringify(p.text)}`;
    case Entry.Type:
      return `TYPE ${p.family} ${TYPE_NAMES[p.metricType]}`;
    case Entry.Unit:
      return `UNIT ${p.family} ${JSON.stringify(p.text)}`;
    case Entry.Comment:
      return `COMMENT ${JSON.stringify(p.text)}`;
    default:
      return `?${e}`;
  }
}

/** The error a full parse raises, or undefined when the body is accepted. */
export function parseError(p: TextParser, body: string | Buffer): Error | undefined {
  try {
    parseAll(p, body);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

/** A native histogram on one line: kind, schema, count, sum, zero bucket, spans:buckets per side, bounds. */
function renderHistogram(p: TextParser): string {
  const h = p.histogram;
  if (h === null) return 'null';
  const spans = (ss: readonly { offset: number; length: number }[]) =>
    ss.map((x) => `${x.offset}:${x.length}`).join(',');
  let s = `${p.histogramFloat ? 'float' : 'int'} schema=${h.schema} count=${fmtFloat(h.count)} sum=${fmtFloat(h.sum)}`;
  if (h.zeroThreshold !== 0 || h.zeroCount !== 0) s += ` zero=${fmtFloat(h.zeroThreshold)}:${fmtFloat(h.zeroCount)}`;
  if (h.positiveSpans.length > 0) s += ` pos=[${spans(h.positiveSpans)}]${JSON.stringify(h.positiveBuckets)}`;
  if (h.negativeSpans.length > 0) s += ` neg=[${spans(h.negativeSpans)}]${JSON.stringify(h.negativeBuckets)}`;
  if (h.customValues !== undefined) s += ` bounds=${JSON.stringify(h.customValues)}`;
  if (h.counterResetHint !== 0) s += ` hint=${h.counterResetHint}`;
  return s;
}

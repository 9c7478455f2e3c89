import { ParserBase } from './base.ts';
import { OmStrictChecker } from './om-strict.ts';
import { type EntryKind, Entry, MetricType, ParseError, type TextParser } from './types.ts';
import {
  KeywordTable,
  LABEL_NAME_CHAR,
  LABEL_NAME_START,
  METRIC_NAME_CHAR,
  METRIC_NAME_START,
  floatErrorMessage,
  quoteBytes,
  secondsToMillis,
  unescapeBytes,
  validUtf8,
} from './scan.ts';
import { ASCII } from './bytes-consts.ts';

const { NUL, NL, SP, QUOTE, HASH, COMMA, EQ, BSLASH, LBRACE, RBRACE, PAST_END } = ASCII;

const KW_HELP = 1;
const KW_TYPE = 2;
const KW_UNIT = 3;

/** `[^ \n]` minus NUL: bytes of a value or timestamp token. */
const TOKEN_CHAR = new Uint8Array(256).fill(1);
TOKEN_CHAR[SP] = 0;
TOKEN_CHAR[NL] = 0;
TOKEN_CHAR[NUL] = 0;

/** Label-value bytes that need no attention: printable ASCII and controls except NUL and newline. */
const PLAIN_VALUE_BYTE = new Uint8Array(256);
for (let c = 1; c < 0x80; c++) PLAIN_VALUE_BYTE[c] = c === QUOTE || c === BSLASH || c === NL ? 0 : 1;

const OM_TYPES = new KeywordTable({
  counter: MetricType.counter,
  gauge: MetricType.gauge,
  histogram: MetricType.histogram,
  gaugehistogram: MetricType.gaugehistogram,
  summary: MetricType.summary,
  info: MetricType.info,
  stateset: MetricType.stateset,
  unknown: MetricType.unknown,
});

export interface OpenMetricsOptions {
  /**
   * Enforce the whole OpenMetrics 1.0 specification (the official suite's 167 bad cases):
   * metadata placement and repetition, family grouping, per-type sample names, values and
   * labels, histogram bucket rules, exemplar placement and size, timestamp order, no trailing
   * comma, no quoted names. Prometheus enforces none of these, so this is off for scraping;
   * it allocates per sample.
   */
  strict?: boolean;
}

/**
 * OpenMetrics 1.0 text format with the acceptance rules of Prometheus' parser: single spaces
 * only, no blank lines or comments besides HELP/TYPE/UNIT, `# EOF` last, timestamps in seconds
 * (converted to integer milliseconds by truncation), exemplars after ` # `, UNIT a suffix of the
 * family name, and `_created` samples passed through as ordinary series.
 */
export class OpenMetricsParser extends ParserBase implements TextParser {
  private readonly strict: OmStrictChecker | null;
  private eof = false;
  /** Timestamp in seconds as written, for the strict checker's ordering rule. */
  timestampSeconds = 0;

  constructor(options: OpenMetricsOptions = {}) {
    super();
    this.strict = options.strict === true ? new OmStrictChecker() : null;
  }

  override reset(body: Buffer, length: number): void {
    super.reset(body, length);
    this.eof = false;
    this.strict?.reset();
  }

  next(): EntryKind {
    if (this.eof) return Entry.EOF;
    const b = this.buf;
    const end = this.end;
    const i = this.pos;
    this.entryStart = i;
    this.line = this.curLine;
    this.hasExemplar = false;
    if (i >= end) throw new ParseError(this.line, 'data does not end with # EOF');
    const c = b[i];
    if (METRIC_NAME_START[c ?? PAST_END] === 1 || c === LBRACE) {
      this.series(i);
      this.strict?.series(this);
      return Entry.Series;
    }
    if (c === HASH && i + 1 < end && b[i + 1] === SP) {
      const j = i + 2;
      if (j + 4 < end && b[j + 4] === SP) {
        const k0 = b[j];
        if (k0 === 0x48 && b[j + 1] === 0x45 && b[j + 2] === 0x4c && b[j + 3] === 0x50)
          return this.meta(KW_HELP, j + 5);
        if (k0 === 0x54 && b[j + 1] === 0x59 && b[j + 2] === 0x50 && b[j + 3] === 0x45)
          return this.meta(KW_TYPE, j + 5);
        if (k0 === 0x55 && b[j + 1] === 0x4e && b[j + 2] === 0x49 && b[j + 3] === 0x54)
          return this.meta(KW_UNIT, j + 5);
      }
      if (j + 2 < end && b[j] === 0x45 && b[j + 1] === 0x4f && b[j + 2] === 0x46) {
        let k = j + 3;
        if (k < end && b[k] === NL) k++;
        if (k !== end) throw new ParseError(this.line, 'unexpected data after # EOF');
        this.strict?.eof(this.line);
        this.eof = true;
        this.pos = end;
        this.kind = Entry.EOF;
        return Entry.EOF;
      }
    }
    throw this.fail(i, 'expected a valid start token');
  }

  protected helpText(): string {
    // Prometheus unescapes OpenMetrics HELP with the label-value rules, `\"` included.
    return unescapeBytes(this.buf, this.textStart, this.textEnd, true);
  }

  private meta(kw: number, j: number): EntryKind {
    const b = this.buf;
    const end = this.end;
    const what = kw === KW_HELP ? 'HELP' : kw === KW_TYPE ? 'TYPE' : 'UNIT';
    let t: number;
    if (j < end && b[j] === QUOTE && this.strict === null) {
      t = this.quoted(j, true);
      if (t < 0) throw this.fail(j, `expected metric name after ${what}`);
      this.setQuotedName(j + 1, t - 1);
    } else if (j < end && METRIC_NAME_START[b[j] ?? PAST_END] === 1) {
      t = j + 1;
      while (t < end && METRIC_NAME_CHAR[b[t] ?? PAST_END] === 1) t++;
      this.nameStart = j;
      this.nameEnd = t;
    } else {
      throw this.fail(j, `expected metric name after ${what}`);
    }
    // ` text\n`: the single space and the newline are mandatory.
    if (t >= end || b[t] !== SP) throw new ParseError(this.line, `expected text in ${what}`);
    let nl = t + 1;
    let ascii = true;
    for (; nl < end; nl++) {
      const x = b[nl];
      if (x === undefined || x === NL) break;
      if (x >= 0x80) ascii = false;
    }
    if (nl >= end) throw new ParseError(this.line, `expected text in ${what}`);
    this.textStart = t + 1;
    this.textEnd = nl;
    if (kw === KW_TYPE) {
      const typ = OM_TYPES.match(b, t + 1, nl);
      if (typ < 0) throw new ParseError(this.line, `invalid metric type ${quoteBytes(b, t + 1, nl)}`);
      this.metricType = typ;
      this.kind = Entry.Type;
    } else if (kw === KW_HELP) {
      if (!ascii && !validUtf8(b, t + 1, nl)) {
        throw new ParseError(this.line, `help text ${quoteBytes(b, t + 1, nl)} is not a valid utf8 string`);
      }
      this.kind = Entry.Help;
    } else {
      this.checkUnit(t + 1, nl);
      this.kind = Entry.Unit;
    }
    this.pos = nl + 1;
    this.curLine++;
    this.strict?.meta(this);
    return this.kind;
  }

  /** The unit must be the family name's suffix after an underscore (compared on raw bytes, as Prometheus does). */
  private checkUnit(us: number, ue: number): void {
    const b = this.buf;
    const n = ue - us;
    if (n === 0) return;
    const ns = this.nameStart;
    const ne = this.nameEnd;
    let ok = ne - ns >= n + 1 && b[ne - n - 1] === 0x5f;
    for (let k = 0; ok && k < n; k++) if (b[ne - n + k] !== b[us + k]) ok = false;
    if (!ok) {
      throw new ParseError(this.line, `unit ${quoteBytes(b, us, ue)} not a suffix of metric ${quoteBytes(b, ns, ne)}`);
    }
  }

  private series(i: number): void {
    const b = this.buf;
    const end = this.end;
    this.seriesStart = i;
    this.lbls.n = 0;
    let j: number;
    if (b[i] === LBRACE) {
      if (this.strict !== null) throw this.fail(i, 'expected a valid start token');
      this.nameStart = -1;
      j = this.labelSet(i + 1, false);
      if (this.nameStart < 0) throw this.failAt(j, 'metric name not set');
    } else {
      j = i + 1;
      while (j < end && METRIC_NAME_CHAR[b[j] ?? PAST_END] === 1) j++;
      this.nameStart = i;
      this.nameEnd = j;
      if (j < end && b[j] === LBRACE) j = this.labelSet(j + 1, false);
    }
    this.seriesEnd = j;

    const v = this.token(j);
    if (v < 0) throw this.fail(j < end && b[j] === SP ? j + 1 : j, 'expected value after metric');
    if (!this.num.parse(b, j + 1, v)) throw this.failAt(v, floatErrorMessage(this.num.status, b, j + 1, v));
    this.value = this.num.value;
    this.hasTimestamp = false;

    if (v >= end) throw new ParseError(this.line, 'data does not end with # EOF');
    if (b[v] === NL) return this.finishLine(v);
    if (this.exemplarStart(v)) return this.exemplar(v + 4);
    const w = this.token(v);
    if (w < 0) throw this.fail(v, 'expected timestamp or # symbol');
    if (!this.num.parse(b, v + 1, w)) throw this.failAt(w, floatErrorMessage(this.num.status, b, v + 1, w));
    const ts = this.num.value;
    if (Number.isNaN(ts) || ts === Infinity || ts === -Infinity) {
      throw new ParseError(this.line, `invalid timestamp ${goFloatString(ts)}`);
    }
    this.hasTimestamp = true;
    this.timestampSeconds = ts;
    this.timestamp = secondsToMillis(ts);
    if (w < end && b[w] === NL) return this.finishLine(w);
    if (this.exemplarStart(w)) return this.exemplar(w + 4);
    throw this.fail(w, 'expected next entry after timestamp');
  }

  /** ` # {` at `at`. */
  private exemplarStart(at: number): boolean {
    const b = this.buf;
    return at + 3 < this.end && b[at] === SP && b[at + 1] === HASH && b[at + 2] === SP && b[at + 3] === LBRACE;
  }

  /**
   * A ` <token>` starting at `at` (the space): returns the offset after the token, or -1 when
   * there is no space followed by at least one token byte.
   */
  private token(at: number): number {
    const b = this.buf;
    const end = this.end;
    if (at + 1 >= end || b[at] !== SP || TOKEN_CHAR[b[at + 1] ?? PAST_END] !== 1) return -1;
    let k = at + 2;
    while (k < end && TOKEN_CHAR[b[k] ?? PAST_END] === 1) k++;
    return k;
  }

  private exemplar(j: number): void {
    const b = this.buf;
    const end = this.end;
    this.exLbls.n = 0;
    j = this.labelSet(j, true);
    const v = this.token(j);
    if (v < 0) throw this.fail(j < end && b[j] === SP ? j + 1 : j, 'expected value after exemplar labels');
    if (!this.num.parse(b, j + 1, v)) throw this.failAt(v, floatErrorMessage(this.num.status, b, j + 1, v));
    this.exemplarValue = this.num.value;
    this.exemplarHasTimestamp = false;
    this.hasExemplar = true;
    if (v >= end) throw new ParseError(this.line, 'data does not end with # EOF');
    if (b[v] === NL) return this.finishLine(v);
    const w = this.token(v);
    if (w < 0) throw this.fail(v, 'expected timestamp or comment');
    if (!this.num.parse(b, v + 1, w)) throw this.failAt(w, floatErrorMessage(this.num.status, b, v + 1, w));
    const ts = this.num.value;
    if (Number.isNaN(ts) || ts === Infinity || ts === -Infinity) {
      throw new ParseError(this.line, `invalid exemplar timestamp ${goFloatString(ts)}`);
    }
    this.exemplarHasTimestamp = true;
    this.exemplarTimestamp = secondsToMillis(ts);
    if (w < end && b[w] === NL) return this.finishLine(w);
    throw this.fail(w, 'expected next entry after exemplar timestamp');
  }

  /**
   * Parses a label set after `{`, series or exemplar; returns the offset after `}`. No blanks are
   * allowed anywhere. A series label value may hold NUL bytes but no raw newline.
   */
  private labelSet(j: number, exemplar: boolean): number {
    const b = this.buf;
    const end = this.end;
    const strict = this.strict !== null;
    let afterComma = false;
    for (;;) {
      if (j >= end) throw this.fail(j, 'expected label name');
      let c = b[j];
      if (c === RBRACE) {
        if (afterComma && strict) throw this.fail(j, 'expected label name');
        return j + 1;
      }
      let ns: number;
      let ne: number;
      let quoted = false;
      if (LABEL_NAME_START[c ?? PAST_END] === 1) {
        ns = j;
        j++;
        while (j < end && LABEL_NAME_CHAR[b[j] ?? PAST_END] === 1) j++;
        ne = j;
      } else if (c === QUOTE && !strict) {
        // Exemplar label names may not contain a raw newline; series label names may.
        const close = this.quoted(j, !exemplar);
        if (close < 0) throw this.fail(j, 'expected label name');
        ns = j + 1;
        ne = close - 1;
        j = close;
        quoted = true;
      } else {
        throw this.fail(j, 'expected label name');
      }
      c = j < end ? b[j] : NL;
      if (quoted && (c === COMMA || c === RBRACE)) {
        if (exemplar) throw this.fail(j, 'expected label name');
        if (this.nameStart >= 0) throw this.failAt(j + 1, 'metric name already set');
        this.setQuotedName(ns, ne);
        if (c === RBRACE) return j + 1;
        j++;
        afterComma = true;
        continue;
      }
      if (quoted) this.checkQuotedName(ns, ne, j);
      if (c !== EQ) throw this.fail(j, 'expected equal');
      j++;
      if (j >= end || b[j] !== QUOTE) throw this.fail(j, 'expected label value');
      const vs = j + 1;
      let ascii = true;
      let k = vs;
      for (;;) {
        const x = b[k];
        if (k >= end || x === undefined) throw this.fail(end, 'expected label value');
        if (PLAIN_VALUE_BYTE[x] === 1) {
          k++;
          continue;
        }
        if (x === QUOTE) break;
        if (x === NL) throw this.fail(k, 'expected label value');
        if (x === NUL && exemplar) throw this.fail(k, 'expected label value');
        if (x === BSLASH) {
          k++;
          if (!exemplar) while (k < end && b[k] === NUL) k++;
          const y = b[k];
          if (k >= end || y === undefined || y === NL || y === NUL) throw this.fail(k, 'expected label value');
          if (y >= 0x80) ascii = false;
        } else if (x >= 0x80) {
          ascii = false;
        }
        k++;
      }
      if (!ascii && !validUtf8(b, vs, k)) {
        throw new ParseError(this.line, `invalid UTF-8 label value: ${quoteBytes(b, vs - 1, k + 1)}`);
      }
      if (exemplar) this.exLbls.push(ns, ne, vs, k);
      else this.lbls.push(ns, ne, vs, k);
      j = k + 1;
      c = j < end ? b[j] : NL;
      if (c === COMMA) {
        j++;
        afterComma = true;
      } else if (c === RBRACE) {
        return j + 1;
      } else {
        throw this.fail(j, 'expected comma or brace close');
      }
    }
  }

  private finishLine(nl: number): void {
    this.pos = nl + 1;
    this.curLine++;
    this.kind = Entry.Series;
  }

  /** Current entry kind, for the strict checker. */
  get entryKind(): EntryKind {
    return this.kind;
  }

  /** Metric or family name of the current entry as a string. */
  currentName(): string {
    return this.nameString();
  }
}

/** Go's %f rendering of the non-finite values that can reach an error message. */
function goFloatString(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '+Inf' : '-Inf';
}

import { ParserBase } from './base.ts';
import { type EntryKind, Entry, MetricType, ParseError, type TextParser } from './types.ts';
import {
  KeywordTable,
  LABEL_NAME_CHAR,
  LABEL_NAME_START,
  METRIC_NAME_CHAR,
  METRIC_NAME_START,
  floatErrorMessage,
  lineEnd,
  parseDigitsInt64,
  quoteBytes,
  unescapeBytes,
  validUtf8,
} from './scan.ts';
import { ASCII } from './bytes-consts.ts';

const { NUL, TAB, NL, SP, QUOTE, HASH, COMMA, EQ, BSLASH, LBRACE, RBRACE, PAST_END } = ASCII;

const KW_HELP = 1;
const KW_TYPE = 2;

/** `[^{ \t\n]` minus NUL: the bytes a text-format value token may contain. */
const VALUE_CHAR = new Uint8Array(256).fill(1);
VALUE_CHAR[LBRACE] = 0;
VALUE_CHAR[SP] = 0;
VALUE_CHAR[TAB] = 0;
VALUE_CHAR[NL] = 0;
VALUE_CHAR[NUL] = 0;

/** Label-value bytes that need no attention: everything but `"`, `\\`, newline and non-ASCII. */
const PLAIN_VALUE_BYTE = new Uint8Array(256);
for (let c = 0; c < 0x80; c++) PLAIN_VALUE_BYTE[c] = c === QUOTE || c === BSLASH || c === NL ? 0 : 1;

const TEXT_TYPES = new KeywordTable({
  counter: MetricType.counter,
  gauge: MetricType.gauge,
  histogram: MetricType.histogram,
  summary: MetricType.summary,
  untyped: MetricType.unknown,
});

/**
 * Prometheus text exposition format 0.0.4 (and 1.0.0, which only adds quoted UTF-8 names), with
 * the acceptance rules of Prometheus' own lexer: spaces and tabs around names, braces, `=` and
 * commas, optional and trailing commas between labels, blank lines, HELP/TYPE anywhere, any other
 * `#` line a comment, timestamps as integer milliseconds.
 *
 * Deliberate differences, all on input Prometheus mishandles: a NUL byte at the start of a line
 * or right after a label value's closing quote is an error (Prometheus silently stops parsing or
 * keeps the quote in the value); NUL bytes anywhere in a comment line are kept (Prometheus stops
 * at one in a `#word` comment); a leading blank before a metric name is not part of the name;
 * quoted names must be non-empty valid UTF-8 (Prometheus rejects them later in the scrape).
 */
export class PromTextParser extends ParserBase implements TextParser {
  next(): EntryKind {
    const b = this.buf;
    const end = this.end;
    for (;;) {
      let i = this.pos;
      this.entryStart = i;
      this.line = this.curLine;
      while (i < end && (b[i] === SP || b[i] === TAB)) i++;
      if (i >= end) {
        this.pos = end;
        this.kind = Entry.EOF;
        return Entry.EOF;
      }
      const c = b[i];
      if (c === NL) {
        this.pos = i + 1;
        this.curLine++;
        continue;
      }
      if (METRIC_NAME_START[c ?? PAST_END] === 1 || c === LBRACE) return this.series(i);
      if (c === HASH) return this.hashLine(i);
      throw this.fail(i, 'expected a valid start token');
    }
  }

  protected helpText(): string {
    return unescapeBytes(this.buf, this.textStart, this.textEnd, false);
  }

  private hashLine(i: number): EntryKind {
    const b = this.buf;
    const end = this.end;
    let j = i + 1;
    if (j < end && (b[j] === SP || b[j] === TAB)) {
      while (j < end && (b[j] === SP || b[j] === TAB)) j++;
      if (j + 4 < end && (b[j + 4] === SP || b[j + 4] === TAB)) {
        if (b[j] === 0x48 && b[j + 1] === 0x45 && b[j + 2] === 0x4c && b[j + 3] === 0x50)
          return this.meta(KW_HELP, j + 4);
        if (b[j] === 0x54 && b[j + 1] === 0x59 && b[j + 2] === 0x50 && b[j + 3] === 0x45)
          return this.meta(KW_TYPE, j + 4);
      }
    }
    const nl = lineEnd(b, i, end);
    this.textStart = i;
    this.textEnd = nl;
    this.finishLine(nl);
    this.kind = Entry.Comment;
    return Entry.Comment;
  }

  private meta(kw: number, j: number): EntryKind {
    const b = this.buf;
    const end = this.end;
    while (j < end && (b[j] === SP || b[j] === TAB)) j++;
    const what = kw === KW_HELP ? 'HELP' : 'TYPE';
    let t: number;
    if (j < end && b[j] === QUOTE) {
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
    // The text is the rest of the line minus its first byte, or empty if only blanks follow.
    let nl = t;
    let ascii = true;
    for (; nl < end; nl++) {
      const x = b[nl];
      if (x === undefined || x === NL) break;
      if (x >= 0x80) ascii = false;
    }
    let ts = t;
    if (t < nl) {
      if (b[t] === NUL) throw this.fail(t, 'linebreak expected after metadata');
      ts = t + 1;
      if (b[t] === SP || b[t] === TAB) {
        let k = t;
        while (k < nl && (b[k] === SP || b[k] === TAB || b[k] === NUL)) k++;
        if (k === nl) ts = nl;
      }
    }
    this.textStart = ts;
    this.textEnd = nl;
    if (kw === KW_TYPE) {
      const typ = TEXT_TYPES.match(b, ts, nl);
      if (typ < 0) throw new ParseError(this.line, `invalid metric type ${quoteBytes(b, ts, nl)}`);
      this.metricType = typ;
      this.kind = Entry.Type;
    } else {
      if (!ascii && !validUtf8(b, ts, nl)) {
        throw new ParseError(this.line, `help text ${quoteBytes(b, ts, nl)} is not a valid utf8 string`);
      }
      this.kind = Entry.Help;
    }
    this.finishLine(nl);
    return this.kind;
  }

  private series(i: number): EntryKind {
    const b = this.buf;
    const end = this.end;
    this.seriesStart = i;
    this.lbls.n = 0;
    this.expectedHit = false;
    const hl = this.hint.len;
    if (hl > 0 && i + hl < end && this.startsWithHint(i, hl)) {
      // The line starts with a series text accepted before. It is this series only if that text
      // ends here: a label set closed, or a bare name followed by a blank and then no label set.
      const k = i + hl;
      if (b[k - 1] === RBRACE || b[k] === SP || b[k] === TAB) {
        let v = k;
        while (v < end && (b[v] === SP || b[v] === TAB)) v++;
        if (v < end && b[v] !== LBRACE) {
          this.seriesEnd = k;
          this.expectedHit = true;
          return this.valueAndTimestamp(v);
        }
      }
    }
    let j: number;
    if (b[i] === LBRACE) {
      this.nameStart = -1;
      j = this.labelSet(i + 1);
      if (this.nameStart < 0) throw this.failAt(j, 'metric name not set');
      this.seriesEnd = j;
    } else {
      j = i + 1;
      while (j < end && METRIC_NAME_CHAR[b[j] ?? PAST_END] === 1) j++;
      this.nameStart = i;
      this.nameEnd = j;
      this.seriesEnd = j;
      let k = j;
      while (k < end && (b[k] === SP || b[k] === TAB)) k++;
      if (k < end && b[k] === LBRACE) {
        j = this.labelSet(k + 1);
        this.seriesEnd = j;
      }
    }
    while (j < end && (b[j] === SP || b[j] === TAB)) j++;
    return this.valueAndTimestamp(j);
  }

  /** The rest of a series line from its value on. */
  private valueAndTimestamp(j: number): EntryKind {
    const b = this.buf;
    const end = this.end;
    if (j >= end || VALUE_CHAR[b[j] ?? PAST_END] !== 1) throw this.fail(j, 'expected value after metric');
    let v = j + 1;
    while (v < end && VALUE_CHAR[b[v] ?? PAST_END] === 1) v++;
    if (!this.num.parse(b, j, v)) throw this.failAt(v, floatErrorMessage(this.num.status, b, j, v));
    this.value = this.num.value;

    while (v < end && (b[v] === SP || b[v] === TAB)) v++;
    if (v >= end || b[v] === NL) {
      this.hasTimestamp = false;
      this.finishLine(v);
      this.kind = Entry.Series;
      return Entry.Series;
    }
    const first = b[v];
    if (first === undefined || first < 0x30 || first > 0x39) throw this.fail(v, 'expected timestamp or new record');
    let d = v + 1;
    for (; d < end; d++) {
      const x = b[d];
      if (x === undefined || x < 0x30 || x > 0x39) break;
    }
    const ts = parseDigitsInt64(b, v, d);
    if (Number.isNaN(ts)) {
      throw this.failAt(d, `strconv.ParseInt: parsing ${quoteBytes(b, v, d)}: value out of range`);
    }
    while (d < end && (b[d] === SP || b[d] === TAB)) d++;
    if (d < end && b[d] !== NL) throw this.fail(d, 'expected next entry after timestamp');
    this.hasTimestamp = true;
    this.timestamp = ts;
    this.finishLine(d);
    this.kind = Entry.Series;
    return Entry.Series;
  }

  /** Parses labels after `{`; returns the offset after `}`. */
  private labelSet(j: number): number {
    const b = this.buf;
    const end = this.end;
    for (;;) {
      while (j < end && (b[j] === SP || b[j] === TAB)) j++;
      if (j >= end) throw this.fail(j, 'expected label name');
      let c = b[j];
      if (c === RBRACE) return j + 1;
      let ns: number;
      let ne: number;
      let quoted = false;
      if (LABEL_NAME_START[c ?? PAST_END] === 1) {
        ns = j;
        j++;
        while (j < end && LABEL_NAME_CHAR[b[j] ?? PAST_END] === 1) j++;
        ne = j;
      } else if (c === QUOTE) {
        const close = this.quoted(j, true);
        if (close < 0) throw this.fail(j, 'expected label name');
        ns = j + 1;
        ne = close - 1;
        j = close;
        quoted = true;
      } else {
        throw this.fail(j, 'expected label name');
      }
      while (j < end && (b[j] === SP || b[j] === TAB)) j++;
      c = j < end ? b[j] : NL;
      if (quoted && (c === COMMA || c === RBRACE)) {
        if (this.nameStart >= 0) throw this.failAt(j + 1, 'metric name already set');
        this.setQuotedName(ns, ne);
        if (c === RBRACE) return j + 1;
        j++;
        continue;
      }
      if (quoted) this.checkQuotedName(ns, ne, j);
      if (c !== EQ) throw this.fail(j, 'expected equal');
      j++;
      while (j < end && (b[j] === SP || b[j] === TAB)) j++;
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
        if (x === BSLASH) {
          k++;
          while (k < end && b[k] === NUL) k++;
          const y = b[k];
          if (k >= end || y === undefined || y === NL) throw this.fail(k, 'expected label value');
          if (y >= 0x80) ascii = false;
        } else if (x === NL) {
          this.curLine++;
        } else if (x >= 0x80) {
          ascii = false;
        }
        k++;
      }
      if (!ascii && !validUtf8(b, vs, k)) {
        throw new ParseError(this.line, `invalid UTF-8 label value: ${quoteBytes(b, vs - 1, k + 1)}`);
      }
      this.lbls.push(ns, ne, vs, k);
      j = k + 1;
      while (j < end && (b[j] === SP || b[j] === TAB)) j++;
      if (j < end && b[j] === COMMA) j++;
    }
  }

  /** Moves past the line ending at `nl` (a newline or the end of the body). */
  private finishLine(nl: number): void {
    if (nl < this.end) {
      this.pos = nl + 1;
      this.curLine++;
    } else {
      this.pos = this.end;
    }
  }
}

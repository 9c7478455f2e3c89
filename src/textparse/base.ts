import { grownArray, sameBytes } from '../util/bytes.ts';
import { METRIC_NAME } from '../util/labels.ts';
import { type EntryKind, Entry, MetricType, ParseError } from './types.ts';
import { normalizeFloatLabelValue } from './normalize.ts';
import { FloatScanner, quoteBytes, sharedStrings, validUtf8 } from './scan.ts';
import { ASCII } from './bytes-consts.ts';
import { SeriesHint } from './series-hint.ts';

const { NUL, NL, QUOTE, BSLASH } = ASCII;

const EMPTY = Buffer.alloc(0);

/**
 * State and string materialisation shared by the text and OpenMetrics parsers. `next()` only
 * records byte offsets; the getters and `labels()` turn them into strings on demand.
 */
export abstract class ParserBase {
  protected buf: Buffer = EMPTY;
  /** A view of buf, for word-wide compares against the hint. */
  private bufView: DataView = new DataView(EMPTY.buffer, EMPTY.byteOffset, 0);
  protected end = 0;
  protected pos = 0;
  /** Line number at `pos`. */
  protected curLine = 1;
  /** Offset where the current entry (line) starts, for error context. */
  protected entryStart = 0;
  protected kind: EntryKind = Entry.EOF;
  protected readonly num = new FloatScanner();

  seriesStart = 0;
  seriesEnd = 0;
  value = 0;
  readonly histogram = null;
  readonly histogramFloat = false;
  readonly startTimestamp = 0;
  hasTimestamp = false;
  timestamp = 0;
  metricType = 0;
  line = 0;

  hasExemplar = false;
  exemplarValue = 0;
  exemplarHasTimestamp = false;
  exemplarTimestamp = 0;

  /** Metric name (series) or family name (metadata), without surrounding quotes. */
  nameStart = 0;
  nameEnd = 0;
  /** HELP/UNIT text or comment line, escapes unresolved. */
  textStart = 0;
  textEnd = 0;

  /** The expected next series text (see TextParser.expect). */
  protected readonly hint = new SeriesHint();
  expectedHit = false;

  expect(src: Uint8Array, off: number, len: number): void {
    this.hint.set(src, off, len);
  }

  /** Whether buf[i, i+n) equals the hint's first n bytes. */
  protected startsWithHint(i: number, n: number): boolean {
    return sameBytes(this.buf, this.bufView, i, this.hint.buf, this.hint.view, this.hint.off, n);
  }

  /** Series labels and exemplar labels as byte offsets. */
  protected readonly lbls = new LabelOffsets();
  protected readonly exLbls = new LabelOffsets();

  reset(body: Buffer, length: number): void {
    if (body !== this.buf) this.bufView = new DataView(body.buffer, body.byteOffset, body.byteLength);
    this.buf = body;
    this.end = Math.min(length, body.length);
    this.pos = 0;
    this.curLine = 1;
    this.entryStart = 0;
    this.kind = Entry.EOF;
    this.line = 0;
    // The type of the last TYPE line applies to the series after it: a new body starts untyped.
    this.metricType = MetricType.unknown;
    this.lbls.n = 0;
    this.exLbls.n = 0;
    this.hasExemplar = false;
    this.hint.len = -1;
    this.expectedHit = false;
  }

  abstract next(): EntryKind;

  get seriesBuf(): Buffer {
    return this.buf;
  }

  nextExemplar(): boolean {
    return false;
  }

  get family(): string {
    if (this.kind !== Entry.Type && this.kind !== Entry.Help && this.kind !== Entry.Unit) return '';
    return this.nameString();
  }

  get text(): string {
    if (this.kind === Entry.Help) return this.helpText();
    if (this.kind === Entry.Unit || this.kind === Entry.Comment) {
      return this.buf.toString('utf8', this.textStart, this.textEnd);
    }
    return '';
  }

  protected abstract helpText(): string;

  labels(): string[] {
    const out = this.rawLabels();
    const mt = this.metricType;
    if (mt === MetricType.histogram || mt === MetricType.summary)
      for (let k = 2; k < out.length; k += 2) out[k + 1] = normalizeFloatLabelValue(mt, out[k] ?? '', out[k + 1] ?? '');
    return out;
  }

  /** The labels as written, before `le`/`quantile` normalisation (what strict OpenMetrics checks). */
  rawLabels(): string[] {
    // A caller that found the series by the hint has its labels already; scanning them now would
    // mean parsing the line twice.
    if (this.expectedHit) throw new Error('labels() after an expected-series hit: the label set was not scanned');
    const out = this.lbls.strings(this.buf, 2);
    out[0] = METRIC_NAME;
    out[1] = this.nameString();
    this.checkDuplicates(out);
    return out;
  }

  exemplarLabels(): string[] {
    if (!this.hasExemplar) return [];
    return this.exLbls.strings(this.buf, 0);
  }

  /**
   * Prometheus drops empty-valued labels before its duplicate check, so only names that repeat
   * with non-empty values fail the scrape.
   */
  private checkDuplicates(ls: string[]): void {
    const dup = duplicateLabelName(ls);
    if (dup !== undefined) throw new ParseError(this.line, `label name ${JSON.stringify(dup)} is not unique`);
  }

  protected nameString(): string {
    return sharedStrings.get(this.buf, this.nameStart, this.nameEnd);
  }

  /**
   * Builds a ParseError in Prometheus' shape: what was expected, the offending bytes, and the
   * line up to and including them.
   */
  /**
   * Scans a quoted name from its opening quote; returns the offset after the closing quote, or -1.
   * NUL never appears inside; newlines only where the format allows them.
   */
  protected quoted(j: number, allowNewline: boolean): number {
    const b = this.buf;
    const end = this.end;
    let lines = 0;
    for (let k = j + 1; k < end; k++) {
      const x = b[k];
      if (x === QUOTE) {
        this.curLine += lines;
        return k + 1;
      }
      if (x === NUL) return -1;
      if (x === BSLASH) {
        k++;
        if (k >= end || b[k] === NL || b[k] === NUL) return -1;
      } else if (x === NL) {
        if (!allowNewline) return -1;
        lines++;
      }
    }
    return -1;
  }

  protected setQuotedName(ns: number, ne: number): void {
    this.checkQuotedName(ns, ne, ne + 1);
    this.nameStart = ns;
    this.nameEnd = ne;
  }

  protected checkQuotedName(ns: number, ne: number, at: number): void {
    // An empty quoted name ("") parses, as 3.x's lexers match it; the scrape then fails on the series
    // (missing metric name, or an invalid empty label name), as 3.x's scrape loop does.
    if (!validUtf8(this.buf, ns, ne)) throw this.failAt(at, 'invalid UTF-8 in quoted name');
  }

  protected fail(at: number, expected: string): ParseError {
    const b = this.buf;
    const e = Math.min(this.end, at + 1);
    const got = at >= this.end ? '"EOF"' : quoteBytes(b, at, e);
    return new ParseError(this.line, `${expected}, got ${got} while parsing: ${quoteBytes(b, this.entryStart, e)}`);
  }

  /** A ParseError with context: the message, then the line so far. */
  protected failAt(at: number, message: string): ParseError {
    const e = Math.min(this.end, at);
    return new ParseError(this.line, `${message} while parsing: ${quoteBytes(this.buf, this.entryStart, e)}`);
  }
}

/** First name that occurs twice with non-empty values in a flat label list, if any. */
export function duplicateLabelName(ls: readonly string[]): string | undefined {
  for (let a = 0; a < ls.length; a += 2) {
    if (ls[a + 1] === '') continue;
    for (let c = a + 2; c < ls.length; c += 2) if (ls[c] === ls[a] && ls[c + 1] !== '') return ls[a];
  }
  return undefined;
}

/**
 * Growable table of label offsets: name start, name end, value start, value end per label (quoted
 * names without their quotes). A class of its own so both parsers share one monomorphic shape.
 */
class LabelOffsets {
  off = new Int32Array(64);
  n = 0;

  push(ns: number, ne: number, vs: number, ve: number): void {
    const k = this.n;
    const p = 4 * k;
    if (p + 4 > this.off.length) this.grow();
    const o = this.off;
    o[p] = ns;
    o[p + 1] = ne;
    o[p + 2] = vs;
    o[p + 3] = ve;
    this.n = k + 1;
  }

  private grow(): void {
    this.off = grownArray(this.off, this.off.length * 2);
  }

  /** [name, value, ...] decoded and unescaped, after `skip` leading slots left for the caller. */
  strings(b: Buffer, skip: number): string[] {
    const n = this.n;
    const out = new Array<string>(skip + 2 * n);
    const o = this.off;
    for (let k = 0; k < n; k++) {
      const p = 4 * k;
      // biome-ignore lint/style/noNonNullAssertion: push() grows off to hold the 4 * n offsets.
      out[skip + 2 * k] = sharedStrings.get(b, o[p]!, o[p + 1]!);
      // biome-ignore lint/style/noNonNullAssertion: push() grows off to hold the 4 * n offsets.
      out[skip + 2 * k + 1] = sharedStrings.get(b, o[p + 2]!, o[p + 3]!);
    }
    return out;
  }
}

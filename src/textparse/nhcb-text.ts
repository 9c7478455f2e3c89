/**
 * convert_classic_histograms_to_nhcb for the text formats, after Prometheus 3.x model/textparse/nhcbparse.go:
 * a wrapper around a text or OpenMetrics parser that collects the `_bucket`, `_count` and `_sum` series of
 * one classic histogram (a family typed `histogram`, same base name, same labels but `le`) and emits them as
 * one native histogram with custom buckets as soon as a series of another metric, a metadata line or the
 * end of the body follows. The classic series themselves are passed on only with
 * always_scrape_classic_histograms. As in Prometheus, a histogram whose parts do not convert (not
 * cumulative, count mismatch, ...) is silently not emitted, and only exemplars with a timestamp go with
 * the NHCB. Differences: the NHCB takes the timestamp of its last classic series (Prometheus takes the one
 * of whatever entry ended the collection), and its exemplars are sorted by time here rather than by the
 * scrape loop.
 */
import { sameBytes } from '../util/bytes.ts';
import { METRIC_NAME } from '../util/labels.ts';
import type { Histogram } from '../storage/histogram.ts';
import { ClassicHistogramBuilder } from '../storage/nhcb.ts';
import { OutpostError } from '../util/errors.ts';
import { Entry, type EntryKind, MetricType, type TextParser } from './types.ts';

const State = { start: 0, collecting: 1, emitting: 2 } as const;

const EMPTY = Buffer.alloc(0);

interface HeldExemplar {
  labels: string[];
  value: number;
  ts: number;
}

/** Go's strconv.ParseFloat for an `le` value: NaN when it is not a number. */
function parseLe(v: string): number {
  const s = v.trim();
  if (s === '' || s !== v) return Number.NaN;
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  return Number(s);
}

/** `_bucket`, `_count` or `_sum` and the base name, or null (convertnhcb.GetHistogramMetricBaseName). */
function splitSuffix(name: string): [suffix: string, base: string] | null {
  for (const suffix of ['_bucket', '_sum', '_count'])
    if (name.endsWith(suffix)) return [suffix, name.slice(0, -suffix.length)];
  return null;
}

export class NhcbTextParser implements TextParser {
  private readonly inner: TextParser;
  private readonly keepClassic: boolean;
  private state: number = State.start;
  /** The inner entry to return after the NHCB that was emitted before it. */
  private pending: EntryKind = Entry.EOF;
  /** The family of the last TYPE line and its type. */
  private familyName = '';
  private familyType: number = MetricType.unknown;
  /** Labels of the current inner series, made once per entry. */
  private lbls: string[] | null = null;

  // The histogram being collected.
  private readonly builder = new ClassicHistogramBuilder();
  private base = '';
  /** The collected series' labels without __name__ and le, as one comparable string. */
  private groupKey = '';
  private groupLabels: string[] = [];
  private groupHasTs = false;
  private groupTs = 0;
  private readonly groupExemplars: HeldExemplar[] = [];
  /** A part of the histogram did not fit: no NHCB for it. */
  private failed = false;

  // The NHCB being emitted.
  private nhcb: Histogram | null = null;
  private nhcbFloat = false;
  private nhcbLabels: string[] = [];
  private nhcbKey: Buffer = EMPTY;
  private nhcbHasTs = false;
  private nhcbTs = 0;
  private nhcbExemplars: HeldExemplar[] = [];
  private exI = 0;

  // The expected-series hint, held back from the inner parser inside histogram families.
  private hintBuf: Uint8Array = EMPTY;
  private hintOff = 0;
  private hintLen = -1;
  private nhcbHit = false;

  constructor(inner: TextParser, keepClassic: boolean) {
    this.inner = inner;
    this.keepClassic = keepClassic;
  }

  reset(body: Buffer, length: number): void {
    this.inner.reset(body, length);
    this.state = State.start;
    this.pending = Entry.EOF;
    this.familyName = '';
    this.familyType = MetricType.unknown;
    this.builder.reset();
    this.groupExemplars.length = 0;
    this.nhcb = null;
    this.hintLen = -1;
  }

  expect(src: Uint8Array, off: number, len: number): void {
    this.hintBuf = src;
    this.hintOff = off;
    this.hintLen = len;
  }

  private get emitting(): boolean {
    return this.state === State.emitting;
  }

  next(): EntryKind {
    for (;;) {
      if (this.emitting) {
        this.state = State.start;
        this.nhcb = null;
        const e = this.pending;
        if (e === Entry.Series && this.collect() && !this.keepClassic) continue;
        return e;
      }
      // Classic histogram series need their labels, which a hint hit would skip.
      if (this.familyType === MetricType.histogram) this.inner.expect(EMPTY, 0, -1);
      else this.inner.expect(this.hintBuf, this.hintOff, this.hintLen);
      const e = this.inner.next();
      this.lbls = null;
      if (e === Entry.Series) {
        if (this.state === State.collecting && this.differentMetric() && this.emit(e)) return Entry.Histogram;
        if (this.collect() && !this.keepClassic) continue;
        return e;
      }
      if (e === Entry.Type) {
        this.familyName = this.inner.family;
        this.familyType = this.inner.metricType;
      }
      if (this.emit(e)) return Entry.Histogram;
      return e;
    }
  }

  private labelsOfSeries(): string[] {
    this.lbls ??= this.inner.labels();
    return this.lbls;
  }

  /** Labels without __name__ and le, joined: what the parts of one histogram share. */
  private static groupKeyOf(ls: readonly string[]): string {
    let k = '';
    for (let i = 0; i < ls.length; i += 2)
      if (ls[i] !== METRIC_NAME && ls[i] !== 'le') k += `${ls[i]}\xff${ls[i + 1]}\xff`;
    return k;
  }

  private differentMetric(): boolean {
    if (this.familyType !== MetricType.histogram) return true;
    const ls = this.labelsOfSeries();
    const parts = splitSuffix(ls[1] ?? '');
    const base = parts === null ? (ls[1] ?? '') : parts[1];
    return base !== this.base || NhcbTextParser.groupKeyOf(ls) !== this.groupKey;
  }

  /** Adds the current inner series to the histogram being collected; false when it is not a classic part. */
  private collect(): boolean {
    if (this.familyType !== MetricType.histogram) return false;
    const ls = this.labelsOfSeries();
    const parts = splitSuffix(ls[1] ?? '');
    if (parts === null || parts[1] !== this.familyName) return false;
    const [suffix, base] = parts;
    let le = 0;
    if (suffix === '_bucket') {
      let v: string | undefined;
      for (let i = 2; i < ls.length; i += 2) if (ls[i] === 'le') v = ls[i + 1];
      if (v === undefined) return false;
      le = parseLe(v);
      if (Number.isNaN(le)) return false;
    }
    if (this.state !== State.collecting) {
      this.state = State.collecting;
      this.base = base;
      this.groupKey = NhcbTextParser.groupKeyOf(ls);
      const group: string[] = [METRIC_NAME, base];
      for (let i = 2; i < ls.length; i += 2) if (ls[i] !== 'le') group.push(ls[i] ?? '', ls[i + 1] ?? '');
      this.groupLabels = group;
      this.builder.reset();
      this.failed = false;
      this.groupExemplars.length = 0;
    }
    const p = this.inner;
    this.groupHasTs = p.hasTimestamp;
    this.groupTs = p.timestamp;
    if (p.hasExemplar && p.exemplarHasTimestamp)
      this.groupExemplars.push({ labels: p.exemplarLabels(), value: p.exemplarValue, ts: p.exemplarTimestamp });
    // As TempHistogram does, the first part that does not fit is an error that every later part of the
    // histogram keeps, and that ends in no NHCB at all.
    if (this.failed) return true;
    try {
      if (suffix === '_bucket') this.builder.setBucket(le, p.value);
      else if (suffix === '_count') this.builder.setCount(p.value);
      else this.builder.setSum(p.value);
    } catch (err) {
      if (!(err instanceof OutpostError)) throw err;
      this.failed = true;
    }
    return true;
  }

  /** Converts what was collected; true when there is an NHCB to return (`pending` then follows it). */
  private emit(pending: EntryKind): boolean {
    if (this.state !== State.collecting) return false;
    const failed = this.failed;
    this.failed = false;
    this.state = State.start;
    if (failed) return false;
    let converted: { h: Histogram; float: boolean };
    try {
      converted = this.builder.convert();
    } catch (err) {
      if (err instanceof OutpostError) return false;
      throw err;
    }
    this.nhcb = converted.h;
    this.nhcbFloat = converted.float;
    this.nhcbLabels = this.groupLabels;
    // 0xff never occurs in exposition text, so this key cannot be a classic series' key.
    this.nhcbKey = Buffer.from(`\xff${this.groupLabels.join('\xff')}`, 'latin1');
    this.nhcbHasTs = this.groupHasTs;
    this.nhcbTs = this.groupTs;
    this.nhcbExemplars = [...this.groupExemplars].sort((a, b) => a.ts - b.ts);
    this.exI = 0;
    this.nhcbHit =
      this.hintLen === this.nhcbKey.length &&
      sameBytes(
        this.nhcbKey,
        new DataView(this.nhcbKey.buffer, this.nhcbKey.byteOffset, this.nhcbKey.byteLength),
        0,
        this.hintBuf,
        new DataView(this.hintBuf.buffer, this.hintBuf.byteOffset, this.hintBuf.byteLength),
        this.hintOff,
        this.hintLen,
      );
    this.pending = pending;
    this.state = State.emitting;
    return true;
  }

  // The TextParser view: the NHCB while emitting, else the inner parser's entry.
  get seriesBuf(): Uint8Array {
    return this.emitting ? this.nhcbKey : this.inner.seriesBuf;
  }
  get seriesStart(): number {
    return this.emitting ? 0 : this.inner.seriesStart;
  }
  get seriesEnd(): number {
    return this.emitting ? this.nhcbKey.length : this.inner.seriesEnd;
  }
  get value(): number {
    return this.emitting ? Number.NaN : this.inner.value;
  }
  get histogram(): Histogram | null {
    return this.emitting ? this.nhcb : this.inner.histogram;
  }
  get histogramFloat(): boolean {
    return this.emitting ? this.nhcbFloat : this.inner.histogramFloat;
  }
  get startTimestamp(): number {
    return this.emitting ? 0 : this.inner.startTimestamp;
  }
  get hasTimestamp(): boolean {
    return this.emitting ? this.nhcbHasTs : this.inner.hasTimestamp;
  }
  get timestamp(): number {
    return this.emitting ? this.nhcbTs : this.inner.timestamp;
  }
  get expectedHit(): boolean {
    return this.emitting ? this.nhcbHit : this.inner.expectedHit;
  }
  labels(): string[] {
    return this.emitting ? [...this.nhcbLabels] : this.labelsOfSeries();
  }
  get family(): string {
    return this.inner.family;
  }
  get metricType(): number {
    return this.inner.metricType;
  }
  get text(): string {
    return this.inner.text;
  }
  get nameStart(): number {
    return this.inner.nameStart;
  }
  get nameEnd(): number {
    return this.inner.nameEnd;
  }
  get textStart(): number {
    return this.inner.textStart;
  }
  get textEnd(): number {
    return this.inner.textEnd;
  }
  get line(): number {
    return this.inner.line;
  }
  get hasExemplar(): boolean {
    return this.emitting ? this.exI < this.nhcbExemplars.length : this.inner.hasExemplar;
  }
  private get heldExemplar(): HeldExemplar | undefined {
    return this.nhcbExemplars[this.exI];
  }
  exemplarLabels(): string[] {
    return this.emitting ? [...(this.heldExemplar?.labels ?? [])] : this.inner.exemplarLabels();
  }
  get exemplarValue(): number {
    return this.emitting ? (this.heldExemplar?.value ?? 0) : this.inner.exemplarValue;
  }
  get exemplarHasTimestamp(): boolean {
    return this.emitting ? true : this.inner.exemplarHasTimestamp;
  }
  get exemplarTimestamp(): number {
    return this.emitting ? (this.heldExemplar?.ts ?? 0) : this.inner.exemplarTimestamp;
  }
  nextExemplar(): boolean {
    if (!this.emitting) return this.inner.nextExemplar();
    this.exI++;
    return this.exI < this.nhcbExemplars.length;
  }
}

import { OutpostError } from '../util/errors.ts';
import type { Histogram } from '../storage/histogram.ts';

/** What `next()` stopped at. */
export const Entry = { EOF: 0, Series: 1, Type: 2, Help: 3, Unit: 4, Comment: 5, Histogram: 6 } as const;
export type EntryKind = (typeof Entry)[keyof typeof Entry];

/** Metric type codes, identical to the WAL metadata record and the remote-write protobuf enum. */
export const MetricType = {
  unknown: 0,
  counter: 1,
  gauge: 2,
  histogram: 3,
  gaugehistogram: 4,
  summary: 5,
  info: 6,
  stateset: 7,
} as const;

/** Any invalid exposition. The scrape that produced it fails as a whole. */
export class ParseError extends OutpostError {
  readonly line: number;
  constructor(line: number, message: string) {
    super('OUTPOST_TEXTPARSE_INVALID', line > 0 ? `line ${line}: ${message}` : message);
    this.line = line;
  }
}

/**
 * Pull parser over one scrape body. Nothing is allocated per sample by `next()` or by the numeric
 * getters; strings are only built by `labels()`, `exemplarLabels()`, `family` and `text`, which the
 * scrape loop calls for series it has not cached yet and for metadata lines.
 */
export interface TextParser {
  /** Parses body[0, length). The buffer must stay unchanged until the last `next()`. */
  reset(body: Buffer, length: number): void;
  /** Advances to the next entry; throws ParseError on any invalid input. */
  next(): EntryKind;

  /**
   * The bytes the series key [seriesStart, seriesEnd) is in: the body for the text formats, the
   * parser's own buffer for protobuf (valid until the next `next()`).
   */
  readonly seriesBuf: Uint8Array;
  /** Offset of the raw series text (the metric name, or `{` for the quoted-name form). */
  readonly seriesStart: number;
  /** End of the raw series text: name plus optional label set, without value/timestamp/exemplar. */
  readonly seriesEnd: number;
  readonly value: number;
  /** The native histogram of a Histogram entry (a new object per entry, owned by whoever takes it). */
  readonly histogram: Histogram | null;
  /** Whether `histogram` is a float histogram. */
  readonly histogramFloat: boolean;
  /** Start (created) timestamp in ms of the current series, 0 when the format or target gives none. */
  readonly startTimestamp: number;
  readonly hasTimestamp: boolean;
  /** Milliseconds. OpenMetrics seconds are multiplied by 1000 and truncated, as Prometheus does. */
  readonly timestamp: number;
  /**
   * Flat [name, value, ...] with ['__name__', metric] first and the rest in order of appearance,
   * unescaped. Throws ParseError when two labels with non-empty values share a name. Not
   * available after an `expectedHit` (the label set was not scanned).
   */
  labels(): string[];
  /**
   * The raw series text the next series line most likely starts with (the scrape cache's
   * expected-next entry): src[off, off+len), len < 0 for none. When the line starts with exactly
   * these bytes and they end the series text, the parser skips the label-set scan and sets
   * `expectedHit`: the text was validated when it was first parsed. A parser may ignore hints.
   */
  expect(src: Uint8Array, off: number, len: number): void;
  /** Whether the current series is the expected one (see expect()). */
  readonly expectedHit: boolean;

  /** Family name of a TYPE/HELP/UNIT entry. */
  readonly family: string;
  /** MetricType code of a TYPE entry. */
  readonly metricType: number;
  /** HELP text (unescaped), UNIT, or the whole line of a comment. */
  readonly text: string;
  /**
   * Raw bytes of the current entry's name: the family of a TYPE/HELP/UNIT line (without quotes,
   * escapes unresolved). Lets the scrape loop compare metadata with what it cached without
   * building strings.
   */
  readonly nameStart: number;
  readonly nameEnd: number;
  /** Raw bytes of a HELP text or UNIT (escapes unresolved), or of a comment line. */
  readonly textStart: number;
  readonly textEnd: number;

  readonly hasExemplar: boolean;
  /**
   * Flat [name, value, ...] of the exemplar, unescaped. Not checked for duplicate names or the
   * 128-character limit: Prometheus drops such an exemplar and keeps the sample.
   */
  exemplarLabels(): string[];
  readonly exemplarValue: number;
  readonly exemplarHasTimestamp: boolean;
  readonly exemplarTimestamp: number;
  /**
   * Moves to the current entry's next exemplar (a native histogram may carry several); false when there
   * is none. The text formats have at most one per entry.
   */
  nextExemplar(): boolean;

  /** 1-based line number where the current entry starts. */
  readonly line: number;
}

/**
 * The write contract between the scrape side and the storage behind it (Prometheus' storage.Appender).
 * It lives in its own folder so scrape/ and agent/ both depend on it and neither on the other.
 */
import type { Labels } from '../util/labels.ts';
import type { Histogram } from './histogram.ts';

/** Outcome of Appender.appendExemplar; everything after `duplicate` is a rejected exemplar. */
export const ExemplarStatus = {
  appended: 0,
  /** Identical to the series' latest exemplar: silently skipped, as Prometheus' agent does. */
  duplicate: 1,
  unknownSeries: 2,
  duplicateLabel: 3,
  labelLength: 4,
  /** Older than the series' latest exemplar (both with own timestamps): see AgentAppender.appendExemplar. */
  outOfOrder: 5,
} as const;
export type ExemplarStatusCode = (typeof ExemplarStatus)[keyof typeof ExemplarStatus];

/**
 * A per-scrape transaction, as in Prometheus: get refs, append samples, then commit (one series record
 * and one samples record to the WAL) or roll back. One appender is reused by its scrape loop, so its
 * arrays are allocated once and grow to the target's size.
 */
export interface Appender {
  /** Ref of the series with these (sorted, non-empty, duplicate-free) labels, created if new. */
  ref(labels: Labels): number;
  /** False when the sample is out of order (t not after the series' last committed timestamp). */
  append(ref: number, t: number, v: number): boolean;
  /**
   * A staleness marker at t. For a series whose last sample was a native histogram it is a histogram
   * whose sum is the stale NaN (of the same integer/float kind), as Prometheus' head appender writes it.
   */
  appendStale(ref: number, t: number): boolean;
  /**
   * Appends a native histogram of series `ref` at t (Prometheus' AppendHistogram). `float` says h is a
   * float histogram (absolute float counts) rather than an integer one (integer counts, delta-encoded
   * buckets). Custom-bucket histograms (schema −53) take the same path. False when out of order; throws
   * InvalidHistogramError when h fails Prometheus' validation (the caller fails the scrape). The appender
   * owns h from here on: the caller must not change it.
   */
  appendHistogram(ref: number, t: number, h: Histogram, float: boolean): boolean;
  /**
   * Queues an exemplar of series `ref` (written to the WAL after the samples on commit). `labels`
   * is flat [name, value, ...] in any order; empty values are dropped. `hasTs` = the exposition
   * carried a timestamp (t is then the exemplar's own, else its sample's). Optional: an appender
   * without it does not store exemplars.
   */
  appendExemplar?(ref: number, t: number, v: number, hasTs: boolean, labels: readonly string[]): ExemplarStatusCode;
  /**
   * Optional, for callers that keep refs from one commit to the next (a scrape cache, a target's report
   * series): the storage's series GC keeps a pinned series, however long it goes without a sample (a
   * target down for a while, or scraped less often than the GC's cut-off), until it is unpinned as
   * often. A later sample or staleness marker then always goes to a series the WAL has a record of,
   * and to one remote write still knows. Pins are counted: two caches may hold the same ref.
   */
  pin?(ref: number): void;
  unpin?(ref: number): void;
  /** Number of samples held (floats and histograms). */
  readonly length: number;
  commit(): Promise<void>;
  rollback(): void;
}

/** The agent's own appenders, which always store exemplars. */
export type ExemplarAppender = Appender & Required<Pick<Appender, 'appendExemplar'>>;

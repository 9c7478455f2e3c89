import type { Labels } from '../util/labels.ts';
import type { Histogram } from '../storage/histogram.ts';
import type { WalPosition } from '../wal/segments.ts';

/**
 * What the WAL watcher writes to (Prometheus' WriteTo): series as they appear, then samples,
 * exemplars and histograms in chunks that each end at a WAL position. The queue behind it decides
 * what is sent and when a position is acknowledged; the watcher only reads and waits.
 */
export interface WriteTo {
  /** Whether exemplar records are wanted at all (send_exemplars); the watcher skips them otherwise. */
  readonly sendExemplars: boolean;
  /** Whether native-histogram records are wanted (send_native_histograms). */
  readonly sendHistograms: boolean;
  /** A series record: ref now names these labels. */
  storeSeries(ref: number, labels: Labels): void;
  /** Starts a chunk of items ending at pos; returns its id for the enqueue calls. */
  beginChunk(pos: WalPosition): number;
  /**
   * Enqueues one sample of the current chunk. False when the queue is full: the caller waits on
   * waitForSpace() and offers the same sample again (back-pressure onto the WAL reader).
   */
  enqueue(ref: number, t: number, v: number, stale: boolean, chunk: number): boolean;
  /** Same contract as enqueue(), for an exemplar of series ref. */
  enqueueExemplar(ref: number, t: number, v: number, exemplarLabels: Labels, chunk: number): boolean;
  /** Same contract as enqueue(), for a native histogram (float: WAL records 8/10). */
  enqueueHistogram(ref: number, t: number, h: Histogram, float: boolean, chunk: number): boolean;
  /** The current chunk was handed over completely. */
  endChunk(): void;
  /**
   * Waits until the queue may have room again. Resolves false at once when the queue is stopping
   * and will take nothing more, so the reader gives up the record it holds.
   */
  waitForSpace(): Promise<boolean>;
  /** Releases a reader parked in waitForSpace() (it then re-checks why it waits). */
  wakeReader(): void;
}

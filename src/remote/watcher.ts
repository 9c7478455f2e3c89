import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/logger.ts';
import { CorruptionError, LiveReader, readSegmentRange } from '../wal/reader.ts';
import {
  RecordType,
  SampleBatch,
  decodeExemplars,
  decodeFloatHistogramSamples,
  decodeHistogramSamples,
  decodeSamples,
  decodeSeries,
  recordType,
  type RefExemplar,
  type RefHistogramSample,
} from '../wal/records.ts';
import { lastCheckpoint, listSegments, segmentName } from '../wal/segments.ts';
import type { Clock } from '../util/clock.ts';
import { errorMessage } from '../util/errors.ts';
import { columnAt, f64At } from '../util/columns.ts';
import type { RecordTail, TailCursor } from '../wal/tail.ts';
import type { WalPosition } from '../wal/segments.ts';
import type { WriteTo } from './write-to.ts';

export interface WatcherOptions {
  walDir: string;
  clock: Clock;
  log: Logger;
  /** Registers a wake-up call for when the WAL writer flushed (with the segment written); returns an unsubscribe function. */
  subscribe: (fn: (segment: number) => void) => () => void;
  /** Fallback read interval when no notification arrives. */
  fallbackMs?: number;
  /** The writer's recent records: while this endpoint keeps up it reads them here, not from disk. */
  tail?: RecordTail | null | undefined;
}

/** Reads start at 64 KiB (a watcher that keeps up reads little, mostly from the tail) and grow to 1 MiB once a read fills the buffer. */
const FIRST_CHUNK = 1 << 16;
const READ_CHUNK = 1 << 20;

/**
 * Tails the WAL for one endpoint. Before `from` it reads series records only (samples there were
 * already acknowledged); from `from` on it hands samples to the queue, and exemplar records (4) and
 * native-histogram records (7-10) when the endpoint sends them. Woken by the writer, with a slow
 * fallback poll so a missed notification can only delay, never stall.
 */
export class WalWatcher {
  private readonly opts: WatcherOptions;
  private readonly qm: WriteTo;
  private stopped = false;
  private wakeFn: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly batch = new SampleBatch();
  private readonly exemplars: RefExemplar[] = [];
  private readonly histograms: RefHistogramSample[] = [];
  private buf = Buffer.allocUnsafe(FIRST_CHUNK);
  private done: Promise<void> = Promise.resolve();
  /** Newest segment the writer reported writing to (-1 = none reported yet). */
  private headSegment = -1;
  /** Segments below this were removed by a forced truncation (disk cap, max age): skip them. */
  private skipBelow = 0;
  /** How far this watcher has read, so the shared tail can drop what every watcher is past. */
  private cursor: TailCursor | null = null;

  constructor(qm: WriteTo, opts: WatcherOptions) {
    this.qm = qm;
    this.opts = opts;
  }

  start(from: WalPosition): void {
    const tail = this.opts.tail;
    const cursor = tail ? tail.attach() : null;
    this.cursor = cursor;
    this.unsubscribe = this.opts.subscribe((segment) => {
      if (segment > this.headSegment) this.headSegment = segment;
      this.wake();
    });
    this.done = this.run(from)
      .catch((err) => {
        if (!this.stopped) this.opts.log.error('WAL watcher stopped', { err: errorMessage(err) });
      })
      .finally(() => {
        if (tail && cursor) tail.detach(cursor);
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake();
    // It may be parked on a full queue whose endpoint is down.
    this.qm.wakeReader();
    await this.done;
  }

  /** Moves the reader past segments a forced truncation removed. */
  skipTo(segment: number): void {
    if (segment > this.skipBelow) this.skipBelow = segment;
    this.wake();
    // It may be parked on a full queue with samples of a dropped segment.
    this.qm.wakeReader();
  }

  private wake(): void {
    const fn = this.wakeFn;
    this.wakeFn = null;
    fn?.();
  }

  private waitForWrite(): Promise<void> {
    // stop() may have come while a read was in flight: its wake-up found no waiter then.
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.opts.clock.setTimeout(() => {
        this.wakeFn = null;
        resolve();
      }, this.opts.fallbackMs ?? 15_000);
      this.wakeFn = () => {
        this.opts.clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(from: WalPosition): Promise<void> {
    const { walDir, log } = this.opts;
    let range = await listSegments(walDir);
    while (!range && !this.stopped) {
      await this.waitForWrite();
      range = await listSegments(walDir);
    }
    if (!range) return;
    await this.readCheckpointSeries(range.first - 1);
    let seg = range.first;
    if (from.segment < range.first) {
      log.warn('Resume position was truncated away; resuming at the oldest segment', {
        wanted: from.segment,
        oldest: range.first,
      });
      from = { segment: range.first, offset: 0 };
    }
    let skippedTo = 0;
    while (!this.stopped) {
      if (this.skipBelow > skippedTo) {
        // Segments were dropped by force: move past them, and pick up the series they held from the
        // checkpoint written for the drop.
        skippedTo = this.skipBelow;
        if (seg < skippedTo) seg = skippedTo;
        await this.readCheckpointSeries(skippedTo - 1);
      }
      try {
        if ((await this.readSegment(seg, from)) === 'missing') {
          const r = await listSegments(this.opts.walDir);
          if (!r || seg > r.last) {
            // Ahead of the writer (e.g. after skipping a corrupt head segment): wait for it.
            await this.waitForWrite();
            continue;
          }
          if (seg < r.first) seg = r.first - 1; // truncated away meanwhile
        }
      } catch (err) {
        // A damaged segment must not stop this endpoint for good: report it and go on with the next.
        if (!(err instanceof CorruptionError)) throw err;
        this.opts.log.error('Corrupt WAL segment, skipping the rest of it', {
          segment: err.segment,
          offset: err.offset,
          err: err.reason,
        });
      }
      if (this.stopped) return;
      seg++;
    }
  }

  /** Caches the series of the newest checkpoint if it covers at least up to segment `atLeast`. */
  private async readCheckpointSeries(atLeast: number): Promise<void> {
    const cp = await lastCheckpoint(this.opts.walDir);
    if (!cp || cp.index < atLeast) return;
    const cpRange = await listSegments(cp.dir);
    if (!cpRange) return;
    await readSegmentRange(cp.dir, cpRange.first, cpRange.last, (rec) => {
      if (recordType(rec) === RecordType.Series) decodeSeries(rec, (ref, labels) => this.qm.storeSeries(ref, labels));
    });
  }

  /** Reads one segment to its end; returns once a newer segment exists and this one is exhausted. */
  private async readSegment(seg: number, from: WalPosition): Promise<'done' | 'missing'> {
    const file = path.join(this.opts.walDir, segmentName(seg));
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    let reader = new LiveReader(seg, 0);
    const tail = this.opts.tail;
    try {
      while (!this.stopped && seg >= this.skipBelow) {
        // Caught up with the file so far (no record half read): the next records may be in memory.
        if (tail && reader.readOffset === reader.position) {
          const pos = await this.fromTail(tail, seg, reader.position, from);
          if (pos !== reader.position) {
            reader = new LiveReader(seg, pos);
            continue;
          }
          // Everything written to this segment is read, and it is still the one written to.
          if (this.headSegment === seg && tail.writtenSize(seg) === pos) {
            await this.waitForWrite();
            continue;
          }
        }
        const { bytesRead } = await fh.read(this.buf, 0, this.buf.length, reader.readOffset);
        if (bytesRead > 0) {
          reader.feed(this.buf, 0, bytesRead);
          // A full read means a backlog: read it in bigger steps from now on.
          if (bytesRead === this.buf.length && this.buf.length < READ_CHUNK) this.buf = Buffer.allocUnsafe(READ_CHUNK);
          await this.drain(reader, seg, from);
          continue;
        }
        // At the end of what is written. A newer segment means this one is final: read once more
        // (the writer finishes a segment before creating the next), then move on.
        // The writer's notifications say when a newer segment exists; only without one ask the disk.
        if (
          this.headSegment > seg ||
          (this.headSegment < 0 && (await exists(path.join(this.opts.walDir, segmentName(seg + 1)))))
        ) {
          const again = await fh.read(this.buf, 0, this.buf.length, reader.readOffset);
          if (again.bytesRead > 0) {
            reader.feed(this.buf, 0, again.bytesRead);
            await this.drain(reader, seg, from);
            continue;
          }
          reader.finish();
          try {
            await this.drain(reader, seg, from);
          } catch (err) {
            this.opts.log.warn('Torn record at the end of a finished segment, skipping it', {
              segment: seg,
              err: errorMessage(err),
            });
          }
          return 'done';
        }
        await this.waitForWrite();
      }
    } finally {
      await fh.close();
    }
    return 'done';
  }

  private async drain(reader: LiveReader, seg: number, from: WalPosition): Promise<void> {
    for (;;) {
      const rec = reader.next();
      if (rec === null) return;
      const end = reader.position;
      const done = this.handle(rec, seg, end, from);
      if (done === false || (done !== true && !(await done))) return;
      this.readTo(seg, end);
    }
  }

  private readTo(seg: number, pos: number): void {
    const c = this.cursor;
    if (c === null) return;
    c.segment = seg;
    c.pos = pos;
  }

  /**
   * Hands over the written records that follow `pos` in the tail, as drain() would have read them
   * from the file; returns the position after the last one (pos when the tail had none).
   */
  private async fromTail(tail: RecordTail, seg: number, pos: number, from: WalPosition): Promise<number> {
    let n = tail.find(seg, pos);
    if (n < 0) return pos;
    for (;;) {
      const e = tail.at(n, seg, pos);
      if (e === null) return pos;
      const done = this.handle(e.record, seg, e.end, from);
      if (done === false || (done !== true && !(await done))) return e.end;
      pos = e.end;
      this.readTo(seg, pos);
      n++;
      if (this.stopped || seg < this.skipBelow) return pos;
    }
  }

  /**
   * One record ending at `end` of segment `seg`: true once handed over, false when the watcher
   * should stop reading this segment, a promise only when it had to wait for room in the queue.
   * Synchronous otherwise on purpose: awaiting every record would let a shard woken by a record's
   * first sample send it before the records after it are queued, splitting what Prometheus sends
   * in one request.
   */
  private handle(rec: Uint8Array, seg: number, end: number, from: WalPosition): boolean | Promise<boolean> {
    const qm = this.qm;
    const type = recordType(rec);
    if (type === RecordType.Series) {
      decodeSeries(rec, (ref, labels) => qm.storeSeries(ref, labels));
      return true;
    }
    // Samples before the resume point were acknowledged in an earlier run.
    const acked = seg < from.segment || (seg === from.segment && end <= from.offset);
    if (type === RecordType.Samples) {
      if (acked) return true;
      const b = this.batch;
      b.reset();
      decodeSamples(rec, b);
      const chunk = qm.beginChunk({ segment: seg, offset: end });
      const enqueue = (i: number): boolean => {
        // push() asks only for items below b.n, which the batch columns hold.
        return qm.enqueue(f64At(b.refs, i), f64At(b.ts, i), f64At(b.values, i), b.stale[i] === 1, chunk);
      };
      return this.push(b.n, enqueue, seg);
    }
    if (type === RecordType.Exemplars) {
      if (!qm.sendExemplars || acked) return true;
      const ex = this.exemplars;
      ex.length = 0;
      if (!this.decodeOptional(() => decodeExemplars(rec, ex), 'exemplars', seg, end)) return true;
      const chunk = qm.beginChunk({ segment: seg, offset: end });
      return this.push(
        ex.length,
        (i) => {
          const e = columnAt(ex, i);
          return qm.enqueueExemplar(e.ref, e.t, e.v, e.labels, chunk);
        },
        seg,
      );
    }
    const float = type === RecordType.FloatHistogramSamples || type === RecordType.CustomBucketsFloatHistogramSamples;
    if (float || type === RecordType.HistogramSamples || type === RecordType.CustomBucketsHistogramSamples) {
      if (!qm.sendHistograms || acked) return true;
      const hs = this.histograms;
      hs.length = 0;
      const decode = () => (float ? decodeFloatHistogramSamples(rec, hs) : decodeHistogramSamples(rec, hs));
      if (!this.decodeOptional(decode, 'histograms', seg, end)) return true;
      const chunk = qm.beginChunk({ segment: seg, offset: end });
      return this.push(
        hs.length,
        (i) => {
          const h = columnAt(hs, i);
          return qm.enqueueHistogram(h.ref, h.t, h.h, float, chunk);
        },
        seg,
      );
    }
    return true;
  }

  /** Enqueues items 0..n-1 of the chunk begun last, then ends it; waits for room only when the queue is full. */
  private push(n: number, enqueue: (i: number) => boolean, seg: number): boolean | Promise<boolean> {
    for (let i = 0; i < n; i++) if (!enqueue(i)) return this.pushWaiting(i, n, enqueue, seg);
    this.qm.endChunk();
    return true;
  }

  private async pushWaiting(from: number, n: number, enqueue: (i: number) => boolean, seg: number): Promise<boolean> {
    for (let i = from; i < n; i++) {
      while (!enqueue(i)) {
        if (!(await this.waitForQueue(seg))) return false;
      }
    }
    this.qm.endChunk();
    return true;
  }

  /**
   * Decodes an exemplar or histogram record. A record this reader cannot decode is logged and
   * skipped rather than stopping the endpoint: the samples around it still have to go out.
   */
  private decodeOptional(decode: () => void, what: string, seg: number, end: number): boolean {
    try {
      decode();
      return true;
    } catch (err) {
      this.opts.log.warn(`Skipping a WAL ${what} record that does not decode`, {
        segment: seg,
        offset: end,
        err: errorMessage(err),
      });
      return false;
    }
  }

  /** Waits for room in the queue's shards; false when the watcher should stop reading this segment. */
  private async waitForQueue(seg: number): Promise<boolean> {
    if (this.stopped || seg < this.skipBelow) return false;
    return this.qm.waitForSpace();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

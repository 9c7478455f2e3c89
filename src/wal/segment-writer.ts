/**
 * The WAL writer, following Prometheus' wlog writer byte for byte: records are compressed once
 * (snappy, kept only if smaller), cut into fragments that never cross a 32 KiB page, pages with
 * fewer than 7 free bytes are zero-padded, records never cross segments, and rotation/close pad
 * the last page. append() frames into memory synchronously; flush() hands the bytes to the OS in
 * order, one write at a time. No fsync per flush (unless fsync: 'always'), as in Prometheus.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { crc32c } from './crc32c.ts';
import { WalWriteError } from './errors.ts';
import {
  DEFAULT_SEGMENT_SIZE,
  FLAG_SNAPPY,
  FLAG_ZSTD,
  FRAG_FIRST,
  FRAG_FULL,
  FRAG_LAST,
  FRAG_MIDDLE,
  HEADER_SIZE,
  MAX_FRAGMENT,
  PAGE_SIZE,
  listSegments,
  segmentPath,
  type WalCompressionType,
} from './segments.ts';
import { lazyZlib } from '../util/lazy-builtin.ts';
import { Scratch, snappyCompressInto } from '../util/snappy.ts';
import type { RecordTail } from './tail.ts';
import { silentLogger, type Logger } from '../log/logger.ts';

export interface WalWriterOptions {
  /** Nominal segment size, a multiple of 32 KiB. Default 128 MiB. */
  segmentSize?: number;
  /** Compress records (only those it shrinks). Default true. */
  compress?: boolean;
  /** How, when compress is on: snappy (default) or zstd, as `--storage.agent.wal-compression-type`. */
  compression?: WalCompressionType;
  /** 'rotate' (default): fsync a segment when it is finished and on close, as Prometheus. */
  fsync?: 'rotate' | 'always' | 'never';
  /** Keeps what was written, uncompressed, for readers that keep up (see tail.ts). */
  tail?: RecordTail | null;
  /** Where segment creation is logged (debug). */
  log?: Logger;
}

/** Counters for self-metrics; plain numbers, read whenever. */
export interface WalWriterStats {
  records: number;
  /** Record bytes before compression. */
  recordBytes: number;
  /** Bytes saved by compression (Prometheus' record_bytes_saved_total). */
  bytesSaved: number;
  /** Fragments written (record_part_writes_total). */
  fragments: number;
  /** Pages completed (page_completions_total). */
  pageCompletions: number;
  /** Bytes handed to the OS. */
  bytesWritten: number;
  fsyncs: number;
  fsyncSeconds: number;
  segmentsCreated: number;
  writesFailed: number;
  /** fsync of a finished segment failed (logged by Prometheus, not fatal). */
  fsyncErrors: number;
}

type OpEnd = 0 | 1 | 2; // 0 = more follows in this segment, 1 = rotate after, 2 = close after

interface WriteOp {
  seg: number;
  buf: Buffer;
  len: number;
  end: OpEnd;
}

const POOL_MAX = 4;
const POOLED_MAX_BYTES = 8 << 20;

export class WalWriter {
  readonly dir: string;
  readonly segmentSize: number;
  readonly compress: boolean;
  private readonly zstd: boolean;
  readonly fsyncMode: 'rotate' | 'always' | 'never';
  readonly stats: WalWriterStats = {
    records: 0,
    recordBytes: 0,
    bytesSaved: 0,
    fragments: 0,
    pageCompletions: 0,
    bytesWritten: 0,
    fsyncs: 0,
    fsyncSeconds: 0,
    segmentsCreated: 0,
    writesFailed: 0,
    fsyncErrors: 0,
  };
  /** Last error of a background fsync, if any. */
  lastSyncError: Error | null = null;

  private readonly pagesPerSegment: number;
  private seg: number;
  /** Bytes used in the current page and pages completed in the current segment (logical, incl. pending). */
  private pageUsed = 0;
  private donePages = 0;
  /** Framed bytes of segment `seg` not yet queued for writing. */
  private cur: Buffer;
  private curLen = 0;
  private queue: WriteOp[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** The write every flush joins until it starts (see schedule()). */
  private nextRun: Promise<void> | null = null;
  private fh: FileHandle | null;
  private fhSeg: number;
  private fhPos = 0;
  private failed: Error | null = null;
  private closed = false;
  private readonly listeners = new Set<(segment: number, size: number) => void>();
  private readonly pool: Buffer[] = [];
  /** fsync+close of finished segments run in the background so rotation never stalls appends. */
  private readonly closing = new Set<Promise<void>>();
  private readonly cbuf = new Scratch(1 << 16);
  private readonly tail: RecordTail | null;
  /** End of the last record framed into the current segment (a LiveReader's position after it). */
  private lastEnd = 0;
  private readonly log: Logger;

  private constructor(
    dir: string,
    seg: number,
    fh: FileHandle,
    opts: Required<Omit<WalWriterOptions, 'tail'>>,
    tail: RecordTail | null,
  ) {
    this.tail = tail;
    this.dir = dir;
    this.seg = seg;
    this.fh = fh;
    this.fhSeg = seg;
    this.segmentSize = opts.segmentSize;
    this.compress = opts.compress;
    this.zstd = opts.compression === 'zstd';
    this.fsyncMode = opts.fsync;
    this.log = opts.log;
    this.pagesPerSegment = opts.segmentSize / PAGE_SIZE;
    this.cur = Buffer.allocUnsafe(1 << 16);
  }

  /** Creates walDir if needed and opens a new, empty segment numbered last+1 (or 0). */
  static async open(walDir: string, opts: WalWriterOptions = {}): Promise<WalWriter> {
    const o: Required<Omit<WalWriterOptions, 'tail'>> = {
      segmentSize: opts.segmentSize ?? DEFAULT_SEGMENT_SIZE,
      compress: opts.compress ?? true,
      compression: opts.compression ?? 'snappy',
      fsync: opts.fsync ?? 'rotate',
      log: opts.log ?? silentLogger,
    };
    if (!Number.isInteger(o.segmentSize) || o.segmentSize <= 0 || o.segmentSize % PAGE_SIZE !== 0) {
      throw new WalWriteError(`invalid segment size ${o.segmentSize}: must be a positive multiple of ${PAGE_SIZE}`);
    }
    await mkdir(walDir, { recursive: true });
    const range = await listSegments(walDir);
    const seg = range ? range.last + 1 : 0;
    const fh = await createSegment(walDir, seg);
    const w = new WalWriter(walDir, seg, fh, o, opts.tail ?? null);
    w.stats.segmentsCreated++;
    o.log.debug('WAL segment created', { segment: seg, dir: walDir });
    return w;
  }

  /** Index of the segment appended records go to. */
  get segment(): number {
    return this.seg;
  }

  /** Logical size of the current segment including bytes not flushed yet (Prometheus' LastSegmentAndOffset). */
  get offset(): number {
    return this.donePages * PAGE_SIZE + this.pageUsed;
  }

  /**
   * Frames one record into memory (synchronous, no I/O); it reaches the file with the next flush().
   * The bytes are copied, so the caller may reuse its buffer right away.
   */
  append(record: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (this.closed) throw new WalWriteError('WAL writer is closed');
    if (PAGE_SIZE - this.pageUsed < HEADER_SIZE) this.padPage();

    let payload = record;
    let flag = 0;
    if (this.compress && this.zstd && record.length > 0) {
      // As wlog: the compressed form only when it is smaller.
      const z = lazyZlib().zstdCompressSync(record);
      if (z.length < record.length) {
        payload = z;
        flag = FLAG_ZSTD;
        this.stats.bytesSaved += record.length - z.length;
      }
    } else if (this.compress && record.length > 0) {
      const n = snappyCompressInto(record, this.cbuf);
      if (n < record.length) {
        payload = this.cbuf.buf.subarray(0, n);
        flag = FLAG_SNAPPY;
        this.stats.bytesSaved += record.length - n;
      }
    }

    const free = PAGE_SIZE - this.pageUsed - HEADER_SIZE + MAX_FRAGMENT * (this.pagesPerSegment - this.donePages - 1);
    // A record that fits nowhere still goes into a fresh segment, which then grows past its nominal
    // size; rotating an empty segment would only leave an empty file behind.
    if (payload.length > free && (this.donePages > 0 || this.pageUsed > 0)) this.rotate(1);

    const total = payload.length;
    let off = 0;
    let i = 0;
    do {
      const room = PAGE_SIZE - this.pageUsed - HEADER_SIZE;
      const l = Math.min(total - off, room);
      const last = off + l === total;
      const kind = i === 0 ? (last ? FRAG_FULL : FRAG_FIRST) : last ? FRAG_LAST : FRAG_MIDDLE;
      const b = this.reserve(HEADER_SIZE + l);
      const p = this.curLen;
      b[p] = kind | flag;
      b[p + 1] = l >>> 8;
      b[p + 2] = l & 0xff;
      b.writeUInt32BE(crc32c(payload, off, off + l), p + 3);
      b.set(payload.subarray(off, off + l), p + HEADER_SIZE);
      this.curLen = p + HEADER_SIZE + l;
      this.pageUsed += HEADER_SIZE + l;
      this.stats.fragments++;
      off += l;
      if (off === total && this.tail) {
        // Before the padding below: a reader's position ends with the last fragment.
        const end = this.donePages * PAGE_SIZE + this.pageUsed;
        this.tail.add(this.seg, this.lastEnd, end, record);
        this.lastEnd = end;
      }
      if (PAGE_SIZE - this.pageUsed < HEADER_SIZE) this.padPage();
      i++;
    } while (off < total);

    this.stats.records++;
    this.stats.recordBytes += record.length;
  }

  /**
   * Writes everything appended so far, in order, after any earlier flush. The partly filled page
   * is written without padding; later records continue it. Rejects if a write fails; the writer is
   * unusable afterwards.
   */
  flush(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return this.schedule();
  }

  /**
   * Subscribes to "bytes reached the OS": called with the segment and its file size after every
   * write, and with size 0 when a new segment file has been created. Returns an unsubscribe function.
   */
  onFlush(fn: (segment: number, size: number) => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  /** Finishes the current segment (padding its last page) and starts the next; returns its index. */
  async nextSegment(): Promise<number> {
    if (this.failed) throw this.failed;
    if (this.closed) throw new WalWriteError('WAL writer is closed');
    this.rotate(1);
    const seg = this.seg;
    await this.flush();
    return seg;
  }

  /** Flushes, pads the last page, fsyncs (unless fsync: 'never') and closes the segment. */
  async close(): Promise<void> {
    if (this.closed) {
      await this.chain;
      if (this.failed) throw this.failed;
      return;
    }
    if (this.failed) throw this.failed;
    this.rotate(2);
    this.closed = true;
    await this.schedule();
  }

  // -------------------------------------------------------------------------------------------

  private reserve(n: number): Buffer {
    const need = this.curLen + n;
    if (need <= this.cur.length) return this.cur;
    let size = this.cur.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.cur.copy(next, 0, 0, this.curLen);
    this.cur = next;
    return next;
  }

  private padPage(): void {
    const n = PAGE_SIZE - this.pageUsed;
    const b = this.reserve(n);
    b.fill(0, this.curLen, this.curLen + n);
    this.curLen += n;
    this.pageUsed = 0;
    this.donePages++;
    this.stats.pageCompletions++;
  }

  /** Ends the current segment in memory: pad a started page, queue its bytes with the end marker. */
  private rotate(end: 1 | 2): void {
    if (this.pageUsed > 0) this.padPage();
    this.queue.push({ seg: this.seg, buf: this.cur, len: this.curLen, end });
    this.cur = this.takeBuffer();
    this.curLen = 0;
    if (end === 1) {
      this.seg++;
      this.donePages = 0;
      this.pageUsed = 0;
      this.lastEnd = 0;
    }
  }

  private takeBuffer(): Buffer {
    return this.pool.pop() ?? Buffer.allocUnsafe(1 << 16);
  }

  /**
   * Group commit: while a write runs, every flush until it ends shares the one write that follows,
   * which takes whatever was appended by the time it starts. Without this, each commit queued its own
   * write and its own 64 KiB buffer: 10,000 dead targets (667 commits/s) on a busy disk queued
   * thousands of writes and ~250 MB of buffers.
   */
  private schedule(): Promise<void> {
    if (this.nextRun) return this.nextRun;
    const p = this.chain.then(() => {
      this.nextRun = null;
      if (this.curLen > 0) {
        this.queue.push({ seg: this.seg, buf: this.cur, len: this.curLen, end: 0 });
        this.cur = this.takeBuffer();
        this.curLen = 0;
      }
      const ops = this.queue;
      this.queue = [];
      return this.run(ops);
    });
    this.nextRun = p;
    // The chain itself never rejects, so a failed flush does not poison later awaits of `chain`;
    // the failure is sticky in this.failed and every later flush reports it.
    this.chain = p.catch(() => {});
    return p;
  }

  private async run(ops: WriteOp[]): Promise<void> {
    if (this.failed) throw this.failed;
    // Offset where the op being written started: a record boundary to cut back to if it fails.
    let opStart = this.fhPos;
    try {
      for (const op of ops) {
        const fh = this.fh;
        if (!fh || op.seg !== this.fhSeg)
          throw new WalWriteError(`internal: write for segment ${op.seg} but ${this.fhSeg} is open`);
        opStart = this.fhPos;
        let done = 0;
        while (done < op.len) {
          const { bytesWritten } = await fh.write(op.buf, done, op.len - done, this.fhPos);
          done += bytesWritten;
          this.fhPos += bytesWritten;
        }
        this.stats.bytesWritten += op.len;
        this.recycle(op.buf);
        if (op.len > 0) this.emit(op.seg, this.fhPos);
        if (op.end !== 0) {
          this.fh = null;
          if (op.end === 2) {
            if (this.fsyncMode !== 'never') await this.sync(fh);
            await fh.close();
            await Promise.all(this.closing);
          } else {
            this.finishInBackground(fh);
          }
          if (op.end === 1) {
            this.fhSeg = op.seg + 1;
            this.fhPos = 0;
            this.fh = await createSegment(this.dir, this.fhSeg);
            this.stats.segmentsCreated++;
            this.log.debug('WAL segment created', {
              segment: this.fhSeg,
              previous: op.seg,
              previous_bytes: opStart + op.len,
            });
            this.emit(this.fhSeg, 0);
          }
        }
      }
      if (this.fsyncMode === 'always' && this.fh && ops.length > 0) await this.sync(this.fh);
    } catch (e) {
      this.stats.writesFailed++;
      this.tail?.dropUnwritten();
      // The writer is dead. Cut a partly written op off (e.g. the disk filled up mid-write) so the
      // segment ends at a record boundary and no torn record is left behind; truncating needs no
      // free space. Then release the file (an unclosed FileHandle is fatal when collected).
      const fh = this.fh;
      this.fh = null;
      if (fh) {
        try {
          if (this.fhPos > opStart) await fh.truncate(opStart);
          this.fhPos = opStart;
        } catch {
          // Best effort: replay repairs a torn tail anyway.
        }
        void fh.close().catch(() => {});
      }
      this.failed =
        e instanceof WalWriteError
          ? e
          : new WalWriteError(`writing WAL segment ${this.fhSeg} in ${this.dir}: ${(e as Error).message}`, {
              cause: e,
            });
      throw this.failed;
    }
  }

  private finishInBackground(fh: FileHandle): void {
    const p = (async () => {
      try {
        if (this.fsyncMode !== 'never') await this.sync(fh);
      } catch (e) {
        this.stats.fsyncErrors++;
        this.lastSyncError = e as Error;
      } finally {
        await fh.close().catch(() => {});
      }
    })();
    this.closing.add(p);
    void p.then(() => this.closing.delete(p));
  }

  private async sync(fh: FileHandle): Promise<void> {
    const t0 = performance.now();
    await fh.sync();
    this.stats.fsyncs++;
    this.stats.fsyncSeconds += (performance.now() - t0) / 1000;
  }

  private recycle(buf: Buffer): void {
    if (this.pool.length < POOL_MAX && buf.length <= POOLED_MAX_BYTES && buf !== this.cur) this.pool.push(buf);
  }

  private emit(segment: number, size: number): void {
    // Before the listeners: a reader woken by them finds what was just written.
    this.tail?.publish(segment, size);
    for (const fn of this.listeners) {
      try {
        fn(segment, size);
      } catch (e) {
        // A listener's bug must not break the writer; surface it as an uncaught error instead.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}

async function createSegment(walDir: string, i: number): Promise<FileHandle> {
  try {
    // 'wx': segments are never reopened for appending; an existing file here means two writers.
    return await open(segmentPath(walDir, i), 'wx', 0o666);
  } catch (e) {
    throw new WalWriteError(`cannot create WAL segment ${segmentPath(walDir, i)}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

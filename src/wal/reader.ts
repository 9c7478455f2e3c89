/**
 * Reading WAL segments: page/fragment parsing shared by the whole-segment reader, the tailing
 * LiveReader and startup replay with repair (Prometheus' wlog Reader, LiveReader and Repair).
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { lazyZlib } from '../util/lazy-builtin.ts';
import { crc32c } from './crc32c.ts';
import { CorruptionError, InvalidRecordError } from './errors.ts';
import {
  FLAG_SNAPPY,
  FRAG_FIRST,
  FRAG_FULL,
  FRAG_LAST,
  HEADER_SIZE,
  MAX_FRAGMENT,
  PAGE_SIZE,
  lastCheckpoint,
  listSegments,
  segmentIndexes,
  segmentName,
  segmentPath,
} from './segments.ts';
import { Scratch, snappyDecompressInto } from '../util/snappy.ts';

export { CorruptionError } from './errors.ts';

/** Upper bound for one decoded record; anything larger is garbage that happened to pass the CRC. */
const MAX_RECORD_SIZE = 1 << 30;
const EMPTY = new Uint8Array(0);
const KIND_NAMES = ['padding', 'full', 'first', 'middle', 'last'];

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * Turns a byte window of one segment into records. Subclasses own the window: `data[rd, wr)` holds
 * not-yet-parsed bytes and `data[i]` is at segment offset `base + i`. With `final` set the window
 * ends at the end of the segment (short last page = zero padded, an unfinished record = torn);
 * without it, running out of bytes just means "more later".
 */
abstract class FrameParser {
  readonly segment: number;
  protected data: Uint8Array = EMPTY;
  protected rd = 0;
  protected wr = 0;
  protected base = 0;
  protected final = false;
  /** Fragments of the record being assembled (0 = between records). */
  private frags = 0;
  private recStart = 0;
  private recFlags = 0;
  private readonly asm = new Scratch(1 << 15);
  private asmLen = 0;
  private readonly dec = new Scratch(1 << 15);
  private err: CorruptionError | null = null;
  /** Segment offset where the last returned record starts (-1 before the first). */
  offset = -1;
  /** Segment offset just after the last returned record: a valid point to resume reading from. */
  position: number;

  protected constructor(segment: number, startOffset: number) {
    this.segment = segment;
    this.base = startOffset;
    this.position = startOffset;
  }

  /** The terminal error, once one happened. */
  get error(): CorruptionError | null {
    return this.err;
  }

  /**
   * The next complete record, or null when the bytes so far hold no further complete record.
   * The returned bytes stay valid until the next call. Throws CorruptionError (and keeps throwing it).
   */
  next(): Uint8Array | null {
    if (this.err) throw this.err;
    try {
      return this.parse();
    } catch (e) {
      if (e instanceof CorruptionError) this.err = e;
      throw e;
    }
  }

  /** True when bytes past `position` belong to a record not yet complete (not just padding). */
  get partial(): boolean {
    if (this.frags > 0) return true;
    return this.wr > this.rd && this.data[this.rd] !== 0;
  }

  private corrupt(reason: string, at: number, cause?: unknown): CorruptionError {
    return new CorruptionError(
      this.segment,
      this.frags > 0 ? this.recStart : at,
      reason,
      cause ? { cause } : undefined,
    );
  }

  private parse(): Uint8Array | null {
    const d = this.data;
    for (;;) {
      const avail = this.wr - this.rd;
      const at = this.base + this.rd;
      if (avail === 0) {
        if (this.final && this.frags > 0) throw this.corrupt('last record is torn', at);
        return null;
      }
      const type = d[this.rd];
      if (type === undefined) throw this.corrupt('window shorter than its write offset', at);
      if (type === 0) {
        // Padding: the rest of the page must be zero. A segment that ends early counts as padded.
        const pageRem = PAGE_SIZE - (at % PAGE_SIZE);
        const n = Math.min(avail, pageRem);
        if (n < pageRem && !this.final) return null;
        for (let i = 1; i < n; i++) {
          if (d[this.rd + i] !== 0) throw this.corrupt('unexpected non-zero byte in padded page', at);
        }
        this.rd += n;
        continue;
      }
      const kind = type & 7;
      if (kind > FRAG_LAST || kind === 0 || (type & 0xe0) !== 0 || (type & 0x18) === 0x18) {
        throw this.corrupt(`invalid fragment header byte 0x${type.toString(16)}`, at);
      }
      if (avail < HEADER_SIZE) {
        if (this.final) throw this.corrupt('torn fragment header at end of segment', at);
        return null;
      }
      // biome-ignore lint/style/noNonNullAssertion: avail >= HEADER_SIZE bytes from rd (checked above).
      const len = (d[this.rd + 1]! << 8) | d[this.rd + 2]!;
      if (len > MAX_FRAGMENT) throw this.corrupt(`invalid fragment length ${len}`, at);
      if (avail < HEADER_SIZE + len) {
        if (this.final) throw this.corrupt(`torn fragment: ${len} bytes announced, ${avail - HEADER_SIZE} present`, at);
        return null;
      }
      const r = this.rd;
      // biome-ignore lint/style/noNonNullAssertion: avail >= HEADER_SIZE bytes from rd (checked above).
      const want = ((d[r + 3]! << 24) | (d[r + 4]! << 16) | (d[r + 5]! << 8) | d[r + 6]!) >>> 0;
      const p0 = this.rd + HEADER_SIZE;
      const p1 = p0 + len;
      const got = crc32c(d, p0, p1);
      if (got !== want) throw this.corrupt(`unexpected checksum ${hex(got)}, expected ${hex(want)}`, at);

      if (kind === FRAG_FULL || kind === FRAG_FIRST) {
        if (this.frags !== 0) throw this.corrupt(`unexpected ${KIND_NAMES[kind]} fragment`, at);
        this.recStart = at;
        this.recFlags = type & 0x18;
        this.asmLen = 0;
      } else if (this.frags === 0) {
        throw this.corrupt(`unexpected ${KIND_NAMES[kind]} fragment`, at);
      }
      this.rd = p1;

      if (kind === FRAG_FULL) return this.complete(d.subarray(p0, p1));
      if (this.asmLen + len > MAX_RECORD_SIZE) throw this.corrupt('record too large', at);
      const buf = this.asm.buf.length >= this.asmLen + len ? this.asm.buf : this.growAsm(this.asmLen + len);
      buf.set(d.subarray(p0, p1), this.asmLen);
      this.asmLen += len;
      if (kind === FRAG_LAST) return this.complete(buf.subarray(0, this.asmLen));
      this.frags++;
    }
  }

  private growAsm(n: number): Buffer {
    const old = this.asm.buf;
    const len = this.asmLen;
    const next = Buffer.allocUnsafe(Math.max(n, old.length * 2));
    old.copy(next, 0, 0, len);
    this.asm.buf = next;
    return next;
  }

  private complete(payload: Uint8Array): Uint8Array {
    const start = this.recStart;
    const flags = this.recFlags;
    let rec = payload;
    if (flags !== 0) {
      try {
        rec =
          flags === FLAG_SNAPPY
            ? snappyDecompressInto(payload, this.dec, MAX_RECORD_SIZE)
            : lazyZlib().zstdDecompressSync(payload, { maxOutputLength: MAX_RECORD_SIZE });
      } catch (e) {
        const what = flags === FLAG_SNAPPY ? 'snappy' : 'zstd';
        throw new CorruptionError(this.segment, start, `cannot decompress ${what} record: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
    this.frags = 0;
    this.offset = start;
    this.position = this.base + this.rd;
    return rec;
  }
}

/** Reads the records of a segment held completely in memory (or of its tail from startOffset). */
export class SegmentRecordReader extends FrameParser {
  /**
   * @param buf the segment's bytes from startOffset to its end
   * @param segment index used in errors
   * @param startOffset segment offset of buf[0]; must be a record boundary
   */
  constructor(buf: Uint8Array, segment = -1, startOffset = 0) {
    super(segment, startOffset);
    this.data = buf;
    this.wr = buf.length;
    this.final = true;
  }
}

/**
 * Tails a segment that is still being written. Feed it the bytes appended to the file, in order,
 * starting at `readOffset`; next() yields complete records only. Running out of bytes is never an
 * error. `position` (just after the last returned record) is a valid restart point: a new reader
 * constructed with that offset continues exactly there, because fragments never span pages.
 * When the segment is known to be complete (a newer one exists), call finish(): from then on a
 * torn record at the end is reported as corruption.
 */
export class LiveReader extends FrameParser {
  private store: Buffer;

  constructor(segment: number, startOffset = 0, initialBuffer = 1 << 16) {
    super(segment, startOffset);
    this.store = Buffer.allocUnsafe(initialBuffer);
    this.data = this.store;
  }

  /** Segment offset of the next byte feed() expects (= bytes of the file consumed so far). */
  get readOffset(): number {
    return this.base + this.wr;
  }

  /** Appends bytes[start, end) read from the file at readOffset. Invalidates records returned so far. */
  feed(bytes: Uint8Array, start = 0, end = bytes.length): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.rd > 0 && (this.rd === this.wr || this.wr + n > this.store.length)) {
      this.store.copy(this.store, 0, this.rd, this.wr);
      this.base += this.rd;
      this.wr -= this.rd;
      this.rd = 0;
    }
    if (this.wr + n > this.store.length) {
      let size = this.store.length * 2;
      while (size < this.wr + n) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.store.copy(next, 0, 0, this.wr);
      this.store = next;
      this.data = next;
    }
    this.store.set(bytes.subarray(start, end), this.wr);
    this.wr += n;
  }

  /** Declares that no more bytes will come: a record left incomplete is now corruption. */
  finish(): void {
    this.final = true;
  }
}

/**
 * A LiveReader bound to a segment file: poll() reads what was appended since the last call and
 * delivers the complete records. For tailing watchers: open at a saved position, poll on every
 * writer notification, and poll(…, true) once a newer segment exists (then a torn tail throws).
 */
export class SegmentTail {
  readonly reader: LiveReader;
  readonly file: string;
  private readonly fh: FileHandle;
  private readonly chunk: Buffer;
  private done = false;

  private constructor(file: string, fh: FileHandle, reader: LiveReader, chunkSize: number) {
    this.file = file;
    this.fh = fh;
    this.reader = reader;
    this.chunk = Buffer.allocUnsafe(chunkSize);
  }

  /**
   * Opens segment `segment` of walDir for reading from `offset` (a saved `position`). Throws
   * CorruptionError when the file is shorter than offset (it was cut by a repair).
   */
  static async open(walDir: string, segment: number, offset = 0, chunkSize = 1 << 20): Promise<SegmentTail> {
    const file = segmentPath(walDir, segment);
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      if (size < offset) {
        throw new CorruptionError(segment, size, `segment is ${size} bytes, shorter than the resume offset ${offset}`, {
          dir: walDir,
        });
      }
    } catch (e) {
      await fh.close();
      throw e;
    }
    return new SegmentTail(file, fh, new LiveReader(segment, offset, Math.max(chunkSize, PAGE_SIZE) * 2), chunkSize);
  }

  get segment(): number {
    return this.reader.segment;
  }

  /** Offset just after the last delivered record: what to persist and resume from. */
  get position(): number {
    return this.reader.position;
  }

  /** True once a final poll has read the whole segment. */
  get finished(): boolean {
    return this.done;
  }

  /**
   * Delivers every record that is complete in the file now; returns how many. `final`: the
   * segment will not grow any more, so read to its end and report a torn last record.
   * onRecord's bytes are valid only during the call.
   */
  async poll(onRecord: (rec: Uint8Array, offset: number) => void, final = false): Promise<number> {
    const r = this.reader;
    let n = 0;
    for (;;) {
      const { bytesRead } = await this.fh.read(this.chunk, 0, this.chunk.length, r.readOffset);
      if (bytesRead > 0) r.feed(this.chunk, 0, bytesRead);
      else if (final) r.finish();
      for (let rec = r.next(); rec !== null; rec = r.next()) {
        onRecord(rec, r.offset);
        n++;
      }
      if (bytesRead === 0) break;
    }
    if (final) this.done = true;
    return n;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Replay and repair

export interface ReplayOptions {
  /** Cut the WAL at the first corruption (see repairSegment) and finish instead of throwing. */
  repair?: boolean;
  /** With repair: a corrupt segment that is not the last one is cut and replay goes on with the next. */
  keepLaterSegments?: boolean;
  log?: (msg: string, fields: Record<string, unknown>) => void;
  /** Called once with the segment range about to be replayed (after any checkpoint). */
  onRange?: (first: number, last: number) => void;
  /** Read size per I/O call. */
  chunkSize?: number;
}

export interface ReplayResult {
  /** First and last segment replayed; -1/-1 when there were none. */
  first: number;
  last: number;
  /** Checkpoint replayed before the segments, or -1. */
  checkpoint: number;
  repaired: null | { segment: number; offset: number };
}

/**
 * Calls onRecord for every record of segments [first, last] of dir, in order, reading in chunks
 * (segments can be 128 MiB). onRecord may be async; it may throw InvalidRecordError to declare the
 * record itself corrupt, which is reported as a CorruptionError at that record. Corruption throws.
 */
export async function readSegmentRange(
  dir: string,
  first: number,
  last: number,
  onRecord: (rec: Uint8Array, segment: number, offset: number) => void | Promise<void>,
  chunkSize = 1 << 20,
): Promise<void> {
  const chunk = Buffer.allocUnsafe(chunkSize);
  for (let i = first; i <= last; i++) {
    const fh: FileHandle = await open(segmentPath(dir, i), 'r');
    try {
      const r = new LiveReader(i, 0, Math.max(chunkSize, PAGE_SIZE) * 2);
      for (;;) {
        const { bytesRead } = await fh.read(chunk, 0, chunkSize, r.readOffset);
        if (bytesRead === 0) r.finish();
        else r.feed(chunk, 0, bytesRead);
        for (let rec = r.next(); rec !== null; rec = r.next()) {
          try {
            const p = onRecord(rec, i, r.offset);
            if (p) await p;
          } catch (e) {
            if (e instanceof InvalidRecordError) throw new CorruptionError(i, r.offset, e.message, { cause: e });
            throw e;
          }
        }
        if (bytesRead === 0) break;
      }
    } finally {
      await fh.close();
    }
  }
}

/**
 * Cuts the WAL at (segment, offset) as Prometheus' Repair does: every later segment is deleted and
 * the segment keeps only the bytes before offset (all complete records there), zero-padded to the
 * end of the page. Truncating keeps those bytes identical rather than re-encoding them, and each
 * step leaves a readable WAL if the process dies in between.
 */
async function repairSegment(
  walDir: string,
  segment: number,
  offset: number,
  opts: { keepLater?: boolean } = {},
): Promise<{ removed: number[] }> {
  const removed: number[] = [];
  for (const i of opts.keepLater ? [] : await segmentIndexes(walDir)) {
    if (i > segment) {
      await rm(segmentPath(walDir, i), { force: true });
      removed.push(i);
    }
  }
  const fh = await open(segmentPath(walDir, segment), 'r+');
  try {
    const padded = Math.ceil(offset / PAGE_SIZE) * PAGE_SIZE;
    await fh.truncate(offset);
    if (padded > offset) await fh.truncate(padded);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await syncDir(walDir);
  return { removed };
}

async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | null = null;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Directory fsync is not supported everywhere; the data itself was synced.
  } finally {
    await fh?.close();
  }
}

/**
 * Replays a WAL directory: the newest checkpoint (if any, onRecord gets its index and
 * fromCheckpoint = true), then every segment after it, in order. `offset` is the record's start in
 * its segment file. The bytes passed to onRecord are only valid during the call.
 *
 * A torn or corrupt record (including one onRecord rejects with InvalidRecordError) stops the
 * replay. With `repair` the WAL is cut there (repairSegment) and the result says where; without it
 * the CorruptionError is thrown. A corrupt checkpoint is always thrown: it cannot be cut.
 */
export async function replayWal(
  walDir: string,
  onRecord: (rec: Uint8Array, segment: number, offset: number, fromCheckpoint: boolean) => void,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const log = opts.log ?? (() => {});
  const chunkSize = opts.chunkSize ?? 1 << 20;
  const result: ReplayResult = { first: -1, last: -1, checkpoint: -1, repaired: null };

  let startFrom = 0;
  const cp = await lastCheckpoint(walDir);
  if (cp) {
    const range = await listSegments(cp.dir);
    if (range) {
      try {
        await readSegmentRange(
          cp.dir,
          range.first,
          range.last,
          (rec, _seg, off) => onRecord(rec, cp.index, off, true),
          chunkSize,
        );
      } catch (e) {
        if (e instanceof CorruptionError) {
          throw new CorruptionError(e.segment, e.offset, `checkpoint ${segmentName(cp.index)}: ${e.reason}`, {
            cause: e,
            dir: cp.dir,
          });
        }
        throw e;
      }
    }
    result.checkpoint = cp.index;
    startFrom = cp.index + 1;
  }

  const range = await listSegments(walDir);
  if (!range || range.last < startFrom) {
    opts.onRange?.(-1, -1);
    return result;
  }
  if (cp && range.first > startFrom) {
    log('WAL segments missing between checkpoint and first segment', {
      checkpoint: cp.index,
      first_segment: range.first,
    });
  }
  const first = Math.max(range.first, startFrom);
  result.first = first;
  result.last = range.last;
  opts.onRange?.(first, range.last);

  for (let i = first; i <= range.last; i++) {
    try {
      await readSegmentRange(walDir, i, i, (rec, seg, off) => onRecord(rec, seg, off, false), chunkSize);
    } catch (e) {
      if (!(e instanceof CorruptionError)) throw e;
      if (!opts.repair) throw new CorruptionError(e.segment, e.offset, e.reason, { cause: e.cause, dir: walDir });
      log('Encountered WAL read error, attempting repair', { segment: e.segment, offset: e.offset, err: e.reason });
      if (opts.keepLaterSegments && e.segment < range.last) {
        // Outpost keeps what follows a corrupt segment: only the damaged part of this segment goes.
        // (Prometheus deletes every later segment too; with per-endpoint resume that data matters.)
        await repairSegment(walDir, e.segment, e.offset, { keepLater: true });
        log('WAL repaired: the rest of the corrupt segment was discarded, later segments kept', {
          segment: e.segment,
          offset: e.offset,
        });
        result.repaired ??= { segment: e.segment, offset: e.offset };
        continue;
      }
      const { removed } = await repairSegment(walDir, e.segment, e.offset);
      if (removed.length > 0) {
        log('Deleted all segments newer than corrupted segment', {
          segment: e.segment,
          removed: removed.map(segmentName),
        });
      }
      log('WAL repaired: records after the corruption were discarded', { segment: e.segment, offset: e.offset });
      result.last = e.segment;
      result.repaired = { segment: e.segment, offset: e.offset };
      return result;
    }
  }
  return result;
}

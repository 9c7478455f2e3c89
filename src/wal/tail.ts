/**
 * The records the writer handed to the OS most recently, uncompressed, each with the WAL position
 * just after it. A remote-write watcher that keeps up takes its records from here instead of reading
 * the segment back, checking its CRCs and decompressing what was compressed a moment ago.
 *
 * It is never the only copy (ARCHITECTURE.md, invariant 1): a record becomes visible only once the
 * bytes that hold it were written to the segment file, and it is dropped when the tail is over its
 * byte budget. A reader whose position is not here reads the file, as before.
 *
 * Positions are the ones a LiveReader reports: `end` is the segment offset just after the record's
 * last fragment, before any page padding. A record is found by the end of the one before it in the
 * same segment (0 for a segment's first record), so a reader at position p gets exactly the record
 * that follows p on disk.
 *
 * Readers that attach a cursor say how far they have read; a record every attached reader is past is
 * dropped at once. Without that the tail sat at its whole budget however well the readers kept up
 * (4 MiB of copies at 100k series, and at 1k series after 40 minutes).
 */
export interface TailRecord {
  readonly segment: number;
  /** End of the record before this one in the same segment; 0 for the first. */
  readonly prevEnd: number;
  readonly end: number;
  readonly record: Uint8Array;
}

/** How far one reader has read: the position just after the last record it needs no more. */
export interface TailCursor {
  segment: number;
  pos: number;
}

/** Enough for several scrape rounds of 100k series (a samples record is ~17 B per sample). */
const DEFAULT_TAIL_BYTES = 4 << 20;

export class RecordTail {
  private readonly maxBytes: number;
  /** Oldest first; entries before `head` are dropped (compacted now and then). */
  private entries: TailRecord[] = [];
  private head = 0;
  /** Entries compacted away: record n (counted from the first ever added) is entries[n - removed]. */
  private removed = 0;
  private bytes = 0;
  /** How far the segment files are written: segments below visibleSeg completely, visibleSeg up to visibleSize. */
  private visibleSeg = -1;
  private visibleSize = 0;
  /** Records served to readers, for tests and stats. */
  served = 0;
  private readonly cursors = new Set<TailCursor>();

  constructor(maxBytes = DEFAULT_TAIL_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** Writer: a record was framed into segment `segment` (not written yet). The bytes are copied. */
  add(segment: number, prevEnd: number, end: number, record: Uint8Array): void {
    if (record.length > this.maxBytes) {
      // Too big to keep: readers must not find a later record of this segment through a gap.
      this.clear();
      return;
    }
    this.trimRead();
    this.entries.push({ segment, prevEnd, end, record: Uint8Array.prototype.slice.call(record) });
    this.bytes += record.length;
    while (this.bytes > this.maxBytes && this.head < this.entries.length) this.dropHead();
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.removed += this.head;
      this.head = 0;
    }
  }

  /** Records kept now. */
  get held(): number {
    return this.entries.length - this.head;
  }

  /** A reader starts: until it moves its cursor, it holds every record (up to the budget). */
  attach(): TailCursor {
    const c: TailCursor = { segment: -1, pos: 0 };
    this.cursors.add(c);
    return c;
  }

  detach(c: TailCursor): void {
    this.cursors.delete(c);
  }

  /** Drops the oldest records every attached reader is past; without readers only the budget drops any. */
  private trimRead(): void {
    if (this.cursors.size === 0) return;
    let seg = Number.POSITIVE_INFINITY;
    let pos = 0;
    for (const c of this.cursors) {
      if (c.segment < seg || (c.segment === seg && c.pos < pos)) {
        seg = c.segment;
        pos = c.pos;
      }
    }
    while (this.head < this.entries.length) {
      const e = this.entries[this.head] as TailRecord;
      if (e.segment > seg || (e.segment === seg && e.end > pos)) break;
      this.dropHead();
    }
  }

  private dropHead(): void {
    this.bytes -= (this.entries[this.head] as TailRecord).record.length;
    this.entries[this.head++] = DROPPED;
  }

  /** Writer: segment `segment` is written up to `size` bytes (and every older segment completely). */
  publish(segment: number, size: number): void {
    if (segment > this.visibleSeg || (segment === this.visibleSeg && size > this.visibleSize)) {
      this.visibleSeg = segment;
      this.visibleSize = size;
    }
  }

  /** Writer: a write failed; records framed but not written must never become visible. */
  dropUnwritten(): void {
    while (this.entries.length > this.head) {
      const last = this.entries[this.entries.length - 1] as TailRecord;
      if (this.visible(last)) break;
      this.bytes -= last.record.length;
      this.entries.pop();
    }
  }

  clear(): void {
    this.removed += this.entries.length;
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** Size of segment `segment` as written, when it is the newest one written to; -1 otherwise. */
  writtenSize(segment: number): number {
    return segment === this.visibleSeg ? this.visibleSize : -1;
  }

  /**
   * Number of the written record that follows position `pos` of segment `segment`, or -1. Pass it
   * to at() and go on with number + 1 while at() returns a record. Numbers stay valid while the
   * writer adds records meanwhile.
   */
  find(segment: number, pos: number): number {
    // Binary search for the first entry ending after (segment, pos): entries are in write order.
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.entries[mid] as TailRecord;
      if (e.segment < segment || (e.segment === segment && e.end <= pos)) lo = mid + 1;
      else hi = mid;
    }
    const e = this.entries[lo];
    if (e === undefined || e.segment !== segment || e.prevEnd !== pos || !this.visible(e)) return -1;
    return lo + this.removed;
  }

  /**
   * Record number n if it is still kept, written, and is the one that follows position `pos` of
   * segment `segment` on disk; null otherwise (then the reader reads the file from `pos`).
   */
  at(n: number, segment: number, pos: number): TailRecord | null {
    const i = n - this.removed;
    if (i < this.head) return null;
    const e = this.entries[i];
    if (e === undefined || e.segment !== segment || e.prevEnd !== pos || !this.visible(e)) return null;
    this.served++;
    return e;
  }

  private visible(e: TailRecord): boolean {
    return e.segment < this.visibleSeg || (e.segment === this.visibleSeg && e.end <= this.visibleSize);
  }
}

const DROPPED: TailRecord = { segment: -1, prevEnd: -1, end: -1, record: new Uint8Array(0) };

import {
  WAL_END_UNKNOWN,
  type SeriesRemovedListener,
  type SharedSeriesLabels,
  type WalMark,
} from '../storage/shared-labels.ts';
import { ByteReader, compactBlocks, fnv1a, grownArray, grownBuffer, uvarintSize } from '../util/bytes.ts';
import { f64At, i32At, u32At } from '../util/columns.ts';
import type { Labels } from '../util/labels.ts';

/** What a series holds, as far as its latest sample tells. */
export const SampleKind = { float: 0, histogram: 1, floatHistogram: 2 } as const;

/** Tags of a stored key, an RW1 label block: Label messages (field 1), each a name (1) and a value (2). */
const TAG_LABEL = 0x0a;
const TAG_NAME = 0x0a;
const TAG_VALUE = 0x12;
/** len[] of a ref that holds no series. */
const ABSENT = -1;
/** Table slot that holds no ref (refs start at 1). */
const EMPTY = 0;

/**
 * The agent's in-memory series: label set -> ref, and per ref its last timestamp.
 *
 * Label sets live as RW1 label blocks in one arena, indexed by typed arrays and found through an
 * open-addressing table of refs. At 100k series a string and a Map entry per series cost ~60 B
 * more each and gave the garbage collector 100k objects to mark on every major collection; here
 * the table is a handful of typed arrays however many series there are.
 *
 * The block is the bytes a remote-write request carries for the series' labels (with empty names
 * or values still written, so the key stays one-to-one with the label set), so an endpoint that
 * sends the labels unchanged reads them from here (SharedSeriesLabels) instead of keeping a copy.
 */
export class SeriesTable implements SharedSeriesLabels {
  private arena: Buffer = Buffer.allocUnsafe(1 << 16);
  private arenaUsed = 0;
  /** Arena bytes of removed series, reclaimed by compaction. */
  private garbage = 0;
  private off = new Uint32Array(1024);
  private len = new Int32Array(1024).fill(ABSENT);
  private hashes = new Uint32Array(1024);
  private table = new Uint32Array(2048);
  private mask = 2047;
  /** Encoded key of the label set being looked up. */
  private scratch: Buffer = Buffer.allocUnsafe(1024);
  /** lastTs[ref]; -Infinity = no sample yet. */
  lastTs = new Float64Array(1024).fill(-Infinity);
  /** kind[ref]: SampleKind of the series' latest sample, which decides what its stale marker is. */
  kind = new Uint8Array(1024);
  /**
   * pins[ref]: how many holders keep ref from one commit to the next (scrape caches, a target's report
   * series). gc() keeps a pinned series whatever its age, so a ref such a holder appends to later is
   * always one the table (and the WAL's series records) still have.
   */
  private pins = new Uint32Array(1024);
  private next = 1;
  private count = 0;
  private removeListeners: SeriesRemovedListener[] = [];
  private walEnd: WalMark = WAL_END_UNKNOWN;

  get size(): number {
    return this.count;
  }

  /** The next ref to be handed out; after replay it is past every ref seen in the WAL. */
  get nextRef(): number {
    return this.next;
  }

  lookup(labels: Labels): number {
    const n = this.encode(labels);
    return this.find(n, fnv1a(this.scratch, 0, n));
  }

  /** Returns the ref of labels and whether it was created now. */
  getOrCreate(labels: Labels): { ref: number; created: boolean } {
    const n = this.encode(labels);
    const h = fnv1a(this.scratch, 0, n);
    const have = this.find(n, h);
    if (have !== 0) return { ref: have, created: false };
    const ref = this.next++;
    this.insert(ref, n, h);
    return { ref, created: true };
  }

  /** Inserts a series read from the WAL under its original ref. Returns the canonical ref (first seen wins). */
  insertReplayed(ref: number, labels: Labels): number {
    const n = this.encode(labels);
    const h = fnv1a(this.scratch, 0, n);
    // Past every ref the WAL holds, duplicates included: a ref handed out again would make the
    // samples of a new series count for the old one on the next replay.
    if (ref >= this.next) this.next = ref + 1;
    const have = this.find(n, h);
    if (have !== 0) return have;
    this.insert(ref, n, h);
    this.lastTs[ref] = 0;
    return ref;
  }

  labels(ref: number): Labels | undefined {
    if (!this.has(ref)) return undefined;
    const out: string[] = [];
    const off = u32At(this.off, ref);
    const r = new ByteReader(this.arena, off, off + i32At(this.len, ref));
    // Fixed shape (encode writes it): tag and length of a Label, then the name field and the value field.
    while (r.remaining > 0) {
      r.u8();
      r.uvarint();
      r.u8();
      out.push(r.str());
      r.u8();
      out.push(r.str());
    }
    return out;
  }

  /** Keeps ref from gc() until as many unpin() calls; nothing for a ref the table does not hold. */
  pin(ref: number): void {
    if (this.has(ref)) this.pins[ref] = u32At(this.pins, ref) + 1;
  }

  unpin(ref: number): void {
    const n = this.pins[ref] ?? 0;
    if (n > 0) this.pins[ref] = n - 1;
  }

  has(ref: number): boolean {
    return ref > 0 && ref < this.len.length && this.len[ref] !== ABSENT;
  }

  blockArena(): Buffer {
    return this.arena;
  }

  blockOff(ref: number): number {
    return this.off[ref] ?? 0;
  }

  blockLen(ref: number): number {
    return this.len[ref] ?? ABSENT;
  }

  removedBefore(): WalMark {
    return this.walEnd;
  }

  /**
   * Tells the table where the WAL writer stands: every record of a ref it does not hold lies before pos
   * (the storage calls this after replay and before each gc; see SharedSeriesLabels.removedBefore).
   */
  setRemovedBefore(pos: WalMark): void {
    this.walEnd = pos;
  }

  onRemove(listener: SeriesRemovedListener): () => void {
    this.removeListeners = [...this.removeListeners, listener];
    return () => {
      this.removeListeners = this.removeListeners.filter((l) => l !== listener);
    };
  }

  /** Removes every series whose last sample is older than cutoff; returns the removed refs. */
  gc(cutoff: number): number[] {
    const removed: number[] = [];
    for (let ref = 1; ref < this.next && ref < this.len.length; ref++) {
      const len = i32At(this.len, ref);
      if (len !== ABSENT && f64At(this.lastTs, ref) < cutoff && u32At(this.pins, ref) === 0) {
        for (const l of this.removeListeners) l(ref, this.arena, u32At(this.off, ref), len);
        this.garbage += len;
        this.len[ref] = ABSENT;
        this.count--;
        removed.push(ref);
      }
    }
    if (removed.length > 0) {
      if (this.garbage > 1 << 16 && this.garbage * 2 > this.arenaUsed) this.compact();
      this.rehash(this.table.length);
    }
    return removed;
  }

  forEach(fn: (ref: number, labels: Labels) => void): void {
    for (let ref = 1; ref < this.next && ref < this.len.length; ref++) {
      const ls = this.labels(ref);
      if (ls) fn(ref, ls);
    }
  }

  /** Writes the key of labels (their RW1 label block) to scratch; returns its length. */
  private encode(labels: Labels): number {
    // Per string at most 3 bytes per UTF-16 unit, a tag and a 5-byte length; per pair a tag and a length.
    let max = 0;
    for (const str of labels) max += str.length * 3 + 9;
    if (this.scratch.length < max) this.scratch = Buffer.allocUnsafe(Math.max(max, this.scratch.length * 2));
    const s = this.scratch;
    let n = 0;
    for (let i = 0; i + 1 < labels.length; i += 2) {
      s[n] = TAG_LABEL;
      const name = writeStrField(s, n + 2, TAG_NAME, labels[i] ?? '');
      n = putLength(s, n + 1, writeStrField(s, name, TAG_VALUE, labels[i + 1] ?? ''));
    }
    return n;
  }

  /** Ref whose key equals scratch[0, n), or 0. */
  private find(n: number, h: number): number {
    const t = this.table;
    const mask = this.mask;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const ref = u32At(t, slot);
      if (ref === EMPTY) return 0;
      if (this.hashes[ref] !== h || this.len[ref] !== n) continue;
      let o = u32At(this.off, ref);
      let i = 0;
      while (i < n && this.arena[o] === this.scratch[i]) {
        o++;
        i++;
      }
      if (i === n) return ref;
    }
  }

  /** Stores scratch[0, n) as the key of ref. */
  private insert(ref: number, n: number, h: number): void {
    this.growRefs(ref);
    if (this.arenaUsed + n > this.arena.length) this.growArena(n);
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    this.scratch.copy(this.arena, this.arenaUsed, 0, n);
    this.off[ref] = this.arenaUsed;
    this.len[ref] = n;
    this.hashes[ref] = h;
    this.arenaUsed += n;
    this.place(ref, h);
    this.lastTs[ref] = -Infinity;
    this.kind[ref] = SampleKind.float;
    this.count++;
  }

  private place(ref: number, h: number): void {
    const t = this.table;
    let slot = h & this.mask;
    while (t[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    t[slot] = ref;
  }

  private rehash(size: number): void {
    while (size < this.count * 2 + 2) size *= 2;
    this.table = new Uint32Array(size);
    this.mask = size - 1;
    for (let ref = 1; ref < this.next && ref < this.len.length; ref++) {
      if (this.len[ref] !== ABSENT) this.place(ref, u32At(this.hashes, ref));
    }
  }

  private compact(): void {
    const arena = Buffer.allocUnsafe(Math.max(1 << 16, this.arenaUsed - this.garbage));
    const used = compactBlocks(this.arena, arena, this.off, this.len, 1, Math.min(this.next, this.len.length));
    this.arena = arena;
    this.arenaUsed = used;
    this.garbage = 0;
  }

  private growRefs(ref: number): void {
    if (ref < this.len.length) return;
    let size = this.len.length * 2;
    while (size <= ref) size *= 2;
    this.off = grownArray(this.off, size);
    this.len = grownArray(this.len, size, ABSENT);
    this.hashes = grownArray(this.hashes, size);
    this.lastTs = grownArray(this.lastTs, size, -Infinity);
    this.kind = grownArray(this.kind, size);
    this.pins = grownArray(this.pins, size);
  }

  private growArena(extra: number): void {
    this.arena = grownBuffer(this.arena, this.arenaUsed, this.arenaUsed + extra);
  }
}

/**
 * Strings shorter than this (most label names and values) are copied in a JS loop while they are
 * ASCII: Buffer.write's call costs more than the loop for them (encode 611 -> 277 ns for 7 pairs).
 */
const SHORT = 64;

/** Writes tag, length and str at s[at]; returns where it ends. */
function writeStrField(s: Buffer, at: number, tag: number, str: string): number {
  s[at] = tag;
  const p = at + 2;
  const n = str.length;
  if (n < SHORT) {
    let i = 0;
    for (; i < n; i++) {
      const c = str.charCodeAt(i);
      if (c >= 0x80) break;
      s[p + i] = c;
    }
    if (i === n) return putLength(s, at + 1, p + n);
  }
  return putLength(s, at + 1, p + s.write(str, p, 'utf8'));
}

/**
 * Fills in the length of s[lenAt + 1, end), written after a one-byte gap at lenAt; a length of 128
 * or more needs a longer varint, so the content moves right to make room. Returns the new end.
 */
function putLength(s: Buffer, lenAt: number, end: number): number {
  let v = end - lenAt - 1;
  if (v < 0x80) {
    s[lenAt] = v;
    return end;
  }
  const extra = uvarintSize(v) - 1;
  s.copyWithin(lenAt + 1 + extra, lenAt + 1, end);
  let p = lenAt;
  while (v >= 0x80) {
    s[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  s[p] = v;
  return end + extra;
}

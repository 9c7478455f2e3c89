/**
 * A target's scrape cache: raw series text (the bytes of `name{labels}` as exposed) -> series ref.
 * Keys live in one byte arena and entries in typed arrays behind an open-addressing table, so the
 * steady-state path (every sample of a known series) allocates nothing: no key string, no entry
 * object, no iterator. Relabeling and label parsing happen only on a miss.
 */
import { fnv1a, grownArray, grownBuffer, sameBytes } from '../util/bytes.ts';
import { i32At, u32At, u8At } from '../util/columns.ts';
import { FREE_SLOT, indexTable, placeEntry } from '../util/open-addressing.ts';

/** Entry ref meaning "dropped by metric relabeling": known, but not appended. */
export const DROPPED_REF = 0;
const DEAD = 0xffffffff;

/**
 * Initial sizes are small: a target that never answers (one of thousands of dead ones) keeps its
 * cache empty, and the columns double to a live target's size within its first scrape.
 */
const INITIAL_ENTRIES = 16;
const INITIAL_ARENA = 1024;

export class SeriesCache {
  private arena: Buffer = Buffer.allocUnsafe(INITIAL_ARENA);
  private arenaView: DataView = new DataView(this.arena.buffer, this.arena.byteOffset, this.arena.byteLength);
  /** The body last compared against, and a view of it (a scrape compares thousands of keys in one body). */
  private bodyBuf: Uint8Array | null = null;
  private bodyView: DataView = new DataView(new ArrayBuffer(0));
  private arenaUsed = 0;
  private off = new Uint32Array(INITIAL_ENTRIES);
  private len = new Uint32Array(INITIAL_ENTRIES);
  private refs = new Uint32Array(INITIAL_ENTRIES);
  private seenIter = new Uint32Array(INITIAL_ENTRIES);
  private hashes = new Uint32Array(INITIAL_ENTRIES);
  private explicit = new Uint8Array(INITIAL_ENTRIES);
  /** Entries in use (live or dead). */
  private used = 0;
  private dead = 0;
  private table = new Int32Array(INITIAL_ENTRIES * 2).fill(FREE_SLOT);
  private mask = INITIAL_ENTRIES * 2 - 1;
  /**
   * The entry expected next. Targets expose their series in the same order every scrape and
   * entries are created in exposition order, so checking this one entry first skips the hash
   * and the probe for almost every sample.
   */
  private cursor = 0;

  get size(): number {
    return this.used - this.dead;
  }

  /** Entry index of the series whose raw text is buf[start, end), or -1. */
  find(buf: Uint8Array, start: number, end: number): number {
    const n = end - start;
    const c = this.cursor;
    if (c < this.used && this.len[c] === n && this.refs[c] !== DEAD && this.sameBytes(c, buf, start, end)) {
      this.cursor = c + 1;
      return c;
    }
    const h = fnv1a(buf, start, end);
    const t = this.table;
    const mask = this.mask;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = i32At(t, slot);
      if (e === FREE_SLOT) return -1;
      if (this.hashes[e] !== h || this.len[e] !== n || this.refs[e] === DEAD) continue;
      if (this.sameBytes(e, buf, start, end)) {
        this.cursor = e + 1;
        return e;
      }
    }
  }

  private sameBytes(e: number, buf: Uint8Array, start: number, end: number): boolean {
    if (this.bodyBuf !== buf) {
      this.bodyBuf = buf;
      this.bodyView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return sameBytes(this.arena, this.arenaView, u32At(this.off, e), buf, this.bodyView, start, end - start);
  }

  /** Adds a series that find() did not know. Returns its entry index. */
  insert(buf: Uint8Array, start: number, end: number, ref: number): number {
    const n = end - start;
    if (this.used === this.refs.length) this.growEntries();
    if (this.arenaUsed + n > this.arena.length) this.growArena(n);
    if ((this.used + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const h = fnv1a(buf, start, end);
    const e = this.used++;
    this.arena.set(buf.subarray(start, end), this.arenaUsed);
    this.off[e] = this.arenaUsed;
    this.len[e] = n;
    this.arenaUsed += n;
    this.refs[e] = ref;
    this.seenIter[e] = 0;
    this.explicit[e] = 0;
    this.hashes[e] = h;
    placeEntry(this.table, this.mask, h, e);
    this.cursor = e + 1;
    return e;
  }

  /** The arena holding every key (valid until the next insert). */
  get keyBytes(): Uint8Array {
    return this.arena;
  }

  /** Arena offset of the entry expected next, for a parser hint; see expectedLen. */
  get expectedOff(): number {
    return this.cursor < this.used ? u32At(this.off, this.cursor) : 0;
  }

  /** Key length of the entry expected next, or -1 when there is none (end of the cache, a dead entry). */
  get expectedLen(): number {
    const c = this.cursor;
    return c < this.used && this.refs[c] !== DEAD ? u32At(this.len, c) : -1;
  }

  /** Takes the entry expected next as found (the parser matched its bytes); returns its index. */
  takeExpected(): number {
    return this.cursor++;
  }

  ref(e: number): number {
    return u32At(this.refs, e);
  }

  seen(e: number): number {
    return u32At(this.seenIter, e);
  }

  markSeen(e: number, iter: number, explicitTimestamp: boolean): void {
    this.seenIter[e] = iter;
    this.explicit[e] = explicitTimestamp ? 1 : 0;
  }

  /**
   * Calls fn(ref) for every appendable series last seen in iteration `iter` (the previous scrape's
   * series) — skipping series with explicit timestamps unless trackExplicit.
   */
  forEachSeenIn(iter: number, trackExplicit: boolean, fn: (ref: number) => void): void {
    for (let e = 0; e < this.used; e++) {
      const r = u32At(this.refs, e);
      if (r === DEAD || r === DROPPED_REF || this.seenIter[e] !== iter) continue;
      if (!trackExplicit && this.explicit[e] === 1) continue;
      fn(r);
    }
  }

  /**
   * Forgets every series not seen in iteration `iter`, calling released(ref) for each appendable one
   * (the loop unpins it in the storage); compacts once enough entries are dead.
   */
  sweep(iter: number, released?: (ref: number) => void): void {
    for (let e = 0; e < this.used; e++) {
      const r = u32At(this.refs, e);
      if (r === DEAD || this.seenIter[e] === iter) continue;
      this.refs[e] = DEAD;
      this.dead++;
      if (r !== DROPPED_REF) released?.(r);
    }
    if (this.dead > 64 && this.dead * 2 > this.used) this.compact();
  }

  /** Calls fn(ref) for every appendable series the cache holds. */
  forEachRef(fn: (ref: number) => void): void {
    for (let e = 0; e < this.used; e++) {
      const r = u32At(this.refs, e);
      if (r !== DEAD && r !== DROPPED_REF) fn(r);
    }
  }

  private compact(): void {
    const arena = Buffer.allocUnsafe(Math.max(INITIAL_ARENA, this.arenaUsed));
    let a = 0;
    let w = 0;
    for (let e = 0; e < this.used; e++) {
      if (this.refs[e] === DEAD) continue;
      const n = u32At(this.len, e);
      const from = u32At(this.off, e);
      this.arena.copy(arena, a, from, from + n);
      this.off[w] = a;
      this.len[w] = n;
      this.refs[w] = u32At(this.refs, e);
      this.seenIter[w] = u32At(this.seenIter, e);
      this.explicit[w] = u8At(this.explicit, e);
      this.hashes[w] = u32At(this.hashes, e);
      a += n;
      w++;
    }
    this.setArena(arena);
    this.arenaUsed = a;
    this.used = w;
    this.dead = 0;
    this.cursor = 0;
    let size = INITIAL_ENTRIES * 2;
    while (size < w * 2) size *= 2;
    this.rehash(size);
  }

  private rehash(size: number): void {
    this.table = indexTable(this.hashes, this.used, size, (e) => this.refs[e] !== DEAD);
    this.mask = size - 1;
  }

  private growEntries(): void {
    const n = this.refs.length * 2;
    this.off = grownArray(this.off, n);
    this.len = grownArray(this.len, n);
    this.refs = grownArray(this.refs, n);
    this.seenIter = grownArray(this.seenIter, n);
    this.hashes = grownArray(this.hashes, n);
    this.explicit = grownArray(this.explicit, n);
  }

  private growArena(extra: number): void {
    this.setArena(grownBuffer(this.arena, this.arenaUsed, this.arenaUsed + extra));
  }

  private setArena(b: Buffer): void {
    this.arena = b;
    this.arenaView = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
}

/**
 * A target's metric metadata (TYPE / HELP / UNIT per metric family), kept the way Prometheus'
 * scrape cache keeps it: entries are created and updated while a scrape is parsed, survive failed
 * scrapes, and are forgotten once their family has been missing from more than
 * METADATA_RETENTION_SCRAPES successful scrapes.
 *
 * Entries are keyed by the raw bytes of the family name and remember the raw bytes of their HELP
 * and UNIT text in one arena, so a metadata line that did not change since the last scrape costs a
 * hash and a byte comparison: no string is decoded, nothing is allocated.
 */
import { fnv1a, grownArray, grownBuffer, sameBytes } from '../util/bytes.ts';
import { columnAt, f64At, i32At, u32At, u8At } from '../util/columns.ts';
import { FREE_SLOT, indexTable, placeEntry } from '../util/open-addressing.ts';
import { Entry, type EntryKind } from '../textparse/types.ts';
import type { MetadataMetricType, MetricMetadataEntry } from '../storage/metadata.ts';

/** Type names indexed by MetricType code (textparse, WAL metadata record and remote-write enum). */
const METRIC_TYPE_NAMES: readonly MetadataMetricType[] = [
  'unknown',
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
];

/** Successful scrapes a family may be missing from before its metadata is dropped (Prometheus: 10). */
export const METADATA_RETENTION_SCRAPES = 10;

/** What the cache reads from a parser positioned on a TYPE, HELP or UNIT entry. */
export interface MetadataLine {
  readonly nameStart: number;
  readonly nameEnd: number;
  readonly textStart: number;
  readonly textEnd: number;
  readonly metricType: number;
  /** Decoded family name; only read when the family is new to the cache. */
  readonly family: string;
  /** Decoded HELP or UNIT text; only read when its raw bytes changed. */
  readonly text: string;
}

const TYPE_UNKNOWN = 0;

/**
 * An entry's name, HELP and UNIT are byte ranges of the arena, handled alike: `spans` keeps SPAN
 * slots an entry, the offset of each range at NAME, HELP or UNIT and its length in the slot after.
 */
const NAME = 0;
const HELP = 2;
const UNIT = 4;
const SPAN = 6;

/**
 * One DataView per scrape buffer, shared by every target's cache. Bodies come from a pool of
 * long-lived buffers, so in steady state no view is created.
 */
const views = new WeakMap<Uint8Array, DataView>();

function viewOf(b: Uint8Array): DataView {
  let v = views.get(b);
  if (v === undefined) {
    v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    views.set(b, v);
  }
  return v;
}

export class MetadataCache {
  /** Raw name, HELP and UNIT bytes of every entry; replaced bytes stay as garbage until compaction. */
  private arena: Buffer = Buffer.allocUnsafe(256);
  private arenaView: DataView = new DataView(this.arena.buffer, this.arena.byteOffset, this.arena.byteLength);
  /** The scrape body last compared against, and a view of it. */
  private viewed: Uint8Array | null = null;
  private bufView: DataView = new DataView(new ArrayBuffer(0));
  private arenaUsed = 0;
  private garbage = 0;
  private n = 0;
  private hashes = new Uint32Array(16);
  private spans = new Uint32Array(16 * SPAN);
  private types = new Uint8Array(16);
  private lastIter = new Float64Array(16);
  private readonly names: string[] = [];
  private readonly helps: string[] = [];
  private readonly units: string[] = [];
  private table = new Int32Array(32).fill(FREE_SLOT);
  private mask = 31;
  /** Successful scrapes so far (Prometheus' scrape cache iteration). */
  private iter = 0;
  /** Entries after the last successful scrape, for the forced-flush heuristic. */
  private successfulSize = 0;
  /**
   * Entry of the previous metadata line. Targets expose families in the same order every scrape
   * and entries are created in that order, so a line is almost always about this entry or the
   * next one: checking those two first skips the hash and the probe.
   */
  private last = 0;
  /** list() result, rebuilt only after something changed. */
  private listed: MetricMetadataEntry[] | null = null;

  get size(): number {
    return this.n;
  }

  /** Records a TYPE, HELP or UNIT entry; other kinds are ignored. */
  observe(kind: EntryKind, line: MetadataLine, buf: Uint8Array): void {
    if (kind !== Entry.Type && kind !== Entry.Help && kind !== Entry.Unit) return;
    const e = this.entry(line, buf, kind === Entry.Help);
    this.lastIter[e] = this.iter;
    if (kind === Entry.Type) {
      const t = line.metricType;
      if (this.types[e] !== t) {
        this.types[e] = t;
        this.listed = null;
      }
      return;
    }
    const s = line.textStart;
    const end = line.textEnd;
    const help = kind === Entry.Help;
    const sp = e * SPAN + (help ? HELP : UNIT);
    const off = u32At(this.spans, sp);
    const len = u32At(this.spans, sp + 1);
    if (len === end - s && this.sameBytes(off, buf, s, end)) return;
    const text = line.text;
    // The arena may move while storing, so the offset is taken afterwards.
    const at = this.store(buf, s, end);
    this.garbage += len;
    this.spans[sp] = at;
    this.spans[sp + 1] = end - s;
    if (help) this.helps[e] = text;
    else this.units[e] = text;
    this.listed = null;
  }

  /**
   * Ends a scrape. `success` = the scrape was appended without error and its body was not empty:
   * only then the iteration advances and entries missing too long are dropped, unless the cache
   * grew far past its last successful size (a target failing with ever-changing metadata).
   */
  iterDone(success: boolean): void {
    let flush = success;
    if (success) this.successfulSize = this.n;
    else if (this.n > this.successfulSize * 2 + 1000) flush = true;
    if (!flush) return;
    let drop = false;
    for (let e = 0; e < this.n; e++) {
      if (this.iter - f64At(this.lastIter, e) > METADATA_RETENTION_SCRAPES) {
        drop = true;
        break;
      }
    }
    if (drop) this.dropStale();
    this.iter++;
  }

  /** Every entry, in the order the families first appeared. The entries are frozen and shared. */
  list(): MetricMetadataEntry[] {
    if (this.listed === null) {
      const out = new Array<MetricMetadataEntry>(this.n);
      for (let e = 0; e < this.n; e++) {
        out[e] = Object.freeze({
          metric: columnAt(this.names, e),
          type: METRIC_TYPE_NAMES[u8At(this.types, e)] ?? 'unknown',
          help: columnAt(this.helps, e),
          unit: columnAt(this.units, e),
        });
      }
      this.listed = out;
    }
    return this.listed.slice();
  }

  /** The entry of one family, if cached. */
  get(metric: string): MetricMetadataEntry | undefined {
    for (const m of this.list()) if (m.metric === metric) return m;
    return undefined;
  }

  /** The entry of the line's family, created if new. `startsFamily`: try the entry after the last one first. */
  private entry(line: MetadataLine, buf: Uint8Array, startsFamily: boolean): number {
    const s = line.nameStart;
    const end = line.nameEnd;
    const l = this.last;
    // Exporters write HELP first, then TYPE (and UNIT) of the same family.
    const first = startsFamily ? l + 1 : l;
    const second = startsFamily ? l : l + 1;
    if (first < this.n && this.isNamed(first, buf, s, end)) return (this.last = first);
    if (second < this.n && this.isNamed(second, buf, s, end)) return (this.last = second);
    const h = fnv1a(buf, s, end);
    const t = this.table;
    const mask = this.mask;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = i32At(t, slot);
      if (e === FREE_SLOT) break;
      if (this.hashes[e] === h && this.isNamed(e, buf, s, end)) return (this.last = e);
    }
    return (this.last = this.insert(line, buf, h));
  }

  private insert(line: MetadataLine, buf: Uint8Array, h: number): number {
    if (this.n === this.hashes.length) this.growEntries();
    if ((this.n + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const e = this.n++;
    this.hashes[e] = h;
    const sp = e * SPAN;
    // The slot may still hold a dropped or moved entry's spans, and store() may compact the arena,
    // walking every slot up to n: clear them first so it copies nothing stale.
    this.spans.fill(0, sp, sp + SPAN);
    this.spans[sp + NAME] = this.store(buf, line.nameStart, line.nameEnd);
    this.spans[sp + NAME + 1] = line.nameEnd - line.nameStart;
    this.types[e] = TYPE_UNKNOWN;
    this.lastIter[e] = this.iter;
    this.names[e] = line.family;
    this.helps[e] = '';
    this.units[e] = '';
    placeEntry(this.table, this.mask, h, e);
    this.listed = null;
    return e;
  }

  /** Entry e's name is buf[s, end). */
  private isNamed(e: number, buf: Uint8Array, s: number, end: number): boolean {
    const sp = e * SPAN + NAME;
    return this.spans[sp + 1] === end - s && this.sameBytes(u32At(this.spans, sp), buf, s, end);
  }

  /** arena[off, off + end - s) equals buf[s, end). */
  private sameBytes(off: number, buf: Uint8Array, s: number, end: number): boolean {
    if (buf !== this.viewed) {
      this.viewed = buf;
      this.bufView = viewOf(buf);
    }
    return sameBytes(this.arena, this.arenaView, off, buf, this.bufView, s, end - s);
  }

  /** Appends buf[s, end) to the arena; returns its offset. */
  private store(buf: Uint8Array, s: number, end: number): number {
    const n = end - s;
    if (this.arenaUsed + n > this.arena.length) {
      if (this.garbage > 4096 && this.garbage * 2 > this.arenaUsed) this.compactArena();
      if (this.arenaUsed + n > this.arena.length)
        this.setArena(grownBuffer(this.arena, this.arenaUsed, this.arenaUsed + n));
    }
    const at = this.arenaUsed;
    this.arena.set(buf.subarray(s, end), at);
    this.arenaUsed += n;
    return at;
  }

  private setArena(b: Buffer): void {
    this.arena = b;
    this.arenaView = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Copies the live bytes of every entry into a fresh arena. */
  private compactArena(): void {
    const next = Buffer.allocUnsafe(Math.max(2048, this.arenaUsed - this.garbage));
    let a = 0;
    const old = this.arena;
    const spans = this.spans;
    for (let sp = 0; sp < this.n * SPAN; sp += 2) {
      const from = u32At(spans, sp);
      const n = u32At(spans, sp + 1);
      old.copy(next, a, from, from + n);
      spans[sp] = a;
      a += n;
    }
    this.setArena(next);
    this.arenaUsed = a;
    this.garbage = 0;
  }

  /** Removes entries missing for too long, keeping the others in order. */
  private dropStale(): void {
    let w = 0;
    for (let e = 0; e < this.n; e++) {
      if (this.iter - f64At(this.lastIter, e) > METADATA_RETENTION_SCRAPES) {
        // The lengths of its name, HELP and UNIT.
        for (let i = e * SPAN + 1; i < (e + 1) * SPAN; i += 2) this.garbage += u32At(this.spans, i);
        continue;
      }
      if (w !== e) {
        this.hashes[w] = u32At(this.hashes, e);
        this.spans.copyWithin(w * SPAN, e * SPAN, (e + 1) * SPAN);
        this.types[w] = u8At(this.types, e);
        this.lastIter[w] = f64At(this.lastIter, e);
        this.names[w] = columnAt(this.names, e);
        this.helps[w] = columnAt(this.helps, e);
        this.units[w] = columnAt(this.units, e);
      }
      w++;
    }
    this.n = w;
    this.last = 0;
    this.names.length = w;
    this.helps.length = w;
    this.units.length = w;
    this.listed = null;
    let size = 32;
    while (size < w * 2) size *= 2;
    this.rehash(size);
    if (this.garbage > 4096 && this.garbage * 2 > this.arenaUsed) this.compactArena();
  }

  private rehash(size: number): void {
    this.table = indexTable(this.hashes, this.n, size);
    this.mask = size - 1;
  }

  private growEntries(): void {
    const size = this.hashes.length * 2;
    this.hashes = grownArray(this.hashes, size);
    this.spans = grownArray(this.spans, size * SPAN);
    this.types = grownArray(this.types, size);
    this.lastIter = grownArray(this.lastIter, size);
  }
}

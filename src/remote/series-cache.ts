import { relabel, compileRelabelConfigs, type CompiledRelabel } from '../relabel/relabel.ts';
import type { RelabelConfig } from '../relabel/types.ts';
import { compactBlocks, grownArray } from '../util/bytes.ts';
import { columnAt, i32At, u32At } from '../util/columns.ts';
import { LabelsBuilder, labelPairs, type Labels } from '../util/labels.ts';
import type { Histogram } from '../storage/histogram.ts';
import { reached, type SharedSeriesLabels, type WalMark } from '../storage/shared-labels.ts';
import { labelsBlockView, SymbolInterner, type WriteRequestBuilder } from './encoder.ts';

/** What the cache knows of a ref: live (labels cached), never seen, or dropped by write relabeling. */
const SERIES_UNKNOWN = 0;
export const SERIES_DROPPED = -1;
/** seriesLen of a series whose block is read from the shared series table (not in this cache's arena). */
const SERIES_SHARED = -2;
/** Series labels as interned ids (RW2 queues); shared by every series with no labels cached. */
const NO_IDS = new Uint32Array(0);
/** Fewest dropped series before the interner is renumbered from the live ones (see drop). */
const INTERNER_REBUILD_MIN = 4096;
/** Smallest arena, and the fewest garbage bytes before dropped blocks are compacted away. */
const ARENA_MIN = 1 << 16;

/** Series the table removed, forgotten once every WAL record before `before` was acknowledged. */
interface ForgetGroup {
  readonly before: WalMark;
  readonly refs: number[];
}

/**
 * One queue's series: ref -> labels after external labels and write relabeling, as encoded RW1
 * label blocks packed into one arena (copied straight into requests) and, for RW2 queues, as ids
 * of a symbol interner. The RW1 blocks stay on RW2 queues for a 415 fallback.
 *
 * A series whose block is byte for byte the one the agent's series table holds (no external label
 * added, relabeling left it as it was) is not copied: the cache marks it shared and reads the table's
 * bytes per sample, and copies them into its own arena only when the table is about to forget the
 * series while this queue still knows it (samples of a removed series may still wait in the WAL).
 *
 * A series the table removed is forgotten here once the endpoint acknowledged (sent or deliberately
 * dropped) every WAL record that can name it, i.e. up to the table's removedBefore() at the removal:
 * labels are looked up when a batch is encoded, so having merely read past them is not enough. A series
 * record read after its series was removed (a lagging endpoint, a restart) is forgotten the same way.
 */
export class SeriesCache {
  private readonly externalLabels: Labels;
  private readonly rules: readonly CompiledRelabel[];
  private readonly keepIds: boolean;
  // Starts small (an edge box caches a few thousand series): compactArena() doubles it as needed.
  private arena = Buffer.allocUnsafe(ARENA_MIN);
  private arenaPos = 0;
  /** Bytes below arenaPos of blocks no ref points at any more. */
  private garbage = 0;
  private seriesOff = new Uint32Array(1024);
  private seriesLen = new Int32Array(1024);
  private currentInterner = new SymbolInterner();
  private seriesIds: (Uint32Array | undefined)[] = [];
  private liveIdSeries = 0;
  private droppedIdSeries = 0;
  private readonly shared: SharedSeriesLabels | null;
  /** Where locate() found the last block. */
  private blockArena: Buffer = this.arena;
  private blockOff = 0;
  private blockLen = 0;
  private readonly unsubscribe: (() => void) | null;
  /** Oldest first; positions never decrease, as removedBefore() only moves forward. */
  private forgetLater: ForgetGroup[] = [];

  constructor(opts: {
    externalLabels: Labels;
    relabel: readonly RelabelConfig[];
    keepIds: boolean;
    shared?: SharedSeriesLabels | undefined;
  }) {
    this.externalLabels = opts.externalLabels;
    this.rules = compileRelabelConfigs(opts.relabel);
    this.keepIds = opts.keepIds;
    this.shared = opts.shared ?? null;
    this.unsubscribe = this.shared?.onRemove((ref, arena, off, len) => this.removed(ref, arena, off, len)) ?? null;
  }

  /** Stops following the series table; the cache must not be read after this. */
  close(): void {
    this.unsubscribe?.();
  }

  /** The interner the ids refer to; replaced when drop() renumbers, so read it per batch. */
  get interner(): SymbolInterner {
    return this.currentInterner;
  }

  /** > 0 for a cached series, SERIES_UNKNOWN or SERIES_DROPPED otherwise. */
  state(ref: number): number {
    const len = this.seriesLen[ref] ?? SERIES_UNKNOWN;
    return len === SERIES_SHARED ? 1 : len;
  }

  /** Caches a series from a WAL series record. */
  store(ref: number, walLabels: Labels): void {
    this.cache(ref, walLabels);
    // Read after the table removed it: no removal will be reported for it any more.
    const t = this.shared;
    if (t !== null && ref < t.nextRef && t.blockLen(ref) < 0) this.forgetAfter(ref, t.removedBefore());
  }

  private cache(ref: number, walLabels: Labels): void {
    let labels = walLabels;
    const ext = this.externalLabels;
    if (ext.length > 0 || this.rules.length > 0) {
      const lb = new LabelsBuilder(walLabels);
      for (const [name, value] of labelPairs(ext)) if (!lb.has(name)) lb.set(name, value);
      if (this.rules.length > 0 && !relabel(this.rules, lb)) {
        this.markDropped(ref);
        return;
      }
      labels = lb.labels();
    }
    if (labels.length === 0) {
      this.markDropped(ref);
      return;
    }
    const block = labelsBlockView(labels);
    if (this.tableHolds(ref, block)) this.set(ref, 0, SERIES_SHARED);
    else this.copyBlock(ref, block, 0, block.length);
    if (this.keepIds) {
      if (this.seriesIds[ref] === undefined) this.liveIdSeries++;
      this.seriesIds[ref] = this.currentInterner.internLabels(labels);
    }
  }

  /** Whether ref's block is read from the series table rather than this cache's arena. */
  shares(ref: number): boolean {
    return this.seriesLen[ref] === SERIES_SHARED;
  }

  /** Whether the series table holds exactly block as ref's labels. */
  private tableHolds(ref: number, block: Buffer): boolean {
    const t = this.shared;
    if (t === null || t.blockLen(ref) !== block.length) return false;
    const off = t.blockOff(ref);
    return block.compare(t.blockArena(), off, off + block.length) === 0;
  }

  private copyBlock(ref: number, src: Buffer, off: number, len: number): void {
    if (this.arenaPos + len > this.arena.length) this.compactArena(len);
    src.copy(this.arena, this.arenaPos, off, off + len);
    this.set(ref, this.arenaPos, len);
    this.arenaPos += len;
  }

  /**
   * The table is about to forget ref: keep its block if this queue still reads it from there (samples
   * of it may still wait in the WAL or the shards), and forget the series once they were acknowledged.
   */
  private removed(ref: number, arena: Buffer, off: number, len: number): void {
    const state = this.seriesLen[ref] ?? SERIES_UNKNOWN;
    if (state === SERIES_UNKNOWN || this.shared === null) return;
    if (state === SERIES_SHARED) this.copyBlock(ref, arena, off, len);
    this.forgetAfter(ref, this.shared.removedBefore());
  }

  private forgetAfter(ref: number, before: WalMark): void {
    const last = this.forgetLater.at(-1);
    if (last !== undefined && last.before.segment === before.segment && last.before.offset === before.offset) {
      last.refs.push(ref);
    } else {
      this.forgetLater.push({ before, refs: [ref] });
    }
  }

  /**
   * Everything before pos was acknowledged: forgets the removed series none of whose records can come
   * after it. Runs between requests (see drop).
   */
  acknowledged(pos: WalMark): void {
    // Called per chunk: the common case (nothing due) checks one group and allocates nothing.
    const first = this.forgetLater[0];
    if (first === undefined || !reached(pos, first.before)) return;
    let n = 0;
    for (const g of this.forgetLater) {
      if (!reached(pos, g.before)) break;
      n++;
    }
    const due = this.forgetLater.slice(0, n);
    this.forgetLater = this.forgetLater.slice(n);
    for (const g of due) this.drop(g.refs);
  }

  private markDropped(ref: number): void {
    this.set(ref, 0, SERIES_DROPPED);
    this.forgetIds(ref);
  }

  /** Forgets series; their arena bytes are reclaimed once they outweigh the live ones. */
  drop(refs: readonly number[]): void {
    for (const ref of refs) if (ref < this.seriesLen.length) this.set(ref, 0, SERIES_UNKNOWN);
    if (this.garbage > ARENA_MIN && this.garbage * 2 > this.arenaPos) this.compactArena(0);
    if (!this.keepIds) return;
    for (const ref of refs) this.forgetIds(ref);
    // Churn leaves strings of gone series in the interner: renumber from the live series once more
    // series went than remain (amortised over those drops). Runs between requests: batches are
    // encoded synchronously, so no builder holds ids across it.
    if (this.droppedIdSeries > INTERNER_REBUILD_MIN && this.droppedIdSeries > this.liveIdSeries) this.rebuildInterner();
  }

  /** Appends a sample of series `ref` to a request, copying its labels block straight from the arena. */
  addSampleTo(b: WriteRequestBuilder, ref: number, value: number, stale: boolean, t: number): void {
    this.locate(ref);
    b.addSampleFrom(this.blockArena, this.blockOff, this.blockLen, value, stale, t);
  }

  addExemplarTo(b: WriteRequestBuilder, ref: number, exemplarLabels: Labels, value: number, t: number): void {
    this.locate(ref);
    b.addExemplarFrom(this.blockArena, this.blockOff, this.blockLen, exemplarLabels, value, t);
  }

  addHistogramTo(b: WriteRequestBuilder, ref: number, h: Histogram, float: boolean, t: number): void {
    this.locate(ref);
    b.addHistogramFrom(this.blockArena, this.blockOff, this.blockLen, h, float, t);
  }

  /**
   * Points blockArena/Off/Len at ref's labels block: the series table's bytes for a shared series (read
   * per call, the table grows and compacts its arena), this cache's own otherwise. Fields rather than a
   * returned object keep the per-sample path free of allocations.
   */
  private locate(ref: number): void {
    const len = i32At(this.seriesLen, ref);
    const s = this.shared;
    if (len === SERIES_SHARED && s !== null) {
      this.blockArena = s.blockArena();
      this.blockOff = s.blockOff(ref);
      this.blockLen = s.blockLen(ref);
    } else {
      this.blockArena = this.arena;
      this.blockOff = u32At(this.seriesOff, ref);
      this.blockLen = len;
    }
  }

  /** A series' labels as ids of `interner` (RW2 queues); empty if the series was forgotten meanwhile. */
  idsOf(ref: number): Uint32Array {
    return this.seriesIds[ref] ?? NO_IDS;
  }

  /** Bytes of the arena (live blocks, garbage and room to grow). */
  get arenaBytes(): number {
    return this.arena.length;
  }

  /** Series this cache knows (labels cached, shared or dropped by relabeling). */
  get liveCount(): number {
    let n = 0;
    for (const len of this.seriesLen) if (len !== SERIES_UNKNOWN) n++;
    return n;
  }

  /**
   * Moves the live blocks into a new arena sized for them plus `extra` with as much room again: grows
   * it when full, shrinks it when churn left it mostly garbage.
   */
  private compactArena(extra: number): void {
    const live = this.arenaPos - this.garbage + extra;
    let size = ARENA_MIN;
    while (size < live * 2) size *= 2;
    const next = Buffer.allocUnsafe(size);
    const used = compactBlocks(this.arena, next, this.seriesOff, this.seriesLen, 0, this.seriesLen.length);
    this.arena = next;
    this.arenaPos = used;
    this.garbage = 0;
  }

  private set(ref: number, off: number, len: number): void {
    if (ref >= this.seriesLen.length) {
      let n = this.seriesLen.length * 2;
      while (n <= ref) n *= 2;
      this.seriesOff = grownArray(this.seriesOff, n);
      this.seriesLen = grownArray(this.seriesLen, n);
    }
    const old = this.seriesLen[ref] ?? SERIES_UNKNOWN;
    if (old > 0) this.garbage += old;
    this.seriesOff[ref] = off;
    this.seriesLen[ref] = len;
  }

  private forgetIds(ref: number): void {
    if (!this.keepIds || this.seriesIds[ref] === undefined) return;
    this.seriesIds[ref] = undefined;
    this.liveIdSeries--;
    this.droppedIdSeries++;
  }

  private rebuildInterner(): void {
    const old = this.currentInterner.strings;
    const next = new SymbolInterner();
    for (const ids of this.seriesIds) {
      if (ids === undefined) continue;
      for (const [i, id] of ids.entries()) {
        ids[i] = next.intern(columnAt(old, id));
      }
    }
    this.currentInterner = next;
    this.droppedIdSeries = 0;
  }
}

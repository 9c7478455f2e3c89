import { relabel, compileRelabelConfigs, type CompiledRelabel } from '../relabel/relabel.ts';
import type { RelabelConfig } from '../relabel/types.ts';
import { compactBlocks, grownArray } from '../util/bytes.ts';
import { columnAt, i32At, u32At } from '../util/columns.ts';
import { LabelsBuilder, labelPairs, type Labels } from '../util/labels.ts';
import type { Histogram } from '../storage/histogram.ts';
import type { SharedSeriesLabels } from '../storage/shared-labels.ts';
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

/**
 * One queue's series: ref -> labels after external labels and write relabeling, as encoded RW1
 * label blocks packed into one arena (copied straight into requests) and, for RW2 queues, as ids
 * of a symbol interner. The RW1 blocks stay on RW2 queues for a 415 fallback.
 *
 * A series whose block is byte for byte the one the agent's series table holds (no external label
 * added, relabeling left it as it was) is not copied: the cache marks it shared and reads the table's
 * bytes per sample, and copies them into its own arena only when the table is about to forget the
 * series while this queue still knows it (samples of a removed series may still wait in the WAL).
 */
export class SeriesCache {
  private readonly externalLabels: Labels;
  private readonly rules: readonly CompiledRelabel[];
  private readonly keepIds: boolean;
  // Starts small (an edge box caches a few thousand series): growArena() doubles it as needed.
  private arena = Buffer.allocUnsafe(1 << 16);
  private arenaPos = 0;
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
    this.unsubscribe = this.shared?.onRemove((ref, arena, off, len) => this.unshare(ref, arena, off, len)) ?? null;
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
    if (this.arenaPos + len > this.arena.length) this.growArena(len);
    src.copy(this.arena, this.arenaPos, off, off + len);
    this.set(ref, this.arenaPos, len);
    this.arenaPos += len;
  }

  /** The table is about to forget ref: keep its block if this queue still reads it from there. */
  private unshare(ref: number, arena: Buffer, off: number, len: number): void {
    if (this.seriesLen[ref] === SERIES_SHARED) this.copyBlock(ref, arena, off, len);
  }

  private markDropped(ref: number): void {
    this.set(ref, 0, SERIES_DROPPED);
    this.forgetIds(ref);
  }

  /** Forgets series (after WAL truncation dropped them). */
  drop(refs: readonly number[]): void {
    for (const ref of refs) if (ref < this.seriesLen.length) this.seriesLen[ref] = SERIES_UNKNOWN;
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

  private growArena(extra: number): void {
    // Compact while growing: only blocks still referenced are kept.
    let size = this.arena.length;
    const live = this.liveArenaBytes() + extra;
    while (size < live * 2) size *= 2;
    const next = Buffer.allocUnsafe(size);
    const used = compactBlocks(this.arena, next, this.seriesOff, this.seriesLen, 0, this.seriesLen.length);
    this.arena = next;
    this.arenaPos = used;
  }

  private liveArenaBytes(): number {
    let n = 0;
    for (const len of this.seriesLen) if (len > 0) n += len;
    return n;
  }

  private set(ref: number, off: number, len: number): void {
    if (ref >= this.seriesLen.length) {
      let n = this.seriesLen.length * 2;
      while (n <= ref) n *= 2;
      this.seriesOff = grownArray(this.seriesOff, n);
      this.seriesLen = grownArray(this.seriesLen, n);
    }
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

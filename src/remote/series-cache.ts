import { relabel, compileRelabelConfigs, type CompiledRelabel } from '../relabel/relabel.ts';
import type { RelabelConfig } from '../relabel/types.ts';
import { compactBlocks, grownArray } from '../util/bytes.ts';
import { columnAt } from '../util/columns.ts';
import { LabelsBuilder, labelPairs, type Labels } from '../util/labels.ts';
import type { Histogram } from '../storage/histogram.ts';
import { encodeLabelsBlock, SymbolInterner, type WriteRequestBuilder } from './encoder.ts';

/** What the cache knows of a ref: live (labels cached), never seen, or dropped by write relabeling. */
const SERIES_UNKNOWN = 0;
export const SERIES_DROPPED = -1;
/** Series labels as interned ids (RW2 queues); shared by every series with no labels cached. */
const NO_IDS = new Uint32Array(0);
/** Fewest dropped series before the interner is renumbered from the live ones (see drop). */
const INTERNER_REBUILD_MIN = 4096;

/**
 * One queue's series: ref -> labels after external labels and write relabeling, as encoded RW1
 * label blocks packed into one arena (copied straight into requests) and, for RW2 queues, as ids
 * of a symbol interner. The RW1 blocks stay on RW2 queues for a 415 fallback.
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

  constructor(opts: { externalLabels: Labels; relabel: readonly RelabelConfig[]; keepIds: boolean }) {
    this.externalLabels = opts.externalLabels;
    this.rules = compileRelabelConfigs(opts.relabel);
    this.keepIds = opts.keepIds;
  }

  /** The interner the ids refer to; replaced when drop() renumbers, so read it per batch. */
  get interner(): SymbolInterner {
    return this.currentInterner;
  }

  /** > 0 for a cached series, SERIES_UNKNOWN or SERIES_DROPPED otherwise. */
  state(ref: number): number {
    return this.seriesLen[ref] ?? SERIES_UNKNOWN;
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
    const block = encodeLabelsBlock(labels);
    if (this.arenaPos + block.length > this.arena.length) this.growArena(block.length);
    block.copy(this.arena, this.arenaPos);
    this.set(ref, this.arenaPos, block.length);
    this.arenaPos += block.length;
    if (this.keepIds) {
      if (this.seriesIds[ref] === undefined) this.liveIdSeries++;
      this.seriesIds[ref] = this.currentInterner.internLabels(labels);
    }
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
    const off = columnAt(this.seriesOff, ref);
    const len = columnAt(this.seriesLen, ref);
    b.addSampleFrom(this.arena, off, len, value, stale, t);
  }

  addExemplarTo(b: WriteRequestBuilder, ref: number, exemplarLabels: Labels, value: number, t: number): void {
    const off = columnAt(this.seriesOff, ref);
    const len = columnAt(this.seriesLen, ref);
    b.addExemplarFrom(this.arena, off, len, exemplarLabels, value, t);
  }

  addHistogramTo(b: WriteRequestBuilder, ref: number, h: Histogram, float: boolean, t: number): void {
    const off = columnAt(this.seriesOff, ref);
    const len = columnAt(this.seriesLen, ref);
    b.addHistogramFrom(this.arena, off, len, h, float, t);
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

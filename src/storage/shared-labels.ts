/**
 * The agent's series table as remote write may read it: each live series' labels as an RW1 label
 * block (repeated `Label{name = 1, value = 2}` messages, both fields always written), so an endpoint
 * whose labels come out of external labels and write relabeling unchanged can copy those bytes into
 * its requests instead of keeping its own copy. Lives here because remote/ must not import agent/.
 */
export interface SharedSeriesLabels {
  /** The arena holding every live block; replaced when the table grows or compacts, so read it per use. */
  blockArena(): Buffer;
  /** Where ref's block starts in blockArena(); only meaningful while blockLen(ref) >= 0. */
  blockOff(ref: number): number;
  /** Length of ref's block, or -1 when ref is not live in the table. */
  blockLen(ref: number): number;
  /** The next ref the table hands out: a ref below it that is not live was removed (refs are never reused). */
  readonly nextRef: number;
  /**
   * A WAL position at or after every record of every ref below nextRef that is not live: once an
   * endpoint acknowledged it, no sample of those series can reach it again, so it may forget them.
   * WAL_END_UNKNOWN until the storage told the table where the WAL stands.
   */
  removedBefore(): WalMark;
  /**
   * Subscribes to removals: called synchronously for each series the table is about to forget, with
   * its block still at arena[off, off + len), so a reader still holding the ref can copy it first.
   * removedBefore() already covers the series then. Returns the unsubscribe function.
   */
  onRemove(listener: SeriesRemovedListener): () => void;
}

export type SeriesRemovedListener = (ref: number, arena: Buffer, off: number, len: number) => void;

/** A WAL position (segment, logical offset); the shape of wal/'s WalPosition, which storage/ must not import. */
export interface WalMark {
  readonly segment: number;
  readonly offset: number;
}

/** removedBefore() of a table no storage has placed in a WAL yet: no acknowledgement ever reaches it. */
export const WAL_END_UNKNOWN: WalMark = Object.freeze({ segment: Number.POSITIVE_INFINITY, offset: 0 });

/** Whether position a is at or after b. */
export function reached(a: WalMark, b: WalMark): boolean {
  return a.segment > b.segment || (a.segment === b.segment && a.offset >= b.offset);
}

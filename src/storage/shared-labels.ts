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
  /**
   * Subscribes to removals: called synchronously for each series the table is about to forget, with
   * its block still at arena[off, off + len), so a reader still holding the ref can copy it first.
   * Returns the unsubscribe function.
   */
  onRemove(listener: SeriesRemovedListener): () => void;
}

export type SeriesRemovedListener = (ref: number, arena: Buffer, off: number, len: number) => void;

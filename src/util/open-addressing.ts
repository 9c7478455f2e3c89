/**
 * The index of an open-addressing hash table whose entries live in typed-array columns: slots hold entry
 * numbers, a power-of-two size keeps probing to a mask, and linear probing finds the next free slot.
 */

/** The value of a free slot. */
export const FREE_SLOT = -1;

/** Puts entry e, whose hash is h, into the first free slot from h & mask. */
export function placeEntry(t: Int32Array, mask: number, h: number, e: number): void {
  let slot = h & mask;
  while (t[slot] !== FREE_SLOT) slot = (slot + 1) & mask;
  t[slot] = e;
}

/**
 * A new index of `size` slots (a power of two) over entries [0, n) by their hashes; `live` leaves out
 * removed entries. Called on growth and compaction only, never per lookup.
 */
export function indexTable(
  hashes: Uint32Array,
  n: number,
  size: number,
  live?: ((e: number) => boolean) | undefined,
): Int32Array<ArrayBuffer> {
  const t = new Int32Array(size).fill(FREE_SLOT);
  const mask = size - 1;
  for (let e = 0; e < n; e++) if (live === undefined || live(e)) placeEntry(t, mask, hashes[e] ?? 0, e);
  return t;
}

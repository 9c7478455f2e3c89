/**
 * Entry i of a column of a table kept as parallel arrays (struct of arrays: the caches and the
 * series table), for an i below the table's entry count, which no column is shorter than.
 * Reading past a column would be a bug in the table, so it throws rather than yield undefined.
 *
 * One function per array kind, not one generic accessor: V8 keeps type feedback per function, and
 * a single accessor used on five kinds of typed array goes megamorphic (about 10x slower per read,
 * ~5 % of the main thread at 100k series). Each of these stays monomorphic and inlines.
 */
export function columnAt<T>(column: readonly T[], i: number): T {
  const v = column[i];
  return v === undefined ? outside(i, column.length) : v;
}

export const u32At = (column: Uint32Array, i: number): number => column[i] ?? outside(i, column.length);
export const i32At = (column: Int32Array, i: number): number => column[i] ?? outside(i, column.length);
export const f64At = (column: Float64Array, i: number): number => column[i] ?? outside(i, column.length);
export const u8At = (column: Uint8Array, i: number): number => column[i] ?? outside(i, column.length);

function outside(i: number, length: number): never {
  throw new RangeError(`table entry ${i} is outside its column of ${length}`);
}

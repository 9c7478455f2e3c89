/**
 * Entry i of a column of a table kept as parallel arrays (struct of arrays: the caches and the
 * series table), for an i below the table's entry count, which no column is shorter than.
 * Reading past a column would be a bug in the table, so it throws rather than yield undefined.
 */
export function columnAt<T>(column: ArrayLike<T>, i: number): T {
  const v = column[i];
  if (v === undefined) throw new RangeError(`table entry ${i} is outside its column of ${column.length}`);
  return v;
}

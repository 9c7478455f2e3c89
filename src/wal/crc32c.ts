/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL fragment.
 * Slicing-by-8: eight 256-entry tables let the main loop fold 8 input bytes per iteration.
 *
 * Every table index below is a table offset plus a byte (masked with 0xff or shifted by 24), so
 * it is below 8 * 256 = T.length; the non-null assertions on T rest on that.
 */
const POLY = 0x82f63b78;
const T = new Int32Array(8 * 256);

for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[i] = c;
}
for (let i = 0; i < 256; i++) {
  for (let t = 1; t < 8; t++) {
    // biome-ignore lint/style/noNonNullAssertion: table indices are in range (see the top).
    const prev = T[(t - 1) * 256 + i]!;
    // biome-ignore lint/style/noNonNullAssertion: table indices are in range (see the top).
    T[t * 256 + i] = (prev >>> 8) ^ T[prev & 0xff]!;
  }
}

/** Continues a CRC over buf[start, end): crc32cUpdate(crc32c(a), b) === crc32c(a ++ b). */
export function crc32cUpdate(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  let c = ~crc;
  let i = start;
  const end8 = end - 8;
  while (i <= end8) {
    // biome-ignore lint/style/noNonNullAssertion: i + 7 < end <= buf.length (callers pass a range of buf).
    c ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    // biome-ignore lint/style/noNonNullAssertion: i + 7 < end <= buf.length (callers pass a range of buf).
    const hi = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
    // biome-ignore lint/style/noNonNullAssertion: table indices are in range (see the top).
    const lo3 = T[1792 + (c & 0xff)]! ^ T[1536 + ((c >>> 8) & 0xff)]! ^ T[1280 + ((c >>> 16) & 0xff)]!;
    // biome-ignore lint/style/noNonNullAssertion: table indices are in range (see the top).
    const mid3 = T[1024 + (c >>> 24)]! ^ T[768 + (hi & 0xff)]! ^ T[512 + ((hi >>> 8) & 0xff)]!;
    // biome-ignore lint/style/noNonNullAssertion: table indices are in range (see the top).
    c = lo3 ^ mid3 ^ T[256 + ((hi >>> 16) & 0xff)]! ^ T[hi >>> 24]!;
    i += 8;
  }
  for (; i < end; i++) {
    const x = buf[i];
    if (x === undefined) break;
    // biome-ignore lint/style/noNonNullAssertion: table indices are in range (see the top).
    c = T[(c ^ x) & 0xff]! ^ (c >>> 8);
  }
  return ~c >>> 0;
}

/** CRC-32C of buf[start, end) as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return crc32cUpdate(0, buf, start, end);
}

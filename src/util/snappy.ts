/**
 * Snappy block format (no framing), as Prometheus' WAL uses it.
 *
 * The encoder makes the same choices as Go's github.com/golang/snappy (hash 0x1e35a7bd, 16 KiB
 * table, 15-byte input margin, match skipping by skip>>5, copy splitting at 68/64/60), so a record
 * compresses to exactly the bytes Prometheus would write. It is also several times faster than
 * snappyjs, whose encoder ran at ~26 MB/s on samples records, and it writes into reused buffers.
 */
import { OutpostError } from './errors.ts';

/** A growable output buffer kept across calls. */
export class Scratch {
  buf: Buffer;
  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): Buffer {
    if (this.buf.length < n) {
      let size = this.buf.length * 2;
      while (size < n) size *= 2;
      this.buf = Buffer.allocUnsafe(size);
    }
    return this.buf;
  }
}

const MAX_BLOCK = 65536;
const INPUT_MARGIN = 15;
const MIN_NON_LITERAL_BLOCK = 1 + 1 + INPUT_MARGIN;
const MAX_TABLE = 1 << 14;
const table = new Uint16Array(MAX_TABLE);

function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/**
 * 32-bit loads through a DataView: V8 compiles them to single unaligned loads, where assembling
 * four bytes costs four; measured 1.5x faster on remote-write bodies, same output. The view of the
 * last input is kept, since callers compress from reused buffers.
 */
let dvCache: DataView = new DataView(new ArrayBuffer(0));
let dvSrc: Uint8Array | null = null;
function viewOf(b: Uint8Array): DataView {
  if (dvSrc !== b) {
    dvSrc = b;
    dvCache = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  return dvCache;
}

function hash(u: number, shift: number): number {
  return Math.imul(u, 0x1e35a7bd) >>> shift;
}

function emitLiteral(dst: Uint8Array, d: number, src: Uint8Array, start: number, end: number): number {
  const n = end - start - 1;
  if (n < 60) {
    dst[d++] = n << 2;
  } else if (n < 256) {
    dst[d++] = 60 << 2;
    dst[d++] = n;
  } else {
    dst[d++] = 61 << 2;
    dst[d++] = n & 0xff;
    dst[d++] = n >>> 8;
  }
  const len = end - start;
  if (len < 32) {
    // biome-ignore lint/style/noNonNullAssertion: start + i < end <= src.length.
    for (let i = 0; i < len; i++) dst[d + i] = src[start + i]!;
  } else {
    dst.set(src.subarray(start, end), d);
  }
  return d + len;
}

function emitCopy(dst: Uint8Array, d: number, offset: number, length: number): number {
  // Two long copies cost less than a long one plus a 3-byte short one, hence 68/64 then 60.
  while (length >= 68) {
    dst[d++] = (63 << 2) | 2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    length -= 64;
  }
  if (length > 64) {
    dst[d++] = (59 << 2) | 2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    length -= 60;
  }
  if (length >= 12 || offset >= 2048) {
    dst[d++] = ((length - 1) << 2) | 2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    return d;
  }
  dst[d++] = ((offset >>> 8) << 5) | ((length - 4) << 2) | 1;
  dst[d++] = offset & 0xff;
  return d;
}

/** Compresses src[p0, p1) (17..65536 bytes) into dst at d; returns the new end of dst. */
function encodeBlock(dst: Uint8Array, d: number, src: Uint8Array, p0: number, p1: number): number {
  const len = p1 - p0;
  let shift = 24;
  let tableSize = 1 << 8;
  while (tableSize < MAX_TABLE && tableSize < len) {
    shift--;
    tableSize *= 2;
  }
  table.fill(0, 0, tableSize);
  const dv = viewOf(src);
  // Positions in the table are relative to p0 (they fit 16 bits); s, candidate etc. are absolute.
  const sLimit = p1 - INPUT_MARGIN;
  let nextEmit = p0;
  let s = p0 + 1;
  let nextHash = hash(dv.getInt32(s, true), shift);

  for (;;) {
    let skip = 32;
    let nextS = s;
    let candidate = 0;
    for (;;) {
      s = nextS;
      const step = skip >> 5;
      nextS = s + step;
      skip += step;
      if (nextS > sLimit) return nextEmit < p1 ? emitLiteral(dst, d, src, nextEmit, p1) : d;
      // biome-ignore lint/style/noNonNullAssertion: shift keeps hashes < tableSize <= table.length.
      candidate = p0 + table[nextHash]!;
      table[nextHash] = s - p0;
      nextHash = Math.imul(dv.getInt32(nextS, true), 0x1e35a7bd) >>> shift;
      if (dv.getInt32(s, true) === dv.getInt32(candidate, true)) break;
    }
    d = emitLiteral(dst, d, src, nextEmit, s);
    for (;;) {
      const base = s;
      let i = candidate + 4;
      s += 4;
      // Four bytes at a time while a whole word fits, then byte by byte for the rest.
      while (s + 4 <= p1 && dv.getInt32(i, true) === dv.getInt32(s, true)) {
        i += 4;
        s += 4;
      }
      while (s < p1 && src[i] === src[s]) {
        i++;
        s++;
      }
      d = emitCopy(dst, d, base - candidate, s - base);
      nextEmit = s;
      if (s >= sLimit) return nextEmit < p1 ? emitLiteral(dst, d, src, nextEmit, p1) : d;
      const prevHash = hash(dv.getInt32(s - 1, true), shift);
      table[prevHash] = s - 1 - p0;
      const cur = dv.getInt32(s, true);
      const currHash = hash(cur, shift);
      // biome-ignore lint/style/noNonNullAssertion: shift keeps hashes < tableSize <= table.length.
      candidate = p0 + table[currHash]!;
      table[currHash] = s - p0;
      if (cur !== dv.getInt32(candidate, true)) {
        nextHash = hash(dv.getInt32(s + 1, true), shift);
        s++;
        break;
      }
    }
  }
}

/** Compresses src into out.buf; returns the compressed length (the bytes are out.buf[0, len)). */
export function snappyCompressInto(src: Uint8Array, out: Scratch): number {
  const n = src.length;
  const dst = out.ensure(maxCompressedLength(n) + 5);
  let d = 0;
  let v = n;
  while (v >= 0x80) {
    dst[d++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 0x80);
  }
  dst[d++] = v;
  for (let p = 0; p < n; p += MAX_BLOCK) {
    const end = Math.min(p + MAX_BLOCK, n);
    d = end - p < MIN_NON_LITERAL_BLOCK ? emitLiteral(dst, d, src, p, end) : encodeBlock(dst, d, src, p, end);
  }
  return d;
}

export function snappyCompress(src: Uint8Array): Buffer {
  const s = new Scratch(maxCompressedLength(src.length) + 5);
  return Buffer.from(s.buf.subarray(0, snappyCompressInto(src, s)));
}

/** Length the block decodes to, or -1 if the header is malformed. */
export function snappyDecodedLength(src: Uint8Array): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    const b = src[i];
    if (b === undefined) break;
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v <= 0xffffffff ? v : -1;
    mul *= 0x80;
  }
  return -1;
}

export class SnappyError extends OutpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUTPOST_SNAPPY_INVALID', message, options);
  }
}

/**
 * Decompresses src into out.buf and returns a view of exactly the decoded bytes. Throws
 * SnappyError on a malformed block or one that claims more than maxLength bytes.
 */
export function snappyDecompressInto(src: Uint8Array, out: Scratch, maxLength: number): Buffer {
  let p = 0;
  let n = 0;
  let mul = 1;
  for (;;) {
    const b = p < 5 ? src[p++] : undefined;
    if (b === undefined) throw new SnappyError('invalid snappy block: bad length header');
    n += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 0x80;
  }
  if (n > maxLength) throw new SnappyError(`snappy block claims ${n} bytes, more than the limit ${maxLength}`);
  const dst = out.ensure(n);
  let d = 0;
  const end = src.length;
  for (;;) {
    const tag = src[p++];
    if (tag === undefined) break;
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = (tag >>> 2) + 1;
        if (len > 60) {
          const extra = len - 60;
          if (p + extra > end) throw new SnappyError('invalid snappy block: truncated literal length');
          len = 0;
          // biome-ignore lint/style/noNonNullAssertion: p + extra <= end was checked just above.
          for (let i = 0; i < extra; i++) len += src[p + i]! * 2 ** (8 * i);
          len += 1;
          p += extra;
        }
        if (p + len > end || d + len > n) throw new SnappyError('invalid snappy block: literal out of range');
        // biome-ignore lint/style/noNonNullAssertion: p + len <= end was checked just above.
        if (len < 32) for (let i = 0; i < len; i++) dst[d + i] = src[p + i]!;
        else dst.set(src.subarray(p, p + len), d);
        p += len;
        d += len;
        continue;
      }
      case 1:
        if (p >= end) throw new SnappyError('invalid snappy block: truncated copy');
        len = 4 + ((tag >>> 2) & 7);
        // biome-ignore lint/style/noNonNullAssertion: p < end was checked just above.
        offset = ((tag >>> 5) << 8) | src[p++]!;
        break;
      case 2:
        if (p + 2 > end) throw new SnappyError('invalid snappy block: truncated copy');
        len = 1 + (tag >>> 2);
        // biome-ignore lint/style/noNonNullAssertion: p + 2 <= end was checked just above.
        offset = src[p]! | (src[p + 1]! << 8);
        p += 2;
        break;
      default:
        if (p + 4 > end) throw new SnappyError('invalid snappy block: truncated copy');
        len = 1 + (tag >>> 2);
        // biome-ignore lint/style/noNonNullAssertion: p + 4 <= end was checked just above.
        offset = (src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24)) >>> 0;
        p += 4;
    }
    if (offset === 0 || offset > d || d + len > n) throw new SnappyError('invalid snappy block: copy out of range');
    if (offset >= len && len >= 32) {
      dst.copyWithin(d, d - offset, d - offset + len);
      d += len;
    } else {
      // Short or overlapping (repeats the last `offset` bytes): byte by byte.
      // biome-ignore lint/style/noNonNullAssertion: 0 < offset <= d and d + len <= n were checked above.
      for (let i = 0; i < len; i++, d++) dst[d] = dst[d - offset]!;
    }
  }
  if (d !== n) throw new SnappyError(`invalid snappy block: decoded ${d} bytes, header says ${n}`);
  return dst.subarray(0, n);
}

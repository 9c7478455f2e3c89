/**
 * Growable byte buffer with the integer encodings the WAL and protobuf need. Reused across
 * records (reset() keeps the allocation), so steady-state encoding allocates nothing.
 * Integers are JS numbers: exact up to 2^53, which covers refs and millisecond timestamps.
 */
import { OutpostError } from './errors.ts';
const TWO32 = 4294967296;

/**
 * Copies the blocks [from, to) of an arena into dst, one after another in order, and points `off` at their
 * new places; returns the bytes used. Block i is src[off[i], off[i] + len[i]); a len of 0 or less is no
 * block (it keeps its offset). Compaction of a byte arena behind typed-array columns.
 */
export function compactBlocks(
  src: Buffer,
  dst: Buffer,
  off: Uint32Array,
  len: Int32Array,
  from: number,
  to: number,
): number {
  let at = 0;
  for (let i = from; i < to; i++) {
    const n = len[i] ?? 0;
    if (n <= 0) continue;
    const o = off[i] ?? 0;
    src.copy(dst, at, o, o + n);
    off[i] = at;
    at += n;
  }
  return at;
}

/**
 * A buffer at least `need` bytes long holding buf[0, used): buf itself when it is big enough,
 * else a copy with the length doubled as often as needed.
 */
export function grownBuffer(buf: Buffer, used: number, need: number): Buffer {
  if (need <= buf.length) return buf;
  let size = buf.length * 2;
  while (size < need) size *= 2;
  const next = Buffer.allocUnsafe(size);
  buf.copy(next, 0, 0, used);
  return next;
}

/** The typed arrays the caches keep their per-entry columns in. */
export type NumberArray = Uint8Array | Uint32Array | Int32Array | Float64Array;

/**
 * A new array of the same type with `size` elements (size >= a.length): a's values, then `fill`
 * (zero unless given) in the added part. The column-growing step of every arena-backed cache.
 */
export function grownArray<T extends NumberArray>(a: T, size: number, fill = 0): T {
  const next = new (a.constructor as new (n: number) => T)(size);
  next.set(a);
  if (fill !== 0) next.fill(fill, a.length);
  return next;
}

/** FNV-1a (32 bit) over b[start, end): the hash of the byte-keyed caches. */
export function fnv1a(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  // biome-ignore lint/style/noNonNullAssertion: i < end <= b.length (callers pass a range of b).
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * Whether a[aOff, aOff+n) equals b[bOff, bOff+n), given DataViews over both (callers keep them
 * across calls). Eight bytes a step as two 32-bit loads, which V8 compiles to single unaligned
 * loads, then byte by byte.
 */
export function sameBytes(
  a: Uint8Array,
  va: DataView,
  aOff: number,
  b: Uint8Array,
  vb: DataView,
  bOff: number,
  n: number,
): boolean {
  let i = 0;
  for (const n8 = n - 7; i < n8; i += 8) {
    if (
      va.getInt32(aOff + i, true) !== vb.getInt32(bOff + i, true) ||
      va.getInt32(aOff + i + 4, true) !== vb.getInt32(bOff + i + 4, true)
    )
      return false;
  }
  for (; i < n; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

export class ByteWriter {
  buf: Buffer;
  pos = 0;
  /**
   * A view of buf for the 32/64-bit writes: V8 compiles DataView stores to single machine stores,
   * where Buffer's writeDoubleBE/LE and writeUInt32BE are calls that copy byte by byte.
   */
  private dv: DataView;

  constructor(initialSize = 4096) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need > this.buf.length) {
      this.buf = grownBuffer(this.buf, this.pos, need);
      this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Signed 64-bit big-endian from a safe integer. */
  i64be(v: number): void {
    this.ensure(8);
    const hi = Math.floor(v / TWO32);
    const lo = v - hi * TWO32;
    this.dv.setInt32(this.pos, hi);
    this.dv.setUint32(this.pos + 4, lo);
    this.pos += 8;
  }

  f64be(v: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, v);
    this.pos += 8;
  }

  f64le(v: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Raw 64-bit pattern as two 32-bit halves (keeps NaN payloads such as the stale marker). */
  bits64be(hi: number, lo: number): void {
    this.ensure(8);
    this.dv.setUint32(this.pos, hi >>> 0);
    this.dv.setUint32(this.pos + 4, lo >>> 0);
    this.pos += 8;
  }

  bits64le(hi: number, lo: number): void {
    this.ensure(8);
    this.dv.setUint32(this.pos, lo >>> 0, true);
    this.dv.setUint32(this.pos + 4, hi >>> 0, true);
    this.pos += 8;
  }

  /** Unsigned LEB128 (Go's PutUvarint, protobuf varint) for 0 <= v < 2^53. */
  uvarint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    // Below 2^31 (sample deltas, lengths: nearly every call) integer shifts, else float division.
    if (v < 0x80000000) {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        b[p++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
    }
    b[p++] = v;
    this.pos = p;
  }

  /**
   * Protobuf int64 varint: negative values are two's complement over 64 bits (10 bytes).
   * Timestamps before 1970 are the only negatives we ever encode.
   */
  int64varint(v: number): void {
    if (v >= 0) {
      this.uvarint(v);
      return;
    }
    this.ensure(10);
    // two's complement: split into 32-bit halves
    const hi = Math.floor(v / TWO32);
    let lo = (v - hi * TWO32) >>> 0;
    let h = hi >>> 0;
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < 9; i++) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (h << 25)) >>> 0;
      h = h >>> 7;
    }
    b[p++] = lo & 0x01;
    this.pos = p;
  }

  /** Zigzag signed varint (Go's PutVarint, protobuf sint64) for |v| < 2^52. */
  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** uvarint length + UTF-8 bytes. */
  str(s: string): void {
    const n = Buffer.byteLength(s);
    this.uvarint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** A view of what was written; valid until the next write or reset. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of what was written. */
  copy(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** Number of bytes uvarint(v) takes. */
export function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

export class ByteReaderError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_BYTES_INVALID', message);
  }
}

/** Cursor over a byte range with the decoders matching ByteWriter. Throws ByteReaderError past the end. */
export class ByteReader {
  buf: Uint8Array;
  pos: number;
  end: number;
  private dv: DataView;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  reset(buf: Uint8Array, start = 0, end = buf.length): void {
    if (buf !== this.buf) this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw this.short();
  }

  private short(): ByteReaderError {
    return new ByteReaderError(`unexpected end of data at offset ${this.pos}`);
  }

  u8(): number {
    const b = this.buf[this.pos];
    if (b === undefined || this.pos >= this.end) throw this.short();
    this.pos++;
    return b;
  }

  i64be(): number {
    this.need(8);
    const hi = this.dv.getInt32(this.pos);
    const lo = this.dv.getUint32(this.pos + 4);
    this.pos += 8;
    return hi * TWO32 + lo;
  }

  /** High and low 32 bits of a big-endian 64-bit field, for raw float bit patterns. */
  bits64beHi(): number {
    this.need(8);
    return this.dv.getUint32(this.pos);
  }

  bits64beLo(): number {
    return this.dv.getUint32(this.pos + 4);
  }

  f64be(): number {
    this.need(8);
    const v = this.dv.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  uvarint(): number {
    // Reads the buffer directly rather than through u8(): this runs for every sample of every record.
    const buf = this.buf;
    const end = this.end;
    let p = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = p < end ? buf[p] : undefined;
      if (b === undefined) {
        this.pos = p;
        throw this.short();
      }
      p++;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = p;
        return result;
      }
      mul *= 0x80;
    }
    this.pos = p;
    throw new ByteReaderError(`varint overflow at offset ${this.pos}`);
  }

  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  str(): string {
    const n = this.uvarint();
    this.need(n);
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).toString('utf8');
    this.pos += n;
    return s;
  }
}

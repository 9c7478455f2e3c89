/**
 * Protocol buffers wire format over a Buffer, for the protobuf exposition parser: varints (64-bit two's
 * complement kept exactly up to 2^53), zigzag, fixed64 doubles, length-delimited ranges and field
 * skipping. Nothing is allocated per value; every read is bounds-checked against `end` and throws
 * ParseError on bytes that are not valid protobuf.
 */
import { ParseError } from './types.ts';

export const Wire = { varint: 0, fixed64: 1, len: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

const TWO32 = 4294967296;

export class WireReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  end = 0;
  /** What is being decoded, for error messages (e.g. "MetricFamily"). */
  what = '';

  /** Reads buf[pos, end). */
  at(buf: Buffer, pos: number, end: number, what: string): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.what = what;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string): ParseError {
    return new ParseError(0, `protobuf: ${this.what}: ${message} at byte ${this.pos}`);
  }

  /** An unsigned varint that must fit 32 bits (tags, lengths). One byte is the common case. */
  uvarint32(): number {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    if (p >= end) throw this.fail('truncated varint');
    let x = b[p++] ?? 0;
    if (x < 0x80) {
      this.pos = p;
      return x;
    }
    let v = x & 0x7f;
    for (let shift = 7; shift <= 28; shift += 7) {
      if (p >= end) {
        this.pos = p;
        throw this.fail('truncated varint');
      }
      x = b[p++] ?? 0;
      // Shifts up to 21 stay below 2^31; the fifth byte is multiplied to keep the sign bit out.
      v += shift < 28 ? (x & 0x7f) << shift : (x & 0x7f) * 0x10000000;
      if (x < 0x80) {
        this.pos = p;
        if (v >= TWO32) throw this.fail('varint overflows 32 bits');
        return v;
      }
    }
    this.pos = p;
    throw this.fail('varint overflows 32 bits');
  }

  /** Low and high 32 bits of a 64-bit varint, in lo/hi. */
  private lo = 0;
  private hi = 0;

  private varint64(): void {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < 10; k++) {
      if (this.pos >= this.end) throw this.fail('truncated varint');
      const x = b[this.pos++] ?? 0;
      const bits = x & 0x7f;
      if (k < 4) lo |= bits << (7 * k);
      else if (k === 4) {
        lo |= (bits & 0x0f) << 28;
        hi = bits >>> 4;
      } else hi |= bits << (3 + 7 * (k - 5));
      if (x < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi;
        return;
      }
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /** uint64 (counts). */
  uint64(): number {
    this.varint64();
    return (this.hi >>> 0) * TWO32 + this.lo;
  }

  /** int64 in two's complement (timestamps). */
  int64(): number {
    this.varint64();
    return (this.hi | 0) * TWO32 + this.lo;
  }

  /** sint32 / sint64 (zigzag). */
  sint(): number {
    this.varint64();
    const u = (this.hi >>> 0) * TWO32 + this.lo;
    return this.lo & 1 ? -(u + 1) / 2 : u / 2;
  }

  /** int32 / enum: a varint whose low 32 bits are taken as signed. */
  int32(): number {
    this.varint64();
    return this.lo | 0;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw this.fail('truncated fixed64');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a field key; returns field number * 8 + wire type. */
  key(): number {
    const k = this.uvarint32();
    const field = k >>> 3;
    const wire = k & 7;
    if (field === 0) throw this.fail(`illegal tag 0 (wire type ${wire})`);
    if (wire === Wire.startGroup || wire === Wire.endGroup || wire > Wire.fixed32)
      throw this.fail(`unsupported wire type ${wire} for field ${field}`);
    return k;
  }

  /** Reads a length prefix and returns the end of the delimited bytes (pos is at their start). */
  lenEnd(): number {
    const n = this.uvarint32();
    const e = this.pos + n;
    if (e > this.end) throw this.fail(`length ${n} exceeds the ${this.end - this.pos} bytes left`);
    return e;
  }

  /** Skips the value of a field with this wire type. */
  skip(wire: number): void {
    if (wire === Wire.varint) this.varint64();
    else if (wire === Wire.fixed64) {
      if (this.pos + 8 > this.end) throw this.fail('truncated fixed64');
      this.pos += 8;
    } else if (wire === Wire.len) this.pos = this.lenEnd();
    else {
      if (this.pos + 4 > this.end) throw this.fail('truncated fixed32');
      this.pos += 4;
    }
  }

  /** Throws unless the field has the expected wire type. */
  expect(key: number, wire: number, name: string): void {
    if ((key & 7) !== wire) throw this.fail(`wrong wire type ${key & 7} for field ${name}`);
  }
}

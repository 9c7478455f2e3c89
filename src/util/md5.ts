/**
 * MD5 (RFC 1321) in plain JavaScript. Outpost needs MD5 for two identities Prometheus defines with
 * it, the remote-write queue name and relabeling's hashmod; node:crypto would cost ~2.3 MB of RSS
 * for them in an agent that otherwise never loads it (no TLS). Inputs are short (a label value, a
 * config entry), so speed is not the point; correctness is checked against node:crypto in tests.
 */

/** Per-step left rotations, four per round. */
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/** floor(abs(sin(i + 1)) * 2^32), the per-step constants. */
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) | 0;

const X = new Int32Array(16);

/** The 16-byte digest of data. */
export function md5(data: Uint8Array): Uint8Array {
  const n = data.length;
  // Message, a 0x80 byte, zeros up to 56 mod 64, then the bit length as 64-bit little-endian.
  const padded = new Uint8Array((((n + 8) >>> 6) + 1) << 6);
  padded.set(data);
  padded[n] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, (n << 3) >>> 0, true);
  dv.setUint32(padded.length - 4, Math.floor(n / 0x20000000), true);

  let a0 = 0x67452301 | 0;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476 | 0;
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) X[i] = dv.getInt32(off + i * 4, true);
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      // biome-ignore lint/style/noNonNullAssertion: the index is < 16 = SHIFTS.length by construction.
      const s = SHIFTS[((i >>> 4) << 2) | (i & 3)]!;
      // biome-ignore lint/style/noNonNullAssertion: i < 64 = K.length and g < 16 = X.length.
      const sum = (a + f + K[i]! + X[g]!) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  ov.setInt32(0, a0, true);
  ov.setInt32(4, b0, true);
  ov.setInt32(8, c0, true);
  ov.setInt32(12, d0, true);
  return out;
}

/** Lower-case hex MD5 of a string's UTF-8 bytes. */
export function md5Hex(s: string): string {
  return Buffer.from(md5(Buffer.from(s, 'utf8'))).toString('hex');
}

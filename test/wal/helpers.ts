import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { replayWal } from '../../src/wal/reader.ts';

export async function tmpDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-wal-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Bitwise CRC-32C, independent of the table-driven implementation under test. */
export function refCrc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export function randomBytes(n: number, seed: number): Buffer {
  const r = prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = r() & 0xff;
  return b;
}

/** A record that snappy shrinks a lot. */
export function compressibleBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i % 17) + (seed & 0x3f);
  return b;
}

export interface Frag {
  offset: number;
  type: number;
  len: number;
}

/**
 * Independent walk over a segment's fragments (no CRC or sequence checks): used to assert the
 * writer's layout, e.g. that no fragment crosses a page.
 */
export function fragments(buf: Uint8Array): Frag[] {
  const out: Frag[] = [];
  let p = 0;
  while (p < buf.length) {
    if (buf[p] === 0) {
      p = (Math.floor(p / 32768) + 1) * 32768;
      continue;
    }
    const [type, hi, lo] = [buf[p], buf[p + 1], buf[p + 2]];
    if (type === undefined || hi === undefined || lo === undefined)
      throw new RangeError(`torn fragment header at ${p}`);
    const len = (hi << 8) | lo;
    out.push({ offset: p, type, len });
    p += 7 + len;
  }
  return out;
}

export async function readAll(walDir: string): Promise<{ recs: Buffer[]; where: [number, number][] }> {
  const recs: Buffer[] = [];
  const where: [number, number][] = [];
  await replayWal(walDir, (rec, seg, off) => {
    recs.push(Buffer.from(rec));
    where.push([seg, off]);
  });
  return { recs, where };
}

export async function segmentBytes(walDir: string, i: number): Promise<Buffer> {
  return readFile(path.join(walDir, String(i).padStart(8, '0')));
}

/** Random 64-byte blocks, each repeated: snappy roughly halves it. */
export function halfCompressibleBytes(n: number, seed: number): Buffer {
  const block = randomBytes(64, seed);
  const r = prng(seed + 1);
  const b = Buffer.alloc(n);
  for (let p = 0; p < n; p += 128) {
    for (let i = 0; i < 64; i++) block[i] = r() & 0xff;
    block.copy(b, p);
    block.copy(b, p + 64);
  }
  return b;
}

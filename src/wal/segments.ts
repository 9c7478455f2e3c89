/** WAL directory layout: numbered segment files and checkpoint directories. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { SegmentsError } from './errors.ts';

/** A WAL position: the byte offset in a segment just after the last record fully handed over. */
export interface WalPosition {
  readonly segment: number;
  readonly offset: number;
}

export const PAGE_SIZE = 32 * 1024;
export const HEADER_SIZE = 7;
/** Largest fragment payload: a fragment never crosses a page. */
export const MAX_FRAGMENT = PAGE_SIZE - HEADER_SIZE;
export const DEFAULT_SEGMENT_SIZE = 128 * 1024 * 1024;

/** Fragment kinds in the low 3 bits of the header byte (0 is page padding). */
export const FRAG_FULL = 1;
export const FRAG_FIRST = 2;
export const FRAG_MIDDLE = 3;
export const FRAG_LAST = 4;
/** Compression flags above the kind: snappy, or else zstd (0x10). */
export const FLAG_SNAPPY = 0x08;
export const FLAG_ZSTD = 0x10;

/** The algorithm for compressed records (`--storage.agent.wal-compression-type`). */
export type WalCompressionType = 'snappy' | 'zstd';

/** Segment file name: 8-digit zero-padded decimal, as Prometheus' `%08d`. */
export function segmentName(i: number): string {
  return String(i).padStart(8, '0');
}

export function segmentPath(walDir: string, i: number): string {
  return path.join(walDir, segmentName(i));
}

export function checkpointName(i: number): string {
  return `checkpoint.${segmentName(i)}`;
}

const SEGMENT_RE = /^\d+$/;
const CHECKPOINT_RE = /^checkpoint\.(\d+)$/;

async function names(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Indexes of the segment files in dir, ascending; other names are ignored. Missing dir => []. */
export async function segmentIndexes(dir: string): Promise<number[]> {
  const list = await names(dir);
  if (!list) return [];
  const out: number[] = [];
  for (const n of list) if (SEGMENT_RE.test(n)) out.push(Number(n));
  return out.sort((a, b) => a - b);
}

/**
 * First and last segment index in walDir, or null when it holds none (or does not exist).
 * Throws SegmentsError when the numbers are not contiguous, as Prometheus does.
 */
export async function listSegments(walDir: string): Promise<{ first: number; last: number } | null> {
  const idx = await segmentIndexes(walDir);
  const first = idx[0];
  if (first === undefined) return null;
  let last = first;
  for (const i of idx.slice(1)) {
    if (i !== last + 1) {
      throw new SegmentsError(
        walDir,
        `segments are not sequential: ${segmentName(last)} is followed by ${segmentName(i)}`,
      );
    }
    last = i;
  }
  return { first, last };
}

/** Checkpoint directories (`checkpoint.N`, not `.tmp`), ascending by N. */
export async function listCheckpoints(walDir: string): Promise<{ index: number; name: string }[]> {
  const list = await names(walDir);
  if (!list) return [];
  const out: { index: number; name: string }[] = [];
  for (const n of list) {
    const m = CHECKPOINT_RE.exec(n);
    if (m) out.push({ index: Number(m[1]), name: n });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** The newest checkpoint, or null. */
export async function lastCheckpoint(walDir: string): Promise<{ index: number; dir: string } | null> {
  const cp = (await listCheckpoints(walDir)).at(-1);
  if (cp === undefined) return null;
  return { index: cp.index, dir: path.join(walDir, cp.name) };
}

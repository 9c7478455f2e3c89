/**
 * Checkpoints (Prometheus' wlog.Checkpoint): fold the previous checkpoint and WAL segments
 * [from..to] into `checkpoint.<to>`, a mini-WAL that keeps only what replay still needs: series
 * records of kept refs and samples/histograms/exemplars with t >= mint. Written to `.tmp`, synced,
 * then renamed into place, so a crash leaves either the old or the new checkpoint.
 */
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ByteWriter } from '../util/bytes.ts';
import { f64At, u8At } from '../util/columns.ts';
import type { Labels } from '../util/labels.ts';
import { CorruptionError, SegmentsError } from './errors.ts';
import { readSegmentRange } from './reader.ts';
import {
  RecordType,
  SampleBatch,
  decodeExemplars,
  decodeFloatHistogramSamples,
  decodeHistogramSamples,
  decodeMetadata,
  decodeSamples,
  decodeSeries,
  decodeTombstones,
  encodeCustomBucketsFloatHistogramSamples,
  encodeCustomBucketsHistogramSamples,
  encodeExemplars,
  encodeFloatHistogramSamples,
  encodeHistogramSamples,
  encodeMetadata,
  encodeSamples,
  encodeSeries,
  encodeTombstones,
  recordType,
  type RefHistogramSample,
  type RefMetadata,
} from './records.ts';
import { WalWriter } from './segment-writer.ts';
import {
  checkpointName,
  lastCheckpoint,
  listCheckpoints,
  listSegments,
  segmentIndexes,
  segmentPath,
  type WalCompressionType,
} from './segments.ts';

export interface CheckpointOptions {
  /** Series refs whose series records survive. */
  keep: (ref: number) => boolean;
  /** Samples, histograms and exemplars older than this (ms) are dropped. */
  mint: number;
  /** Snappy for the checkpoint's own segments (use the WAL's setting). Default true. */
  compress?: boolean;
  /** The WAL's algorithm for compressed records. Default snappy. */
  compression?: WalCompressionType;
  segmentSize?: number;
}

interface CheckpointStats {
  droppedSeries: number;
  droppedSamples: number;
  droppedTombstones: number;
  droppedExemplars: number;
  droppedMetadata: number;
  /** Totals seen in the input. */
  totalSeries: number;
  totalSamples: number;
  totalTombstones: number;
  totalExemplars: number;
  totalMetadata: number;
}

export interface CheckpointResult {
  dir: string;
  index: number;
  stats: CheckpointStats;
}

const FLUSH_BYTES = 1 << 20;

/**
 * Writes checkpoint.<to> from the newest existing checkpoint plus segments [from..to]. Segments
 * below an existing checkpoint are skipped; a gap between the checkpoint and `from` is an error.
 * Any corruption aborts (a checkpoint cannot be repaired: lost series records would go unnoticed).
 */
export async function checkpoint(
  walDir: string,
  from: number,
  to: number,
  opts: CheckpointOptions,
): Promise<CheckpointResult> {
  const stats: CheckpointStats = {
    droppedSeries: 0,
    droppedSamples: 0,
    droppedTombstones: 0,
    droppedExemplars: 0,
    droppedMetadata: 0,
    totalSeries: 0,
    totalSamples: 0,
    totalTombstones: 0,
    totalExemplars: 0,
    totalMetadata: 0,
  };
  const prev = await lastCheckpoint(walDir);
  if (prev) {
    if (from > prev.index + 1) {
      throw new SegmentsError(
        walDir,
        `unexpected gap to last checkpoint: expected segment ${prev.index + 1}, requested ${from}`,
      );
    }
    from = prev.index + 1;
  }

  const cpDir = path.join(walDir, checkpointName(to));
  const tmpDir = `${cpDir}.tmp`;
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true });
  const out = await WalWriter.open(tmpDir, {
    compress: opts.compress ?? true,
    compression: opts.compression ?? 'snappy',
    fsync: 'rotate',
    ...(opts.segmentSize === undefined ? {} : { segmentSize: opts.segmentSize }),
  });

  const w = new ByteWriter(1 << 16);
  const inBatch = new SampleBatch();
  const keptBatch = new SampleBatch();
  const latestMeta = new Map<number, RefMetadata>();
  let pending = 0;
  const { keep, mint } = opts;

  const handle = async (rec: Uint8Array): Promise<void> => {
    switch (recordType(rec)) {
      case RecordType.Series: {
        const refs: number[] = [];
        const labels: Labels[] = [];
        decodeSeries(rec, (ref, ls) => {
          stats.totalSeries++;
          if (keep(ref)) {
            refs.push(ref);
            labels.push(ls);
          } else stats.droppedSeries++;
        });
        if (refs.length > 0) encodeSeries(w, refs, labels, refs.length);
        else w.reset();
        break;
      }
      case RecordType.Samples: {
        inBatch.reset();
        keptBatch.reset();
        decodeSamples(rec, inBatch);
        const { refs, ts, values, stale } = inBatch;
        for (let i = 0; i < inBatch.n; i++) {
          const t = f64At(ts, i);
          if (t >= mint) keptBatch.push(f64At(refs, i), t, f64At(values, i), u8At(stale, i));
        }
        stats.totalSamples += inBatch.n;
        stats.droppedSamples += inBatch.n - keptBatch.n;
        if (keptBatch.n > 0)
          encodeSamples(w, keptBatch.refs, keptBatch.ts, keptBatch.values, keptBatch.stale, keptBatch.n);
        else w.reset();
        break;
      }
      case RecordType.HistogramSamples:
      case RecordType.CustomBucketsHistogramSamples:
      case RecordType.FloatHistogramSamples:
      case RecordType.CustomBucketsFloatHistogramSamples: {
        const t = recordType(rec);
        const float = t === RecordType.FloatHistogramSamples || t === RecordType.CustomBucketsFloatHistogramSamples;
        const hs: RefHistogramSample[] = [];
        if (float) decodeFloatHistogramSamples(rec, hs);
        else decodeHistogramSamples(rec, hs);
        const kept = hs.filter((h) => h.t >= mint);
        stats.totalSamples += hs.length;
        stats.droppedSamples += hs.length - kept.length;
        w.reset();
        if (kept.length === 0) break;
        const custom = float ? encodeFloatHistogramSamples(w, kept) : encodeHistogramSamples(w, kept);
        if (w.pos > 0) await append(w.view());
        if (custom.length > 0) {
          if (float) encodeCustomBucketsFloatHistogramSamples(w, custom);
          else encodeCustomBucketsHistogramSamples(w, custom);
        } else w.reset();
        break;
      }
      case RecordType.Tombstones: {
        const n = refilter(w, rec, decodeTombstones, encodeTombstones, (s) => keep(s.ref) && s.maxt >= mint);
        stats.totalTombstones += n.total;
        stats.droppedTombstones += n.dropped;
        break;
      }
      case RecordType.Exemplars: {
        const n = refilter(w, rec, decodeExemplars, encodeExemplars, (e) => e.t >= mint);
        stats.totalExemplars += n.total;
        stats.droppedExemplars += n.dropped;
        break;
      }
      case RecordType.Metadata: {
        const md: RefMetadata[] = [];
        decodeMetadata(rec, md);
        stats.totalMetadata += md.length;
        for (const m of md) {
          if (keep(m.ref)) latestMeta.set(m.ref, m);
          else stats.droppedMetadata++;
        }
        w.reset();
        break;
      }
      default:
        // Unknown record types are not carried over, as in Prometheus.
        w.reset();
    }
    if (w.pos > 0) await append(w.view());
  };

  const append = async (rec: Uint8Array): Promise<void> => {
    out.append(rec);
    pending += rec.length;
    if (pending >= FLUSH_BYTES) {
      pending = 0;
      await out.flush();
    }
  };

  try {
    if (prev) {
      const r = await listSegments(prev.dir);
      if (r) await readSegmentRange(prev.dir, r.first, r.last, handle);
    }
    if (from <= to) await readSegmentRange(walDir, from, to, handle);
    if (latestMeta.size > 0) {
      stats.droppedMetadata += stats.totalMetadata - stats.droppedMetadata - latestMeta.size;
      encodeMetadata(w, [...latestMeta.values()]);
      out.append(w.view());
    }
    await out.close();
  } catch (e) {
    await out.close().catch(() => {});
    await rm(tmpDir, { recursive: true, force: true });
    if (e instanceof CorruptionError) {
      throw new CorruptionError(e.segment, e.offset, `checkpoint aborted: ${e.reason}`, { cause: e });
    }
    throw e;
  }

  await syncDir(tmpDir);
  await rm(cpDir, { recursive: true, force: true });
  await rename(tmpDir, cpDir);
  await syncDir(walDir);
  return { dir: cpDir, index: to, stats };
}

/**
 * Decodes rec, leaves the entries that pass re-encoded in w (w empty when none do) and returns how
 * many entries rec held and how many of them were dropped.
 */
function refilter<T>(
  w: ByteWriter,
  rec: Uint8Array,
  decode: (rec: Uint8Array, out: T[]) => void,
  encode: (w: ByteWriter, entries: readonly T[]) => void,
  pass: (entry: T) => boolean,
): { total: number; dropped: number } {
  const all: T[] = [];
  decode(rec, all);
  const kept = all.filter(pass);
  if (kept.length > 0) encode(w, kept);
  else w.reset();
  return { total: all.length, dropped: all.length - kept.length };
}

/** Deletes checkpoints numbered below `below` (and stale .tmp directories of them). */
export async function deleteCheckpoints(walDir: string, below: number): Promise<number[]> {
  const removed: number[] = [];
  for (const cp of await listCheckpoints(walDir)) {
    if (cp.index < below) {
      await rm(path.join(walDir, cp.name), { recursive: true, force: true });
      removed.push(cp.index);
    }
  }
  for (const name of await readdir(walDir).catch(() => [] as string[])) {
    const m = /^checkpoint\.(\d+)\.tmp$/.exec(name);
    if (m && Number(m[1]) < below) await rm(path.join(walDir, name), { recursive: true, force: true });
  }
  return removed;
}

/** Deletes WAL segments numbered below `below` (Prometheus' WL.Truncate). */
export async function truncateSegments(walDir: string, below: number): Promise<number[]> {
  const removed: number[] = [];
  for (const i of await segmentIndexes(walDir)) {
    if (i >= below) break;
    await rm(segmentPath(walDir, i), { force: true });
    removed.push(i);
  }
  return removed;
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Directory fsync is unsupported on some platforms; data files were synced on close.
  }
}

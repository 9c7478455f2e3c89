import { logDuration, type Logger } from '../log/logger.ts';
import type { WalCompressionType, WalPosition } from '../wal/segments.ts';
import type { Clock } from '../util/clock.ts';
import { errorMessage } from '../util/errors.ts';
import { checkpoint, deleteCheckpoints, truncateSegments } from '../wal/checkpoint.ts';
import { listSegments } from '../wal/segments.ts';
import type { AgentStorage } from './storage.ts';

export interface TruncatorOptions {
  storage: AgentStorage;
  clock: Clock;
  log: Logger;
  minTimeMs: number;
  maxTimeMs: number;
  /** 0 = no cap. */
  maxSizeBytes: number;
  compress: boolean;
  compression?: WalCompressionType | undefined;
  /** Lowest position every endpoint acknowledged; null = no endpoints (everything is done with). */
  lowestAcked: () => WalPosition | null;
  lowestSentTimestamp: () => number | null;
  /** Bytes of each segment on disk (index -> size). */
  segmentSizes: () => ReadonlyMap<number, number>;
  /** Called after segments were deleted, so the sizes above stop counting them before the next cap check. */
  segmentsRemoved?: () => Promise<void>;
  /** Tells remote write that segments below `below` were removed by force. */
  onForcedDrop: (below: number, reason: 'too_old' | 'wal_size_cap') => void;
}

/**
 * WAL truncation: drops series nobody needs any more, checkpoints the series still alive, and deletes
 * segments every endpoint has passed. A segment an endpoint still needs is deleted only when the disk
 * cap or the max age forces it, and that is counted and logged as dropped data.
 */
export class WalTruncator {
  private readonly o: TruncatorOptions;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private capTimer: NodeJS.Timeout | null = null;
  truncations = 0;
  failures = 0;
  readonly checkpoints = { created: 0, createFailed: 0, deleted: 0 };

  constructor(o: TruncatorOptions) {
    this.o = o;
  }

  /** Runs every frequencyMs, and checks the disk cap every capCheckMs. */
  start(frequencyMs: number, capCheckMs = 5000): void {
    const tick = () => {
      void this.truncate().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, frequencyMs).unref();
      });
    };
    this.timer = setTimeout(tick, frequencyMs).unref();
    if (this.o.maxSizeBytes > 0) {
      const cap = () => {
        if (this.overCap()) void this.truncate();
        if (this.capTimer) this.capTimer = setTimeout(cap, capCheckMs).unref();
      };
      this.capTimer = setTimeout(cap, capCheckMs).unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.capTimer) clearTimeout(this.capTimer);
    this.timer = null;
    this.capTimer = null;
    if (this.running) await this.running;
  }

  private overCap(): boolean {
    if (this.o.maxSizeBytes <= 0) return false;
    let total = 0;
    for (const size of this.o.segmentSizes().values()) total += size;
    return total > this.o.maxSizeBytes;
  }

  /** One truncation cycle; concurrent calls share the running one. */
  truncate(): Promise<void> {
    this.running ??= this.run()
      .catch((err) => {
        this.failures++;
        this.o.log.error('WAL truncation failed', { err: errorMessage(err) });
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async run(): Promise<void> {
    const { storage, clock, log } = this.o;
    const now = clock.now();
    const walDir = storage.walDir;

    // Series GC cut-off, as Prometheus: lowest sent minus min-time, but never older than max-time.
    const lowestSent = this.o.lowestSentTimestamp() ?? now;
    let cutoff = Math.max(lowestSent - this.o.minTimeMs, 0);
    if (cutoff < now - this.o.maxTimeMs) cutoff = now - this.o.maxTimeMs;
    // Nothing to rotate into while the WAL is failing (e.g. disk full); the cap check comes back.
    if (!storage.writable) {
      log.debug('WAL truncation skipped: the WAL is not writable');
      return;
    }
    const removed = storage.gcSeries(cutoff);
    log.debug('Series garbage-collected', {
      removed: removed.length,
      active: storage.series.size,
      cutoff: new Date(cutoff).toISOString(),
    });

    const current = await storage.writer.nextSegment();
    const range = await listSegments(walDir);
    if (!range) return;

    // Segments every endpoint has fully passed.
    const acked = this.o.lowestAcked();
    let last = acked ? acked.segment - 1 : current - 1;
    let forced = -1;
    let reason: 'too_old' | 'wal_size_cap' = 'too_old';
    // Max age: segments whose newest sample is older than max-time go regardless.
    for (let s = range.first; s < current; s++) {
      const info = storage.segments.get(s);
      if (info && info.maxTs !== -Infinity && info.maxTs < now - this.o.maxTimeMs) forced = s;
      else break;
    }
    // Disk cap: oldest segments first until the rest fits.
    if (this.o.maxSizeBytes > 0) {
      const sizes = this.o.segmentSizes();
      let total = 0;
      for (const size of sizes.values()) total += size;
      for (let s = range.first; s < current && total > this.o.maxSizeBytes; s++) {
        total -= sizes.get(s) ?? 0;
        if (s > forced) {
          forced = s;
          reason = 'wal_size_cap';
        }
      }
    }
    if (forced > last) last = forced;
    if (last >= current) last = current - 1;
    if (last < range.first) {
      log.debug('WAL truncation: no segment can go yet', {
        first: range.first,
        current,
        lowest_acked_segment: acked ? acked.segment : 'none',
      });
      return;
    }

    const started = performance.now();
    log.debug('Creating checkpoint', { from_segment: range.first, to_segment: last, mint: 'none (series only)' });
    const deleted = new Set(removed);
    this.checkpoints.created++;
    try {
      // Only series records are carried over: the segments go because every endpoint is past them
      // (or a cap forces them out), so none of their samples is needed again. Keeping samples would
      // also keep the very bytes a disk cap has to free.
      await checkpoint(walDir, range.first, last, {
        keep: (ref) => storage.series.has(ref) && !deleted.has(ref),
        mint: Number.MAX_SAFE_INTEGER,
        compress: this.o.compress,
        ...(this.o.compression === undefined ? {} : { compression: this.o.compression }),
      });
    } catch (err) {
      this.checkpoints.createFailed++;
      throw err;
    }
    // Endpoints still behind lose these segments: let them count it and move on first.
    log.debug('Checkpoint created', { through_segment: last, duration: logDuration(performance.now() - started) });
    if (acked && last >= acked.segment) this.o.onForcedDrop(last + 1, reason);
    await truncateSegments(walDir, last + 1);
    await this.o.segmentsRemoved?.();
    log.debug('WAL segments deleted', { from_segment: range.first, to_segment: last });
    const oldCheckpoints = await deleteCheckpoints(walDir, last);
    this.checkpoints.deleted += oldCheckpoints.length;
    if (oldCheckpoints.length > 0) log.debug('Old checkpoints deleted', { count: oldCheckpoints.length });
    for (const s of [...storage.segments.keys()]) if (s <= last) storage.segments.delete(s);
    this.truncations++;
    log.info('WAL truncated', {
      through_segment: last,
      series_removed: removed.length,
      forced: forced >= 0 ? reason : 'no',
      duration: logDuration(performance.now() - started),
    });
  }
}

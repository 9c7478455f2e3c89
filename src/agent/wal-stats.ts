import fs from 'node:fs/promises';
import path from 'node:path';
import type { WalPosition } from '../wal/segments.ts';

/**
 * Sizes of the WAL segments on disk, for synchronous status readers that must not touch the disk.
 * The writer's flushes keep the head segment's size current (follow()); the directory is scanned only
 * when a new segment appears, after truncation removed some (the truncator calls refresh()), and on a
 * slow backstop timer: an idle agent does no file-system work for this.
 */
export class WalStats {
  private readonly walDir: string;
  private bySegment = new Map<number, number>();
  first = 0;
  last = -1;
  bytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;

  constructor(walDir: string) {
    this.walDir = walDir;
  }

  /** Rescans the directory; a call during a scan waits for it and then scans again (deletions may follow it). */
  async refresh(): Promise<void> {
    while (this.scanning) await this.scanning;
    this.scanning = this.scan().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  /**
   * Keeps the size current from the writer's flushes: (segment, bytes written to it). A segment not
   * seen yet means the writer rotated, and the finished one's last bytes are read back from disk.
   */
  follow(onFlush: (fn: (segment: number, size: number) => void) => () => void): () => void {
    return onFlush((segment, size) => {
      if (segment > this.last) {
        this.bySegment.set(segment, size);
        this.last = segment;
        if (this.bySegment.size === 1) this.first = segment;
        this.bytes += size;
        void this.refresh();
        return;
      }
      const before = this.bySegment.get(segment);
      if (before === undefined || size <= before) return;
      this.bySegment.set(segment, size);
      this.bytes += size - before;
    });
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.walDir);
    } catch {
      return;
    }
    const sizes = new Map<number, number>();
    let total = 0;
    let first = Infinity;
    let last = -1;
    for (const n of names) {
      if (!/^\d{8}$/.test(n)) continue;
      const i = Number(n);
      try {
        const st = await fs.stat(path.join(this.walDir, n));
        sizes.set(i, st.size);
        total += st.size;
        if (i < first) first = i;
        if (i > last) last = i;
      } catch {
        // Deleted by truncation between readdir and stat.
      }
    }
    this.bySegment = sizes;
    this.bytes = total;
    this.first = first === Infinity ? 0 : first;
    this.last = last;
  }

  /** WAL bytes from pos to the end. */
  bytesAfter(pos: WalPosition): number {
    let n = 0;
    for (const [i, size] of this.bySegment) {
      if (i > pos.segment) n += size;
      else if (i === pos.segment) n += Math.max(0, size - pos.offset);
    }
    return n;
  }

  get sizes(): ReadonlyMap<number, number> {
    return this.bySegment;
  }

  get segments(): number {
    return this.bySegment.size;
  }

  /** The backstop rescan, for changes nobody announced (files removed by hand). */
  start(intervalMs: number): void {
    const tick = () => {
      void this.refresh().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

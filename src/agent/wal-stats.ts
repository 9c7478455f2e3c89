import fs from 'node:fs/promises';
import path from 'node:path';
import type { WalPosition } from '../wal/segments.ts';

/**
 * Sizes of the WAL segments on disk, refreshed in the background (status readers are synchronous and
 * must not touch the disk).
 */
export class WalStats {
  private readonly walDir: string;
  private bySegment = new Map<number, number>();
  first = 0;
  last = -1;
  bytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(walDir: string) {
    this.walDir = walDir;
  }

  async refresh(): Promise<void> {
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

import type { StatusSnapshot } from '../src/status/types.ts';

/**
 * Send-rate history per remote endpoint, built from successive snapshots (the snapshot itself only carries the
 * current rate). One point per `stepMs` of snapshot time, so the sparkline's x axis is time, not refresh count.
 */
export class RateHistory {
  private readonly points = new Map<string, number[]>();
  private lastAt = Number.NEGATIVE_INFINITY;
  private lastSeen: StatusSnapshot | null = null;
  private readonly capacity: number;
  private readonly stepMs: number;

  constructor(capacity = 60, stepMs = 1000) {
    this.capacity = capacity;
    this.stepMs = stepMs;
  }

  /** Idempotent per snapshot, so calling it during render (which React may repeat) is safe. */
  observe(s: StatusSnapshot): void {
    if (s === this.lastSeen) return;
    this.lastSeen = s;
    const newPoint = s.at - this.lastAt >= this.stepMs;
    if (newPoint) this.lastAt = s.at;
    const live = new Set<string>();
    for (const r of s.remote) {
      live.add(r.name);
      let pts = this.points.get(r.name);
      if (pts === undefined) {
        pts = [];
        this.points.set(r.name, pts);
      }
      if (newPoint || pts.length === 0) {
        pts.push(r.sendRate);
        if (pts.length > this.capacity) pts.splice(0, pts.length - this.capacity);
      } else {
        // Within the same step the newest value wins, so the last point is never stale.
        pts[pts.length - 1] = r.sendRate;
      }
    }
    for (const name of this.points.keys()) if (!live.has(name)) this.points.delete(name);
  }

  get(name: string): readonly number[] {
    return this.points.get(name) ?? [];
  }
}

import type { RemoteStatus } from '../status/types.ts';
import { f64At } from '../util/columns.ts';

/**
 * A fixed ring of send rates per remote-write endpoint, sampled on one coarse timer, so the UI can
 * draw a sparkline on first load instead of waiting for its own polls. Memory is bounded by
 * points × endpoints; endpoints that disappear from the config are forgotten on the next sample.
 */
export class ThroughputHistory {
  private readonly points: number;
  private readonly rings = new Map<string, { values: Float64Array; next: number; filled: number }>();

  constructor(points: number) {
    this.points = points;
  }

  sample(remote: readonly RemoteStatus[]): void {
    const seen = new Set<string>();
    for (const r of remote) {
      const key = endpointKey(r);
      seen.add(key);
      let ring = this.rings.get(key);
      if (!ring) {
        ring = { values: new Float64Array(this.points), next: 0, filled: 0 };
        this.rings.set(key, ring);
      }
      ring.values[ring.next] = Number.isFinite(r.sendRate) ? r.sendRate : 0;
      ring.next = (ring.next + 1) % this.points;
      if (ring.filled < this.points) ring.filled++;
    }
    for (const key of this.rings.keys()) if (!seen.has(key)) this.rings.delete(key);
  }

  /** Oldest first. */
  series(r: RemoteStatus): number[] {
    const ring = this.rings.get(endpointKey(r));
    if (!ring) return [];
    const out = new Array<number>(ring.filled);
    const start = (ring.next - ring.filled + this.points) % this.points;
    for (let k = 0; k < ring.filled; k++) out[k] = f64At(ring.values, (start + k) % this.points);
    return out;
  }
}

function endpointKey(r: RemoteStatus): string {
  return `${r.name}\u0000${r.url}`;
}

/**
 * The interface every service-discovery mechanism implements, plus the refresh loop shared by the
 * poll-based ones (http, dns), which behaves as Prometheus' discovery/refresh: one refresh right
 * away, then one per interval; a failed refresh is counted, logged and sends nothing, so the
 * consumer keeps the last list it got.
 */
import type { TargetGroup } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { sleep, type Clock } from '../util/clock.ts';
import { errorMessage, OutpostError } from '../util/errors.ts';
import type { RefreshMetrics } from './metrics.ts';

export interface Discoverer {
  /**
   * Runs until `signal` aborts. Each `emit` carries the discoverer's complete current list (it
   * replaces everything emitted before); nothing is emitted while a source is failing.
   */
  run(signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void>;
}

/** A discovery source could not be read or did not hold a valid target group list. */
export class DiscoveryError extends OutpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUTPOST_SD_FAILED', message, options);
  }
}

export interface RefreshLoopOptions {
  readonly mechanism: 'http' | 'dns';
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: RefreshMetrics;
  readonly refresh: (signal: AbortSignal) => Promise<TargetGroup[]>;
}

export async function runRefreshLoop(
  o: RefreshLoopOptions,
  signal: AbortSignal,
  emit: (groups: TargetGroup[]) => void,
): Promise<void> {
  const labels = { mechanism: o.mechanism };
  // Zero-valued series appear at once, as Prometheus' vectors do once a mechanism is in use.
  o.metrics.failures.inc(labels, 0);
  while (!signal.aborted) {
    const t0 = performance.now();
    let groups: TargetGroup[] | undefined;
    try {
      groups = await o.refresh(signal);
    } catch (err) {
      if (!signal.aborted) {
        o.metrics.failures.inc(labels);
        o.log.error('Unable to refresh target groups', { err: errorMessage(err) });
      }
    }
    o.metrics.duration.observe(labels, (performance.now() - t0) / 1000);
    if (signal.aborted) break;
    if (groups) emit(groups);
    await sleep(o.clock, o.intervalMs, signal);
  }
}

import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One explicit registry per agent process (never prom-client's global one), so tests can create
 * as many agents as they like without "already registered" clashes.
 */
export function createRegistry(opts: { defaultMetrics?: boolean } = {}): Registry {
  const reg = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: reg, eventLoopMonitoringPrecision: 20 });
  return reg;
}

export type { Registry };

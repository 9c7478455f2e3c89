import { Registry } from 'prom-client';
import { registerRuntimeMetrics } from './runtime.ts';

/**
 * One explicit registry per agent process (never prom-client's global one), so tests can create
 * as many agents as they like without "already registered" clashes.
 */
export function createRegistry(): Registry {
  const reg = new Registry();
  registerRuntimeMetrics(reg);
  return reg;
}

export type { Registry };

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * How often the event-loop delay histogram behind nodejs_eventloop_lag_{min,max,mean,p50,...}_seconds
 * takes a sample. It is a libuv timer of its own: at 20 ms it woke an idle agent 50 times a second,
 * most of its idle CPU. A blocked loop still shows in max (the sample timer is held up with everything
 * else); nodejs_eventloop_lag_seconds is measured at each scrape regardless.
 */
const EVENT_LOOP_SAMPLE_MS = 1000;

/**
 * One explicit registry per agent process (never prom-client's global one), so tests can create
 * as many agents as they like without "already registered" clashes.
 */
export function createRegistry(opts: { defaultMetrics?: boolean } = {}): Registry {
  const reg = new Registry();
  if (opts.defaultMetrics ?? true)
    collectDefaultMetrics({ register: reg, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return reg;
}

/**
 * A counter whose value is read from `get` at scrape time: for totals a component keeps anyway, so
 * the hot path pays nothing for the metric.
 */
export function collectedCounter(reg: Registry, name: string, help: string, get: () => number): Counter {
  const collect = function (this: Counter): void {
    this.reset();
    this.inc(get());
  };
  return new Counter({ name, help, registers: [reg], collect });
}

/** A gauge whose value is read from `get` at scrape time. */
export function collectedGauge(reg: Registry, name: string, help: string, get: () => number): Gauge {
  const collect = function (this: Gauge): void {
    this.set(get());
  };
  return new Gauge({ name, help, registers: [reg], collect });
}

export type { Registry };

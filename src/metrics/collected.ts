import { Counter, Gauge, type Registry } from 'prom-client';

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

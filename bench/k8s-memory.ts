/**
 * Memory of kubernetes_sd_configs (role pod) at PODS (default 10000) realistic pods: the heap the
 * discoverer keeps after the first list, after every pod changed (watch events), and after a 410
 * Gone made it list everything again. The fake API server (test/helpers/kube-api.ts) runs in a
 * worker thread, so only the discoverer's objects are in the measured heap.
 *
 *   npm run bench:k8s                 # PODS=20000 npm run bench:k8s, LAST_APPLIED=0 npm run bench:k8s
 */
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { parseConfig } from '../src/config/load.ts';
import type { TargetGroup } from '../src/config/types.ts';
import { KubernetesDiscoverer } from '../src/discovery/kubernetes/discoverer.ts';
import { SdMetrics } from '../src/discovery/metrics.ts';
import { createLogger } from '../src/log/logger.ts';
import { createRegistry } from '../src/metrics/registry.ts';
import { systemClock } from '../src/util/clock.ts';

const PODS = Number(process.env.PODS ?? 10_000);
/** LAST_APPLIED=0: pods without the kubectl last-applied-configuration annotation (which becomes a label). */
const LAST_APPLIED = process.env.LAST_APPLIED !== '0';
const MB = 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:k8s does)');

function heap(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return v8.getHeapStatistics().used_heap_size;
}

const worker = new Worker(new URL('./k8s-api-worker.ts', import.meta.url), {
  workerData: { pods: PODS, lastApplied: LAST_APPLIED },
});
const messages: unknown[] = [];
let wake: (() => void) | null = null;
worker.on('message', (m) => {
  messages.push(m);
  wake?.();
});
async function next(): Promise<Record<string, unknown>> {
  while (messages.length === 0) await new Promise<void>((r) => (wake = r));
  return messages.shift() as Record<string, unknown>;
}

const started = await next();
const url = started.url as string;
const before = heap();
const cfg = parseConfig(
  `scrape_configs:\n  - job_name: pods\n    kubernetes_sd_configs: [{role: pod, api_server: "${url}"}]\n`,
  'bench.yml',
);
const sd = cfg.scrapeConfigs[0]?.kubernetesSdConfigs[0];
if (!sd) throw new Error('no config');
const d = new KubernetesDiscoverer({
  config: sd,
  log: createLogger({ level: 'error', write: () => {} }),
  metrics: new SdMetrics(createRegistry()),
  clock: systemClock,
  userAgent: 'bench',
});
let last: TargetGroup[] = [];
let emits = 0;
const ac = new AbortController();
const running = d.run(ac.signal, (g) => {
  last = g;
  emits++;
});
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}
const targetsOf = (gs: TargetGroup[]): number => gs.reduce((n, g) => n + g.targets.length, 0);

let t0 = Date.now();
await until(() => last.length === PODS);
const listMs = Date.now() - t0;
const afterList = heap();

t0 = Date.now();
worker.postMessage({ op: 'churn', round: 1 });
await next();
await until(() => last.every((g) => g.labels.includes('1.1.0')));
const churnMs = Date.now() - t0;
const afterChurn = heap();

const emitsBefore = emits;
t0 = Date.now();
worker.postMessage({ op: 'compact' });
await next();
worker.postMessage({ op: 'churn', round: 2 });
await next();
await until(() => emits > emitsBefore && last.every((g) => g.labels.includes('1.2.0')));
const relistMs = Date.now() - t0;
const afterRelist = heap();

ac.abort();
await running;
worker.postMessage({ op: 'close' });

const per = (b: number): string => `${((b - before) / MB).toFixed(1)} MiB (${Math.round((b - before) / PODS)} B/pod)`;
console.log(
  `kubernetes_sd role pod, ${PODS} pods (${targetsOf(last)} targets), pod JSON ${started.podJsonBytes} B each`,
);
console.log(`  after the first list (${listMs} ms):            ${per(afterList)}`);
console.log(`  after every pod changed once (${churnMs} ms):   ${per(afterChurn)}`);
console.log(`  after 410 Gone and a full relist (${relistMs} ms): ${per(afterRelist)}`);
console.log(`  for scale: the pods' JSON is ${((Number(started.podJsonBytes) * PODS) / MB).toFixed(0)} MiB`);

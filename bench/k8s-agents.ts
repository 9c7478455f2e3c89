/**
 * Whole-agent memory with kubernetes_sd_configs at PODS (default 10000) realistic pods: the bundle
 * (dist/outpost.mjs: run `npm run build` first) against the fake API server (test/helpers/kube-api.ts,
 * in a worker thread of this process). No side-by-side figure: Debian's Prometheus 2.42 is built
 * without Kubernetes discovery (it refuses `kubernetes_sd_configs`). Each pod's `metrics` container ports are kept (2 targets a pod), their addresses
 * rewritten to a closed 127.0.0.1 port and scraped once an hour, so nothing leaves the box and
 * scraping costs nothing; the other ports are dropped by relabeling. Reported: RSS once every
 * target is listed and after SETTLE_S (30) more seconds, and the same for an empty cluster.
 *
 *   npm run build && npm run bench:k8s:agent          # PODS=5000 npm run bench:k8s:agent
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const ROOT = path.resolve(import.meta.dirname, '..');
const PODS = Number(process.env.PODS ?? 10_000);
const SETTLE_S = Number(process.env.SETTLE_S ?? 30);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function rssMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function fakeApi(pods: number): Promise<{ url: string; close(): Promise<void> }> {
  const worker = new Worker(new URL('./k8s-api-worker.ts', import.meta.url), {
    workerData: { pods, lastApplied: true },
  });
  const url = await new Promise<string>((resolve) => worker.once('message', (m: { url: string }) => resolve(m.url)));
  return {
    url,
    close: async () => {
      worker.postMessage({ op: 'close' });
      await new Promise((r) => worker.once('exit', r));
    },
  };
}

function config(url: string): string {
  return [
    'scrape_configs:',
    '  - job_name: pods',
    '    scrape_interval: 1h',
    '    scrape_timeout: 1s',
    `    kubernetes_sd_configs: [{role: pod, api_server: "${url}"}]`,
    '    relabel_configs:',
    '      - {source_labels: [__meta_kubernetes_pod_container_port_name], regex: metrics, action: keep}',
    '      - {source_labels: [__address__], target_label: instance}',
    '      - {target_label: __address__, replacement: "127.0.0.1:9"}',
    '      - {action: labelmap, regex: __meta_kubernetes_pod_label_(.+)}',
    '',
  ].join('\n');
}

async function measure(pods: number): Promise<{ listed: number; settled: number; seconds: number }> {
  const api = await fakeApi(pods);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k8s-bench-'));
  const cfg = path.join(dir, 'agent.yml');
  await fs.writeFile(cfg, config(api.url));
  const port = await freePort();
  const common = [
    `--config.file=${cfg}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--storage.agent.path=${path.join(dir, 'data')}`,
  ];
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist/outpost.mjs'), '--no-tui', ...common], {
    stdio: 'ignore',
  });
  const t0 = Date.now();
  try {
    const want = pods * 2;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`outpost exited with ${proc.exitCode}`);
      if (Date.now() - t0 > 300_000) throw new Error(`outpost did not list ${want} targets in 5 minutes`);
      try {
        // Not /api/v1/targets: 20,000 targets with every discovered label are ~150 MB of JSON, whose
        // building would be measured instead of the agent.
        const r = await fetch(`http://127.0.0.1:${port}/metrics`);
        const m = /^prometheus_target_scrape_pool_targets\{scrape_job="pods"\} (\d+)$/m.exec(await r.text());
        if (Number(m?.[1] ?? -1) >= want) break;
      } catch {
        // not up yet
      }
      await sleep(1000);
    }
    const seconds = (Date.now() - t0) / 1000;
    const listed = await rssMb(proc.pid as number);
    await sleep(SETTLE_S * 1000);
    return { listed, settled: await rssMb(proc.pid as number), seconds };
  } finally {
    proc.kill('SIGKILL');
    await api.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const empty = await measure(0);
const full = await measure(PODS);
console.log(
  `Outpost, kubernetes_sd role pod, ${PODS} pods (${2 * PODS} targets kept, ${2 * PODS} dropped), RSS in MiB`,
);
console.log(`  empty cluster:                      ${empty.settled.toFixed(0)}`);
console.log(`  ${PODS} pods, all targets listed (${full.seconds.toFixed(0)} s): ${full.listed.toFixed(0)}`);
console.log(
  `  ${SETTLE_S} s later:                          ${full.settled.toFixed(0)} (+${(full.settled - empty.settled).toFixed(0)} for the pods)`,
);

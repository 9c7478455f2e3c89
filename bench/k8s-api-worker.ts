/**
 * The fake Kubernetes API server of bench/k8s-memory.ts, in a worker thread so its own objects stay
 * out of the measured heap. Messages: {op: 'churn', round} modifies every pod, {op: 'compact'} forgets
 * the history and cuts the watches (the client must list again).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FakeKubeApi, type KubeObject } from '../test/helpers/kube-api.ts';

const { pods, lastApplied } = workerData as { pods: number; lastApplied: boolean };

/** A pod as a real cluster serves it: managed fields, env, volumes, probes, a last-applied annotation. */
function realisticPod(i: number, round: number): KubeObject {
  const name = `app-${Math.floor(i / 10)}-${(i * 2654435761) % 100000}`;
  const labels = {
    app: `app-${Math.floor(i / 10)}`,
    'app.kubernetes.io/name': `app-${Math.floor(i / 10)}`,
    'app.kubernetes.io/instance': 'prod',
    'app.kubernetes.io/version': `1.${round}.0`,
    'pod-template-hash': '7d9f8c6b5',
    team: `team-${i % 20}`,
  };
  const container = (n: string, port: number, metricsPort: number) => ({
    name: n,
    image: `registry.example.com/${n}:1.${round}.0`,
    ports: [
      { name: 'http', containerPort: port, protocol: 'TCP' },
      { name: 'metrics', containerPort: metricsPort, protocol: 'TCP' },
    ],
    env: Array.from({ length: 15 }, (_, k) => ({ name: `SETTING_${k}`, value: `value-${k}-${'x'.repeat(20)}` })),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    livenessProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 10 },
    readinessProbe: { httpGet: { path: '/ready', port }, periodSeconds: 5 },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/app' },
      { name: 'kube-api-access', mountPath: '/var/run/secrets' },
    ],
  });
  const spec = {
    nodeName: `node-${i % 100}`,
    serviceAccountName: 'default',
    containers: [container('app', 8080, 9100), container('sidecar', 8081, 9101)],
    volumes: [
      { name: 'config', configMap: { name: 'app-config' } },
      { name: 'kube-api-access', projected: { sources: [] } },
    ],
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: `ns-${i % 50}`,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      labels,
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9100',
        ...(lastApplied
          ? { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ metadata: { labels }, spec }) }
          : {}),
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `app-${Math.floor(i / 10)}-7d9f8c6b5`,
          uid: 'x',
          controller: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          fieldsV1: { 'f:metadata': { 'f:labels': {} }, 'f:spec': {} },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          subresource: 'status',
          fieldsV1: { 'f:status': { 'f:conditions': {} } },
        },
      ],
    },
    spec,
    status: {
      phase: 'Running',
      hostIP: `192.168.${Math.floor(i / 250) % 250}.${i % 250}`,
      podIP: `10.${Math.floor(i / 65536) % 256}.${Math.floor(i / 256) % 256}.${i % 256}`,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True' })),
      containerStatuses: ['app', 'sidecar'].map((n) => ({
        name: n,
        containerID: `containerd://${String(i).padStart(64, '0')}`,
        image: `registry.example.com/${n}:1.${round}.0`,
        ready: true,
        restartCount: 0,
      })),
    },
  };
}

const api = new FakeKubeApi();
for (let i = 0; i < pods; i++) api.upsert('pods', realisticPod(i, 0));
const url = await api.start();
parentPort?.postMessage({
  url,
  podJsonBytes: JSON.stringify(realisticPod(1, 0)).length,
  lastAppliedBytes:
    JSON.stringify(realisticPod(1, 0)).length -
    JSON.stringify({ ...realisticPod(1, 0), metadata: { ...realisticPod(1, 0).metadata, annotations: {} } }).length,
});
parentPort?.on('message', (m: { op: string; round?: number }) => {
  if (m.op === 'churn') for (let i = 0; i < pods; i++) api.upsert('pods', realisticPod(i, m.round ?? 1));
  if (m.op === 'compact') {
    api.compact();
    api.dropWatches();
  }
  if (m.op === 'close') void api.close().then(() => process.exit(0));
  parentPort?.postMessage({ done: m.op });
});

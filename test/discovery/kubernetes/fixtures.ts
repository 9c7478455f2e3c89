/** Kubernetes objects for the discovery tests, shaped as the API serves them (only the fields that matter). */
import type { KubeObject } from '../../helpers/kube-api.ts';

export function pod(
  ns: string,
  name: string,
  o: {
    ip?: string;
    node?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ports?: { name?: string; containerPort: number; protocol?: string }[];
    phase?: string;
    ready?: 'True' | 'False';
    owner?: { kind: string; name: string };
    init?: boolean;
  } = {},
): KubeObject {
  const containers = [{ name: 'app', image: 'example/app:1', ports: o.ports ?? [] }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: `uid-${ns}-${name}`,
      labels: o.labels ?? {},
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', ...o.owner, controller: true, uid: 'x' }] } : {}),
      managedFields: [{ manager: 'kubelet', operation: 'Update', fieldsV1: { 'f:status': {} } }],
    },
    spec: {
      nodeName: o.node ?? 'node-a',
      containers,
      ...(o.init ? { initContainers: [{ name: 'setup', image: 'example/setup:1' }] } : {}),
    },
    status: {
      phase: o.phase ?? 'Running',
      hostIP: '192.168.0.10',
      ...(o.ip === '' ? {} : { podIP: o.ip ?? '10.0.0.1' }),
      conditions: [{ type: 'Ready', status: o.ready ?? 'True' }],
      containerStatuses: [{ name: 'app', containerID: `containerd://${name}-app` }],
    },
  };
}

export function service(ns: string, name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  };
}

export function endpointSlice(
  ns: string,
  name: string,
  svc: string,
  endpoints: { ip: string; pod?: string; node?: string; ready?: boolean }[],
  port = 8080,
): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: 'web', port, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false },
      ...(e.node ? { nodeName: e.node } : {}),
      zone: 'zone-a',
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: ns } } : {}),
    })),
  };
}

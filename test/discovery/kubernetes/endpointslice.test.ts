/**
 * kubernetes_sd_configs role endpointslice against the fake API server: the slice, its service and
 * its pods are each listed and watched, and churn on any of them reaches the groups. Expected label
 * sets follow Prometheus' discovery/kubernetes/endpointslice.go (buildEndpointSlice: group and
 * endpoint labels, container port labels of the targeted pod, extra targets for container ports no
 * endpoint port covers), service.go (serviceLabels) and pod.go (podLabels).
 */
import test from 'ava';
import { FakeKubeApi } from '../../helpers/kube-api.ts';
import { Run, waitFor } from '../helpers.ts';
import { endpointSlice, pod, service } from './fixtures.ts';
import { discoverer, plainGroups } from './helpers.ts';

/** pod.go podLabels for the fixture pod (namespace comes from the group). */
function podLabels(name: string, ip: string, ready: string, labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {
    __meta_kubernetes_pod_host_ip: '192.168.0.10',
    __meta_kubernetes_pod_ip: ip,
    __meta_kubernetes_pod_name: name,
    __meta_kubernetes_pod_node_name: 'node-a',
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_ready: ready,
    __meta_kubernetes_pod_uid: `uid-default-${name}`,
  };
  for (const [k, v] of Object.entries(labels)) {
    out[`__meta_kubernetes_pod_label_${k}`] = v;
    out[`__meta_kubernetes_pod_labelpresent_${k}`] = 'true';
  }
  return out;
}

function sliceTarget(ip: string, podName: string, ready: boolean): Record<string, string> {
  return {
    __address__: `${ip}:8080`,
    __meta_kubernetes_endpointslice_address_target_kind: 'Pod',
    __meta_kubernetes_endpointslice_address_target_name: podName,
    __meta_kubernetes_endpointslice_endpoint_conditions_ready: String(ready),
    __meta_kubernetes_endpointslice_endpoint_conditions_serving: String(ready),
    __meta_kubernetes_endpointslice_endpoint_conditions_terminating: 'false',
    __meta_kubernetes_endpointslice_endpoint_node_name: 'node-a',
    __meta_kubernetes_endpointslice_endpoint_zone: 'zone-a',
    __meta_kubernetes_endpointslice_port: '8080',
    __meta_kubernetes_endpointslice_port_name: 'web',
    __meta_kubernetes_endpointslice_port_protocol: 'TCP',
  };
}

const HTTP_PORT = {
  __meta_kubernetes_pod_container_image: 'example/app:1',
  __meta_kubernetes_pod_container_init: 'false',
};

test('role endpointslice: slice, service and pod labels, and churn on each of the three', async (t) => {
  const a = new FakeKubeApi();
  await a.start();
  t.teardown(() => a.close());
  const ports = [
    { name: 'http', containerPort: 8080, protocol: 'TCP' },
    { name: 'metrics', containerPort: 9100, protocol: 'TCP' },
  ];
  a.upsert('services', service('default', 'web', { app: 'web' }));
  a.upsert('pods', pod('default', 'web-1', { ip: '10.0.0.1', labels: { app: 'web' }, ports }));
  a.upsert(
    'pods',
    pod('default', 'web-2', {
      ip: '10.0.0.2',
      labels: { app: 'web' },
      ports: [ports[0] as (typeof ports)[0]],
      ready: 'False',
    }),
  );
  a.upsert(
    'endpointslices',
    endpointSlice('default', 'web-abc', 'web', [
      { ip: '10.0.0.1', pod: 'web-1', node: 'node-a' },
      { ip: '10.0.0.2', pod: 'web-2', node: 'node-a', ready: false },
    ]),
  );
  const { d } = discoverer(`      - role: endpointslice\n        api_server: ${a.url}\n`);
  const run = new Run(d);
  t.teardown(() => run.stop());
  const [g] = plainGroups(await run.emitted(1));
  t.is(g?.source, 'endpointslice/default/web-abc');
  t.deepEqual(g?.labels, {
    // endpointslice.go buildEndpointSlice + kubernetes.go addObjectMetaLabels for the slice ...
    __meta_kubernetes_namespace: 'default',
    __meta_kubernetes_endpointslice_address_type: 'IPv4',
    __meta_kubernetes_endpointslice_name: 'web-abc',
    __meta_kubernetes_endpointslice_label_kubernetes_io_service_name: 'web',
    __meta_kubernetes_endpointslice_labelpresent_kubernetes_io_service_name: 'true',
    // ... and service.go serviceLabels for the service named by kubernetes.io/service-name.
    __meta_kubernetes_service_name: 'web',
    __meta_kubernetes_service_label_app: 'web',
    __meta_kubernetes_service_labelpresent_app: 'true',
  });
  t.deepEqual(g?.targets, [
    {
      ...sliceTarget('10.0.0.1', 'web-1', true),
      ...podLabels('web-1', '10.0.0.1', 'true', { app: 'web' }),
      // The container port the endpoint port matches (endpointslice.go: the container port's protocol).
      __meta_kubernetes_pod_container_name: 'app',
      __meta_kubernetes_pod_container_port_name: 'http',
      __meta_kubernetes_pod_container_port_number: '8080',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      ...HTTP_PORT,
    },
    {
      ...sliceTarget('10.0.0.2', 'web-2', false),
      ...podLabels('web-2', '10.0.0.2', 'false', { app: 'web' }),
      __meta_kubernetes_pod_container_name: 'app',
      __meta_kubernetes_pod_container_port_name: 'http',
      __meta_kubernetes_pod_container_port_number: '8080',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      ...HTTP_PORT,
    },
    // web-1's metrics port is behind no endpoint port: a target of its own, without endpoint labels.
    {
      __address__: '10.0.0.1:9100',
      ...podLabels('web-1', '10.0.0.1', 'true', { app: 'web' }),
      __meta_kubernetes_pod_container_name: 'app',
      __meta_kubernetes_pod_container_port_name: 'metrics',
      __meta_kubernetes_pod_container_port_number: '9100',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      ...HTTP_PORT,
    },
  ]);
  const only = (): ReturnType<typeof plainGroups>[number] | undefined => plainGroups(run.last)[0];

  // Slice churn: web-2 becomes ready.
  a.upsert(
    'endpointslices',
    endpointSlice('default', 'web-abc', 'web', [
      { ip: '10.0.0.1', pod: 'web-1', node: 'node-a' },
      { ip: '10.0.0.2', pod: 'web-2', node: 'node-a', ready: true },
    ]),
  );
  await waitFor(
    () => only()?.targets[1]?.__meta_kubernetes_endpointslice_endpoint_conditions_ready === 'true',
    'the ready endpoint',
  );
  // Service churn: a new service label shows on the slice's group.
  a.upsert('services', service('default', 'web', { app: 'web', tier: 'front' }));
  await waitFor(() => only()?.labels.__meta_kubernetes_service_label_tier === 'front', 'the service label');
  // Pod churn: a pod label change shows on its targets.
  a.upsert('pods', pod('default', 'web-1', { ip: '10.0.0.1', labels: { app: 'web', version: 'v2' }, ports }));
  await waitFor(() => only()?.targets[0]?.__meta_kubernetes_pod_label_version === 'v2', 'the pod label');
  t.is(only()?.targets[2]?.__meta_kubernetes_pod_label_version, 'v2', 'on the extra target too');
  // A second slice, then the first one goes.
  a.upsert('endpointslices', endpointSlice('default', 'web-def', 'web', [{ ip: '10.0.0.3' }], 8081));
  await waitFor(() => run.last.length === 2, 'the second slice');
  a.remove('endpointslices', 'default', 'web-abc');
  await waitFor(() => run.last.length === 1 && run.last[0]?.source === 'endpointslice/default/web-def', 'the deletion');
  t.deepEqual(only()?.targets, [
    {
      __address__: '10.0.0.3:8081',
      __meta_kubernetes_endpointslice_endpoint_conditions_ready: 'true',
      __meta_kubernetes_endpointslice_endpoint_conditions_serving: 'true',
      __meta_kubernetes_endpointslice_endpoint_conditions_terminating: 'false',
      __meta_kubernetes_endpointslice_endpoint_zone: 'zone-a',
      __meta_kubernetes_endpointslice_port: '8081',
      __meta_kubernetes_endpointslice_port_name: 'web',
      __meta_kubernetes_endpointslice_port_protocol: 'TCP',
    },
  ]);
  // One list each for slices, services and pods; everything after came from watches.
  t.deepEqual(
    ['endpointslices', 'services', 'pods'].map((r) => a.calls(r, false).length),
    [1, 1, 1],
  );
});

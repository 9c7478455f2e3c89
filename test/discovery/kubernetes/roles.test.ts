/**
 * Roles node, service, ingress and endpoints, and attach_metadata, against the fake API server. Each
 * expected label set names the Prometheus file (discovery/kubernetes/) whose labels it reproduces.
 */
import test from 'ava';
import { FakeKubeApi, type KubeObject } from '../../helpers/kube-api.ts';
import { Run, waitFor } from '../helpers.ts';
import { pod, service } from './fixtures.ts';
import { discoverer, plainGroups } from './helpers.ts';

async function api(t: { teardown(fn: () => Promise<void>): void }): Promise<FakeKubeApi> {
  const a = new FakeKubeApi();
  await a.start();
  t.teardown(() => a.close());
  return a;
}

function node(
  name: string,
  labels: Record<string, string> = {},
  addresses = [['InternalIP', '192.168.0.10']],
): KubeObject {
  return {
    kind: 'Node',
    metadata: { name, labels, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
    spec: { providerID: `aws:///eu-west-1a/i-${name}` },
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'MemoryPressure', status: 'False' },
      ],
      addresses: addresses.map(([type, address]) => ({ type, address })),
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    },
  };
}

test('role node: node.go labels, the address by priority, the kubelet port', async (t) => {
  const a = await api(t);
  a.upsert(
    'nodes',
    node('node-a', { 'kubernetes.io/hostname': 'node-a' }, [
      ['Hostname', 'node-a'],
      ['InternalIP', '192.168.0.10'],
      ['InternalIP', '192.168.0.11'],
      ['ExternalIP', '203.0.113.7'],
    ]),
  );
  a.upsert('nodes', node('no-address', {}, []));
  const { d } = discoverer(`      - role: node\n        api_server: ${a.url}\n`);
  const run = new Run(d);
  t.teardown(() => run.stop());
  t.deepEqual(plainGroups(await run.emitted(1)), [
    {
      source: 'node/node-a',
      // node.go nodeLabels + kubernetes.go addObjectMetaLabels.
      labels: {
        __meta_kubernetes_node_annotation_node_alpha_kubernetes_io_ttl: '0',
        __meta_kubernetes_node_annotationpresent_node_alpha_kubernetes_io_ttl: 'true',
        __meta_kubernetes_node_condition_memorypressure: 'false',
        __meta_kubernetes_node_condition_ready: 'true',
        __meta_kubernetes_node_label_kubernetes_io_hostname: 'node-a',
        __meta_kubernetes_node_labelpresent_kubernetes_io_hostname: 'true',
        __meta_kubernetes_node_name: 'node-a',
        __meta_kubernetes_node_provider_id: 'aws:///eu-west-1a/i-node-a',
      },
      // node.go buildNode: InternalIP first; the first address of each type; instance is the node name.
      targets: [
        {
          __address__: '192.168.0.10:10250',
          __meta_kubernetes_node_address_ExternalIP: '203.0.113.7',
          __meta_kubernetes_node_address_Hostname: 'node-a',
          __meta_kubernetes_node_address_InternalIP: '192.168.0.10',
          instance: 'node-a',
        },
      ],
    },
    // A node without any address gives no group ("No node address found").
  ]);
});

test('role service: service.go labels for ClusterIP, LoadBalancer and ExternalName services', async (t) => {
  const a = await api(t);
  a.upsert('services', service('default', 'web', { app: 'web' }));
  a.upsert('services', {
    kind: 'Service',
    metadata: { name: 'lb', namespace: 'default' },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.20', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }, { hostname: 'x.example' }, { ip: '203.0.113.2' }] } },
  });
  a.upsert('services', {
    kind: 'Service',
    metadata: { name: 'ext', namespace: 'other' },
    spec: { type: 'ExternalName', externalName: 'db.example.com', ports: [{ port: 5432, protocol: 'TCP' }] },
  });
  const { d } = discoverer(`      - role: service\n        api_server: ${a.url}\n`);
  const run = new Run(d);
  t.teardown(() => run.stop());
  const groups = plainGroups(await run.emitted(1));
  t.deepEqual(
    groups.map((g) => [g.source, g.targets]),
    [
      [
        'svc/default/lb',
        [
          {
            __address__: 'lb.default.svc:443',
            __meta_kubernetes_service_cluster_ip: '10.96.0.20',
            __meta_kubernetes_service_loadbalancer_ip: '203.0.113.1,203.0.113.2',
            __meta_kubernetes_service_port_name: 'https',
            __meta_kubernetes_service_port_number: '443',
            __meta_kubernetes_service_port_protocol: 'TCP',
            __meta_kubernetes_service_type: 'LoadBalancer',
          },
        ],
      ],
      [
        'svc/default/web',
        [
          {
            __address__: 'web.default.svc:80',
            __meta_kubernetes_service_cluster_ip: '10.96.0.10',
            __meta_kubernetes_service_port_name: 'http',
            __meta_kubernetes_service_port_number: '80',
            __meta_kubernetes_service_port_protocol: 'TCP',
            __meta_kubernetes_service_type: 'ClusterIP',
          },
        ],
      ],
      [
        'svc/other/ext',
        [
          {
            __address__: 'ext.other.svc:5432',
            __meta_kubernetes_service_external_name: 'db.example.com',
            __meta_kubernetes_service_port_name: '',
            __meta_kubernetes_service_port_number: '5432',
            __meta_kubernetes_service_port_protocol: 'TCP',
            __meta_kubernetes_service_type: 'ExternalName',
          },
        ],
      ],
    ],
  );
  t.deepEqual(groups[1]?.labels, {
    __meta_kubernetes_namespace: 'default',
    __meta_kubernetes_service_label_app: 'web',
    __meta_kubernetes_service_labelpresent_app: 'true',
    __meta_kubernetes_service_name: 'web',
  });
});

test('role ingress: ingress.go targets per rule and path, https for TLS hosts (wildcards too)', async (t) => {
  const a = await api(t);
  a.upsert('ingresses', {
    kind: 'Ingress',
    metadata: { name: 'site', namespace: 'web', labels: { team: 'a' } },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: ['*.example.com'] }],
      rules: [
        { host: 'shop.example.com', http: { paths: [{ path: '/api' }, { path: '' }] } },
        { host: 'plain.example.org' },
      ],
    },
  });
  const { d } = discoverer(`      - role: ingress\n        api_server: ${a.url}\n`);
  const run = new Run(d);
  t.teardown(() => run.stop());
  const [g] = plainGroups(await run.emitted(1));
  t.deepEqual(g, {
    source: 'ingress/web/site',
    labels: {
      __meta_kubernetes_ingress_class_name: 'nginx',
      __meta_kubernetes_ingress_label_team: 'a',
      __meta_kubernetes_ingress_labelpresent_team: 'true',
      __meta_kubernetes_ingress_name: 'site',
      __meta_kubernetes_namespace: 'web',
    },
    targets: [
      {
        __address__: 'shop.example.com',
        __meta_kubernetes_ingress_host: 'shop.example.com',
        __meta_kubernetes_ingress_path: '/api',
        __meta_kubernetes_ingress_scheme: 'https',
      },
      {
        __address__: 'shop.example.com',
        __meta_kubernetes_ingress_host: 'shop.example.com',
        __meta_kubernetes_ingress_path: '/',
        __meta_kubernetes_ingress_scheme: 'https',
      },
      {
        __address__: 'plain.example.org',
        __meta_kubernetes_ingress_host: 'plain.example.org',
        __meta_kubernetes_ingress_path: '/',
        __meta_kubernetes_ingress_scheme: 'http',
      },
    ],
  });
});

test('role endpoints: endpoints.go ready and not-ready addresses, service and pod labels, the endpoint port protocol', async (t) => {
  const a = await api(t);
  a.upsert('services', service('default', 'web'));
  a.upsert(
    'pods',
    pod('default', 'web-1', { ip: '10.0.0.1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }),
  );
  a.upsert('endpoints', {
    kind: 'Endpoints',
    metadata: { name: 'web', namespace: 'default' },
    subsets: [
      {
        addresses: [
          { ip: '10.0.0.1', nodeName: 'node-a', targetRef: { kind: 'Pod', name: 'web-1', namespace: 'default' } },
        ],
        notReadyAddresses: [{ ip: '10.0.0.9', hostname: 'web-9' }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  });
  const { d } = discoverer(`      - role: endpoints\n        api_server: ${a.url}\n`);
  const run = new Run(d);
  t.teardown(() => run.stop());
  const [g] = plainGroups(await run.emitted(1));
  t.deepEqual(g?.labels, {
    __meta_kubernetes_endpoints_name: 'web',
    __meta_kubernetes_namespace: 'default',
    __meta_kubernetes_service_name: 'web',
  });
  t.deepEqual(g?.targets, [
    {
      __address__: '10.0.0.1:8080',
      __meta_kubernetes_endpoint_address_target_kind: 'Pod',
      __meta_kubernetes_endpoint_address_target_name: 'web-1',
      __meta_kubernetes_endpoint_node_name: 'node-a',
      __meta_kubernetes_endpoint_port_name: 'http',
      __meta_kubernetes_endpoint_port_protocol: 'TCP',
      __meta_kubernetes_endpoint_ready: 'true',
      __meta_kubernetes_pod_container_image: 'example/app:1',
      __meta_kubernetes_pod_container_init: 'false',
      __meta_kubernetes_pod_container_name: 'app',
      __meta_kubernetes_pod_container_port_name: 'http',
      __meta_kubernetes_pod_container_port_number: '8080',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      __meta_kubernetes_pod_host_ip: '192.168.0.10',
      __meta_kubernetes_pod_ip: '10.0.0.1',
      __meta_kubernetes_pod_name: 'web-1',
      __meta_kubernetes_pod_node_name: 'node-a',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_uid: 'uid-default-web-1',
    },
    {
      __address__: '10.0.0.9:8080',
      __meta_kubernetes_endpoint_hostname: 'web-9',
      __meta_kubernetes_endpoint_port_name: 'http',
      __meta_kubernetes_endpoint_port_protocol: 'TCP',
      __meta_kubernetes_endpoint_ready: 'false',
    },
  ]);
  // A pod phase change reaches the endpoints' group.
  a.upsert(
    'pods',
    pod('default', 'web-1', { ip: '10.0.0.1', phase: 'Failed', ports: [{ name: 'http', containerPort: 8080 }] }),
  );
  await waitFor(
    () => plainGroups(run.last)[0]?.targets[0]?.__meta_kubernetes_pod_phase === 'Failed',
    'the phase change',
  );
  t.pass();
});

test('attach_metadata node and namespace: node and namespace labels on pod groups; pods on unselected nodes are left out', async (t) => {
  const a = await api(t);
  a.upsert('nodes', node('node-a', { zone: 'a', pool: 'web' }));
  a.upsert('nodes', node('node-b', { zone: 'b', pool: 'batch' }));
  a.upsert('namespaces', { kind: 'Namespace', metadata: { name: 'default', labels: { env: 'prod' } } });
  a.upsert('pods', pod('default', 'on-a', { ip: '10.0.0.1', node: 'node-a', ports: [{ containerPort: 80 }] }));
  a.upsert('pods', pod('default', 'on-b', { ip: '10.0.0.2', node: 'node-b', ports: [{ containerPort: 80 }] }));
  const { d } = discoverer(
    `      - role: pod\n        api_server: ${a.url}\n        attach_metadata: {node: true, namespace: true}\n` +
      '        selectors: [{role: node, label: pool=web}]\n',
  );
  const run = new Run(d);
  t.teardown(() => run.stop());
  const groups = plainGroups(await run.emitted(1));
  t.deepEqual(
    groups.map((g) => g.source),
    ['pod/default/on-a'],
    'pod.go buildPod skips pods whose node the node selector left out',
  );
  const labels = groups[0]?.labels ?? {};
  // endpoints.go addNodeLabels and addNamespaceLabels (kubernetes.go addNamespaceMetaLabels: no name label).
  t.is(labels.__meta_kubernetes_node_name, 'node-a');
  t.is(labels.__meta_kubernetes_node_label_zone, 'a');
  t.is(labels.__meta_kubernetes_node_labelpresent_pool, 'true');
  t.is(labels.__meta_kubernetes_namespace_label_env, 'prod');
  t.is(labels.__meta_kubernetes_namespace_labelpresent_env, 'true');
  t.false('__meta_kubernetes_namespace_name' in labels);
  // A node label change rebuilds the pods on that node; a namespace label change those in it.
  a.upsert('nodes', node('node-a', { zone: 'a2', pool: 'web' }));
  await waitFor(() => plainGroups(run.last)[0]?.labels.__meta_kubernetes_node_label_zone === 'a2', 'the node label');
  a.upsert('namespaces', { kind: 'Namespace', metadata: { name: 'default', labels: { env: 'staging' } } });
  await waitFor(
    () => plainGroups(run.last)[0]?.labels.__meta_kubernetes_namespace_label_env === 'staging',
    'the namespace label',
  );
  t.deepEqual(a.calls('nodes', false)[0]?.query.get('labelSelector'), 'pool=web');
});

test('attach_metadata deployment, job and cronjob: pod.go podLabels names the owners of the pod', async (t) => {
  const a = await api(t);
  const owned = (kind: string, name: string, ns: string, owner: { kind: string; name: string }): KubeObject => ({
    kind,
    metadata: { name, namespace: ns, ownerReferences: [{ ...owner, controller: true, uid: 'u', apiVersion: 'v1' }] },
  });
  a.upsert('replicasets', owned('ReplicaSet', 'web-7d9f', 'default', { kind: 'Deployment', name: 'web' }));
  a.upsert('jobs', owned('Job', 'backup-2912', 'default', { kind: 'CronJob', name: 'backup' }));
  a.upsert(
    'pods',
    pod('default', 'web-7d9f-x', { ports: [{ containerPort: 80 }], owner: { kind: 'ReplicaSet', name: 'web-7d9f' } }),
  );
  a.upsert(
    'pods',
    pod('default', 'backup-2912-y', {
      ip: '10.0.0.2',
      ports: [{ containerPort: 80 }],
      owner: { kind: 'Job', name: 'backup-2912' },
    }),
  );
  const { d } = discoverer(
    `      - role: pod\n        api_server: ${a.url}\n        attach_metadata: {deployment: true, job: true, cronjob: true}\n`,
  );
  const run = new Run(d);
  t.teardown(() => run.stop());
  const groups = plainGroups(await run.emitted(1));
  const owners = (g: (typeof groups)[number] | undefined): Record<string, string> =>
    Object.fromEntries(
      Object.entries(g?.labels ?? {}).filter(([k]) => /_(deployment|job|cronjob|controller)_/.test(k)),
    );
  t.deepEqual(owners(groups[0]), {
    __meta_kubernetes_pod_controller_kind: 'Job',
    __meta_kubernetes_pod_controller_name: 'backup-2912',
    __meta_kubernetes_pod_cronjob_name: 'backup',
    __meta_kubernetes_pod_job_name: 'backup-2912',
  });
  t.deepEqual(owners(groups[1]), {
    __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
    __meta_kubernetes_pod_controller_name: 'web-7d9f',
    __meta_kubernetes_pod_deployment_name: 'web',
  });
  t.deepEqual(
    ['replicasets', 'jobs'].map((r) => a.calls(r, false)[0]?.namespace),
    ['', ''],
    'listed across namespaces, as the pods are',
  );
  // The ReplicaSet's owner changes (adopted by another Deployment): the pod's group follows.
  a.upsert('replicasets', owned('ReplicaSet', 'web-7d9f', 'default', { kind: 'Deployment', name: 'web-v2' }));
  await waitFor(
    () =>
      plainGroups(run.last).find((g) => g.source === 'pod/default/web-7d9f-x')?.labels
        .__meta_kubernetes_pod_deployment_name === 'web-v2',
    'the new deployment name',
  );
  t.pass();
});

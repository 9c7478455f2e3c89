/**
 * kubernetes_sd_configs role pod against the fake API server (test/helpers/kube-api.ts): list then
 * watch, churn, bookmarks, 410 Gone, watch timeouts, dropped connections, failures and pagination.
 * Expected label sets follow Prometheus' discovery/kubernetes/pod.go (podLabels, buildPod) and
 * kubernetes.go (addObjectMetaLabels: `_name`, `_label_*`, `_labelpresent_*`, `_annotation_*`,
 * `_annotationpresent_*`).
 */
import test from 'ava';
import { FakeKubeApi } from '../../helpers/kube-api.ts';
import { metricValue, Run, waitFor } from '../helpers.ts';
import { pod } from './fixtures.ts';
import { discoverer, plainGroups } from './helpers.ts';

async function api(t: { teardown(fn: () => Promise<void>): void }, o = {}): Promise<FakeKubeApi> {
  const a = new FakeKubeApi(o);
  await a.start();
  t.teardown(() => a.close());
  return a;
}

test('role pod: list then watch gives pod.go labels; adds, updates and deletes follow', async (t) => {
  const a = await api(t);
  a.upsert(
    'pods',
    pod('default', 'web-1', {
      labels: { app: 'web', 'app.kubernetes.io/name': 'web' },
      annotations: { 'prometheus.io/scrape': 'true' },
      ports: [{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }],
      owner: { kind: 'ReplicaSet', name: 'web-abc' },
      init: true,
    }),
  );
  a.upsert('pods', pod('default', 'pending', { ip: '' }));
  const { d, reg } = discoverer(`      - role: pod\n        api_server: ${a.url}\n`);
  const run = new Run(d);
  t.teardown(() => run.stop());
  const first = plainGroups(await run.emitted(1));
  t.deepEqual(first, [
    {
      source: 'pod/default/web-1',
      // pod.go podLabels + buildPod (namespace), kubernetes.go addObjectMetaLabels.
      labels: {
        __meta_kubernetes_namespace: 'default',
        __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
        __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
        __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
        __meta_kubernetes_pod_controller_name: 'web-abc',
        __meta_kubernetes_pod_host_ip: '192.168.0.10',
        __meta_kubernetes_pod_ip: '10.0.0.1',
        __meta_kubernetes_pod_label_app: 'web',
        __meta_kubernetes_pod_label_app_kubernetes_io_name: 'web',
        __meta_kubernetes_pod_labelpresent_app: 'true',
        __meta_kubernetes_pod_labelpresent_app_kubernetes_io_name: 'true',
        __meta_kubernetes_pod_name: 'web-1',
        __meta_kubernetes_pod_node_name: 'node-a',
        __meta_kubernetes_pod_phase: 'Running',
        __meta_kubernetes_pod_ready: 'true',
        __meta_kubernetes_pod_uid: 'uid-default-web-1',
      },
      targets: [
        // pod.go buildPod: one target per container port ...
        {
          __address__: '10.0.0.1:9100',
          __meta_kubernetes_pod_container_id: 'containerd://web-1-app',
          __meta_kubernetes_pod_container_image: 'example/app:1',
          __meta_kubernetes_pod_container_init: 'false',
          __meta_kubernetes_pod_container_name: 'app',
          __meta_kubernetes_pod_container_port_name: 'metrics',
          __meta_kubernetes_pod_container_port_number: '9100',
          __meta_kubernetes_pod_container_port_protocol: 'TCP',
        },
        // ... and one per container without ports (init containers included), at the pod IP.
        {
          __address__: '10.0.0.1',
          __meta_kubernetes_pod_container_id: '',
          __meta_kubernetes_pod_container_image: 'example/setup:1',
          __meta_kubernetes_pod_container_init: 'true',
          __meta_kubernetes_pod_container_name: 'setup',
        },
      ],
    },
    // A pod without an IP has an empty group (pod.go buildPod), which Outpost leaves out.
  ]);

  const list = a.calls('pods', false);
  t.is(list.length, 1);
  t.is(list[0]?.query.get('limit'), '500');
  await waitFor(() => a.openWatches === 1, 'the watch');
  const w = a.calls('pods', true)[0];
  t.is(w?.query.get('resourceVersion'), '102', 'the watch starts at the list resourceVersion');
  t.is(w?.query.get('allowWatchBookmarks'), 'true');
  const timeout = Number(w?.query.get('timeoutSeconds'));
  t.true(timeout >= 60 && timeout < 120, `timeoutSeconds ${timeout} is randomised in [min, 2*min)`);

  // Churn: a pod gets its IP, another appears, the first goes away.
  a.upsert('pods', pod('default', 'pending', { ip: '10.0.0.2', ports: [{ containerPort: 8080 }] }));
  a.upsert(
    'pods',
    pod('kube-system', 'dns', { ip: '10.0.0.3', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }] }),
  );
  await waitFor(() => plainGroups(run.last).length === 3, 'three groups');
  const pending = plainGroups(run.last).find((g) => g.source === 'pod/default/pending');
  t.deepEqual(pending?.targets, [
    {
      __address__: '10.0.0.2:8080',
      __meta_kubernetes_pod_container_id: 'containerd://pending-app',
      __meta_kubernetes_pod_container_image: 'example/app:1',
      __meta_kubernetes_pod_container_init: 'false',
      __meta_kubernetes_pod_container_name: 'app',
      __meta_kubernetes_pod_container_port_name: '',
      __meta_kubernetes_pod_container_port_number: '8080',
      __meta_kubernetes_pod_container_port_protocol: '',
    },
  ]);
  a.upsert('pods', pod('default', 'web-1', { ready: 'False', ports: [{ containerPort: 9100 }] }));
  await waitFor(
    () =>
      plainGroups(run.last).find((g) => g.source === 'pod/default/web-1')?.labels.__meta_kubernetes_pod_ready ===
      'false',
    'the readiness change',
  );
  a.remove('pods', 'default', 'web-1');
  await waitFor(() => !plainGroups(run.last).some((g) => g.source === 'pod/default/web-1'), 'the deletion');
  t.deepEqual(
    plainGroups(run.last).map((g) => g.source),
    ['pod/default/pending', 'pod/kube-system/dns'],
  );
  t.is(a.calls('pods', false).length, 1, 'churn never lists again');
  t.is(await metricValue(reg, 'prometheus_sd_kubernetes_events_total', { role: 'pod', event: 'delete' }), 1);
  t.true(((await metricValue(reg, 'prometheus_sd_kubernetes_events_total', { role: 'pod', event: 'add' })) ?? 0) >= 3);
});

test('role pod: a bookmark moves the resourceVersion; a dropped connection re-watches from it without listing', async (t) => {
  const a = await api(t);
  a.upsert('pods', pod('default', 'a', { ports: [{ containerPort: 80 }] }));
  const { d } = discoverer(`      - role: pod\n        api_server: ${a.url}\n`);
  const run = new Run(d);
  t.teardown(() => run.stop());
  await run.emitted(1);
  await waitFor(() => a.openWatches === 1, 'the watch');
  a.tick(50);
  a.bookmark();
  await new Promise((r) => setTimeout(r, 100));
  a.dropWatches();
  await waitFor(() => a.calls('pods', true).length === 2, 'a second watch', 10_000);
  t.is(a.calls('pods', true)[1]?.query.get('resourceVersion'), a.resourceVersion, 'from the bookmark');
  t.is(a.calls('pods', false).length, 1, 'no new list');
  // Still live after the reconnect.
  a.upsert('pods', pod('default', 'b', { ip: '10.0.0.9', ports: [{ containerPort: 80 }] }));
  await waitFor(() => run.last.length === 2, 'the new pod');
  t.pass();
});

test('role pod: 410 Gone lists again, and what was deleted meanwhile disappears', async (t) => {
  for (const goneAsStatus of [false, true]) {
    const a = await api(t, { goneAsStatus });
    a.upsert('pods', pod('default', 'a', { ports: [{ containerPort: 80 }] }));
    a.upsert('pods', pod('default', 'b', { ip: '10.0.0.2', ports: [{ containerPort: 80 }] }));
    const { d, reg } = discoverer(`      - role: pod\n        api_server: ${a.url}\n`);
    const run = new Run(d);
    await run.emitted(1);
    await waitFor(() => a.openWatches === 1, 'the watch');
    // The watch breaks, the history is compacted while the client is away, and b is deleted.
    a.dropWatches();
    a.remove('pods', 'default', 'b');
    a.compact();
    await waitFor(
      () => a.calls('pods', false).length === 2,
      `a second list (${goneAsStatus ? 'HTTP 410' : 'ERROR event'})`,
      10_000,
    );
    await waitFor(() => run.last.length === 1, 'b gone');
    t.deepEqual(
      run.last.map((g) => g.source),
      ['pod/default/a'],
    );
    // A 410 is not a failure (client-go relists quietly); the dropped connection was one.
    t.true(((await metricValue(reg, 'prometheus_sd_kubernetes_failures_total')) ?? 0) <= 1);
    await run.stop();
  }
});

test('role pod: a watch the server ends at timeoutSeconds resumes from the last resourceVersion', async (t) => {
  const a = await api(t);
  a.upsert('pods', pod('default', 'a', { ports: [{ containerPort: 80 }] }));
  const { d } = discoverer(`      - role: pod\n        api_server: ${a.url}\n`, { minWatchTimeoutS: 1 });
  const run = new Run(d);
  t.teardown(() => run.stop());
  await run.emitted(1);
  a.upsert('pods', pod('default', 'b', { ip: '10.0.0.2', ports: [{ containerPort: 80 }] }));
  const rv = a.resourceVersion;
  await waitFor(() => a.calls('pods', true).length >= 2, 'a second watch after the timeout', 10_000);
  t.is(a.calls('pods', true)[1]?.query.get('resourceVersion'), rv, 'from the last event seen');
  t.is(a.calls('pods', false).length, 1);
  t.is(run.last.length, 2);
});

test('role pod: failed lists are retried with backoff and counted; nothing is emitted before the first list', async (t) => {
  const a = await api(t);
  a.upsert('pods', pod('default', 'a', { ports: [{ containerPort: 80 }] }));
  a.failNext(500, 503);
  const { d, reg } = discoverer(`      - role: pod\n        api_server: ${a.url}\n`);
  const run = new Run(d);
  t.teardown(() => run.stop());
  const t0 = Date.now();
  await run.emitted(1, 'the first list', 15_000);
  const took = Date.now() - t0;
  t.is(await metricValue(reg, 'prometheus_sd_kubernetes_failures_total'), 2);
  t.is(a.calls('pods', false).length, 3);
  // 800 ms then 1600 ms, each with up to 100 % jitter.
  t.true(took >= 2400, `backed off for ${took} ms`);
  t.is(run.emits.length, 1);
});

test('role pod: pagination, selectors and namespaces reach the API server', async (t) => {
  const a = await api(t);
  for (let i = 0; i < 5; i++)
    a.upsert(
      'pods',
      pod('team-a', `p${i}`, {
        ip: `10.0.1.${i}`,
        node: i % 2 ? 'n1' : 'n2',
        labels: { app: 'x' },
        ports: [{ containerPort: 80 }],
      }),
    );
  a.upsert('pods', pod('team-b', 'other', { ip: '10.0.2.1', labels: { app: 'x' }, ports: [{ containerPort: 80 }] }));
  a.upsert(
    'pods',
    pod('team-c', 'elsewhere', { ip: '10.0.3.1', labels: { app: 'x' }, ports: [{ containerPort: 80 }] }),
  );
  process.env.OUTPOST_TEST_NODE = 'n2';
  t.teardown(() => {
    delete process.env.OUTPOST_TEST_NODE;
  });
  const { d } = discoverer(
    `      - role: pod\n        api_server: ${a.url}\n        namespaces: {names: [team-a, team-b]}\n` +
      `        selectors: [{role: pod, label: app=x, field: "spec.nodeName=$OUTPOST_TEST_NODE"}]\n`,
    { pageSize: 2 },
  );
  const run = new Run(d);
  t.teardown(() => run.stop());
  const groups = await run.emitted(1);
  t.deepEqual(
    groups.map((g) => g.source).sort(),
    ['pod/team-a/p0', 'pod/team-a/p2', 'pod/team-a/p4'],
    'only team-a and team-b, only node n2 (team-b/other runs on node-a)',
  );
  const lists = a.calls('pods', false);
  t.deepEqual(
    lists.map((r) => r.namespace).sort(),
    ['team-a', 'team-a', 'team-b'],
    'team-a in two pages of 2 (3 pods on n2), team-b in one',
  );
  const teamA = lists.filter((r) => r.namespace === 'team-a');
  t.is(teamA[1]?.query.get('continue'), `${a.resourceVersion}:2`);
  t.is(lists[0]?.query.get('labelSelector'), 'app=x');
  t.is(lists[0]?.query.get('fieldSelector'), 'spec.nodeName=n2');
});

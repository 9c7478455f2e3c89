/**
 * Credentials: in-cluster (service-account token, CA and namespace files; the token re-read as it
 * rotates) and kubeconfig_file, both against the fake API server over HTTPS on 127.0.0.1.
 */
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { KubernetesDiscoverer } from '../../../src/discovery/kubernetes/discoverer.ts';
import { DiscoveryError } from '../../../src/discovery/discoverer.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { systemClock } from '../../../src/util/clock.ts';
import { seededRandom } from '../../../src/util/random.ts';
import { FakeKubeApi } from '../../helpers/kube-api.ts';
import { tempCert } from '../../helpers/tls.ts';
import { newMetrics, Run, scrapeConfigs, waitFor } from '../helpers.ts';
import { pod } from './fixtures.ts';

function sdConfig(yaml: string, file: string) {
  const c = scrapeConfigs(`scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n${yaml}`, file)[0]
    ?.kubernetesSdConfigs[0];
  if (!c) throw new Error('no config');
  return c;
}

function make(config: ReturnType<typeof sdConfig>, inCluster?: { dir: string; env: NodeJS.ProcessEnv }) {
  return new KubernetesDiscoverer({
    config,
    log: createLogger({ write: () => {} }),
    metrics: newMetrics().metrics,
    clock: systemClock,
    userAgent: 'outpost-test',
    random: seededRandom(3),
    inCluster,
    minWatchTimeoutS: 60,
  });
}

test('in-cluster: token, CA and own namespace from the service-account directory; a rotated token is re-read', async (t) => {
  const cert = await tempCert(t, { sans: ['IP:127.0.0.1'] });
  let token = 'token-1';
  const a = new FakeKubeApi({ tls: { cert: cert.cert, key: cert.key }, token: () => token });
  await a.start();
  t.teardown(() => a.close());
  const sa = path.join(cert.dir, 'sa');
  await fs.mkdir(sa);
  await fs.writeFile(path.join(sa, 'token'), 'token-1\n');
  await fs.copyFile(cert.certFile, path.join(sa, 'ca.crt'));
  await fs.writeFile(path.join(sa, 'namespace'), 'monitoring');
  a.upsert('pods', pod('monitoring', 'mine', { ports: [{ containerPort: 80 }] }));
  a.upsert('pods', pod('default', 'other', { ports: [{ containerPort: 80 }] }));
  const port = new URL(a.url).port;
  const d = make(sdConfig('      - role: pod\n        namespaces: {own_namespace: true}\n', '/c.yml'), {
    dir: sa,
    env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
  });
  const run = new Run(d);
  t.teardown(() => run.stop());
  const groups = await run.emitted(1);
  t.deepEqual(
    groups.map((g) => g.source),
    ['pod/monitoring/mine'],
    'own_namespace: only the namespace file names',
  );
  t.is(a.requests[0]?.authorization, 'Bearer token-1');
  t.is(a.requests[0]?.namespace, 'monitoring');

  // The kubelet rotates the projected token: new file content, the old token refused from now on.
  token = 'token-2';
  await fs.writeFile(path.join(sa, 'token'), 'token-2\n');
  a.dropWatches();
  await waitFor(
    () => a.requests.some((r) => r.authorization === 'Bearer token-2'),
    'a request with the new token',
    20_000,
  );
  a.upsert('pods', pod('monitoring', 'later', { ip: '10.0.0.7', ports: [{ containerPort: 80 }] }));
  await waitFor(() => run.last.length === 2, 'discovery working again with the new token', 20_000);
  t.pass();
});

test('in-cluster: outside a pod the discoverer cannot be created, and says why', (t) => {
  const err = t.throws(() => make(sdConfig('      - role: pod\n', '/c.yml'), { dir: '/nonexistent', env: {} }), {
    instanceOf: DiscoveryError,
  });
  t.regex(err?.message ?? '', /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined/);
  const err2 = t.throws(
    () =>
      make(sdConfig('      - role: pod\n', '/c.yml'), {
        dir: '/nonexistent',
        env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '1' },
      }),
    { instanceOf: DiscoveryError },
  );
  t.regex(err2?.message ?? '', /unable to load in-cluster configuration: .*token/);
});

test('kubeconfig_file: the current context, CA and token file relative to the kubeconfig', async (t) => {
  const cert = await tempCert(t, { sans: ['IP:127.0.0.1'] });
  const a = new FakeKubeApi({ tls: { cert: cert.cert, key: cert.key }, token: () => 'kc-token' });
  await a.start();
  t.teardown(() => a.close());
  await fs.writeFile(path.join(cert.dir, 'token'), 'kc-token');
  const kubeconfig = path.join(cert.dir, 'config');
  await fs.writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: test',
      'contexts:',
      '  - {name: other, context: {cluster: nowhere, user: nobody}}',
      '  - {name: test, context: {cluster: fake, user: agent}}',
      'clusters:',
      `  - {name: fake, cluster: {server: "${a.url}", certificate-authority: server.crt}}`,
      'users:',
      '  - {name: agent, user: {tokenFile: token}}',
      '  - {name: exec, user: {exec: {command: aws}}}',
      '',
    ].join('\n'),
  );
  a.upsert('nodes', {
    kind: 'Node',
    metadata: { name: 'n1' },
    status: {
      addresses: [{ type: 'InternalIP', address: '10.1.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    },
  });
  const run = new Run(make(sdConfig(`      - role: node\n        kubeconfig_file: ${kubeconfig}\n`, '/c.yml')));
  t.teardown(() => run.stop());
  const groups = await run.emitted(1);
  t.deepEqual(groups[0]?.targets, ['10.1.0.1:10250']);
  t.is(a.requests[0]?.authorization, 'Bearer kc-token');

  await fs.writeFile(kubeconfig, (await fs.readFile(kubeconfig, 'utf8')).replace('user: agent', 'user: exec'));
  const err = t.throws(() => make(sdConfig(`      - role: node\n        kubeconfig_file: ${kubeconfig}\n`, '/c.yml')), {
    instanceOf: DiscoveryError,
  });
  t.regex(err?.message ?? '', /exec plugin or auth provider, which Outpost does not support/);
});

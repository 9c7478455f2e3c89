/**
 * kubernetes_sd_configs validation with Prometheus' messages (kubernetes.go SDConfig.UnmarshalYAML),
 * the defaults, and the selector grammar checks.
 */
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkConfigFiles } from '../../../src/cli/check-config.ts';
import { checkFieldSelector, checkLabelSelector, expandEnv } from '../../../src/config/kubernetes.ts';
import { ConfigError, parseConfig } from '../../../src/config/load.ts';
import { tmpDir } from '../../helpers/procs.ts';

const sd = (body: string): string => `scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - ${body}\n`;

const CASES: readonly [name: string, yaml: string, error: string][] = [
  [
    'role missing',
    sd('api_server: https://k8s'),
    'role missing (one of: pod, service, endpoints, endpointslice, node, ingress)',
  ],
  ['unknown role', sd('role: deployment'), 'unknown Kubernetes SD role "deployment"'],
  [
    'api_server and kubeconfig_file',
    sd('role: pod\n        api_server: https://k8s\n        kubeconfig_file: kc.yml'),
    "cannot use 'kubeconfig_file' and 'api_server' simultaneously",
  ],
  [
    'kubeconfig_file and HTTP client settings',
    sd('role: pod\n        kubeconfig_file: kc.yml\n        bearer_token: x'),
    "cannot use a custom HTTP client configuration together with 'kubeconfig_file'",
  ],
  [
    'HTTP client settings without api_server',
    sd('role: pod\n        tls_config: {insecure_skip_verify: true}'),
    "to use custom HTTP client configuration please provide the 'api_server' URL explicitly",
  ],
  [
    'api_server and own_namespace',
    sd('role: pod\n        api_server: https://k8s\n        namespaces: {own_namespace: true}'),
    "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously",
  ],
  [
    'a selector role the role does not support',
    sd('role: service\n        selectors: [{role: pod, label: a=b}]'),
    'service role supports only service selectors',
  ],
  [
    'duplicated selector role',
    sd('role: endpointslice\n        selectors: [{role: pod, label: a=b}, {role: pod, field: x=y}]'),
    'duplicated selector role: pod',
  ],
  [
    'bad label selector',
    sd('role: pod\n        selectors: [{role: pod, label: "app in (a,b"}]'),
    'invalid label selector "app in (a,b": cannot understand "app in (a,b"',
  ],
  [
    'bad field selector',
    sd('role: pod\n        selectors: [{role: pod, field: "spec.nodeName"}]'),
    'invalid field selector "spec.nodeName": cannot understand "spec.nodeName"',
  ],
];

for (const [name, yaml, error] of CASES) {
  test(`invalid: ${name}`, (t) => {
    const err = t.throws(() => parseConfig(yaml, 'c.yml'), { instanceOf: ConfigError }) as ConfigError;
    t.true(err.message.split('\n')[0]?.endsWith(`: ${error}`), err.message);
    t.true(err.message.includes('scrape_configs[0].kubernetes_sd_configs[0]'), err.message);
  });
}

test('defaults: in-cluster, every namespace, no selectors, no metadata attached', (t) => {
  const c = parseConfig(sd('role: endpointslice'), '/etc/outpost/c.yml').scrapeConfigs[0]?.kubernetesSdConfigs[0];
  t.like(c, {
    role: 'endpointslice',
    apiServer: undefined,
    kubeconfigFile: undefined,
    namespaces: { ownNamespace: false, names: [] },
    selectors: [],
    attachMetadata: { node: false, namespace: false, deployment: false, job: false, cronjob: false },
    followRedirects: true,
    enableHttp2: true,
  });
  const k = parseConfig(sd('role: node\n        kubeconfig_file: kube/config'), '/etc/outpost/c.yml').scrapeConfigs[0]
    ?.kubernetesSdConfigs[0];
  t.is(k?.kubeconfigFile, '/etc/outpost/kube/config', 'relative to the config file');
});

test('selectors: $VAR and ${VAR} come from the environment (as the Operator reloader expands them)', (t) => {
  t.is(expandEnv('spec.nodeName=$NODE_NAME', { NODE_NAME: 'n1' }), 'spec.nodeName=n1');
  t.is(expandEnv('a=${X},b=$$', { X: 'y' }), 'a=y,b=$');
  t.is(expandEnv('a=$UNSET', {}), 'a=');
  const c = parseConfig(
    sd('role: pod\n        selectors: [{role: pod, field: "spec.nodeName=${HOSTNODE}"}]'),
    'c.yml',
    {
      env: { HOSTNODE: 'worker-3' },
    },
  ).scrapeConfigs[0]?.kubernetesSdConfigs[0];
  t.is(c?.selectors[0]?.field, 'spec.nodeName=worker-3');
});

test('selector grammars', (t) => {
  for (const ok of [
    '',
    'app=web',
    'app==web,tier!=db',
    'env in (prod, staging)',
    'env notin (dev)',
    '!canary',
    'app',
    'x>1',
    'example.com/app=a_b-c.d',
  ]) {
    t.is(checkLabelSelector(ok), '', ok);
  }
  t.is(checkLabelSelector('app='), '', 'an empty value is a value');
  for (const bad of ['app=web,', '=web', 'app in (a,b', 'x>y', 'app=a b']) t.not(checkLabelSelector(bad), '', bad);
  for (const ok of ['', 'spec.nodeName=n1', 'metadata.name!=x,status.phase==Running', 'a=b\\,c']) {
    t.is(checkFieldSelector(ok), '', ok);
  }
  for (const bad of ['spec.nodeName', 'a=b=c', 'a=\\x']) t.not(checkFieldSelector(bad), '', bad);
});

test('check config reads kubeconfig_file as the agent would, and checks the files it names', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const kc = (user: string): string =>
    [
      'current-context: c',
      'contexts: [{name: c, context: {cluster: k, user: u}}]',
      'clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443", certificate-authority: missing-ca.crt}}]',
      `users: [{name: u, user: ${user}}]`,
      '',
    ].join('\n');
  await fs.writeFile(path.join(dir, 'kc-file'), kc('{tokenFile: token}'));
  await fs.writeFile(path.join(dir, 'kc-exec'), kc('{exec: {command: aws}}'));
  const check = async (kubeconfig: string): Promise<string[]> => {
    const cfg = path.join(dir, `${kubeconfig}.yml`);
    await fs.writeFile(cfg, sd(`role: pod\n        kubeconfig_file: ${kubeconfig}`));
    const out: string[] = [];
    t.is(await checkConfigFiles([cfg], (l) => out.push(l)), 1);
    return out;
  };
  const missing = await check('kc-file');
  t.true(
    missing.some((l) => l.includes('kubeconfig_file: tls_config.ca_file') && l.includes('missing-ca.crt')),
    missing.join('\n'),
  );
  t.true(
    missing.some((l) => l.includes('authorization.credentials_file') && l.includes('token')),
    missing.join('\n'),
  );
  const exec = await check('kc-exec');
  t.true(
    exec.some((l) => l.includes('exec plugin or auth provider')),
    exec.join('\n'),
  );
  const absent = await check('kc-none');
  t.true(
    absent.some((l) => l.includes('kc-none') && l.includes('no such file')),
    absent.join('\n'),
  );
});

/**
 * deploy/kubernetes/ and the Containerfile, checked without a cluster (none is available in CI):
 *  - every object validates against the Kubernetes API's JSON schemas (kubernetes-models: types,
 *    required fields, enums; it does not reject unknown fields, the structural checks below cover
 *    the fields that matter);
 *  - kustomization.yaml names every file, the generated ConfigMaps are the ones the pods mount, and
 *    both configs pass `outpost check config`;
 *  - the DaemonSet selects its own node's pods, the StatefulSet's shard count equals its replicas and
 *    its WAL is on a PersistentVolumeClaim, probes, security context, resources and least RBAC;
 *  - when a kubectl with kustomize is installed, `kubectl kustomize` renders the directory and the
 *    rendered objects validate too (otherwise that part is skipped with a log line).
 * What this cannot show: that the image runs on a real node and that the API server accepts it.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { checkConfigFiles } from '../../src/cli/check-config.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { ROOT } from '../helpers/procs.ts';

const DIR = path.join(ROOT, 'deploy/kubernetes');

type Obj = Record<string, unknown>;
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Obj;

function at(o: unknown, ...keys: (string | number)[]): unknown {
  let v: unknown = o;
  for (const k of keys)
    v = typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

function docs(file: string): K8sObject[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJSON() as K8sObject);
}

const kustomization = parseYaml(fs.readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8')) as {
  namespace: string;
  resources: string[];
  configMapGenerator: { name: string; files: string[] }[];
  images: { name: string }[];
};
const objects = kustomization.resources.flatMap((f) => docs(path.join(DIR, f)));
const find = (kind: string, name?: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''}`);
  return o;
};

/** Validates with the kubernetes-models class of the object's apiVersion and kind. */
async function validate(o: K8sObject): Promise<void> {
  const group = o.apiVersion.includes('/') ? o.apiVersion : `v1`;
  const mod = (await import(`kubernetes-models/${group}/${o.kind}`)) as Record<
    string,
    new (
      d: unknown,
    ) => { validate(): void }
  >;
  const Model = mod[o.kind];
  if (!Model) throw new Error(`kubernetes-models has no ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

test('every object validates against the Kubernetes schemas, and the validation can fail', async (t) => {
  t.true(objects.length >= 7);
  for (const o of objects) await t.notThrowsAsync(validate(o), `${o.kind} ${o.metadata.name}`);
  const broken = structuredClone(find('DaemonSet'));
  (at(broken, 'spec', 'template', 'spec', 'containers', 0, 'ports', 0) as Obj).containerPort = 'web';
  await t.throwsAsync(validate(broken), { message: /containerPort must be integer/ });
  t.throws(() => new DaemonSet({ ...broken, spec: { selector: {} } } as never).validate(), {
    message: /must have required property template/,
  });
});

test('kustomization.yaml names every file, and the pods mount the generated ConfigMaps', (t) => {
  const named = new Set([
    'kustomization.yaml',
    ...kustomization.resources,
    ...kustomization.configMapGenerator.flatMap((g) => g.files.map((f) => f.split('=').at(-1) as string)),
  ]);
  t.deepEqual(fs.readdirSync(DIR).sort(), [...named].sort());
  for (const o of objects)
    if (o.kind !== 'Namespace' && 'namespace' in o.metadata) t.is(o.metadata.namespace, kustomization.namespace);
  const generated = kustomization.configMapGenerator.map((g) => g.name).sort();
  const mounted = ['DaemonSet', 'StatefulSet']
    .map((k) => at(find(k), 'spec', 'template', 'spec', 'volumes') as Obj[])
    .flatMap((vs) => vs.map((v) => at(v, 'configMap', 'name')).filter((n) => n !== undefined))
    .sort();
  t.deepEqual(mounted, generated);
  for (const k of ['DaemonSet', 'StatefulSet'])
    t.is(at(find(k), 'spec', 'template', 'spec', 'containers', 0, 'image'), kustomization.images[0]?.name);
});

test('both configs pass outpost check config', async (t) => {
  const lines: string[] = [];
  const files = kustomization.configMapGenerator.map((g) => path.join(DIR, (g.files[0] ?? '').split('=').at(-1) ?? ''));
  t.is(await checkConfigFiles(files, (l) => lines.push(l)), 0, lines.join('\n'));
  t.is(lines.filter((l) => l.includes('SUCCESS')).length, 2);
});

test('the DaemonSet scrapes the pods of its own node', async (t) => {
  const ds = find('DaemonSet');
  const c = at(ds, 'spec', 'template', 'spec', 'containers', 0) as Obj;
  const env = c.env as { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  t.is(env.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
  const cfg = await loadConfigFile(path.join(DIR, 'agent-node.yml'), { env: { NODE_NAME: 'worker-7' } });
  const sd = cfg.scrapeConfigs.flatMap((s) => s.kubernetesSdConfigs);
  t.deepEqual(
    sd.map((s) => [s.role, s.selectors]),
    [['pod', [{ role: 'pod', label: '', field: 'spec.nodeName=worker-7' }]]],
  );
  const args = c.args as string[];
  t.false(
    args.some((a) => a.startsWith('--scrape.shards')),
    'a node agent is not sharded',
  );
});

test('the StatefulSet: shards = replicas, shard index from the pod name, WAL on a PersistentVolumeClaim', (t) => {
  const sts = find('StatefulSet');
  const replicas = at(sts, 'spec', 'replicas');
  const c = at(sts, 'spec', 'template', 'spec', 'containers', 0) as Obj;
  const args = c.args as string[];
  t.true(args.includes(`--scrape.shards=${replicas}`));
  t.true(args.includes('--scrape.shard-index-from-hostname'));
  const dataDir = args.find((a) => a.startsWith('--storage.agent.path='))?.split('=')[1];
  const claim = at(sts, 'spec', 'volumeClaimTemplates', 0, 'metadata', 'name');
  const mounts = c.volumeMounts as { name: string; mountPath: string }[];
  t.is(mounts.find((m) => m.mountPath === dataDir)?.name, claim as string, 'the data directory is the claim');
  t.deepEqual(at(sts, 'spec', 'volumeClaimTemplates', 0, 'spec', 'accessModes'), ['ReadWriteOnce']);
  t.is(at(sts, 'spec', 'serviceName'), find('Service').metadata.name);
  t.is(at(find('Service'), 'spec', 'clusterIP'), 'None');
});

test('probes, non-root read-only security context, resources and the flush deadline', (t) => {
  for (const k of ['DaemonSet', 'StatefulSet']) {
    const spec = at(find(k), 'spec', 'template', 'spec') as Obj;
    const c = at(spec, 'containers', 0) as Obj;
    t.is(at(c, 'readinessProbe', 'httpGet', 'path'), '/-/ready', k);
    t.is(at(c, 'livenessProbe', 'httpGet', 'path'), '/-/healthy', k);
    t.like(spec.securityContext as Obj, { runAsNonRoot: true, runAsUser: 65532 }, k);
    t.like(c.securityContext as Obj, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true }, k);
    t.deepEqual(at(c, 'securityContext', 'capabilities', 'drop'), ['ALL'], k);
    t.truthy(at(c, 'resources', 'requests', 'cpu'), k);
    t.truthy(at(c, 'resources', 'requests', 'memory'), k);
    t.truthy(at(c, 'resources', 'limits', 'memory'), k);
    // Everything Outpost writes is a mounted volume: the data directory and /tmp.
    const mounts = (c.volumeMounts as { mountPath: string; readOnly?: boolean }[]).filter((m) => !m.readOnly);
    t.deepEqual(mounts.map((m) => m.mountPath).sort(), ['/data', '/tmp'], k);
    // Room for the default 1m --storage.remote.flush-deadline plus the WAL flush.
    t.true((spec.terminationGracePeriodSeconds as number) > 60, k);
    t.is(spec.serviceAccountName, find('ServiceAccount').metadata.name, k);
  }
});

test('RBAC grants list and watch on exactly what the configs discover', async (t) => {
  const needs: Record<string, string[]> = {
    pod: ['/pods'],
    endpointslice: ['discovery.k8s.io/endpointslices', '/services', '/pods'],
    endpoints: ['/endpoints', '/services', '/pods'],
    service: ['/services'],
    node: ['/nodes'],
    ingress: ['networking.k8s.io/ingresses'],
  };
  const wanted = new Set<string>();
  for (const g of kustomization.configMapGenerator) {
    const cfg = await loadConfigFile(path.join(DIR, (g.files[0] ?? '').split('=').at(-1) ?? ''));
    for (const sd of cfg.scrapeConfigs.flatMap((s) => s.kubernetesSdConfigs)) {
      for (const r of needs[sd.role] ?? []) wanted.add(r);
      t.false(sd.attachMetadata.node || sd.attachMetadata.namespace, 'attach_metadata would need more rights');
    }
  }
  const role = find('ClusterRole');
  const granted = new Set<string>();
  for (const rule of role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
    t.deepEqual([...rule.verbs].sort(), ['list', 'watch'], 'Outpost only lists and watches');
    for (const g of rule.apiGroups) for (const r of rule.resources) granted.add(`${g}/${r}`);
  }
  t.deepEqual([...granted].sort(), [...wanted].sort());
  const binding = find('ClusterRoleBinding');
  t.is(at(binding, 'roleRef', 'name'), role.metadata.name);
  t.deepEqual(at(binding, 'subjects', 0), {
    kind: 'ServiceAccount',
    name: 'outpost',
    namespace: kustomization.namespace,
  });
});

test('the Containerfile: the single executable on Debian slim, as the user the manifests run', (t) => {
  const lines = fs
    .readFileSync(path.join(ROOT, 'Containerfile'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const froms = lines.filter((l) => l.startsWith('FROM '));
  t.regex(froms.at(-1) ?? '', /^FROM debian:[a-z]+-slim$/, 'the final stage is Debian slim');
  t.true(
    lines.some((l) => /^COPY dist\/outpost\*? /.test(l)),
    'it copies the single executable',
  );
  t.true(
    lines.some((l) => l.includes('libatomic1')),
    'libatomic1, which the executable links',
  );
  t.is(
    lines.find((l) => l.startsWith('USER ')),
    'USER 65532:65532',
  );
  t.is(
    lines.find((l) => l.startsWith('ENTRYPOINT ')),
    'ENTRYPOINT ["/usr/bin/outpost"]',
  );
  t.false(
    lines.some((l) => /^ADD\s+https?:/.test(l)),
    'nothing downloaded at build time but Debian packages',
  );
  for (const k of ['DaemonSet', 'StatefulSet'])
    t.is(at(find(k), 'spec', 'template', 'spec', 'securityContext', 'runAsUser'), 65532);
  // The files it picks from are what npm run build:sea and build:sea:arm64 write.
  const sea = fs.readFileSync(path.join(ROOT, 'scripts/build-sea.ts'), 'utf8');
  t.true(sea.includes("'dist/outpost'") && sea.includes('`dist/outpost-${arch}`'));
  t.true(lines.some((l) => l.includes('/tmp/bin/outpost-arm64')) && lines.some((l) => l.includes('/tmp/bin/outpost ')));
});

test('kubectl kustomize renders the directory, and the rendered objects validate', async (t) => {
  let rendered: string;
  try {
    rendered = execFileSync('kubectl', ['kustomize', DIR], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      t.log('kubectl not installed: rendering skipped (the checks above ran on the source files)');
      t.pass();
      return;
    }
    throw new Error(`kubectl kustomize failed: ${e.stderr ?? e.message}`);
  }
  const out = parseAllDocuments(rendered).map((d) => d.toJSON() as K8sObject);
  for (const o of out) await t.notThrowsAsync(validate(o), `${o.kind} ${o.metadata.name}`);
  const cms = out.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name);
  t.is(cms.length, 2);
  const ds = out.find((o) => o.kind === 'DaemonSet');
  t.true(
    cms.includes(at(ds, 'spec', 'template', 'spec', 'volumes', 0, 'configMap', 'name') as string),
    'hashed name wired',
  );
});

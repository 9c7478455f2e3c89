/**
 * kubernetes_sd_configs: one reflector (list-then-watch) per resource and namespace the role needs,
 * as Prometheus' informers (discovery/kubernetes/kubernetes.go Run):
 *   node            nodes
 *   pod             pods (+ nodes, namespaces, replicasets, jobs for attach_metadata)
 *   service         services (+ namespaces)
 *   ingress         ingresses (+ namespaces)
 *   endpoints       endpoints, services, pods (+ attach_metadata's)
 *   endpointslice   endpointslices, services, pods (+ attach_metadata's)
 * Nothing is emitted until every reflector has listed once (Prometheus' WaitForCacheSync). After
 * that a change to an object rebuilds that object's group, and a change to a related object (the
 * service or a pod of an EndpointSlice, the node of a pod, ...) rebuilds the groups that use it;
 * changes arriving together are applied together and emitted as one list (FLUSH_DELAY_MS), which the
 * discovery manager then merges further (5 s).
 *
 * Where Prometheus rebuilds the groups of endpoints only when a pod's phase changes and the groups
 * of EndpointSlices never on pod changes, Outpost rebuilds them on any change of a referenced pod,
 * so pod labels shown on endpoint targets are never stale.
 */
import type { KubernetesRole, KubernetesSdConfig, TargetGroup } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import type { Clock, TimerHandle } from '../../util/clock.ts';
import { systemRandom, type Random } from '../../util/random.ts';
import type { Discoverer } from '../discoverer.ts';
import type { SdMetrics } from '../metrics.ts';
import { KubeClient } from './client.ts';
import { resolveEndpoint, type InClusterSource } from './credentials.ts';
import {
  pairValue,
  toEndpointSlice,
  toEndpoints,
  toIngress,
  toMetaOnly,
  toNode,
  toPod,
  toService,
  type Endpoints,
  type EndpointSlice,
  type Ingress,
  type MetaOnly,
  type Node,
  type Pod,
  type Service,
} from './objects.ts';
import { Reflector, type ChangeKind } from './reflector.ts';
import {
  buildEndpointSlice,
  buildEndpoints,
  buildIngress,
  buildNode,
  buildPod,
  buildService,
  SERVICE_NAME_LABEL,
  type Lookups,
} from './targets.ts';

/** Changes arriving within this window are emitted as one list. */
const FLUSH_DELAY_MS = 100;

type Kind = KubernetesRole | 'namespace' | 'replicaset' | 'job';

interface Resource<T> {
  readonly prefix: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly project: (raw: unknown) => T | undefined;
}

interface Resources {
  node: Resource<Node>;
  pod: Resource<Pod>;
  service: Resource<Service>;
  endpoints: Resource<Endpoints>;
  endpointslice: Resource<EndpointSlice>;
  ingress: Resource<Ingress>;
  namespace: Resource<MetaOnly>;
  replicaset: Resource<MetaOnly>;
  job: Resource<MetaOnly>;
}

const RESOURCES: Resources = {
  node: { prefix: '/api/v1', plural: 'nodes', namespaced: false, project: toNode },
  pod: { prefix: '/api/v1', plural: 'pods', namespaced: true, project: toPod },
  service: { prefix: '/api/v1', plural: 'services', namespaced: true, project: toService },
  endpoints: { prefix: '/api/v1', plural: 'endpoints', namespaced: true, project: toEndpoints },
  endpointslice: {
    prefix: '/apis/discovery.k8s.io/v1',
    plural: 'endpointslices',
    namespaced: true,
    project: toEndpointSlice,
  },
  ingress: { prefix: '/apis/networking.k8s.io/v1', plural: 'ingresses', namespaced: true, project: toIngress },
  namespace: { prefix: '/api/v1', plural: 'namespaces', namespaced: false, project: toMetaOnly },
  replicaset: { prefix: '/apis/apps/v1', plural: 'replicasets', namespaced: true, project: toMetaOnly },
  job: { prefix: '/apis/batch/v1', plural: 'jobs', namespaced: true, project: toMetaOnly },
};

/** The API path of a resource, in one namespace or ('') across all. */
function resourcePath(kind: Kind, namespace: string): string {
  const r = RESOURCES[kind];
  const ns = r.namespaced && namespace !== '' ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${r.prefix}${ns}/${r.plural}`;
}

type Projection = Node | Pod | Service | Endpoints | EndpointSlice | Ingress | MetaOnly;

/** The reflectors of one kind (one per namespace) seen as one store. */
class KindStore<T extends Projection> {
  readonly reflectors: Reflector<T>[] = [];

  get(key: string): T | undefined {
    for (const r of this.reflectors) {
      const v = r.store.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  *entries(): Generator<[string, T]> {
    for (const r of this.reflectors) yield* r.store;
  }
}

export interface KubernetesDiscovererOptions {
  readonly config: KubernetesSdConfig;
  readonly log: Logger;
  readonly metrics: SdMetrics;
  readonly clock: Clock;
  readonly userAgent: string;
  readonly random?: Random | undefined;
  /** Where proxy_from_environment reads its variables. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** In-cluster credentials (tests use a temporary directory and environment). */
  readonly inCluster?: InClusterSource | undefined;
  /** Test hook: watch timeout before randomisation (default 300 s). */
  readonly minWatchTimeoutS?: number | undefined;
  readonly pageSize?: number | undefined;
}

export class KubernetesDiscoverer implements Discoverer {
  private readonly o: KubernetesDiscovererOptions;
  private readonly client: KubeClient;
  private readonly namespaces: readonly string[];
  private readonly stores = new Map<Kind, KindStore<Projection>>();
  private readonly groups = new Map<string, TargetGroup>();
  private readonly dirty = new Set<string>();
  /** Keys of changed objects of the other kinds, by kind, until the next flush. */
  private readonly related = new Map<Kind, Set<string>>();
  private readonly unsynced = new Set<Reflector<Projection>>();
  private timer: TimerHandle | null = null;
  private ready = false;
  private emit: (groups: TargetGroup[]) => void = () => {};

  /** Throws DiscoveryError when no credentials can be found or its files cannot be read. */
  constructor(o: KubernetesDiscovererOptions) {
    this.o = o;
    const endpoint = resolveEndpoint(o.config, o.inCluster);
    this.client = new KubeClient(endpoint, { userAgent: o.userAgent, env: o.env });
    const { names, ownNamespace } = o.config.namespaces;
    if (names.length === 0 && !ownNamespace) this.namespaces = [''];
    else this.namespaces = ownNamespace && endpoint.ownNamespace !== '' ? [...names, endpoint.ownNamespace] : names;
    this.setUp();
  }

  private get role(): KubernetesRole {
    return this.o.config.role;
  }

  private setUp(): void {
    const { role } = this;
    const attach = this.o.config.attachMetadata;
    const endpointsLike = role === 'endpoints' || role === 'endpointslice';
    this.watch(role, RESOURCES[role].namespaced);
    if (endpointsLike) {
      this.watch('service', true);
      this.watch('pod', true);
    }
    const podsInvolved = role === 'pod' || endpointsLike;
    if (podsInvolved && attach.node) this.watch('node', false);
    if (role !== 'node' && attach.namespace) this.watch('namespace', false);
    if (podsInvolved && attach.deployment) this.watch('replicaset', true);
    if (podsInvolved && (attach.job || attach.cronjob)) this.watch('job', true);
  }

  /** Creates the reflectors of one kind: per namespace, or one for a cluster-scoped kind. */
  private watch(kind: Kind, namespaced: boolean): void {
    const store = new KindStore<Projection>();
    this.stores.set(kind, store);
    const sel = this.o.config.selectors.find((s) => s.role === kind);
    for (const ns of namespaced ? this.namespaces : ['']) {
      const r: Reflector<Projection> = new Reflector<Projection>({
        client: this.client,
        path: resourcePath(kind, ns),
        labelSelector: sel?.label ?? '',
        fieldSelector: sel?.field ?? '',
        project: RESOURCES[kind].project as (raw: unknown) => Projection | undefined,
        clock: this.o.clock,
        log: this.o.log,
        random: this.o.random ?? systemRandom,
        minWatchTimeoutS: this.o.minWatchTimeoutS,
        pageSize: this.o.pageSize,
        onChange: (ck, key) => this.changed(kind, ck, key),
        onSynced: () => this.synced(r),
        onFailure: () => this.o.metrics.kubernetesFailures.inc(),
      });
      store.reflectors.push(r);
      this.unsynced.add(r);
    }
  }

  async run(signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void> {
    this.emit = emit;
    const all = [...this.stores.values()].flatMap((s) => s.reflectors);
    try {
      await Promise.all(all.map((r) => r.run(signal)));
    } finally {
      if (this.timer) this.o.clock.clearTimeout(this.timer);
      this.timer = null;
      this.client.close();
    }
  }

  private synced(r: Reflector<Projection>): void {
    if (!this.unsynced.delete(r) || this.unsynced.size > 0 || this.ready) return;
    this.ready = true;
    for (const [key] of this.primary().entries()) this.dirty.add(key);
    this.flush();
  }

  private primary(): KindStore<Projection> {
    return this.stores.get(this.role) as KindStore<Projection>;
  }

  private changed(kind: Kind, ck: ChangeKind, key: string): void {
    if (kind !== 'namespace' && kind !== 'replicaset' && kind !== 'job')
      this.o.metrics.kubernetesEvents.inc({ role: kind, event: ck });
    // Before the first flush everything is built anyway.
    if (!this.ready) return;
    if (kind === this.role) this.dirty.add(key);
    else {
      let keys = this.related.get(kind);
      if (!keys) this.related.set(kind, (keys = new Set()));
      keys.add(key);
    }
    if (!this.timer) {
      this.timer = this.o.clock.setTimeout(() => {
        this.timer = null;
        this.flush();
      }, FLUSH_DELAY_MS);
    }
  }

  /**
   * Marks the primary objects whose groups use a changed object of another kind: one pass over the
   * primary objects per flush, however many related objects changed (a relist of 10,000 pods costs
   * one pass, not 10,000).
   */
  private markDependents(): void {
    if (this.related.size === 0) return;
    const changed = new Related(this.related);
    for (const [pk, p] of this.primary().entries()) {
      if (!this.dirty.has(pk) && usesChanged(this.role, p, changed)) this.dirty.add(pk);
    }
    this.related.clear();
  }

  private flush(): void {
    if (!this.ready) return;
    this.markDependents();
    if (this.dirty.size === 0) return;
    const look = this.lookups();
    const attach = this.o.config.attachMetadata;
    const primary = this.primary();
    for (const key of this.dirty) {
      const obj = primary.get(key);
      const g = obj === undefined ? undefined : build(this.role, obj, look, attach);
      if (g && g.targets.length > 0) this.groups.set(key, g);
      else this.groups.delete(key);
    }
    this.dirty.clear();
    this.emit([...this.groups.values()]);
  }

  private lookups(): Lookups {
    const get =
      <T extends Projection>(kind: Kind) =>
      (key: string): T | undefined =>
        this.stores.get(kind)?.get(key) as T | undefined;
    return {
      pod: get<Pod>('pod'),
      service: get<Service>('service'),
      node: get<Node>('node'),
      namespace: get<MetaOnly>('namespace'),
      replicaSet: get<MetaOnly>('replicaset'),
      job: get<MetaOnly>('job'),
    };
  }
}

function build(
  role: KubernetesRole,
  obj: Projection,
  look: Lookups,
  attach: KubernetesSdConfig['attachMetadata'],
): TargetGroup | undefined {
  switch (role) {
    case 'node':
      return buildNode(obj as Node);
    case 'pod':
      return buildPod(obj as Pod, look, attach);
    case 'service':
      return buildService(obj as Service, look, attach);
    case 'endpoints':
      return buildEndpoints(obj as Endpoints, look, attach);
    case 'endpointslice':
      return buildEndpointSlice(obj as EndpointSlice, look, attach);
    case 'ingress':
      return buildIngress(obj as Ingress, look, attach);
  }
}

/** What changed among the related objects since the last flush. */
class Related {
  private readonly byKind: ReadonlyMap<Kind, ReadonlySet<string>>;
  /** Namespaces in which a ReplicaSet or Job changed. */
  readonly ownerNamespaces = new Set<string>();

  constructor(byKind: ReadonlyMap<Kind, ReadonlySet<string>>) {
    this.byKind = byKind;
    for (const kind of ['replicaset', 'job'] as const) {
      for (const key of byKind.get(kind) ?? []) this.ownerNamespaces.add(key.slice(0, key.indexOf('/')));
    }
  }

  has(kind: Kind, ns: string, name: string): boolean {
    return this.byKind.get(kind)?.has(ns === '' ? name : `${ns}/${name}`) ?? false;
  }
}

/** Whether the group of primary object `p` (of `role`) reads a related object that changed. */
function usesChanged(role: KubernetesRole, p: Projection, changed: Related): boolean {
  const m = p.meta;
  if (changed.has('namespace', '', m.namespace)) return true;
  if (role === 'pod') {
    const owner = m.controller?.name;
    return (
      changed.has('node', '', (p as Pod).nodeName) ||
      (owner !== undefined && (changed.has('replicaset', m.namespace, owner) || changed.has('job', m.namespace, owner)))
    );
  }
  if (role !== 'endpoints' && role !== 'endpointslice') return false;
  const svc = role === 'endpoints' ? m.name : pairValue(m.labels, SERVICE_NAME_LABEL);
  if (svc !== undefined && changed.has('service', m.namespace, svc)) return true;
  // The deployment or cronjob name of a pod behind an endpoint comes from its owners.
  if (changed.ownerNamespaces.has(m.namespace)) return true;
  for (const r of refs(role, p)) {
    if (r.kind === 'Pod' && changed.has('pod', r.namespace, r.name)) return true;
    if (r.kind === 'Node' && changed.has('node', '', r.name)) return true;
    if (r.nodeName !== undefined && changed.has('node', '', r.nodeName)) return true;
  }
  return false;
}

interface Ref {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly nodeName: string | undefined;
}

/** The objects the addresses of Endpoints or an EndpointSlice point at. */
function refs(role: KubernetesRole, p: Projection): Ref[] {
  const out: Ref[] = [];
  if (role === 'endpoints') {
    for (const ss of (p as Endpoints).subsets) {
      for (const a of [...ss.addresses, ...ss.notReadyAddresses]) {
        out.push({
          kind: a.targetRef?.kind ?? '',
          name: a.targetRef?.name ?? '',
          namespace: a.targetRef?.namespace ?? '',
          nodeName: a.nodeName,
        });
      }
    }
  } else if (role === 'endpointslice') {
    for (const e of (p as EndpointSlice).endpoints) {
      out.push({
        kind: e.targetRef?.kind ?? '',
        name: e.targetRef?.name ?? '',
        namespace: e.targetRef?.namespace ?? '',
        nodeName: e.nodeName,
      });
    }
  }
  return out;
}

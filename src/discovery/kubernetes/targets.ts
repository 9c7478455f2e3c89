/**
 * Target groups from Kubernetes objects, one group per object, with Prometheus' sources, addresses
 * and `__meta_kubernetes_*` labels. Each builder names the Prometheus file whose labels it
 * reproduces (discovery/kubernetes/*.go, Prometheus 3.x); test/discovery/kubernetes/*.test.ts checks
 * the label sets against those files.
 */
import type { KubernetesSdConfig, TargetGroup } from '../../config/types.ts';
import { compareStrings, type Labels } from '../../util/labels.ts';
import {
  objectKey,
  pairValue,
  type Container,
  type Endpoints,
  type EndpointSlice,
  type Ingress,
  type MetaOnly,
  type Node,
  type ObjectMeta,
  type ObjectRef,
  type Pod,
  type Service,
  type SlicePort,
} from './objects.ts';

const P = '__meta_kubernetes_';
const ADDRESS = '__address__';
const NAMESPACE = '__meta_kubernetes_namespace';

type LabelMap = Map<string, string>;

/**
 * Label names built from object label and annotation keys repeat across thousands of objects
 * (`__meta_kubernetes_pod_label_app` on every pod); one shared string per name instead of one per
 * object. Bounded: past INTERN_MAX distinct names new ones are simply not shared.
 */
const INTERN_MAX = 50_000;
const interned = new Map<string, string>();

function intern(name: string): string {
  const have = interned.get(name);
  if (have !== undefined) return have;
  if (interned.size < INTERN_MAX) interned.set(name, name);
  return name;
}

/** What a builder may look up besides its own object (attach_metadata and the endpoints roles). */
export interface Lookups {
  pod(key: string): Pod | undefined;
  service(key: string): Service | undefined;
  /** Only when attach_metadata.node is on. */
  node(name: string): Node | undefined;
  /** Only when attach_metadata.namespace is on. */
  namespace(name: string): MetaOnly | undefined;
  replicaSet(key: string): MetaOnly | undefined;
  job(key: string): MetaOnly | undefined;
}

export type Attach = KubernetesSdConfig['attachMetadata'];

/** strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes `_`. */
function sanitizeLabelName(s: string): string {
  return s.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** Sorted, flattened labels; empty values are kept, as in Prometheus' target groups. */
function toLabels(m: LabelMap): Labels {
  const names = [...m.keys()].sort(compareStrings);
  const out: string[] = new Array(names.length * 2);
  for (let i = 0; i < names.length; i++) {
    const n = names[i] as string;
    out[2 * i] = n;
    out[2 * i + 1] = m.get(n) as string;
  }
  return out;
}

/** Builds one group; targets keep their order (Prometheus' order). */
class GroupBuilder {
  readonly labels: LabelMap = new Map();
  private readonly targets: LabelMap[] = [];
  private readonly source: string;

  constructor(source: string) {
    this.source = source;
  }

  add(t: LabelMap): void {
    this.targets.push(t);
  }

  build(): TargetGroup {
    return {
      source: this.source,
      labels: toLabels(this.labels),
      targets: this.targets.map((t) => t.get(ADDRESS) ?? ''),
      targetLabels: this.targets.map(toLabels),
    };
  }
}

/**
 * kubernetes.go addObjectAnnotationsAndLabels: `<resource>_label_*`, `_labelpresent_*`, `_annotation_*`,
 * `_annotationpresent_*`.
 */
function addLabelsAndAnnotations(ls: LabelMap, meta: ObjectMeta, resource: string): void {
  for (let i = 0; i < meta.labels.length; i += 2) {
    const n = sanitizeLabelName(meta.labels[i] as string);
    const v = meta.labels[i + 1] as string;
    ls.set(intern(`${P}${resource}_label_${n}`), v);
    ls.set(intern(`${P}${resource}_labelpresent_${n}`), 'true');
  }
  for (let i = 0; i < meta.annotations.length; i += 2) {
    const n = sanitizeLabelName(meta.annotations[i] as string);
    const v = meta.annotations[i + 1] as string;
    ls.set(intern(`${P}${resource}_annotation_${n}`), v);
    ls.set(intern(`${P}${resource}_annotationpresent_${n}`), 'true');
  }
}

/** kubernetes.go addObjectMetaLabels: `<role>_name` plus labels and annotations. */
function addObjectMeta(ls: LabelMap, meta: ObjectMeta, role: string): void {
  ls.set(intern(`${P}${role}_name`), meta.name);
  addLabelsAndAnnotations(ls, meta, role);
}

/** endpoints.go addNamespaceLabels (attach_metadata.namespace). */
function addNamespaceMeta(ls: LabelMap, ns: string, look: Lookups, attach: Attach): void {
  if (!attach.namespace) return;
  const n = look.namespace(ns);
  if (n) addLabelsAndAnnotations(ls, n.meta, 'namespace');
}

/** endpoints.go addNodeLabels (attach_metadata.node): the node's name, labels and annotations. */
function addNodeMeta(ls: LabelMap, nodeName: string | undefined, look: Lookups): void {
  if (nodeName === undefined) return;
  const n = look.node(nodeName);
  if (n) addObjectMeta(ls, n.meta, 'node');
}

/** pod.go podLabels. */
function podLabels(pod: Pod, look: Lookups, attach: Attach): LabelMap {
  const ls: LabelMap = new Map([
    ['__meta_kubernetes_pod_ip', pod.ip],
    ['__meta_kubernetes_pod_ready', pod.ready],
    ['__meta_kubernetes_pod_phase', pod.phase],
    ['__meta_kubernetes_pod_node_name', pod.nodeName],
    ['__meta_kubernetes_pod_host_ip', pod.hostIP],
    ['__meta_kubernetes_pod_uid', pod.meta.uid],
  ]);
  addObjectMeta(ls, pod.meta, 'pod');
  const owner = pod.meta.controller;
  if (owner) {
    if (owner.kind !== '') ls.set('__meta_kubernetes_pod_controller_kind', owner.kind);
    if (owner.name !== '') ls.set('__meta_kubernetes_pod_controller_name', owner.name);
    const key = objectKey(pod.meta.namespace, owner.name);
    if (owner.kind === 'ReplicaSet' && attach.deployment) {
      const rsOwner = look.replicaSet(key)?.meta.controller;
      if (rsOwner?.kind === 'Deployment') ls.set('__meta_kubernetes_pod_deployment_name', rsOwner.name);
    } else if (owner.kind === 'Job') {
      if (attach.job) ls.set('__meta_kubernetes_pod_job_name', owner.name);
      if (attach.cronjob) {
        const jobOwner = look.job(key)?.meta.controller;
        if (jobOwner?.kind === 'CronJob') ls.set('__meta_kubernetes_pod_cronjob_name', jobOwner.name);
      }
    }
  }
  return ls;
}

function merge(into: LabelMap, from: LabelMap): LabelMap {
  for (const [k, v] of from) into.set(k, v);
  return into;
}

/** net.JoinHostPort. */
function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function allContainers(pod: Pod): { c: Container; init: boolean }[] {
  return [...pod.containers.map((c) => ({ c, init: false })), ...pod.initContainers.map((c) => ({ c, init: true }))];
}

/** pod.go buildPod: one target per container port, or per container without ports. */
export function buildPod(pod: Pod, look: Lookups, attach: Attach): TargetGroup {
  const g = new GroupBuilder(`pod/${pod.meta.namespace}/${pod.meta.name}`);
  // PodIP is empty while a pod starts or after an eviction; pods on nodes the node selectors left
  // out are skipped when node metadata is attached.
  if (pod.ip === '' || (attach.node && !look.node(pod.nodeName))) return g.build();
  merge(g.labels, podLabels(pod, look, attach));
  g.labels.set(NAMESPACE, pod.meta.namespace);
  if (attach.node) addNodeMeta(g.labels, pod.nodeName, look);
  addNamespaceMeta(g.labels, pod.meta.namespace, look, attach);
  for (const { c, init } of allContainers(pod)) {
    const base = (address: string): LabelMap =>
      new Map([
        [ADDRESS, address],
        ['__meta_kubernetes_pod_container_name', c.name],
        ['__meta_kubernetes_pod_container_id', c.id],
        ['__meta_kubernetes_pod_container_image', c.image],
        ['__meta_kubernetes_pod_container_init', String(init)],
      ]);
    if (c.ports.length === 0) {
      g.add(base(pod.ip));
      continue;
    }
    for (const p of c.ports) {
      const t = base(joinHostPort(pod.ip, p.port));
      t.set('__meta_kubernetes_pod_container_port_number', String(p.port));
      t.set('__meta_kubernetes_pod_container_port_name', p.name);
      t.set('__meta_kubernetes_pod_container_port_protocol', p.protocol);
      g.add(t);
    }
  }
  return g.build();
}

/** node.go nodeAddress: the first address of the first type present, in this priority. */
const NODE_ADDRESS_PRIORITY = ['InternalIP', 'InternalDNS', 'ExternalIP', 'ExternalDNS', 'LegacyHostIP', 'Hostname'];

/** node.go buildNode; undefined when the node has no address (Prometheus sends nothing then). */
export function buildNode(node: Node): TargetGroup | undefined {
  const g = new GroupBuilder(`node/${node.meta.name}`);
  g.labels.set('__meta_kubernetes_node_provider_id', node.providerID);
  for (const [type, status] of node.conditions) {
    g.labels.set(intern(`${P}node_condition_${sanitizeLabelName(type.toLowerCase())}`), status.toLowerCase());
  }
  addObjectMeta(g.labels, node.meta, 'node');
  const byType = new Map<string, string>();
  for (const [type, address] of node.addresses) if (!byType.has(type)) byType.set(type, address);
  const addr = NODE_ADDRESS_PRIORITY.map((t) => byType.get(t)).find((a) => a !== undefined);
  if (addr === undefined) return undefined;
  const t: LabelMap = new Map([
    [ADDRESS, joinHostPort(addr, node.kubeletPort)],
    ['instance', node.meta.name],
  ]);
  for (const [type, a] of byType) t.set(intern(sanitizeLabelName(`${P}node_address_${type}`)), a);
  g.add(t);
  return g.build();
}

/** service.go serviceLabels. */
function serviceLabels(svc: Service): LabelMap {
  const ls: LabelMap = new Map([[NAMESPACE, svc.meta.namespace]]);
  addObjectMeta(ls, svc.meta, 'service');
  return ls;
}

/** service.go buildService: one target per port, at the service's cluster DNS name. */
export function buildService(svc: Service, look: Lookups, attach: Attach): TargetGroup {
  const g = new GroupBuilder(`svc/${svc.meta.namespace}/${svc.meta.name}`);
  merge(g.labels, serviceLabels(svc));
  addNamespaceMeta(g.labels, svc.meta.namespace, look, attach);
  for (const p of svc.ports) {
    const t: LabelMap = new Map([
      [ADDRESS, joinHostPort(`${svc.meta.name}.${svc.meta.namespace}.svc`, p.port)],
      ['__meta_kubernetes_service_port_name', p.name],
      ['__meta_kubernetes_service_port_number', String(p.port)],
      ['__meta_kubernetes_service_port_protocol', p.protocol],
      ['__meta_kubernetes_service_type', svc.type],
    ]);
    if (svc.type === 'ExternalName') t.set('__meta_kubernetes_service_external_name', svc.externalName);
    else t.set('__meta_kubernetes_service_cluster_ip', svc.clusterIP);
    if (svc.type === 'LoadBalancer') {
      t.set(
        '__meta_kubernetes_service_loadbalancer_ip',
        svc.ingressIPs.length > 0 ? svc.ingressIPs.join(',') : svc.loadBalancerIP,
      );
    }
    g.add(t);
  }
  return g.build();
}

interface SeenPod {
  readonly pod: Pod;
  readonly ports: number[];
}

/** Container port labels of the pod container that exposes `port`, if one does (endpoints.go, endpointslice.go). */
function containerPortLabels(t: LabelMap, pod: Pod, port: number, protocol: string | undefined): void {
  for (const { c, init } of allContainers(pod)) {
    const cp = c.ports.find((p) => p.port === port);
    if (!cp) continue;
    t.set('__meta_kubernetes_pod_container_name', c.name);
    t.set('__meta_kubernetes_pod_container_image', c.image);
    t.set('__meta_kubernetes_pod_container_port_name', cp.name);
    t.set('__meta_kubernetes_pod_container_port_number', String(port));
    // endpoints.go takes the endpoint port's protocol, endpointslice.go the container port's.
    t.set('__meta_kubernetes_pod_container_port_protocol', protocol ?? cp.protocol);
    t.set('__meta_kubernetes_pod_container_init', String(init));
    return;
  }
}

/**
 * Labels an endpoint's target with the pod it points to, if any, and the container port it serves, which
 * then counts as covered for that pod (endpoints.go, endpointslice.go).
 */
function addPodLabels(
  t: LabelMap,
  seen: Map<string, SeenPod>,
  ref: ObjectRef | undefined,
  look: Lookups,
  attach: Attach,
  port: number | undefined,
  protocol: string | undefined,
): void {
  const pod = resolvePod(ref, look);
  if (!pod) return;
  const key = objectKey(pod.meta.namespace, pod.meta.name);
  let sp = seen.get(key);
  if (!sp) seen.set(key, (sp = { pod, ports: [] }));
  merge(t, podLabels(pod, look, attach));
  if (port === undefined) return;
  containerPortLabels(t, pod, port, protocol);
  sp.ports.push(port);
}

/** Targets for the container ports of seen pods that no endpoint port covered (endpoints.go, endpointslice.go). */
function uncoveredPodPorts(g: GroupBuilder, seen: Map<string, SeenPod>, look: Lookups, attach: Attach): void {
  for (const { pod, ports } of seen.values()) {
    if (pod.ip === '') continue;
    for (const { c, init } of allContainers(pod)) {
      for (const cp of c.ports) {
        if (ports.includes(cp.port)) continue;
        const t: LabelMap = new Map([
          [ADDRESS, joinHostPort(pod.ip, cp.port)],
          ['__meta_kubernetes_pod_container_name', c.name],
          ['__meta_kubernetes_pod_container_image', c.image],
          ['__meta_kubernetes_pod_container_port_name', cp.name],
          ['__meta_kubernetes_pod_container_port_number', String(cp.port)],
          ['__meta_kubernetes_pod_container_port_protocol', cp.protocol],
          ['__meta_kubernetes_pod_container_init', String(init)],
        ]);
        g.add(merge(t, podLabels(pod, look, attach)));
      }
    }
  }
}

function resolvePod(ref: ObjectRef | undefined, look: Lookups): Pod | undefined {
  return ref?.kind === 'Pod' ? look.pod(objectKey(ref.namespace, ref.name)) : undefined;
}

/** endpoints.go buildEndpoints. */
export function buildEndpoints(eps: Endpoints, look: Lookups, attach: Attach): TargetGroup {
  const ns = eps.meta.namespace;
  const g = new GroupBuilder(`endpoints/${ns}/${eps.meta.name}`);
  g.labels.set(NAMESPACE, ns);
  const svc = look.service(objectKey(ns, eps.meta.name));
  if (svc) merge(g.labels, serviceLabels(svc));
  addObjectMeta(g.labels, eps.meta, 'endpoints');
  addNamespaceMeta(g.labels, ns, look, attach);
  const seen = new Map<string, SeenPod>();
  for (const ss of eps.subsets) {
    for (const port of ss.ports) {
      const addrs = [
        ...ss.addresses.map((a) => [a, 'true'] as const),
        ...ss.notReadyAddresses.map((a) => [a, 'false'] as const),
      ];
      for (const [addr, ready] of addrs) {
        const t: LabelMap = new Map([
          [ADDRESS, joinHostPort(addr.ip, port.port)],
          ['__meta_kubernetes_endpoint_port_name', port.name],
          ['__meta_kubernetes_endpoint_port_protocol', port.protocol],
          ['__meta_kubernetes_endpoint_ready', ready],
        ]);
        if (addr.targetRef) {
          t.set('__meta_kubernetes_endpoint_address_target_kind', addr.targetRef.kind);
          t.set('__meta_kubernetes_endpoint_address_target_name', addr.targetRef.name);
        }
        if (addr.nodeName !== undefined) t.set('__meta_kubernetes_endpoint_node_name', addr.nodeName);
        if (addr.hostname !== '') t.set('__meta_kubernetes_endpoint_hostname', addr.hostname);
        if (attach.node) {
          if (addr.nodeName !== undefined) addNodeMeta(t, addr.nodeName, look);
          else if (addr.targetRef?.kind === 'Node') addNodeMeta(t, addr.targetRef.name, look);
        }
        addPodLabels(t, seen, addr.targetRef, look, attach, port.port, port.protocol);
        g.add(t);
      }
    }
  }
  uncoveredPodPorts(g, seen, look, attach);
  return g.build();
}

/** endpointslice.go nonPrimaryIPFamilySlice: the secondary slice of a dual-stack service. */
function nonPrimaryIPFamily(svc: Service | undefined, es: EndpointSlice): boolean {
  if (!svc) return false;
  if (svc.ipFamilyPolicy !== 'PreferDualStack' && svc.ipFamilyPolicy !== 'RequireDualStack') return false;
  const first = svc.ipFamilies[0];
  return first !== undefined && es.addressType !== first;
}

/** The service an EndpointSlice belongs to, named by its `kubernetes.io/service-name` label. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function slicePortTarget(address: string, port: SlicePort): LabelMap {
  const t: LabelMap = new Map([[ADDRESS, port.port !== undefined ? joinHostPort(address, port.port) : address]]);
  if (port.name !== undefined) t.set('__meta_kubernetes_endpointslice_port_name', port.name);
  if (port.protocol !== undefined) t.set('__meta_kubernetes_endpointslice_port_protocol', port.protocol);
  if (port.port !== undefined) t.set('__meta_kubernetes_endpointslice_port', String(port.port));
  if (port.appProtocol !== undefined) t.set('__meta_kubernetes_endpointslice_port_app_protocol', port.appProtocol);
  return t;
}

/** endpointslice.go buildEndpointSlice. */
export function buildEndpointSlice(es: EndpointSlice, look: Lookups, attach: Attach): TargetGroup {
  const ns = es.meta.namespace;
  const g = new GroupBuilder(`endpointslice/${ns}/${es.meta.name}`);
  g.labels.set(NAMESPACE, ns);
  g.labels.set('__meta_kubernetes_endpointslice_address_type', es.addressType);
  addObjectMeta(g.labels, es.meta, 'endpointslice');
  const svcName = pairValue(es.meta.labels, SERVICE_NAME_LABEL);
  const svc = svcName === undefined ? undefined : look.service(objectKey(ns, svcName));
  if (svc) merge(g.labels, serviceLabels(svc));
  addNamespaceMeta(g.labels, ns, look, attach);
  if (nonPrimaryIPFamily(svc, es)) return g.build();
  const seen = new Map<string, SeenPod>();
  for (const ep of es.endpoints) {
    for (const port of es.ports) {
      for (const address of ep.addresses) {
        const t = slicePortTarget(address, port);
        if (ep.ready !== undefined)
          t.set('__meta_kubernetes_endpointslice_endpoint_conditions_ready', String(ep.ready));
        if (ep.serving !== undefined)
          t.set('__meta_kubernetes_endpointslice_endpoint_conditions_serving', String(ep.serving));
        if (ep.terminating !== undefined)
          t.set('__meta_kubernetes_endpointslice_endpoint_conditions_terminating', String(ep.terminating));
        if (ep.hostname !== undefined) t.set('__meta_kubernetes_endpointslice_endpoint_hostname', ep.hostname);
        if (ep.targetRef) {
          t.set('__meta_kubernetes_endpointslice_address_target_kind', ep.targetRef.kind);
          t.set('__meta_kubernetes_endpointslice_address_target_name', ep.targetRef.name);
        }
        if (ep.nodeName !== undefined) t.set('__meta_kubernetes_endpointslice_endpoint_node_name', ep.nodeName);
        if (ep.zone !== undefined) t.set('__meta_kubernetes_endpointslice_endpoint_zone', ep.zone);
        for (let i = 0; i < ep.topology.length; i += 2) {
          const n = sanitizeLabelName(ep.topology[i] as string);
          const v = ep.topology[i + 1] as string;
          t.set(intern(`${P}endpointslice_endpoint_topology_${n}`), v);
          t.set(intern(`${P}endpointslice_endpoint_topology_present_${n}`), 'true');
        }
        if (attach.node) addNodeMeta(t, ep.targetRef?.kind === 'Node' ? ep.targetRef.name : ep.nodeName, look);
        addPodLabels(t, seen, ep.targetRef, look, attach, port.port, undefined);
        g.add(t);
      }
    }
  }
  uncoveredPodPorts(g, seen, look, attach);
  return g.build();
}

/** ingress.go matchesHostnamePattern: equal, or a `*.` wildcard of the same depth. */
function matchesHostnamePattern(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  const pp = pattern.split('.');
  const hp = host.split('.');
  if (pp[0] !== '*' || pp.length !== hp.length) return false;
  for (let i = 1; i < pp.length; i++) if (pp[i] !== hp[i]) return false;
  return true;
}

/** ingress.go buildIngress: one target per rule and path. */
export function buildIngress(ing: Ingress, look: Lookups, attach: Attach): TargetGroup {
  const ns = ing.meta.namespace;
  const g = new GroupBuilder(`ingress/${ns}/${ing.meta.name}`);
  g.labels.set(NAMESPACE, ns);
  if (ing.className !== undefined) g.labels.set('__meta_kubernetes_ingress_class_name', ing.className);
  addObjectMeta(g.labels, ing.meta, 'ingress');
  addNamespaceMeta(g.labels, ns, look, attach);
  for (const rule of ing.rules) {
    const scheme = ing.tlsHosts.some((p) => matchesHostnamePattern(p, rule.host)) ? 'https' : 'http';
    const paths = rule.paths === undefined ? ['/'] : rule.paths.map((p) => (p === '' ? '/' : p));
    for (const path of paths) {
      g.add(
        new Map([
          [ADDRESS, rule.host],
          ['__meta_kubernetes_ingress_scheme', scheme],
          ['__meta_kubernetes_ingress_host', rule.host],
          ['__meta_kubernetes_ingress_path', path],
        ]),
      );
    }
  }
  return g.build();
}

/**
 * Kubernetes objects as Outpost keeps them: only the fields that become targets or labels. The API
 * sends whole objects (a pod is 5–20 KB of JSON: managed fields, env, volumes, probes); keeping the
 * projection instead is what bounds memory at 10k pods (measured in bench/k8s-memory.ts).
 *
 * Field names follow the Kubernetes API (core/v1, discovery.k8s.io/v1, networking.k8s.io/v1,
 * apps/v1, batch/v1). A projection returns undefined for an object without metadata.name.
 */

interface OwnerRef {
  readonly kind: string;
  readonly name: string;
}

/** Name/value pairs, flattened: [name0, value0, name1, value1, ...] (a Map per object costs far more). */
export type Pairs = readonly string[];

/** The value of `key` in `p`, or undefined. */
export function pairValue(p: Pairs, key: string): string | undefined {
  for (let i = 0; i < p.length; i += 2) if (p[i] === key) return p[i + 1];
  return undefined;
}

export interface ObjectMeta {
  readonly name: string;
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  readonly uid: string;
  readonly labels: Pairs;
  readonly annotations: Pairs;
  /** The owner reference with `controller: true`, as GetControllerOf finds it. */
  readonly controller: OwnerRef | undefined;
}

interface ContainerPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  /** From status.containerStatuses (or initContainerStatuses); '' until the container exists. */
  readonly id: string;
  readonly ports: readonly ContainerPort[];
}

export interface Pod {
  readonly meta: ObjectMeta;
  readonly ip: string;
  readonly hostIP: string;
  readonly phase: string;
  /** The PodReady condition's status, lower case; `unknown` without one. */
  readonly ready: string;
  readonly nodeName: string;
  readonly containers: readonly Container[];
  readonly initContainers: readonly Container[];
}

export interface Node {
  readonly meta: ObjectMeta;
  readonly providerID: string;
  /** [type, status] pairs from status.conditions. */
  readonly conditions: readonly (readonly [string, string])[];
  /** [type, address] pairs from status.addresses, in order. */
  readonly addresses: readonly (readonly [string, string])[];
  readonly kubeletPort: number;
}

interface ServicePort {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
}

export interface Service {
  readonly meta: ObjectMeta;
  readonly type: string;
  readonly clusterIP: string;
  readonly externalName: string;
  readonly loadBalancerIP: string;
  readonly ingressIPs: readonly string[];
  readonly ports: readonly ServicePort[];
  readonly ipFamilyPolicy: string;
  readonly ipFamilies: readonly string[];
}

export interface ObjectRef {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

interface EndpointAddress {
  readonly ip: string;
  readonly hostname: string;
  readonly nodeName: string | undefined;
  readonly targetRef: ObjectRef | undefined;
}

interface EndpointSubset {
  readonly addresses: readonly EndpointAddress[];
  readonly notReadyAddresses: readonly EndpointAddress[];
  readonly ports: readonly ServicePort[];
}

export interface Endpoints {
  readonly meta: ObjectMeta;
  readonly subsets: readonly EndpointSubset[];
}

export interface SlicePort {
  readonly name: string | undefined;
  readonly port: number | undefined;
  readonly protocol: string | undefined;
  readonly appProtocol: string | undefined;
}

interface SliceEndpoint {
  readonly addresses: readonly string[];
  readonly ready: boolean | undefined;
  readonly serving: boolean | undefined;
  readonly terminating: boolean | undefined;
  readonly hostname: string | undefined;
  readonly nodeName: string | undefined;
  readonly zone: string | undefined;
  readonly targetRef: ObjectRef | undefined;
  readonly topology: Pairs;
}

export interface EndpointSlice {
  readonly meta: ObjectMeta;
  readonly addressType: string;
  readonly ports: readonly SlicePort[];
  readonly endpoints: readonly SliceEndpoint[];
}

interface IngressRule {
  readonly host: string;
  /** undefined when the rule has no `http` block. */
  readonly paths: readonly string[] | undefined;
}

export interface Ingress {
  readonly meta: ObjectMeta;
  readonly className: string | undefined;
  readonly rules: readonly IngressRule[];
  readonly tlsHosts: readonly string[];
}

/** Namespaces, ReplicaSets and Jobs are only looked up for their metadata (attach_metadata). */
export interface MetaOnly {
  readonly meta: ObjectMeta;
}

type Json = Readonly<Record<string, unknown>>;

const EMPTY: Json = Object.freeze({});

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : EMPTY;
}

function list(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function optStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function optBool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function optNum(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Each object of a JSON list, decoded by f (a non-object decodes as {}). */
function objects<T>(v: unknown, f: (o: Json) => T): T[] {
  return list(v).map((x) => f(obj(x)));
}

function stringPairs(v: unknown): Pairs {
  const out: string[] = [];
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out.push(k, x);
  return out;
}

/** `metadata.name`, `metadata.namespace` and `metadata.resourceVersion` of a raw object. */
export function rawMeta(raw: unknown): { name: string; namespace: string; resourceVersion: string } {
  const m = obj(obj(raw).metadata);
  return { name: str(m.name), namespace: str(m.namespace), resourceVersion: str(m.resourceVersion) };
}

function meta(raw: Json): ObjectMeta | undefined {
  const m = obj(raw.metadata);
  const name = str(m.name);
  if (name === '') return undefined;
  let controller: OwnerRef | undefined;
  for (const r of list(m.ownerReferences)) {
    const o = obj(r);
    if (o.controller === true) {
      controller = { kind: str(o.kind), name: str(o.name) };
      break;
    }
  }
  return {
    name,
    namespace: str(m.namespace),
    uid: str(m.uid),
    labels: stringPairs(m.labels),
    annotations: stringPairs(m.annotations),
    controller,
  };
}

/** Decodes an object that has a name with body; one without (informers never hold one) is undefined. */
function withMeta<T>(raw: unknown, body: (o: Json, m: ObjectMeta) => T): T | undefined {
  const o = obj(raw);
  const m = meta(o);
  return m ? body(o, m) : undefined;
}

function ref(v: unknown): ObjectRef | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = obj(v);
  return { kind: str(o.kind), name: str(o.name), namespace: str(o.namespace) };
}

function containers(v: unknown, statuses: unknown): Container[] {
  const ids = new Map<string, string>();
  for (const st of list(statuses)) ids.set(str(obj(st).name), str(obj(st).containerID));
  return objects(v, (o) => {
    return {
      name: str(o.name),
      image: str(o.image),
      id: ids.get(str(o.name)) ?? '',
      ports: objects(o.ports, (q) => {
        // The API defaults protocol to TCP; a missing one is printed as Go's empty string.
        return { name: str(q.name), port: num(q.containerPort), protocol: str(q.protocol) };
      }),
    };
  });
}

export function toPod(raw: unknown): Pod | undefined {
  return withMeta(raw, (o, m) => {
    const spec = obj(o.spec);
    const status = obj(o.status);
    let ready = 'unknown';
    for (const c of list(status.conditions)) {
      const co = obj(c);
      if (co.type === 'Ready') {
        ready = str(co.status).toLowerCase();
        break;
      }
    }
    return {
      meta: m,
      ip: str(status.podIP),
      hostIP: str(status.hostIP),
      phase: str(status.phase),
      ready,
      nodeName: str(spec.nodeName),
      containers: containers(spec.containers, status.containerStatuses),
      initContainers: containers(spec.initContainers, status.initContainerStatuses),
    };
  });
}

export function toNode(raw: unknown): Node | undefined {
  return withMeta(raw, (o, m) => {
    const status = obj(o.status);
    return {
      meta: m,
      providerID: str(obj(o.spec).providerID),
      conditions: list(status.conditions).map((c) => [str(obj(c).type), str(obj(c).status)] as const),
      addresses: list(status.addresses).map((a) => [str(obj(a).type), str(obj(a).address)] as const),
      kubeletPort: num(obj(obj(status.daemonEndpoints).kubeletEndpoint).Port),
    };
  });
}

function servicePorts(v: unknown): ServicePort[] {
  return objects(v, (q) => {
    return { name: str(q.name), port: num(q.port), protocol: str(q.protocol) };
  });
}

export function toService(raw: unknown): Service | undefined {
  return withMeta(raw, (o, m) => {
    const spec = obj(o.spec);
    return {
      meta: m,
      type: str(spec.type),
      clusterIP: str(spec.clusterIP),
      externalName: str(spec.externalName),
      loadBalancerIP: str(spec.loadBalancerIP),
      ingressIPs: list(obj(obj(o.status).loadBalancer).ingress)
        .map((i) => str(obj(i).ip))
        .filter((ip) => ip !== ''),
      ports: servicePorts(spec.ports),
      ipFamilyPolicy: str(spec.ipFamilyPolicy),
      ipFamilies: list(spec.ipFamilies).map(str),
    };
  });
}

function endpointAddresses(v: unknown): EndpointAddress[] {
  return objects(v, (o) => {
    return { ip: str(o.ip), hostname: str(o.hostname), nodeName: optStr(o.nodeName), targetRef: ref(o.targetRef) };
  });
}

export function toEndpoints(raw: unknown): Endpoints | undefined {
  return withMeta(raw, (o, m) => {
    return {
      meta: m,
      subsets: objects(o.subsets, (so) => {
        return {
          addresses: endpointAddresses(so.addresses),
          notReadyAddresses: endpointAddresses(so.notReadyAddresses),
          ports: servicePorts(so.ports),
        };
      }),
    };
  });
}

export function toEndpointSlice(raw: unknown): EndpointSlice | undefined {
  return withMeta(raw, (o, m) => {
    return {
      meta: m,
      addressType: str(o.addressType),
      ports: objects(o.ports, (q) => {
        return {
          name: optStr(q.name),
          port: optNum(q.port),
          protocol: optStr(q.protocol),
          appProtocol: optStr(q.appProtocol),
        };
      }),
      endpoints: objects(o.endpoints, (eo) => {
        const cond = obj(eo.conditions);
        return {
          addresses: list(eo.addresses).map(str),
          ready: optBool(cond.ready),
          serving: optBool(cond.serving),
          terminating: optBool(cond.terminating),
          hostname: optStr(eo.hostname),
          nodeName: optStr(eo.nodeName),
          zone: optStr(eo.zone),
          targetRef: ref(eo.targetRef),
          topology: stringPairs(eo.deprecatedTopology),
        };
      }),
    };
  });
}

export function toIngress(raw: unknown): Ingress | undefined {
  return withMeta(raw, (o, m) => {
    const spec = obj(o.spec);
    return {
      meta: m,
      className: optStr(spec.ingressClassName),
      rules: objects(spec.rules, (ro) => {
        const http = ro.http;
        return {
          host: str(ro.host),
          paths:
            typeof http === 'object' && http !== null ? list(obj(http).paths).map((p) => str(obj(p).path)) : undefined,
        };
      }),
      tlsHosts: list(spec.tls).flatMap((t) => list(obj(t).hosts).map(str)),
    };
  });
}

export function toMetaOnly(raw: unknown): MetaOnly | undefined {
  const m = meta(obj(raw));
  return m ? { meta: m } : undefined;
}

/** The store key client-go uses: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(namespace: string, name: string): string {
  return namespace === '' ? name : `${namespace}/${name}`;
}

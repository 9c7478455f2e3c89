/**
 * Runs one discoverer per (job, *_sd_configs entry) and forwards what they find to the scrape
 * manager, as Prometheus' discovery manager does:
 *  - updates for a job are merged: the first goes out at once, later ones at most every
 *    updateIntervalMs (Prometheus: 5s), each a full replacement of that provider's groups;
 *  - on reload, a discoverer whose job still has an identical config keeps running (no
 *    re-discovery gap, its groups stay with the scrape manager); changed or removed ones stop
 *    and their groups are withdrawn;
 *  - static_configs stay with the scrape manager (provider 'static') but are counted in
 *    prometheus_sd_discovered_targets, as Prometheus counts its static provider.
 *
 * When a reload replaces a job's providers, withdrawing the old groups is held back until the
 * new providers have reported once (at most updateIntervalMs), and delivered after them: targets
 * both lists contain keep their scrape loops instead of being stopped and restarted.
 */
import type {
  DnsSdConfig,
  FileSdConfig,
  HttpSdConfig,
  KubernetesSdConfig,
  NameValidationScheme,
  ScrapeConfig,
  TargetGroup,
} from '../config/types.ts';
import { Secret } from '../config/secret.ts';
import { USER_AGENT } from '../build-info.ts';
import type { LogFields, Logger } from '../log/logger.ts';
import type { Registry } from '../metrics/registry.ts';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.ts';
import { errorMessage } from '../util/errors.ts';
import { labelsEqual } from '../util/labels.ts';
import type { Discoverer } from './discoverer.ts';
import type { DnsResolverOptions } from './dns.ts';
import { MANAGER_NAME, SdMetrics } from './metrics.ts';

const DEFAULT_UPDATE_INTERVAL_MS = 5000;

export type SdProviderConfig =
  | { readonly kind: 'file'; readonly config: FileSdConfig }
  | { readonly kind: 'http'; readonly config: HttpSdConfig }
  | { readonly kind: 'dns'; readonly config: DnsSdConfig }
  | { readonly kind: 'kubernetes'; readonly config: KubernetesSdConfig };

/** What a discoverer factory gets besides its config. */
export interface DiscovererContext {
  readonly job: string;
  readonly provider: string;
  readonly scheme: NameValidationScheme;
  readonly log: Logger;
  readonly metrics: SdMetrics;
  readonly clock: Clock;
}

export interface DiscoveryManagerOptions {
  log: Logger;
  registry: Registry;
  onUpdate: (job: string, provider: string, groups: readonly TargetGroup[]) => void;
  clock?: Clock;
  /** Merge window for a job's updates; default 5000 (Prometheus' 5s). */
  updateIntervalMs?: number;
  /** Sent by http_sd; default Outpost's. */
  userAgent?: string;
  /** dns_sd resolver settings (tests point it at a loopback server). */
  dns?: DnsResolverOptions;
  /** file_sd: wait between a filesystem event and the re-read. */
  fileDebounceMs?: number;
  /** Replaces how discoverers are built (tests). */
  createDiscoverer?: (spec: SdProviderConfig, ctx: DiscovererContext) => Discoverer;
}

interface Provider {
  readonly name: string;
  readonly spec: SdProviderConfig;
  readonly scheme: NameValidationScheme;
  readonly abort: AbortController;
  done: Promise<void>;
}

interface JobState {
  readonly job: string;
  staticTargets: number;
  readonly providers: Map<string, Provider>;
  /** Latest groups not yet handed to onUpdate, by provider. */
  readonly pending: Map<string, readonly TargetGroup[]>;
  /** What onUpdate last got, by provider. */
  readonly delivered: Map<string, readonly TargetGroup[]>;
  lastFlush: number | undefined;
  timer: TimerHandle | null;
  /** New providers that have not reported since a reload withdrew others (see file comment). */
  readonly awaiting: Set<string>;
  holdUntil: number;
  readonly nextId: Record<SdProviderConfig['kind'], number>;
}

export class DiscoveryManager {
  private readonly o: DiscoveryManagerOptions;
  private readonly clock: Clock;
  private readonly interval: number;
  private readonly metrics: SdMetrics;
  private readonly jobs = new Map<string, JobState>();
  /** Discoverers stopped by reloads that may still be finishing. */
  private readonly retiring = new Set<Promise<void>>();
  private stopped = false;

  constructor(opts: DiscoveryManagerOptions) {
    this.o = opts;
    this.clock = opts.clock ?? systemClock;
    this.interval = opts.updateIntervalMs ?? DEFAULT_UPDATE_INTERVAL_MS;
    this.metrics = new SdMetrics(opts.registry);
  }

  /** Starts, keeps or stops discoverers so that they match `scrapeConfigs`. */
  applyConfig(scrapeConfigs: readonly ScrapeConfig[]): void {
    if (this.stopped) return;
    const wanted = new Map(scrapeConfigs.map((c) => [c.jobName, c]));
    for (const [job, s] of this.jobs) {
      if (wanted.has(job)) continue;
      // The scrape pool is gone with the job; nothing to withdraw.
      for (const p of s.providers.values()) this.retire(p);
      if (s.timer) this.clock.clearTimeout(s.timer);
      this.jobs.delete(job);
      this.metrics.discoveredTargets.remove({ config: job, name: MANAGER_NAME });
    }
    let failed = 0;
    for (const cfg of scrapeConfigs) {
      let s = this.jobs.get(cfg.jobName);
      if (!s) {
        s = {
          job: cfg.jobName,
          staticTargets: 0,
          providers: new Map(),
          pending: new Map(),
          delivered: new Map(),
          lastFlush: undefined,
          timer: null,
          awaiting: new Set(),
          holdUntil: 0,
          nextId: { file: 0, http: 0, dns: 0, kubernetes: 0 },
        };
        this.jobs.set(cfg.jobName, s);
      }
      s.staticTargets = cfg.staticConfigs.reduce((n, g) => n + g.targets.length, 0);
      // Discovered label names are model.LabelName values, which Prometheus 3 checks as UTF-8 whatever
      // the job's scheme; a legacy job fails the scrape on such a name instead (scrape.go lset.IsValid).
      const scheme: NameValidationScheme = 'utf8';
      const specs: SdProviderConfig[] = [
        ...cfg.fileSdConfigs.map((config) => ({ kind: 'file' as const, config })),
        ...cfg.httpSdConfigs.map((config) => ({ kind: 'http' as const, config })),
        ...cfg.dnsSdConfigs.map((config) => ({ kind: 'dns' as const, config })),
        ...cfg.kubernetesSdConfigs.map((config) => ({ kind: 'kubernetes' as const, config })),
      ];
      const unclaimed = new Map(s.providers);
      const toStart: SdProviderConfig[] = [];
      for (const spec of specs) {
        let kept: Provider | undefined;
        for (const p of unclaimed.values()) {
          if (p.scheme === scheme && p.spec.kind === spec.kind && deepEqual(p.spec.config, spec.config)) {
            kept = p;
            break;
          }
        }
        if (kept) unclaimed.delete(kept.name);
        else toStart.push(spec);
      }
      let withdrew = false;
      for (const p of unclaimed.values()) {
        this.retire(p);
        s.providers.delete(p.name);
        s.awaiting.delete(p.name);
        if (s.delivered.has(p.name)) {
          s.pending.set(p.name, []);
          withdrew = true;
        } else s.pending.delete(p.name);
      }
      const started: string[] = [];
      for (const spec of toStart) {
        const p = this.startProvider(s, spec, scheme);
        if (p) started.push(p.name);
        else failed++;
      }
      if (started.length > 0 && withdrew) {
        for (const n of started) s.awaiting.add(n);
        s.holdUntil = this.clock.now() + this.interval;
      }
      this.updateGauge(s);
      this.schedule(s);
    }
    this.metrics.failedConfigs.set({ name: MANAGER_NAME }, failed);
  }

  /** Stops every discoverer; nothing is delivered after this resolves. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.jobs.values()) {
      if (s.timer) this.clock.clearTimeout(s.timer);
      s.timer = null;
      for (const p of s.providers.values()) this.retire(p);
    }
    this.jobs.clear();
    await Promise.all([...this.retiring]);
  }

  private startProvider(s: JobState, spec: SdProviderConfig, scheme: NameValidationScheme): Provider | undefined {
    const name = `${spec.kind}/${s.nextId[spec.kind]++}`;
    const ctx: DiscovererContext = {
      job: s.job,
      provider: name,
      scheme,
      log: withFields(this.o.log, { job: s.job, provider: name }),
      metrics: this.metrics,
      clock: this.clock,
    };
    let d: Discoverer;
    try {
      d = (this.o.createDiscoverer ?? this.defaultDiscoverer)(spec, ctx);
    } catch (err) {
      this.o.log.error('Cannot create service discovery', { job: s.job, provider: name, err: errorMessage(err) });
      return undefined;
    }
    const abort = new AbortController();
    const p: Provider = { name, spec, scheme, abort, done: Promise.resolve() };
    // Registered before run(): a discoverer may emit synchronously.
    s.providers.set(name, p);
    p.done = d
      .run(abort.signal, (groups) => this.receive(s, p, groups))
      .catch((err: unknown) => {
        if (!abort.signal.aborted)
          this.o.log.error('Service discovery stopped', { job: s.job, provider: name, err: errorMessage(err) });
      });
    return p;
  }

  /** Each mechanism's module is loaded when a config first uses it (see loadedOnRun). */
  private readonly defaultDiscoverer = (spec: SdProviderConfig, ctx: DiscovererContext): Discoverer =>
    loadedOnRun(() => this.loadDiscoverer(spec, ctx));

  private async loadDiscoverer(spec: SdProviderConfig, ctx: DiscovererContext): Promise<Discoverer> {
    const common = { log: ctx.log, metrics: ctx.metrics, clock: ctx.clock };
    const userAgent = this.o.userAgent ?? USER_AGENT;
    switch (spec.kind) {
      case 'file': {
        const { FileDiscoverer } = await import('./file.ts');
        const debounceMs = this.o.fileDebounceMs;
        return new FileDiscoverer({ ...common, config: spec.config, scheme: ctx.scheme, debounceMs });
      }
      case 'http': {
        const { HttpDiscoverer } = await import('./http.ts');
        return new HttpDiscoverer({ ...common, config: spec.config, scheme: ctx.scheme, userAgent });
      }
      case 'dns': {
        const { DnsDiscoverer } = await import('./dns.ts');
        return new DnsDiscoverer({ ...common, config: spec.config, resolver: this.o.dns });
      }
      case 'kubernetes': {
        const { KubernetesDiscoverer } = await import('./kubernetes/discoverer.ts');
        return new KubernetesDiscoverer({ ...common, config: spec.config, userAgent });
      }
    }
  }

  private retire(p: Provider): void {
    p.abort.abort();
    const done = p.done.finally(() => this.retiring.delete(done));
    this.retiring.add(done);
  }

  private receive(s: JobState, p: Provider, groups: TargetGroup[]): void {
    if (p.abort.signal.aborted || this.stopped) return;
    this.metrics.receivedUpdates.inc({ name: MANAGER_NAME });
    const wasAwaited = s.awaiting.delete(p.name);
    // Discoverers re-emit unchanged lists every refresh; only changes need to reach the scrape manager.
    const current = s.pending.get(p.name) ?? s.delivered.get(p.name);
    const changed = !current || !groupsEqual(current, groups);
    if (changed) s.pending.set(p.name, Object.freeze(groups));
    this.o.log.debug('Service discovery update', {
      job: s.job,
      provider: p.name,
      groups: groups.length,
      targets: countTargets(groups),
      changed,
    });
    if (wasAwaited && s.awaiting.size === 0 && s.timer) {
      // The hold is over: deliver as soon as the rate limit allows instead of at holdUntil.
      this.clock.clearTimeout(s.timer);
      s.timer = null;
    }
    this.schedule(s);
  }

  private schedule(s: JobState): void {
    if (this.stopped || s.timer || s.pending.size === 0) return;
    const now = this.clock.now();
    let due = s.lastFlush === undefined ? now : s.lastFlush + this.interval;
    if (s.awaiting.size > 0) due = Math.max(due, s.holdUntil);
    if (due <= now) {
      this.flush(s);
      return;
    }
    s.timer = this.clock.setTimeout(() => {
      s.timer = null;
      this.flush(s);
    }, due - now);
  }

  private flush(s: JobState): void {
    if (this.stopped || this.jobs.get(s.job) !== s) return;
    s.awaiting.clear();
    const updates = [...s.pending];
    s.pending.clear();
    if (updates.length === 0) return;
    s.lastFlush = this.clock.now();
    // Additions before withdrawals, so a target present in both stays wanted throughout.
    updates.sort((a, b) => (a[1].length === 0 ? 1 : 0) - (b[1].length === 0 ? 1 : 0));
    for (const [provider, groups] of updates) {
      if (s.providers.has(provider)) s.delivered.set(provider, groups);
      else s.delivered.delete(provider);
      try {
        this.o.onUpdate(s.job, provider, groups);
      } catch (err) {
        this.o.log.error('Applying discovered targets failed', { job: s.job, provider, err: errorMessage(err) });
      }
    }
    this.metrics.updates.inc({ name: MANAGER_NAME });
    this.updateGauge(s);
  }

  private updateGauge(s: JobState): void {
    let n = s.staticTargets;
    for (const groups of s.delivered.values()) for (const g of groups) n += g.targets.length;
    this.metrics.discoveredTargets.set({ config: s.job, name: MANAGER_NAME }, n);
  }
}

/** Tags every line of a discoverer's log with its job and provider. */
function withFields(log: Logger, fields: LogFields): Logger {
  return {
    debug: (msg, f) => log.debug(msg, { ...fields, ...f }),
    info: (msg, f) => log.info(msg, { ...fields, ...f }),
    warn: (msg, f) => log.warn(msg, { ...fields, ...f }),
    error: (msg, f) => log.error(msg, { ...fields, ...f }),
    child: (c) => withFields(log.child(c), fields),
  };
}

function countTargets(groups: readonly TargetGroup[]): number {
  let n = 0;
  for (const g of groups) n += g.targets.length;
  return n;
}

function groupsEqual(a: readonly TargetGroup[], b: readonly TargetGroup[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i];
    if (y === undefined) return false;
    if (x.source !== y.source || !labelsEqual(x.labels, y.labels) || !labelsEqual(x.targets, y.targets)) return false;
    const xt = x.targetLabels;
    const yt = y.targetLabels;
    if (xt === yt) return true;
    if (!xt || !yt || xt.length !== yt.length) return false;
    return xt.every((l, j) => {
      const r = yt[j];
      return r !== undefined && labelsEqual(l, r);
    });
  });
}

/** Structural equality of frozen config objects; secrets compare by value without being revealed. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Secret || b instanceof Secret) return a instanceof Secret && b instanceof Secret && a.equals(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * A discoverer made when it first runs, from a module imported then: an agent evaluates only the
 * discovery code its config uses (the Kubernetes client and its object model are most of it), which
 * keeps it out of the heap of an edge agent with static targets. A failure to make it (e.g. no
 * in-cluster credentials) ends run() and is logged as the discoverer stopping.
 */
function loadedOnRun(make: () => Promise<Discoverer>): Discoverer {
  return {
    async run(signal, emit) {
      const d = await make();
      if (!signal.aborted) await d.run(signal, emit);
    },
  };
}

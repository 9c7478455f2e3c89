import http from 'node:http';
import { Gauge, type Registry } from 'prom-client';
import { collectedCounter } from '../metrics/collected.ts';
import type { Appender } from '../storage/appender.ts';
import type { ScrapeConfig, TargetGroup } from '../config/types.ts';
import { formatDuration } from '../config/duration.ts';
import type { Logger } from '../log/logger.ts';
import { compileRelabelConfigs, hashmod, type CompiledRelabel } from '../relabel/relabel.ts';
import type { TargetStatus } from '../status/types.ts';
import { buildAcceptHeader } from '../textparse/protocols.ts';
import { Http1Pool } from '../net/http1-client.ts';
import { maxSchemaForBucketFactor } from './histogram-limits.ts';
import type { Clock } from '../util/clock.ts';
import { labelPairs, labelsGet, labelsKey, type Labels } from '../util/labels.ts';
import { newLoopCounters, ScrapeLoop, type LoopCounters, type LoopOptions, type ScrapeTarget } from './loop.ts';
import { populateTargetLabels } from './target-labels.ts';
import { AuthSource } from '../net/auth.ts';
import { tlsOptions } from '../net/tls.ts';
import { BufferPool } from './buffer-pool.ts';
import { FailureLogs } from './failure-log.ts';
import { ProxySelector } from '../net/proxy.ts';
import { errorMessage } from '../util/errors.ts';
import { lazyHttps } from '../util/lazy-builtin.ts';
import type { MetricMetadataEntry } from '../storage/metadata.ts';

/** One metadata entry of one target, as the metadata API lists it. */
export interface TargetMetadataEntry extends MetricMetadataEntry {
  /**
   * The target's labels. Every entry of one target shares this one object, so a consumer can tell
   * where a target's entries begin (the targets API limit counts whole targets, as in Prometheus).
   */
  readonly target: Readonly<Record<string, string>>;
}

/** body_size_limit when neither the job nor global sets one (16 MiB, as vmagent); raise it in the config. */
export const DEFAULT_BODY_SIZE_LIMIT = 16 * 1024 * 1024;

export interface AppenderSource {
  appender(): Appender;
}

interface Pool {
  cfg: ScrapeConfig;
  /** JSON of the config, to tell whether a reload changed it. */
  fingerprint: string;
  rules: readonly CompiledRelabel[];
  loopOpts: LoopOptions;
  loops: Map<string, ScrapeLoop>;
  dropped: DroppedTarget[];
  groups: Map<string, readonly TargetGroup[]>;
  /** Fails every scrape of the pool (an unusable proxy from the environment), like target_limit does. */
  setupError: string | null;
}

/**
 * Which share of the targets this agent scrapes (`--scrape.shards`, `--scrape.shard-index`): the
 * targets whose hashmod of `__address__` after target relabeling equals `index`, exactly what the
 * Prometheus Operator appends to each job (hashmod into `__tmp_hash`, then keep `$(SHARD)`).
 */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

const NO_SHARDING: ShardSpec = Object.freeze({ index: 0, count: 1 });

/** A target relabeling or sharding dropped; only sharding sets `reason` (relabeled ones look as in Prometheus). */
interface DroppedTarget {
  readonly discovered: Labels;
  readonly reason?: string | undefined;
}

/** The scrape loops' shared counters, exposed under Prometheus' names. */
const LOOP_COUNTERS: readonly (readonly [name: string, help: string, key: keyof LoopCounters])[] = [
  [
    'prometheus_target_scrapes_sample_duplicate_timestamp_total',
    'Total number of samples rejected due to duplicate timestamps but different values.',
    'duplicates',
  ],
  [
    'prometheus_target_scrapes_sample_out_of_order_total',
    'Total number of samples rejected due to not being out of the expected order.',
    'outOfOrder',
  ],
  [
    'prometheus_target_scrapes_sample_out_of_bounds_total',
    'Total number of samples rejected due to timestamp falling outside of the time bounds.',
    'outOfBounds',
  ],
  [
    'prometheus_target_scrapes_exceeded_sample_limit_total',
    'Total number of scrapes that hit the sample limit and were rejected.',
    'sampleLimitHit',
  ],
  [
    'prometheus_target_scrapes_exceeded_body_size_limit_total',
    'Total number of scrapes that hit the body size limit',
    'bodyLimitHit',
  ],
  [
    'prometheus_target_scrapes_exceeded_native_histogram_bucket_limit_total',
    'Total number of scrapes that hit the native histogram bucket limit and were rejected.',
    'bucketLimitHit',
  ],
];

/**
 * Owns one pool per job and one loop per target. Discovery feeds it target groups; reloads swap pool
 * settings while loops of unchanged targets keep running (no gap, no duplicate).
 */
export class ScrapeManager {
  private readonly pools = new Map<string, Pool>();
  private readonly storage: AppenderSource;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly userAgent: string;
  readonly counters: LoopCounters = newLoopCounters();
  private stopped = false;
  private readonly buffers = new BufferPool();
  private readonly env: NodeJS.ProcessEnv;
  private readonly failureLogs: FailureLogs;
  private readonly shard: ShardSpec;
  private readonly shardCount: bigint;

  /** `env`: where proxy_from_environment reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY. */
  constructor(
    storage: AppenderSource,
    clock: Clock,
    log: Logger,
    reg: Registry,
    userAgent: string,
    env: NodeJS.ProcessEnv = process.env,
    shard: ShardSpec = NO_SHARDING,
  ) {
    this.storage = storage;
    this.clock = clock;
    this.log = log;
    this.userAgent = userAgent;
    this.env = env;
    this.failureLogs = new FailureLogs(log);
    this.shard = shard;
    this.shardCount = BigInt(shard.count);
    this.registerMetrics(reg);
  }

  /**
   * Applies scrape configs: new pools start, removed pools stop (with stale markers), changed pools restart
   * their loops.
   */
  async applyConfig(scrapeConfigs: readonly ScrapeConfig[]): Promise<void> {
    const wanted = new Map(scrapeConfigs.map((c) => [c.jobName, c]));
    // Reopened on every reload, unchanged pools included (their loops hold the same file objects).
    this.failureLogs.apply(scrapeConfigs.flatMap((c) => (c.scrapeFailureLogFile ? [c.scrapeFailureLogFile] : [])));
    const stops: Promise<void>[] = [];
    const retired: Pool[] = [];
    for (const [name, pool] of this.pools) {
      if (!wanted.has(name)) {
        // Unlike Prometheus 2.42, a job removed by a reload gets stale markers for its series.
        for (const loop of pool.loops.values()) stops.push(loop.stop({ stale: true }));
        pool.loops.clear();
        this.pools.delete(name);
        retired.push(pool);
      }
    }
    for (const cfg of scrapeConfigs) {
      const fingerprint = JSON.stringify(cfg);
      const have = this.pools.get(cfg.jobName);
      if (have && have.fingerprint === fingerprint) continue;
      const { loopOpts, setupError } = this.loopOptions(cfg);
      const pool: Pool = {
        cfg,
        fingerprint,
        rules: compileRelabelConfigs(cfg.relabelConfigs),
        loopOpts,
        loops: new Map(),
        dropped: [],
        groups: have ? have.groups : new Map(),
        setupError,
      };
      if (have) {
        // Settings changed: restart loops under the new settings without stale markers.
        for (const loop of have.loops.values()) stops.push(loop.stop({ stale: false }));
        retired.push(have);
      }
      this.pools.set(cfg.jobName, pool);
      if (!have) pool.groups.set('static', cfg.staticConfigs);
      this.sync(pool);
    }
    await Promise.all(stops);
    // Only once their loops have stopped: nothing uses these connections any more.
    for (const p of retired) closeClients(p.loopOpts);
  }

  /** Replaces the target groups a discovery provider produced for a pool. */
  setTargetGroups(job: string, provider: string, groups: readonly TargetGroup[]): void {
    const pool = this.pools.get(job);
    if (!pool) return;
    pool.groups.set(provider, groups);
    const before = pool.loops.size;
    this.sync(pool);
    this.log.debug('Discovered targets updated', {
      scrape_pool: job,
      provider,
      groups: groups.length,
      targets: pool.loops.size,
      was: before,
      dropped: pool.dropped.length,
    });
  }

  private sync(pool: Pool): void {
    if (this.stopped) return;
    const cfg = pool.cfg;
    const want = new Map<string, ScrapeTarget>();
    pool.dropped = [];
    for (const groups of pool.groups.values()) {
      for (const g of groups) {
        for (const [i, addr] of g.targets.entries()) {
          const res = populateTargetLabels(
            g.labels,
            g.targetLabels?.[i] ?? ['__address__', addr],
            {
              jobName: cfg.jobName,
              scrapeInterval: formatDuration(cfg.scrapeInterval),
              scrapeTimeout: formatDuration(cfg.scrapeTimeout),
              metricsPath: cfg.metricsPath,
              scheme: cfg.scheme,
              params: cfg.params,
            },
            pool.rules,
          );
          if (res.kind === 'dropped') {
            if (cfg.keepDroppedTargets === 0 || pool.dropped.length < cfg.keepDroppedTargets)
              pool.dropped.push({ discovered: res.discovered });
            continue;
          }
          if (res.kind === 'error') {
            this.log.warn('Invalid target', { job: cfg.jobName, err: res.error });
            continue;
          }
          const otherShard = this.otherShard(res.labels);
          if (otherShard !== undefined) {
            if (cfg.keepDroppedTargets === 0 || pool.dropped.length < cfg.keepDroppedTargets)
              pool.dropped.push({ discovered: res.discovered, reason: otherShard });
            continue;
          }
          const key = labelsKey(res.labels);
          if (want.has(key)) continue;
          want.set(key, {
            pool: cfg.jobName,
            url: res.url,
            labels: res.publicLabels,
            discovered: res.discovered,
            intervalMs: res.interval,
            timeoutMs: res.timeout,
          });
        }
      }
    }
    // Past target_limit every target of the pool fails (no scrape, stale markers, up=0), as Prometheus does.
    const overLimit =
      cfg.targetLimit > 0 && want.size > cfg.targetLimit
        ? `target_limit exceeded (number of targets: ${want.size}, limit: ${cfg.targetLimit})`
        : null;
    if (overLimit)
      this.log.error('Target limit exceeded', { job: cfg.jobName, targets: want.size, limit: cfg.targetLimit });
    for (const [key, loop] of pool.loops) {
      if (!want.has(key)) {
        void loop.stop({ stale: true });
        pool.loops.delete(key);
      }
    }
    for (const [key, target] of want) {
      if (pool.loops.has(key)) continue;
      const loop = new ScrapeLoop(target, pool.loopOpts, this.storage.appender(), this.clock, this.log, this.counters);
      pool.loops.set(key, loop);
      loop.start(targetOffset(key, target.url, target.intervalMs));
    }
    for (const loop of pool.loops.values()) loop.forceError(overLimit ?? pool.setupError);
  }

  /** Why another shard scrapes a target (its labels after relabeling), or undefined when this one does. */
  private otherShard(labels: Labels): string | undefined {
    if (this.shardCount <= 1n) return undefined;
    const h = hashmod(labelsGet(labels, '__address__'), this.shardCount);
    if (h === BigInt(this.shard.index)) return undefined;
    const n = this.shard.count;
    const self = this.shard.index;
    return `scrape shard ${h} of ${n} owns it: hashmod(__address__, ${n}) = ${h}, this agent is shard ${self}`;
  }

  private loopOptions(cfg: ScrapeConfig): { loopOpts: LoopOptions; setupError: string | null } {
    const tls = cfg.scheme === 'https' ? tlsOptions(cfg.tlsConfig) : undefined;
    // proxy_url, no_proxy, proxy_from_environment and proxy_connect_header, as remote write has them.
    let proxy: ProxySelector | null = null;
    let setupError: string | null = null;
    try {
      proxy = ProxySelector.fromConfig(cfg, this.env);
    } catch (err) {
      // Go's transport fails each request when the environment names an unusable proxy; never fall back to direct.
      setupError = errorMessage(err);
      this.log.error('Invalid proxy settings; every scrape of the pool fails', { job: cfg.jobName, err: setupError });
    }
    const agent =
      cfg.scheme === 'https'
        ? new (lazyHttps().Agent)({ keepAlive: true, maxSockets: 4, ...tls })
        : new http.Agent({ keepAlive: true, maxSockets: 4 });
    const loopOpts: LoopOptions = Object.freeze({
      honorLabels: cfg.honorLabels,
      honorTimestamps: cfg.honorTimestamps,
      trackTimestampsStaleness: cfg.trackTimestampsStaleness,
      metricRelabel: compileRelabelConfigs(cfg.metricRelabelConfigs),
      sampleLimit: cfg.sampleLimit,
      labelLimit: cfg.labelLimit,
      labelNameLengthLimit: cfg.labelNameLengthLimit,
      labelValueLengthLimit: cfg.labelValueLengthLimit,
      // An edge agent has little memory to spare: without body_size_limit a body may not exceed
      // DEFAULT_BODY_SIZE_LIMIT (vmagent's -promscrape.maxScrapeSize default); a configured one wins.
      bodySizeLimit: cfg.bodySizeLimit > 0 ? cfg.bodySizeLimit : DEFAULT_BODY_SIZE_LIMIT,
      defaultBodyLimit: cfg.bodySizeLimit <= 0,
      headers: {
        // escaping= follows metric_name_escaping_scheme (3.x scrape.go acceptHeader, v3.14.0 line 705).
        Accept: buildAcceptHeader(cfg.scrapeProtocols, cfg.metricNameEscapingScheme),
        'Accept-Encoding': cfg.enableCompression ? 'gzip' : 'identity',
        'User-Agent': this.userAgent,
      },
      // OAuth2 token requests carry the scrape User-Agent, as Prometheus' do.
      auth: new AuthSource(cfg, 5000, { userAgent: this.userAgent }),
      followRedirects: cfg.followRedirects,
      proxy: proxy ?? undefined,
      buffers: this.buffers,
      nameValidation: cfg.metricNameValidationScheme,
      failureLog: this.failureLogs.get(cfg.scrapeFailureLogFile),
      fallbackProtocol: cfg.fallbackScrapeProtocol,
      histograms: Object.freeze({
        ignoreNativeHistograms: !cfg.scrapeNativeHistograms,
        keepClassicHistograms: cfg.alwaysScrapeClassicHistograms,
        convertClassicToNhcb: cfg.convertClassicHistogramsToNHCB,
      }),
      nativeHistogramBucketLimit: cfg.nativeHistogramBucketLimit,
      nativeHistogramMaxSchema: maxSchemaForBucketFactor(cfg.nativeHistogramMinBucketFactor),
      agent,
      http1: new Http1Pool(),
      tls,
    });
    return { loopOpts, setupError };
  }

  /** Stops every loop. Shutdown writes no stale markers, as Prometheus. */
  async stop(): Promise<void> {
    this.stopped = true;
    const all: Promise<void>[] = [];
    for (const pool of this.pools.values())
      for (const loop of pool.loops.values()) all.push(loop.stop({ stale: false }));
    await Promise.all(all);
    for (const pool of this.pools.values()) closeClients(pool.loopOpts);
    this.failureLogs.closeAll();
  }

  targets(): TargetStatus[] {
    const out: TargetStatus[] = [];
    for (const pool of this.pools.values()) {
      for (const loop of pool.loops.values()) {
        const t = loop.target;
        out.push({
          pool: t.pool,
          instance: labelsGet(t.labels, 'instance'),
          url: t.url,
          health: loop.state.health,
          lastScrape: loop.state.lastScrape,
          lastDurationMs: loop.state.lastDurationMs,
          lastError: loop.state.lastError,
          samples: loop.state.samples,
          series: loop.state.series,
          histograms: loop.state.histograms,
          histogramSeries: loop.state.histogramSeries,
          intervalMs: t.intervalMs,
          labels: toRecord(t.labels),
          discoveredLabels: toRecord(t.discovered),
        });
      }
    }
    return out;
  }

  droppedTargets(): { pool: string; discovered: Labels; reason?: string | undefined }[] {
    const out: { pool: string; discovered: Labels; reason?: string | undefined }[] = [];
    for (const pool of this.pools.values())
      for (const d of pool.dropped) out.push({ pool: pool.cfg.jobName, discovered: d.discovered, reason: d.reason });
    return out;
  }

  /**
   * Metadata of every active target, target by target (pools in name order, targets in the order
   * they were discovered), each target's entries in the order its families first appeared.
   */
  metadataSnapshot(): TargetMetadataEntry[] {
    const out: TargetMetadataEntry[] = [];
    for (const name of [...this.pools.keys()].sort()) {
      for (const loop of (this.pools.get(name) as Pool).loops.values()) {
        const list = loop.listMetadata();
        if (list.length === 0) continue;
        const target = toRecord(loop.target.labels);
        for (const m of list) out.push({ target, metric: m.metric, type: m.type, help: m.help, unit: m.unit });
      }
    }
    return out;
  }

  /**
   * Every active target's metadata entries concatenated, duplicates across targets included: what
   * Prometheus' remote-write metadata watcher sends each `metadata_config.send_interval`.
   */
  allMetadata(): MetricMetadataEntry[] {
    const out: MetricMetadataEntry[] = [];
    for (const pool of this.pools.values())
      for (const loop of pool.loops.values()) for (const m of loop.listMetadata()) out.push(m);
    return out;
  }

  poolNames(): string[] {
    return [...this.pools.keys()];
  }

  private registerMetrics(reg: Registry): void {
    const c = this.counters;
    for (const [name, help, key] of LOOP_COUNTERS) collectedCounter(reg, name, help, () => c[key]);
    const pools = this.pools;
    const shardInfo = new Gauge({
      name: 'outpost_scrape_shard_info',
      help: 'Which scrape shard this agent is (--scrape.shard-index) out of how many (--scrape.shards); always 1.',
      labelNames: ['shard', 'shards'],
      registers: [reg],
    });
    shardInfo.set({ shard: String(this.shard.index), shards: String(this.shard.count) }, 1);
    new Gauge({
      name: 'prometheus_target_scrape_pool_targets',
      help: 'Current number of targets in this scrape pool.',
      labelNames: ['scrape_job'],
      registers: [reg],
      collect() {
        this.reset();
        for (const [name, p] of pools) this.set({ scrape_job: name }, p.loops.size);
      },
    });
  }
}

/** Closes a retired pool's keep-alive connections and its OAuth2 token client. */
function closeClients(o: LoopOptions): void {
  o.auth.close();
  o.agent.destroy();
  o.http1?.close();
}

function toRecord(ls: Labels): Record<string, string> {
  return Object.fromEntries(labelPairs(ls));
}

/** Stable offset inside the interval from a hash of the target, so restarts keep the same phase. */
function targetOffset(key: string, url: string, intervalMs: number): number {
  // FNV-1a 32-bit over the target identity.
  let h = 0x811c9dc5;
  const s = key + '\u0000' + url;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % intervalMs;
}

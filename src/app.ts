import path from 'node:path';
import { AgentMetrics } from './agent/metrics.ts';
import { AgentStorage } from './agent/storage.ts';
import { WalStats } from './agent/wal-stats.ts';
import { WalTruncator } from './agent/truncate.ts';
import { registerWalMetrics } from './agent/wal-metrics.ts';
import { buildInfo, startupFields, USER_AGENT } from './build-info.ts';
import type { Flags } from './cli/flags.ts';
import { AutoReloader } from './config/auto-reload.ts';
import { loadConfigFile, redactedConfigYaml } from './config/load.ts';
import type { Config } from './config/types.ts';
import { DiscoveryManager } from './discovery/manager.ts'; // discovery wiring
import { logDuration, type Logger } from './log/logger.ts';
import { ConfigMetrics } from './metrics/config-metrics.ts';
import { createRegistry, type Registry } from './metrics/registry.ts';
import { RemoteStorage } from './remote/remote-storage.ts';
import { ScrapeManager } from './scrape/manager.ts';
import type { OtlpReceiver } from './otlp/receiver.ts';
import { StatusHub } from './status/hub.ts';
import { systemClock, type Clock } from './util/clock.ts';
import { StartError, errorMessage, systemErrorText } from './util/errors.ts';
import { labelPairs } from './util/labels.ts';
import { acquireDirLock } from './wal/lock.ts';
import { WebServer, type WebDeps } from './web/server.ts';
import type { OtlpStatus } from './status/types.ts';

/** WAL sizes follow the writer's flushes; this rescan only catches what nobody announced. */
const WAL_STATS_BACKSTOP_MS = 60_000;

/**
 * The composition root of one agent: wires the stages in pipeline order and runs the lifecycle
 * (start, reload, ordered shutdown). Process concerns (argv, signals, exit codes, TUI) stay in main.ts.
 */
export class Agent {
  readonly flags: Flags;
  readonly log: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly hub: StatusHub;
  private config: Config;
  private readonly storage: AgentStorage;
  private readonly walStats: WalStats;
  private stopWalStats: () => void = () => {};
  private readonly truncator: WalTruncator;
  private readonly scrape: ScrapeManager;
  /** file/http/dns SD; feeds the scrape manager (static_configs stay with the scrape manager). */
  private readonly discovery: DiscoveryManager;
  private readonly remote: RemoteStorage;
  private readonly web: WebServer;
  private readonly configMetrics: ConfigMetrics;
  /**
   * POST /api/v1/otlp/v1/metrics; null without --web.enable-otlp-receiver. Loaded by start() before
   * the listener opens (loadOtlp): an agent without the flag never evaluates the OTLP code.
   */
  private otlp: OtlpReceiver | null = null;
  private otlpWrite: NonNullable<WebDeps['otlpWrite']> | null = null;
  /** `--config.auto-reload`: reloads when the config's checksum changes. */
  private readonly autoReload: AutoReloader | null;
  private lock: { release(): Promise<void> } | null = null;
  private ready = false;
  private stopping: Promise<void> | null = null;
  private reloading: Promise<{ ok: boolean; error?: string }> | null = null;
  /** Address the web server actually listens on (port 0 resolved). */
  listenAddress = '';
  /** Called when something (the API, the UI) asks the process to quit. */
  onQuitRequest: () => void = () => {};

  constructor(flags: Flags, config: Config, log: Logger, clock: Clock = systemClock) {
    this.flags = flags;
    this.config = config;
    this.log = log;
    this.clock = clock;
    this.registry = createRegistry();
    const agentMetrics = new AgentMetrics(this.registry);
    this.configMetrics = new ConfigMetrics(this.registry, buildInfo);
    this.storage = new AgentStorage({
      dataDir: flags.dataDir,
      wal: {
        segmentSize: flags.walSegmentSize,
        compress: flags.walCompression,
        compression: flags.walCompressionType,
        fsync: flags.walFsync,
      },
      log: log.child('wal'),
      metrics: agentMetrics,
    });
    this.walStats = new WalStats(this.storage.walDir);
    this.hub = new StatusHub(
      {
        version: buildInfo.version,
        configFile: flags.configFile,
        dataDir: flags.dataDir,
        listenAddress: flags.listenAddress,
      },
      clock,
    );
    this.scrape = new ScrapeManager(this.storage, clock, log.child('scrape'), this.registry, USER_AGENT, process.env, {
      index: flags.scrapeShardIndex,
      count: flags.scrapeShards,
    });
    // Discovery wiring: discovered groups replace that provider's groups in the job's scrape pool.
    this.discovery = new DiscoveryManager({
      log: log.child('discovery'),
      registry: this.registry,
      clock,
      userAgent: USER_AGENT,
      onUpdate: (job, provider, groups) => this.scrape.setTargetGroups(job, provider, groups),
    });
    this.remote = new RemoteStorage({
      dataDir: flags.dataDir,
      walDir: this.storage.walDir,
      clock,
      log,
      registry: this.registry,
      userAgent: USER_AGENT,
      walHead: () => this.storage.head(),
      subscribe: (fn) => this.storage.onFlush((segment) => fn(segment)),
      tail: this.storage.tail,
      sharedLabels: this.storage.series,
      // Called by each endpoint's metadata loop, long after construction.
      metadataSource: () =>
        this.otlp ? [...this.scrape.allMetadata(), ...this.otlp.metadataEntries()] : this.scrape.allMetadata(),
      highestAppended: () => this.storage.highestTimestamp,
      samplesAppended: () => this.storage.samplesAppended,
      bytesAfter: (pos) => this.walStats.bytesAfter(pos),
      flushDeadlineMs: flags.flushDeadline,
    });
    this.truncator = new WalTruncator({
      storage: this.storage,
      clock,
      log: log.child('wal'),
      minTimeMs: flags.retentionMinTime,
      maxTimeMs: flags.retentionMaxTime,
      maxSizeBytes: flags.maxSize,
      compress: flags.walCompression,
      compression: flags.walCompressionType,
      lowestAcked: () => this.remote.lowestAcked(),
      lowestSentTimestamp: () => this.remote.lowestSentTimestamp(),
      segmentSizes: () => this.walStats.sizes,
      segmentsRemoved: () => this.walStats.refresh(),
      onForcedDrop: (below, reason) =>
        this.remote.segmentsDropped(below, (from, to) => this.storage.samplesInSegments(from, to), reason),
    });
    registerWalMetrics(this.registry, {
      stats: () => this.storage.writerStats(),
      segment: () => this.storage.head().segment,
      storageBytes: () => this.walStats.bytes,
      truncations: () => this.truncator.truncations + this.truncator.failures,
      truncationsFailed: () => this.truncator.failures,
      checkpoints: () => this.truncator.checkpoints,
      writeFailures: () => this.storage.walWriteFailures,
      samplesDropped: () => this.storage.samplesDroppedWalFailure,
    });
    this.web = new WebServer({
      registry: this.registry,
      log: log.child('web'),
      isReady: () => this.ready,
      snapshot: () => this.hub.getSnapshot(),
      sampled: () => this.hub.sampled(),
      enableLifecycle: flags.enableLifecycle,
      reload: () => this.reload(),
      quit: () => this.onQuitRequest(),
      configYaml: () => redactedConfigYaml(this.config),
      flags: flags.all,
      buildInfo: {
        version: buildInfo.version,
        revision: buildInfo.revision,
        branch: buildInfo.branch,
        buildUser: buildInfo.buildUser,
        buildDate: buildInfo.buildDate,
        goVersion: buildInfo.goVersion,
      },
      droppedTargets: () =>
        this.scrape
          .droppedTargets()
          .map((d) => ({ pool: d.pool, discovered: Object.fromEntries(pairs(d.discovered)), reason: d.reason })),
      scrapePools: () =>
        this.config.scrapeConfigs.map((c) => ({
          name: c.jobName,
          intervalMs: c.scrapeInterval,
          timeoutMs: c.scrapeTimeout,
        })),
      targetMetadata: () => this.scrape.metadataSnapshot(),
      ...(flags.enableOtlpReceiver ? { otlpWrite: (req, res) => (this.otlpWrite ?? otlpNotLoaded)(req, res) } : {}),
    });
    this.autoReload = flags.autoReload
      ? new AutoReloader({
          file: flags.configFile,
          intervalMs: flags.autoReloadInterval,
          clock,
          log,
          reload: () => this.reload(),
        })
      : null;
    this.hub.setProviders({
      targets: () => this.scrape.targets(),
      series: () => ({
        active: this.storage.series.size,
        created: this.storage.seriesCreated,
        removed: this.storage.seriesRemoved,
        samplesAppended: this.storage.samplesAppended,
        histogramsAppended: this.storage.histogramsAppended,
      }),
      wal: () => ({
        bytes: this.walStats.bytes,
        segments: this.walStats.segments,
        firstSegment: this.walStats.first,
        lastSegment: this.walStats.last,
        capBytes: flags.maxSize,
        oldestTimestamp: this.storage.oldestTimestamp(),
        writeError: this.storage.walError,
        samplesDropped: this.storage.samplesDroppedWalFailure,
        replay: { ...this.storage.replay },
      }),
      remote: () => this.remote.status(),
    });
  }

  /** Loads and wires the OTLP receiver (dynamic imports: see the otlp field). */
  private async loadOtlp(): Promise<void> {
    const [{ OtlpReceiver }, { DeltaToCumulative }, { registerOtlpMetrics }, { serveOtlp }, { otlpSettings }] =
      await Promise.all([
        import('./otlp/receiver.ts'),
        import('./otlp/delta.ts'),
        import('./otlp/metrics.ts'),
        import('./otlp/http.ts'),
        import('./otlp/settings.ts'),
      ]);
    const st = this.storage;
    const r = new OtlpReceiver({
      storage: {
        appender: () => st.appender(),
        lastTimestamp: (ref) => st.series.lastTs[ref] ?? -Infinity,
        writable: () => st.writable,
      },
      settings: () => otlpSettings(this.config.otlp, this.flags.otlpNativeDelta),
      now: () => this.clock.now(),
      deltaToCumulative: this.flags.otlpDeltaToCumulative ? new DeltaToCumulative() : undefined,
    });
    const log = this.log.child('otlp');
    r.onProblem = (msg, fields) => log.warn(msg, fields);
    registerOtlpMetrics(this.registry, r.counters);
    this.otlp = r;
    this.otlpWrite = async (req, res) => {
      await serveOtlp(req, res, r);
      if (res.statusCode >= 400) log.debug('OTLP request refused', { status: res.statusCode, err: r.lastError });
    };
    this.hub.setProviders({ otlp: () => this.otlpStatus(r) });
  }

  private otlpStatus(r: OtlpReceiver): OtlpStatus {
    const c = r.counters;
    const now = this.clock.now();
    return {
      requests: c.requests,
      requestsFailed: c.requestsFailed,
      pointsReceived: c.pointsReceived,
      pointsRejected: c.pointsRejected,
      samplesAppended: c.samplesAppended,
      pointsPerSecond: r.pointsPerSecond(now),
      lastError: r.lastError,
      lastErrorAt: r.lastErrorAt,
      lastRequestAt: r.lastRequestAt,
      topResources: r.topResources(),
    };
  }

  /** Starts everything; resolves when the agent is ready (WAL replayed, scraping). */
  async start(): Promise<void> {
    const { flags, log } = this;
    log.info('Starting Outpost', startupFields());
    const lock = await startStep('opening storage failed', () =>
      acquireDirLock(flags.dataDir, { disabled: flags.noLockfile }),
    );
    this.lock = lock;
    this.storage.metrics.cleanStart.set(lock.cleanStart);
    if (this.flags.enableOtlpReceiver) await this.loadOtlp();
    this.listenAddress = await startStep('unable to start web listener', () => this.web.listen(flags.listenAddress));
    for (const more of flags.listenAddresses.slice(1))
      await startStep('unable to start web listener', () => this.web.listenMore(more));
    this.hub.setListenAddress(this.listenAddress);
    log.info('Listening', { address: this.listenAddress });
    this.hub.setPhase('replaying');
    this.hub.start(1000);
    await startStep('opening storage failed', () => this.storage.open());
    await this.walStats.refresh();
    this.stopWalStats = this.walStats.follow((fn) => this.storage.onFlush(fn));
    this.walStats.start(WAL_STATS_BACKSTOP_MS);
    await this.remote.applyConfig(this.config.remoteWrite, this.config.global.externalLabels);
    await this.scrape.applyConfig(this.config.scrapeConfigs);
    this.discovery.applyConfig(this.config.scrapeConfigs); // discovery wiring: pools exist now
    this.truncator.start(flags.truncateFrequency);
    this.configMetrics.reloaded(true, this.clock.now());
    this.ready = true;
    await this.autoReload?.start();
    this.hub.setPhase('running');
    log.info('Agent is ready', { config: flags.configFile, data: path.resolve(flags.dataDir) });
  }

  /** Re-reads the config file; applies it only if all of it is valid. */
  reload(): Promise<{ ok: boolean; error?: string }> {
    if (!this.reloading) {
      this.reloading = this.doReload().finally(() => {
        this.reloading = null;
      });
    }
    return this.reloading;
  }

  private async doReload(): Promise<{ ok: boolean; error?: string }> {
    const file = this.flags.configFile;
    let next: Config;
    try {
      next = await loadConfigFile(file);
    } catch (err) {
      const error = `couldn't load configuration (--config.file="${file}"): ${errorMessage(err)}`;
      this.log.error('Error reloading config', { err: error });
      this.configMetrics.reloaded(false, this.clock.now());
      this.hub.setReload({ ok: false, at: this.clock.now(), error });
      return { ok: false, error };
    }
    this.config = next;
    await this.remote.applyConfig(next.remoteWrite, next.global.externalLabels);
    await this.scrape.applyConfig(next.scrapeConfigs);
    this.discovery.applyConfig(next.scrapeConfigs); // discovery wiring: unchanged SD configs keep running
    this.configMetrics.reloaded(true, this.clock.now());
    this.hub.setReload({ ok: true, at: this.clock.now(), error: '' });
    this.log.info('Completed loading of configuration file', { filename: file });
    await this.autoReload?.reloaded();
    return { ok: true };
  }

  /**
   * Ordered shutdown: stop scraping, flush the WAL, let remote write drain (bounded), release the lock.
   * After a failed start (`failedStart`) it only releases what was opened, without the farewell lines
   * of a clean stop.
   */
  stop(opts: { failedStart?: boolean } = {}): Promise<void> {
    this.stopping ??= this.doStop(opts.failedStart === true);
    return this.stopping;
  }

  private async doStop(failedStart: boolean): Promise<void> {
    const log = failedStart ? quiet(this.log) : this.log;
    this.hub.setPhase('stopping');
    await this.autoReload?.stop();
    log.info('Stopping scrape manager');
    await this.discovery.stop(); // discovery wiring: no target updates while scraping stops
    await this.scrape.stop();
    await this.truncator.stop();
    if (this.ready) await this.storage.flushWal();
    log.info('Stopping remote storage', { flush_deadline: logDuration(this.flags.flushDeadline) });
    const drained = await this.remote.stop();
    if (!drained)
      log.warn(
        'Remote write stopped with data unsent (endpoint failing or flush deadline reached); ' +
          'it stays in the WAL and is sent after restart',
      );
    await this.storage.close();
    this.stopWalStats();
    this.walStats.stop();
    this.hub.stop();
    await this.web.close();
    if (this.lock) await this.lock.release();
    this.lock = null;
    this.hub.setPhase('stopped');
    log.info('See you next time!');
  }
}

/** Runs one start-up step; a failure names the step, and a system error reads as Prometheus words it. */
async function startStep<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StartError(`${what}: ${systemErrorText(err)}`, { cause: err });
  }
}

/** Never reached: start() loads the receiver before the listener opens. */
async function otlpNotLoaded(_req: unknown, res: { writeHead(status: number): { end(): void } }): Promise<void> {
  res.writeHead(503).end();
}

/** The logger without its info lines (warnings and errors still count after a failed start). */
function quiet(log: Logger): Logger {
  return { ...log, info: () => {}, debug: () => {}, child: (c: string) => quiet(log.child(c)) };
}

function pairs(ls: readonly string[]): [string, string][] {
  return [...labelPairs(ls)];
}

import http from 'node:http';
import { Registry } from 'prom-client';
import type { Appender } from '../../src/storage/appender.ts';
import { parseConfig } from '../../src/config/load.ts';
import { memoryLogger, type Logger } from '../../src/log/logger.ts';
import { BufferPool } from '../../src/scrape/buffer-pool.ts';
import { AuthSource } from '../../src/net/auth.ts';
import { Http1Pool } from '../../src/net/http1-client.ts';
import {
  newLoopCounters,
  ScrapeLoop,
  type LoopCounters,
  type LoopOptions,
  type ScrapeTarget,
} from '../../src/scrape/loop.ts';
import { ScrapeManager } from '../../src/scrape/manager.ts';
import type { Clock } from '../../src/util/clock.ts';
import { FakeClock } from './fake-clock.ts';
import { startServer } from './http.ts';
import type { Teardown } from './procs.ts';
import { RecordingAppender } from './recording-appender.ts';
import { defined } from './defined.ts';

export const TEXT_FORMAT = 'text/plain; version=0.0.4';

export function loopCounters(): LoopCounters {
  return newLoopCounters();
}

/** Options of a pool with every limit off and no auth, over plain HTTP without keep-alive. */
function loopOptions(o: Partial<LoopOptions> = {}): LoopOptions {
  return {
    honorLabels: false,
    honorTimestamps: true,
    trackTimestampsStaleness: false,
    metricRelabel: [],
    sampleLimit: 0,
    labelLimit: 0,
    labelNameLengthLimit: 0,
    labelValueLengthLimit: 0,
    bodySizeLimit: 0,
    headers: { Accept: 'text/plain' },
    agent: new http.Agent({ keepAlive: false }),
    // Plain-http scrapes in tests take the lean client, as they do in the agent.
    http1: new Http1Pool(),
    auth: new AuthSource({
      tlsConfig: { insecureSkipVerify: false },
      followRedirects: true,
      enableHttp2: false,
      proxyFromEnvironment: false,
    }),
    followRedirects: true,
    buffers: new BufferPool(),
    nameValidation: 'legacy',
    ...o,
  };
}

export interface NewLoop {
  options?: Partial<LoopOptions>;
  /** Default: a RecordingAppender the caller does not see (pass one to inspect it). */
  appender?: Appender;
  clock?: Clock;
  log?: Logger;
  counters?: LoopCounters;
  /** Overrides of the target: by default job1 / host:1, 1 s interval and timeout. */
  target?: Partial<Omit<ScrapeTarget, 'url'>>;
}

/** A scrape loop for `url` (job="job1", instance="host:1") whose scrapes the test drives with `loop.scrape(t)`. */
export function newLoop(url: string, o: NewLoop = {}): ScrapeLoop {
  const target: ScrapeTarget = {
    pool: 'job1',
    url,
    labels: ['instance', 'host:1', 'job', 'job1'],
    discovered: [],
    intervalMs: 1000,
    timeoutMs: 1000,
    ...o.target,
  };
  return new ScrapeLoop(
    target,
    loopOptions(o.options),
    o.appender ?? new RecordingAppender(),
    o.clock ?? new FakeClock(1_700_000_000_000),
    o.log ?? memoryLogger(),
    o.counters ?? loopCounters(),
  );
}

export interface MetricsServer {
  /** The scrape URL (`…/metrics`). */
  url: string;
  port: number;
  /**
   * What the following scrapes get. Response headers stay until a call gives `contentType` or
   * `headers` again (at first: the text format's Content-Type alone).
   */
  set(status: number, body: string | Buffer, contentType?: string, headers?: Record<string, string>): void;
  /** Requests served so far. */
  hits(): number;
  /** Headers of the latest request. */
  lastHeaders(): http.IncomingHttpHeaders;
  close(): Promise<void>;
}

/** A loopback scrape target whose response the test sets, closed when the test ends. */
export async function metricsServer(t: Teardown): Promise<MetricsServer> {
  let status = 200;
  let body: string | Buffer = '';
  let headers: Record<string, string> = { 'Content-Type': TEXT_FORMAT };
  const s = await startServer(
    (_r, res) => {
      res.writeHead(status, headers);
      res.end(body);
    },
    { t },
  );
  return {
    url: `${s.url}/metrics`,
    port: s.port,
    set(st, b, contentType, extra) {
      status = st;
      body = b;
      if (contentType !== undefined || extra !== undefined)
        headers = { ...extra, 'Content-Type': contentType ?? defined(headers['Content-Type'], 'Content-Type') };
    },
    hits: () => s.received.length,
    lastHeaders: () => s.received.at(-1)?.headers ?? {},
    close: () => s.close(),
  };
}

export interface ManagerFixture {
  mgr: ScrapeManager;
  clock: FakeClock;
  /** Lets the first scrape of every target run and waits until each has reported (they run on real sockets). */
  scrapeAll(): Promise<void>;
}

/**
 * A ScrapeManager (User-Agent outpost-test, RecordingAppenders, a FakeClock) with `scrapeConfigs`
 * applied: YAML list items under `scrape_configs:`, scraped every 5 s (a generous timeout: CI machines
 * can be loaded, and a proxied scrape takes two hops). Stopped when the test ends.
 */
export async function scrapeManager(
  t: Teardown,
  scrapeConfigs: string,
  env?: NodeJS.ProcessEnv,
): Promise<ManagerFixture> {
  const clock = new FakeClock(1_700_000_000_000);
  const mgr = new ScrapeManager(
    { appender: () => new RecordingAppender() },
    clock,
    memoryLogger('error'),
    new Registry(),
    'outpost-test',
    env,
  );
  t.teardown(() => mgr.stop());
  const cfg = parseConfig(
    `global:\n  scrape_interval: 5s\n  scrape_timeout: 5s\nscrape_configs:\n${scrapeConfigs}\n`,
    'test.yml',
  );
  await mgr.applyConfig(cfg.scrapeConfigs);
  const scrapeAll = async (): Promise<void> => {
    clock.advance(5000);
    const deadline = Date.now() + 15_000;
    while (mgr.targets().some((x) => x.health === 'unknown') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
  };
  return { mgr, clock, scrapeAll };
}

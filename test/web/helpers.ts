import { Registry, Counter } from 'prom-client';
import { createLogger } from '../../src/log/logger.ts';
import type { RemoteStatus, StatusSnapshot, TargetStatus } from '../../src/status/types.ts';
import type { WebDeps } from '../../src/web/deps.ts';
import { WebServer } from '../../src/web/server.ts';

export const T0 = Date.parse('2026-11-25T12:00:00.000Z');

export function target(over: Partial<TargetStatus> = {}): TargetStatus {
  return {
    pool: 'node',
    instance: '127.0.0.1:9100',
    url: 'http://127.0.0.1:9100/metrics',
    health: 'up',
    lastScrape: T0 - 3000,
    lastDurationMs: 12.5,
    lastError: '',
    samples: 100,
    series: 100,
    histograms: 0,
    histogramSeries: 0,
    intervalMs: 15_000,
    labels: { instance: '127.0.0.1:9100', job: 'node' },
    discoveredLabels: {
      __address__: '127.0.0.1:9100',
      __metrics_path__: '/metrics',
      __scheme__: 'http',
      __scrape_interval__: '15s',
      __scrape_timeout__: '10s',
      job: 'node',
    },
    ...over,
  };
}

export function remote(over: Partial<RemoteStatus> = {}): RemoteStatus {
  return {
    name: 'central',
    url: 'https://user:hunter2@metrics.example/api/v1/write',
    health: 'up',
    lastError: '',
    lastErrorAt: 0,
    lagSeconds: 1.5,
    pendingSamples: 250,
    backlogBytes: 65536,
    samplesSent: 123456,
    samplesRetried: 12,
    samplesDropped: 3,
    samplesFailed: 1,
    sendRate: 420,
    shards: 2,
    ...over,
  };
}

export function snapshot(over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    version: '0.1.0',
    startedAt: T0 - 3_600_000,
    at: T0,
    phase: 'running',
    configFile: 'agent.yml',
    dataDir: '/var/lib/outpost',
    listenAddress: '127.0.0.1:0',
    reload: { ok: true, at: T0 - 3_600_000, error: '' },
    targets: [
      target(),
      target({
        pool: 'blackbox',
        instance: 'edge:9115',
        url: 'http://edge:9115/probe',
        health: 'down',
        lastError: 'connection refused',
        labels: { instance: 'edge:9115', job: 'blackbox', site: 'a' },
        discoveredLabels: { __address__: 'edge:9115', job: 'blackbox' },
      }),
      target({
        pool: 'node',
        instance: 'db:9100',
        url: 'http://db:9100/metrics',
        health: 'unknown',
        lastScrape: 0,
        lastDurationMs: 0,
        labels: { instance: 'db:9100', job: 'node', role: 'db' },
      }),
    ],
    series: { active: 1234, created: 1500, removed: 266, samplesAppended: 987654, histogramsAppended: 120 },
    wal: {
      bytes: 3 * 1024 * 1024,
      segments: 3,
      firstSegment: 4,
      lastSegment: 6,
      capBytes: 1024 ** 3,
      oldestTimestamp: T0 - 7_200_000,
      replay: { done: true, current: 6, max: 6 },
    },
    remote: [
      remote(),
      remote({
        name: 'backup',
        url: 'http://10.0.0.9:8428/api/v1/write',
        health: 'down',
        lastError: 'server returned HTTP status 503 Service Unavailable',
        lastErrorAt: T0 - 5000,
        lagSeconds: 95,
        pendingSamples: 5000,
        backlogBytes: 8 * 1024 * 1024,
        sendRate: 0,
      }),
    ],
    ...over,
  };
}

export interface FakeAgent {
  deps: WebDeps;
  snap: StatusSnapshot;
  ready: boolean;
  reloads: number;
  quits: number;
  reloadResult: { ok: boolean; error?: string };
}

/** Deps for a WebServer over a mutable fake agent; tests change `fake.snap`/`fake.ready` between requests. */
export function fakeAgent(over: Partial<WebDeps> = {}): FakeAgent {
  const registry = new Registry();
  new Counter({ name: 'outpost_test_total', help: 'A counter for the /metrics test.', registers: [registry] }).inc(3);
  const fake: FakeAgent = {
    snap: snapshot(),
    ready: true,
    reloads: 0,
    quits: 0,
    reloadResult: { ok: true },
    deps: undefined as unknown as WebDeps,
  };
  fake.deps = {
    registry,
    log: createLogger({ write: () => {} }),
    isReady: () => fake.ready,
    snapshot: () => fake.snap,
    enableLifecycle: true,
    reload: async () => {
      fake.reloads++;
      return fake.reloadResult;
    },
    quit: () => {
      fake.quits++;
    },
    configYaml: () =>
      'global:\n  scrape_interval: 15s\nremote_write:\n- url: https://metrics.example/api/v1/write\n  basic_auth:\n    username: u\n    password: <secret>\n',
    flags: {
      'config.file': 'agent.yml',
      'storage.agent.path': '/var/lib/outpost',
      'web.listen-address': '127.0.0.1:0',
      'web.enable-lifecycle': 'true',
    },
    buildInfo: {
      version: '0.1.0',
      revision: 'abc123',
      branch: 'main',
      buildUser: 'outpost',
      buildDate: '20261125-12:00:00',
      goVersion: 'node26.10.0',
    },
    droppedTargets: () => [
      {
        pool: 'node',
        discovered: { __address__: '127.0.0.1:9999', __metrics_path__: '/metrics', __scheme__: 'http', job: 'node' },
      },
    ],
    scrapePools: () => [
      { name: 'node', intervalMs: 15_000, timeoutMs: 10_000 },
      { name: 'blackbox', intervalMs: 15_000, timeoutMs: 10_000 },
      { name: 'idle', intervalMs: 60_000, timeoutMs: 10_000 },
    ],
    targetMetadata: () => [
      {
        target: { instance: '127.0.0.1:9100', job: 'node' },
        metric: 'node_load1',
        type: 'gauge',
        help: '1m load average.',
        unit: '',
      },
      {
        target: { instance: '127.0.0.1:9100', job: 'node' },
        metric: 'up',
        type: 'gauge',
        help: 'Target health.',
        unit: '',
      },
      {
        target: { instance: 'edge:9115', job: 'blackbox' },
        metric: 'up',
        type: 'gauge',
        help: 'Target health.',
        unit: '',
      },
    ],
    ...over,
  };
  return fake;
}

export interface Running {
  server: WebServer;
  base: string;
  close(): Promise<void>;
}

export async function startServer(deps: WebDeps): Promise<Running> {
  const server = new WebServer(deps);
  const addr = await server.listen('127.0.0.1:0');
  return { server, base: `http://${addr}`, close: () => server.close() };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json(): unknown;
}

export async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const r = await fetch(url, { redirect: 'manual', ...init });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) as unknown };
}

/** The structure of a JSON value: object keys (sorted) and element kinds, values erased. */
export function shape(v: unknown, depth = 6): unknown {
  if (depth === 0) return typeof v;
  if (Array.isArray(v)) return v.length === 0 ? ['empty'] : [shape(v[0], depth - 1)];
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = shape((v as Record<string, unknown>)[k], depth - 1);
    return out;
  }
  return v === null ? 'null' : typeof v;
}

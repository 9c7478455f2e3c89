import os from 'node:os';
import type http from 'node:http';
import { redactUrl } from '../config/redact.ts';
import { snappyUncompress } from '../remote/snappy.ts';
import type { RemoteStatus, StatusSnapshot } from '../status/types.ts';
import { formatDuration } from '../config/duration.ts';
import { errorMessage } from '../util/errors.ts';
import type * as Json from './api-types.ts';
import type { ScrapePoolInfo, TargetMetadata, WebDeps } from './deps.ts';
import { globalUrl } from './options.ts';
import { apiError, apiSuccess, goTime, sendBody, sendHttpError, sendPlain } from './respond.ts';
import type { Handler, Router } from './router.ts';
import { matchesAll, parseSelector, SelectorError, type LabelMatcher } from './selector.ts';
import type { ThroughputHistory } from './throughput-history.ts';

/** What the API handlers read besides the deps; the server owns these. */
export interface ApiContext {
  readonly deps: WebDeps;
  externalUrl(): URL;
  /** The port we listen on (a target on loopback at this port is ourselves). */
  ownPort(): number;
  readonly history: ThroughputHistory;
  readonly historyIntervalMs: number;
  /** ms of the last successful config load (Prometheus' lastConfigTime). */
  lastGoodConfigAt(): number;
  /** The route prefix in force ('' at the root). */
  readonly routePrefix: string;
}

const AGENT_UNAVAILABLE = 'unavailable with Prometheus Agent';
const WAL_ONLY = 'unsupported operation with WAL-only storage';

/**
 * Registers `/api/v1/*` under `base` (route prefix + "/api/v1"). Status codes and bodies copy the
 * Prometheus 2.42 agent; every endpoint but walreplay (and Outpost's own status/wal and
 * status/remote_write) answers 503 until the agent is ready, as Prometheus' api.ready wrapper does.
 */
export function registerApi(r: Router, base: string, ctx: ApiContext): void {
  const { deps } = ctx;
  const ready =
    (h: Handler): Handler =>
    (req, res, url, p) => {
      if (!deps.isReady()) return sendPlain(res, 503, 'Service Unavailable');
      return h(req, res, url, p);
    };
  const on = (methods: string | readonly string[], path: string, h: Handler, gated = true) =>
    r.on(methods, base + path, gated ? ready(h) : h);
  const unavailable: Handler = (_q, res) => apiError(res, 'execution', AGENT_UNAVAILABLE);

  for (const p of ['/query', '/query_range', '/query_exemplars', '/format_query', '/labels', '/series'])
    on(['GET', 'POST'], p, unavailable);
  on('DELETE', '/series', unavailable);
  for (const p of ['/label/:name/values', '/alertmanagers', '/status/tsdb', '/alerts', '/rules'])
    on('GET', p, unavailable);
  for (const p of ['delete_series', 'clean_tombstones', 'snapshot'])
    on(['POST', 'PUT'], `/admin/tsdb/${p}`, unavailable);

  on('POST', '/write', (_q, res) =>
    sendHttpError(res, 404, 'remote write receiver needs to be enabled with --enable-feature=remote-write-receiver'),
  );
  on('POST', '/read', (req, res) => remoteRead(req, res));

  on('GET', '/targets', (_q, res, url) => apiSuccess(res, targets(ctx, url)));
  on('GET', '/targets/metadata', (_q, res, url) => targetMetadata(ctx, res, url));
  on('GET', '/metadata', (_q, res, url) => metricMetadata(ctx, res, url));
  on('GET', '/scrape_pools', (_q, res) => apiSuccess(res, { scrapePools: poolInfos(ctx).map((p) => p.name) }));
  on('GET', '/status/config', (_q, res) => apiSuccess(res, { yaml: deps.configYaml() }));
  // 3.x builds its flag map after normalising the route prefix (main.go 776-781 before 1066-1075):
  // it shows the prefix in force, "/" at the root.
  const flags =
    'web.route-prefix' in deps.flags ? { ...deps.flags, 'web.route-prefix': ctx.routePrefix || '/' } : deps.flags;
  on('GET', '/status/flags', (_q, res) => apiSuccess(res, flags));
  on('GET', '/status/buildinfo', (_q, res) => apiSuccess(res, deps.buildInfo));
  on('GET', '/status/runtimeinfo', (_q, res) => apiSuccess(res, runtimeInfo(ctx, deps.snapshot())));
  on(
    'GET',
    '/status/walreplay',
    (_q, res) => {
      const w = deps.snapshot().wal.replay;
      // Our replay reports -1 before any segment exists; Prometheus never goes below 0.
      return apiSuccess(res, {
        min: 0,
        max: Math.max(0, w.max),
        current: Math.max(0, w.current),
      } satisfies Json.WalReplayJson);
    },
    false,
  );

  // Outpost's own, documented in src/web/API.md; readable during replay so the UI can show progress.
  on('GET', '/status/remote_write', (_q, res) => apiSuccess(res, remoteWriteStatus(ctx, deps.snapshot())), false);
  on('GET', '/status/wal', (_q, res) => apiSuccess(res, walStatus(deps.snapshot())), false);
  on('GET', '/status/otlp', (_q, res) => apiSuccess(res, otlpStatus(deps.snapshot())), false);
}

function isoOrNull(ms: number): string | null {
  return ms > 0 ? new Date(ms).toISOString() : null;
}

function otlpStatus(s: StatusSnapshot): Json.OtlpStatusJson {
  const o = s.otlp;
  return {
    enabled: o !== undefined,
    requests: o?.requests ?? 0,
    requestsFailed: o?.requestsFailed ?? 0,
    pointsReceived: o?.pointsReceived ?? 0,
    pointsRejected: o?.pointsRejected ?? 0,
    samplesAppended: o?.samplesAppended ?? 0,
    pointsPerSecond: o?.pointsPerSecond ?? 0,
    lastError: o?.lastError ?? '',
    lastErrorTime: isoOrNull(o?.lastErrorAt ?? 0),
    lastRequestTime: isoOrNull(o?.lastRequestAt ?? 0),
    topResources: (o?.topResources ?? []).map((r) => ({
      job: r.job,
      instance: r.instance,
      points: r.points,
      lastSeen: new Date(r.lastSeen).toISOString(),
    })),
  };
}

function poolInfos(ctx: ApiContext): ScrapePoolInfo[] {
  const fromDeps = ctx.deps.scrapePools?.();
  if (fromDeps) return [...fromDeps].sort((a, b) => cmp(a.name, b.name));
  const names = new Set(ctx.deps.snapshot().targets.map((t) => t.pool));
  for (const d of ctx.deps.droppedTargets()) names.add(d.pool);
  return [...names].sort(cmp).map((name) => ({ name, intervalMs: 0, timeoutMs: 0 }));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function targets(ctx: ApiContext, url: URL): Json.TargetsJson {
  const state = (url.searchParams.get('state') ?? '').toLowerCase();
  const pool = url.searchParams.get('scrapePool') ?? '';
  const showActive = state === '' || state === 'any' || state === 'active';
  const showDropped = state === '' || state === 'any' || state === 'dropped';
  const activeTargets: Json.ApiTarget[] = [];
  if (showActive) {
    const timeouts = new Map(poolInfos(ctx).map((p) => [p.name, p.timeoutMs]));
    const ext = ctx.externalUrl();
    const own = ctx.ownPort();
    // Prometheus lists pools in name order, targets in pool order.
    const list = ctx.deps.snapshot().targets.filter((t) => pool === '' || t.pool === pool);
    const sorted = list.map((t, k) => ({ t, k })).sort((a, b) => cmp(a.t.pool, b.t.pool) || a.k - b.k);
    for (const { t } of sorted) {
      const timeout = timeouts.get(t.pool) ?? 0;
      activeTargets.push({
        discoveredLabels: t.discoveredLabels,
        labels: t.labels,
        scrapePool: t.pool,
        scrapeUrl: t.url,
        globalUrl: globalUrl(t.url, ext, own),
        lastError: redactUrlsIn(t.lastError),
        lastScrape: goTime(t.lastScrape),
        lastScrapeDuration: t.lastDurationMs / 1000,
        health: t.health,
        scrapeInterval: t.intervalMs > 0 ? formatDuration(t.intervalMs) : '',
        scrapeTimeout: timeout > 0 ? formatDuration(timeout) : '',
        lastScrapeSamples: { floats: t.samples - t.histograms, histograms: t.histograms },
        lastScrapeSeries: { floats: t.series - t.histogramSeries, histograms: t.histogramSeries },
      });
    }
  }
  const droppedTargets: Json.DroppedTargetJson[] = [];
  if (showDropped) {
    const dropped = ctx.deps.droppedTargets().filter((d) => pool === '' || d.pool === pool);
    const sorted = dropped.map((d, k) => ({ d, k })).sort((a, b) => cmp(a.d.pool, b.d.pool) || a.k - b.k);
    for (const { d } of sorted) {
      droppedTargets.push(
        d.reason === undefined
          ? { discoveredLabels: d.discovered }
          : { discoveredLabels: d.discovered, dropReason: d.reason },
      );
    }
  }
  return { activeTargets, droppedTargets };
}

function parseLimit(url: URL, param = 'limit'): number | null {
  const s = url.searchParams.get(param);
  if (s === null || s === '') return -1;
  // Go's strconv.Atoi: optional sign, decimal digits only.
  return /^[+-]?\d+$/.test(s) ? Number(s) : null;
}

function parseMatchTarget(url: URL): LabelMatcher[] | string | null {
  const src = url.searchParams.get('match_target') ?? '';
  if (src === '') return null;
  try {
    return parseSelector(src);
  } catch (err) {
    if (err instanceof SelectorError) return `invalid parameter "match_target": ${err.message}`;
    throw err;
  }
}

function metadataSource(ctx: ApiContext): readonly TargetMetadata[] {
  return ctx.deps.targetMetadata?.() ?? [];
}

function targetMetadata(ctx: ApiContext, res: http.ServerResponse, url: URL): Promise<void> {
  const limit = parseLimit(url);
  if (limit === null) return apiError(res, 'bad_data', 'limit must be a number');
  const matchers = parseMatchTarget(url);
  if (typeof matchers === 'string') return apiError(res, 'bad_data', matchers);
  const metric = url.searchParams.get('metric') ?? '';
  const out: Record<string, unknown>[] = [];
  // The source lists targets one after another, each target's entries sharing one `target`
  // object. As in Prometheus the limit is checked before each target, whose entries then all go
  // in: limit=2 can answer more than two entries.
  let current: object | null = null;
  let skip = false;
  for (const m of metadataSource(ctx)) {
    if (m.target !== current) {
      current = m.target;
      if (limit >= 0 && out.length >= limit) break;
      skip = matchers !== null && !matchesAll(m.target, matchers);
    }
    if (skip) continue;
    if (metric === '') out.push({ target: m.target, metric: m.metric, type: m.type, help: m.help, unit: m.unit });
    // With ?metric= Prometheus omits the metric name (it is the one asked for).
    else if (m.metric === metric) out.push({ target: m.target, type: m.type, help: m.help, unit: m.unit });
  }
  return apiSuccess(res, out);
}

/**
 * Distinct (type, help, unit) per metric over all targets. `limit` caps the number of metrics,
 * `limit_per_metric` (> 0; Prometheus 2.46+, ignored by 2.42) the entries kept per metric.
 */
function metricMetadata(ctx: ApiContext, res: http.ServerResponse, url: URL): Promise<void> {
  const limit = parseLimit(url);
  if (limit === null) return apiError(res, 'bad_data', 'limit must be a number');
  const perMetric = parseLimit(url, 'limit_per_metric');
  if (perMetric === null) return apiError(res, 'bad_data', 'limit_per_metric must be a number');
  const metric = url.searchParams.get('metric') ?? '';
  const byName = new Map<string, Map<string, { type: string; help: string; unit: string }>>();
  for (const m of metadataSource(ctx)) {
    if (metric !== '' && m.metric !== metric) continue;
    let set = byName.get(m.metric);
    if (set && perMetric > 0 && set.size >= perMetric) continue;
    if (!set) {
      set = new Map();
      byName.set(m.metric, set);
    }
    set.set(`${m.type}\u0000${m.help}\u0000${m.unit}`, { type: m.type, help: m.help, unit: m.unit });
  }
  // Go writes map keys sorted; which metrics a limit keeps is random there, the first ones here.
  const names = [...byName.keys()].sort(cmp);
  if (limit >= 0 && names.length > limit) names.length = limit;
  // No prototype: `__proto__` is a valid metric name.
  const data = Object.create(null) as Record<string, unknown[]>;
  for (const name of names) data[name] = [...(byName.get(name) as Map<string, unknown>).values()];
  return apiSuccess(res, data);
}

function runtimeInfo(ctx: ApiContext, s: StatusSnapshot): Json.RuntimeInfoJson {
  const getActive = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo;
  return {
    startTime: new Date(s.startedAt).toISOString(),
    CWD: process.cwd(),
    reloadConfigSuccess: s.reload.ok,
    // Go prints this one at second precision.
    lastConfigTime: new Date(Math.floor(ctx.lastGoodConfigAt() / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    corruptionCount: 0,
    // Node has no goroutines; the closest analogue is the count of live handles and requests.
    goroutineCount: getActive ? getActive().length : 0,
    GOMAXPROCS: os.availableParallelism(),
    GOGC: '',
    GODEBUG: '',
    storageRetention: '',
  };
}

function remoteWriteStatus(ctx: ApiContext, s: StatusSnapshot): { endpoints: Json.RemoteWriteEndpointJson[] } {
  return { endpoints: s.remote.map((r) => remoteJson(ctx, r)) };
}

function remoteJson(ctx: ApiContext, r: RemoteStatus): Json.RemoteWriteEndpointJson {
  return {
    name: r.name,
    url: redactUrl(r.url),
    health: r.health,
    lastError: redactUrlsIn(r.lastError),
    lastErrorTime: r.lastErrorAt > 0 ? new Date(r.lastErrorAt).toISOString() : null,
    lagSeconds: r.lagSeconds,
    pendingSamples: r.pendingSamples,
    backlogBytes: r.backlogBytes,
    samplesSent: r.samplesSent,
    samplesRetried: r.samplesRetried,
    samplesDropped: r.samplesDropped,
    samplesFailed: r.samplesFailed,
    sendRate: r.sendRate,
    shards: r.shards,
    throughput: { intervalSeconds: ctx.historyIntervalMs / 1000, samplesPerSecond: ctx.history.series(r) },
  };
}

/** Error texts quote request URLs; a password in one (`http://u:pw@host`) must not reach the API or UI. */
export function redactUrlsIn(text: string): string {
  return text.replace(/(\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s/:@"']*):[^\s/@"']*@/g, '$1:xxxxx@');
}

function walStatus(s: StatusSnapshot): Json.WalStatusJson {
  const w = s.wal;
  return {
    phase: s.phase,
    dataDir: s.dataDir,
    bytes: w.bytes,
    segments: w.segments,
    firstSegment: w.firstSegment,
    lastSegment: w.lastSegment,
    capBytes: w.capBytes,
    oldestTimestamp: w.oldestTimestamp > 0 ? new Date(w.oldestTimestamp).toISOString() : null,
    replay: { done: w.replay.done, current: w.replay.current, max: w.replay.max },
    series: { ...s.series },
  };
}

const MAX_READ_BODY = 32 * 1024 * 1024;

/**
 * Remote read on an agent: Prometheus decodes the request, answers an empty response to a request
 * without queries and 500 "unsupported operation with WAL-only storage" to any query.
 */
async function remoteRead(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_READ_BODY) return sendHttpError(res, 400, 'request body too large');
    chunks.push(c);
  }
  let raw: Uint8Array;
  try {
    const body = Buffer.concat(chunks);
    if (!snappyBlockValid(body)) throw new Error('corrupt');
    raw = snappyUncompress(body);
  } catch {
    return sendHttpError(res, 400, 'snappy: corrupt input');
  }
  let queries: number;
  try {
    queries = countReadQueries(raw);
  } catch (err) {
    return sendHttpError(res, 400, errorMessage(err));
  }
  if (queries === 0) {
    // An empty ReadResponse, snappy-framed: a zero-length block is the single byte 0.
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'Content-Length': 1 });
    res.end(Buffer.from([0]));
    return;
  }
  await sendBody(res, 500, 'text/plain; charset=utf-8', WAL_ONLY + '\n', {
    'Content-Encoding': 'snappy',
    'X-Content-Type-Options': 'nosniff',
  });
}

/** Walks the protobuf wire format of a ReadRequest far enough to count field 1 (queries). */
function countReadQueries(b: Uint8Array): number {
  let i = 0;
  let n = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = b[i++];
      if (x === undefined) throw new Error('unexpected EOF');
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
      if (mul > 2 ** 63) throw new Error('proto: integer overflow');
    }
  };
  while (i < b.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire !== 2) throw new Error(`proto: wrong wireType = ${wire} for field Queries`);
    if (field === 0) throw new Error('proto: ReadRequest: illegal tag 0 (wire type ' + wire + ')');
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      i += len;
      if (field === 1) n++;
    } else throw new Error(`proto: illegal wireType ${wire}`);
    if (i > b.length) throw new Error('unexpected EOF');
  }
  return n;
}

/**
 * Walks a snappy block's elements: the decoder we use fills a short stream with zeros, where Go's
 * rejects it, so the lengths and copy offsets are checked against the declared size first.
 */
function snappyBlockValid(b: Uint8Array): boolean {
  let i = 0;
  let declared = 0;
  let mul = 1;
  for (;;) {
    const x = i <= 4 ? b[i++] : undefined;
    if (x === undefined) return false;
    declared += (x & 0x7f) * mul;
    if (x < 0x80) break;
    mul *= 128;
  }
  let produced = 0;
  // Every read below is checked: a byte past the end (undefined) makes the block invalid.
  for (;;) {
    const tag = b[i++];
    if (tag === undefined) break;
    let len: number;
    let offset = 0;
    switch (tag & 3) {
      case 0: {
        len = (tag >> 2) + 1;
        if (len > 60) {
          const extra = len - 60;
          len = 0;
          for (let k = 0; k < extra; k++) {
            const x = b[i + k];
            if (x === undefined) return false;
            len += x * 2 ** (8 * k);
          }
          len += 1;
          i += extra;
        }
        if (i + len > b.length) return false;
        i += len;
        produced += len;
        continue;
      }
      case 1: {
        const o0 = b[i];
        if (o0 === undefined) return false;
        len = 4 + ((tag >> 2) & 7);
        offset = ((tag >> 5) << 8) | o0;
        i += 1;
        break;
      }
      case 2: {
        const o0 = b[i];
        const o1 = b[i + 1];
        if (o0 === undefined || o1 === undefined) return false;
        len = (tag >> 2) + 1;
        offset = o0 | (o1 << 8);
        i += 2;
        break;
      }
      default: {
        const o0 = b[i];
        const o1 = b[i + 1];
        const o2 = b[i + 2];
        const o3 = b[i + 3];
        if (o0 === undefined || o1 === undefined || o2 === undefined || o3 === undefined) return false;
        len = (tag >> 2) + 1;
        offset = (o0 | (o1 << 8) | (o2 << 16)) + o3 * 2 ** 24;
        i += 4;
      }
    }
    if (offset === 0 || offset > produced) return false;
    produced += len;
    if (produced > declared) return false;
  }
  return produced === declared;
}

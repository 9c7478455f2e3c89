/**
 * Black-box acceptance cases 43–52 (research/conformance.md §7, "Remote write").
 *
 * Cases 43–49 and 52 share one run per sender with eight endpoints, each receiver answering its own
 * way (healthy, write-relabeled, 500 twice, always 400, a closed port, slow, always 429, 429 once
 * with retry_on_http_429), so one scrape stream is checked against all of them at once.
 * Cases 50 and 51 are [Outpost-better]: Prometheus 2.42 fails them by design, so only Outpost runs.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import {
  agentConfig,
  Exposition,
  job,
  realSamples,
  registerBlackBox,
  runExitsZero,
  select,
  serveExposition,
  serveText,
  sharedRuns,
  showSample,
  showSamples,
  TEXT_CONTENT_TYPE,
  type MetricsHandler,
  type ScenarioRun,
  type WireSample,
} from '../helpers/compliance.ts';
import type { RwReceiver } from '../helpers/rw-receiver.ts';
import { at, defined } from '../helpers/defined.ts';

/** Receivers of the shared run, by role. */
const E = { ok: 0, relabel: 1, fail500: 2, bad400: 3, slow: 4, bad429: 5, retry429: 6 } as const;
const FLUSH_DEADLINE_S = 3;
const SLOW_MAX_LATENCY_MS = 1000;

/** A counter `seq` whose value is the scrape number (0, 1, 2, …): every sample is identifiable. */
function seqTarget(): MetricsHandler {
  return (scrape) => ({ body: `# TYPE seq counter\nseq ${scrape}\n`, contentType: TEXT_CONTENT_TYPE });
}

function manySeries(): MetricsHandler {
  const e = new Exposition();
  for (let i = 0; i < 1000; i++) e.gauge('test', 'One of many.', () => 1, [['i', String(i)]]);
  return serveExposition(e);
}

const runs = sharedRuns(() => ({
  name: 'remote',
  targets: { main: serveText('a{b="own"} 1\nc 1\n'), many: manySeries() },
  receivers: 7,
  prepare(rxs) {
    at(rxs, E.fail500, 'rxs').plan({ status: 500 }, { status: 500 });
    at(rxs, E.bad400, 'rxs').setDefault({ status: 400 });
    at(rxs, E.slow, 'rxs').randomLatency(SLOW_MAX_LATENCY_MS, 42);
    at(rxs, E.bad429, 'rxs').setDefault({ status: 429 });
    at(rxs, E.retry429, 'rxs').plan({ status: 429, headers: { 'Retry-After': '1' } });
  },
  flags: () => [`--storage.remote.flush-deadline=${FLUSH_DEADLINE_S}s`],
  config: (env) => {
    const q = { batch_send_deadline: '1s' };
    return agentConfig(env, {
      global: { external_labels: { region: 'eu', b: 'ext' } },
      jobs: [job(env, 't', ['main']), job(env, 't-many', ['many'])],
      remoteWrite: [
        { name: 'ok', url: env.receivers[E.ok], queue_config: q },
        {
          name: 'relabel',
          url: env.receivers[E.relabel],
          queue_config: q,
          write_relabel_configs: [
            { source_labels: ['__name__'], regex: 'c|scrape_.*', action: 'drop' },
            { source_labels: ['region'], target_label: 'reg_copy' },
          ],
        },
        {
          name: 'fail500',
          url: env.receivers[E.fail500],
          queue_config: { ...q, min_backoff: '500ms', max_backoff: '3s' },
        },
        { name: 'bad400', url: env.receivers[E.bad400], queue_config: q },
        { name: 'dead', url: env.deadUrl, queue_config: { ...q, min_backoff: '100ms', max_backoff: '500ms' } },
        // Several shards from the start: the original relied on resharding up, which takes longer than a short run.
        { name: 'slow', url: env.receivers[E.slow], queue_config: { ...q, min_shards: 4 } },
        { name: 'bad429', url: env.receivers[E.bad429], queue_config: q },
        { name: 'retry429', url: env.receivers[E.retry429], queue_config: { ...q, retry_on_http_429: true } },
      ],
    });
  },
  async drive(ctl) {
    await ctl.waitScrapes(7);
    // The planned failures must have been answered and followed by a success during the run.
    await ctl.waitFor(
      () =>
        at(ctl.rxs, E.fail500, 'ctl.rxs').requests.length > 0 && at(ctl.rxs, E.retry429, 'ctl.rxs').requests.length > 0,
      10_000,
      'the retried pushes',
    );
  },
}));

/** (series, timestamp) keys, to compare what endpoints received. */
function key(s: WireSample): string {
  return `${s.raw.map((l) => `${l.name}=${l.value}`).join(',')}@${s.timestamp}`;
}

function duplicates(samples: readonly WireSample[]): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const s of samples) {
    const k = key(s);
    if (seen.has(k)) dup.push(k);
    seen.add(k);
  }
  return dup;
}

/** Samples E1 received whose scrape finished well before SIGINT (so every endpoint must have them). */
function settled(r: ScenarioRun, rx: number, m: Record<string, string> = {}): WireSample[] {
  return select(at(r.samples, rx, 'r.samples'), m).filter((s) => s.timestamp < r.interruptedAt - 2500);
}

function expectRejectedOnce(t: ExecutionContext, r: ScenarioRun, rx: number, status: number): void {
  const attempts = at(r.rxs, rx, 'r.rxs').attempts;
  t.true(attempts.length >= 3, `pushes ${attempts.length}`);
  t.deepEqual(
    attempts.filter((a) => a.status !== status).map((a) => a.status),
    [],
    `every push answered ${status}`,
  );
  // The receiver keeps no bodies of rejected pushes; the healthy endpoint got the same stream, so
  // more samples here than there means something was sent twice.
  const sent = attempts.reduce((n, a) => n + a.sampleCount, 0);
  const total = at(r.samples, E.ok, 'r.samples').length;
  t.true(
    sent <= total,
    `${sent} samples pushed to the ${status} endpoint, ${total} in the whole stream: some were resent`,
  );
  t.true(sent >= settled(r, E.ok).length * 0.9, `the agent keeps sending new data (${sent} of ${total})`);
  const span = (attempts.at(-1)?.receivedAt ?? 0) - (attempts[0]?.receivedAt ?? 0);
  t.true(span >= 2000, `pushes continue over the run (${span} ms)`);
}

registerBlackBox('remote', [
  {
    title: '0. the shared run exits 0 on SIGINT',
    runs,
    check: runExitsZero,
  },
  {
    title: '43. every push: POST, snappy (block), application/x-protobuf, version 0.1.0, User-Agent; decodes',
    runs,
    check(t, r) {
      const attempts = r.rxs.flatMap((rx) => rx.attempts);
      t.true(attempts.length >= 10, `pushes ${attempts.length}`);
      for (const a of attempts) {
        t.is(a.method, 'POST');
        t.is(a.headers['content-encoding'], 'snappy');
        t.is(a.headers['content-type'], 'application/x-protobuf');
        t.is(a.headers['x-prometheus-remote-write-version'], '0.1.0');
        t.truthy(a.headers['user-agent']);
        t.is(a.error, undefined, 'the body is snappy block + prometheus.WriteRequest');
      }
      t.log(`User-Agent: ${attempts[0]?.headers['user-agent'] ?? ''}`);
    },
  },
  {
    title: '44. external labels are added unless the series has the label',
    runs,
    check(t, r) {
      const inst = defined(r.env.targets.main, 'r.env.targets.main');
      const want = [
        ['a', { __name__: 'a', b: 'own', instance: inst, job: 't', region: 'eu' }],
        ['c', { __name__: 'c', b: 'ext', instance: inst, job: 't', region: 'eu' }],
        ['up', { __name__: 'up', b: 'ext', instance: inst, job: 't', region: 'eu' }],
      ] as const;
      for (const [name, labels] of want) {
        const got = realSamples(at(r.samples, E.ok, 'r.samples'), { __name__: name, instance: inst });
        t.true(got.length >= 3, `${name}: ${got.length}`);
        t.deepEqual(
          [...new Set(got.map((s) => JSON.stringify(s.raw)))],
          [JSON.stringify(Object.entries(labels).map(([n, v]) => ({ name: n, value: v })))],
          `${name} labels, sorted`,
        );
      }
    },
  },
  {
    title: '45. write_relabel_configs on one endpoint only; it sees the external labels',
    runs,
    check(t, r) {
      const inst = defined(r.env.targets.main, 'r.env.targets.main');
      const rel = at(r.samples, E.relabel, 'r.samples');
      t.true(
        realSamples(rel, { __name__: 'a', instance: inst, reg_copy: 'eu', region: 'eu' }).length >= 3,
        'a with reg_copy',
      );
      t.true(realSamples(rel, { __name__: 'up', instance: inst, reg_copy: 'eu' }).length >= 3, 'up with reg_copy');
      t.deepEqual(
        showSamples(rel.filter((s) => s.labels.__name__ === 'c' || (s.labels.__name__ ?? '').startsWith('scrape_'))),
        '',
        'no c, no scrape_*',
      );
      t.deepEqual(showSamples(rel.filter((s) => s.labels.reg_copy !== 'eu')), '', 'every series has reg_copy');
      const ok = at(r.samples, E.ok, 'r.samples');
      t.deepEqual(showSamples(ok.filter((s) => 'reg_copy' in s.labels)), '', 'endpoint 1 is not relabeled');
      t.true(realSamples(ok, { __name__: 'c', instance: inst }).length >= 3, 'endpoint 1 gets c');
      t.true(
        realSamples(ok, { __name__: 'scrape_samples_scraped', instance: inst }).length >= 3,
        'endpoint 1 gets scrape_*',
      );
    },
  },
  {
    title: '46. 500 twice: the same batch is resent with growing backoff; every sample arrives once',
    runs,
    check(t, r) {
      const [a0, a1, a2] = at(r.rxs, E.fail500, 'r.rxs').attempts;
      t.truthy(a2, 'three pushes');
      if (!a0 || !a1 || !a2) return;
      t.deepEqual([a0.status, a1.status, a2.status], [500, 500, 204]);
      t.true(a0.sampleCount > 0);
      t.deepEqual([a1.sampleCount, a2.sampleCount], [a0.sampleCount, a0.sampleCount], 'the same batch each time');
      // Backoff 500 ms then 1 s: wide enough apart that a loaded CI machine's scheduling noise
      // cannot reorder them.
      const gap1 = a1.receivedAt - a0.at;
      const gap2 = a2.receivedAt - a1.at;
      t.true(gap1 >= 1 && gap2 > gap1, `backoff grows: ${gap1} ms, then ${gap2} ms`);
      const got = at(r.samples, E.fail500, 'r.samples');
      t.deepEqual(duplicates(got).slice(0, 5), [], 'nothing arrives twice');
      const have = new Set(got.map(key));
      const missing = settled(r, E.ok).filter((s) => !have.has(key(s)));
      t.deepEqual(
        showSamples(missing, 5),
        '',
        'everything the healthy endpoint got (the failed batch included) arrives',
      );
    },
  },
  {
    title: '47. 400 is not retried: nothing is sent twice, the agent keeps going',
    runs,
    check(t, r) {
      expectRejectedOnce(t, r, E.bad400, 400);
    },
  },
  {
    title: '47b. 429 without retry_on_http_429 is dropped like 400',
    runs,
    check(t, r) {
      expectRejectedOnce(t, r, E.bad429, 429);
    },
  },
  {
    title: '47c. 429 with retry_on_http_429: true is resent after Retry-After',
    runs,
    check(t, r) {
      const [a0, a1] = at(r.rxs, E.retry429, 'r.rxs').attempts;
      t.truthy(a1, 'two pushes');
      if (!a0 || !a1) return;
      t.deepEqual([a0.status, a1.status], [429, 204]);
      t.is(a1.sampleCount, a0.sampleCount, 'the same batch');
      // Retry-After is a minimum for both senders.
      const floor = 990;
      t.true(a1.receivedAt - a0.at >= floor, `resent after Retry-After: 1 (${a1.receivedAt - a0.at} ms)`);
      const have = new Set(at(r.samples, E.retry429, 'r.samples').map(key));
      t.deepEqual(
        showSamples(
          settled(r, E.ok).filter((s) => !have.has(key(s))),
          5,
        ),
        '',
        'everything arrives',
      );
    },
  },
  {
    title: '48. a dead endpoint does not delay the healthy one: every scrape arrives on time',
    runs,
    check(t, r) {
      const ok = at(r.rxs, E.ok, 'r.rxs');
      const cs = realSamples(at(r.samples, E.ok, 'r.samples'), { __name__: 'c' });
      const main = defined(r.targets.main, 'r.targets.main');
      const due = main.servedAt.filter((at) => at < r.interruptedAt - 2500);
      t.true(due.length >= 4, `scrapes ${due.length}`);
      const late: string[] = [];
      for (const at of due) {
        const s = cs.find((x) => at - x.timestamp >= -50 && at - x.timestamp <= 1000);
        if (!s) late.push(`scrape at ${at}: no c sample`);
        else {
          const delay = defined(ok.requests[s.request], `request ${s.request}`).receivedAt - s.timestamp;
          if (delay > 3000) late.push(`${showSample(s)} arrived after ${delay} ms`);
        }
      }
      t.deepEqual(late, [], 'each scrape within batch_send_deadline (1 s) + 2 s');
    },
  },
  {
    title: '49. slow receiver, 1000 series, 4 shards: per series, timestamps increase in completion order',
    runs,
    check(t, r) {
      const samples = at(r.samples, E.slow, 'r.samples');
      const last = new Map<string, WireSample>();
      const bad: string[] = [];
      for (const s of samples) {
        const k = s.raw.map((l) => `${l.name}=${l.value}`).join(',');
        const prev = last.get(k);
        if (prev && !(prev.timestamp < s.timestamp))
          bad.push(`${showSample(prev)} (push ${prev.request}) then ${showSample(s)} (push ${s.request})`);
        last.set(k, s);
      }
      t.deepEqual(bad.slice(0, 10), [], `${bad.length} order violations`);
      t.true(select(samples, { __name__: 'test' }).length >= 3000, 'the 1000 series arrive');
      const edges = at(r.rxs, E.slow, 'r.rxs').attempts.flatMap((a) => [
        { t: a.receivedAt, d: 1 },
        { t: a.at, d: -1 },
      ]);
      edges.sort((x, y) => x.t - y.t || x.d - y.d);
      let cur = 0;
      let max = 0;
      for (const e of edges) max = Math.max(max, (cur += e.d));
      t.true(max >= 2, `overlapping pushes (max in flight ${max})`);
    },
  },
  {
    title: '52. SIGINT flushes what was scraped and exits 0 within the flush deadline',
    runs,
    check(t, r) {
      t.is(r.exitCode, 0);
      const took = r.stoppedAt - r.interruptedAt;
      // Prometheus stops its queues one after another; only the dead endpoint has to wait out the deadline.
      t.true(
        took <= FLUSH_DEADLINE_S * 1000 + 2000,
        `exit ${took} ms after SIGINT (flush deadline ${FLUSH_DEADLINE_S} s)`,
      );
      const lastServed =
        defined(r.targets.main, 'r.targets.main')
          .servedAt.filter((at) => at < r.interruptedAt - 250)
          .at(-1) ?? 0;
      const cs = realSamples(at(r.samples, E.ok, 'r.samples'), { __name__: 'c' });
      t.true(
        cs.some((s) => lastServed - s.timestamp >= -50 && lastServed - s.timestamp <= 1000),
        `the last scrape before SIGINT (${lastServed}) arrived\n${showSamples(cs.slice(-3))}`,
      );
    },
  },
]);

// ---- 50 [Outpost-better]: an outage with a restart in the middle ------------------------------

const OUTAGE_MS = 8000;

function seqValues(samples: readonly WireSample[]): number[] {
  return realSamples(samples, { __name__: 'seq' }).map((s) => s.value);
}

interface OutageMarks {
  /** seq values served before the restart. */
  beforeRestart: number;
  restartExit: number | string;
}
const outageMarks: OutageMarks = { beforeRestart: 0, restartExit: -1 };

const outageRuns = sharedRuns(() => ({
  name: 'outage',
  targets: { seq: seqTarget() },
  prepare: (rxs) => at(rxs, 0, 'rxs').setDefault({ status: 503 }),
  flags: () => ['--storage.remote.flush-deadline=1s'],
  config: (env) =>
    agentConfig(env, {
      jobs: [job(env, 't', ['seq'])],
      remoteWrite: [
        {
          url: env.receivers[0],
          queue_config: { batch_send_deadline: '1s', min_backoff: '100ms', max_backoff: '500ms' },
        },
      ],
    }),
  async drive(ctl) {
    const rx = at(ctl.rxs, 0, 'ctl.rxs');
    const outageStart = Date.now();
    await ctl.waitScrapes(3);
    await ctl.waitFor(() => rx.attempts.length >= 1, 10_000, 'a rejected push');
    outageMarks.beforeRestart = defined(ctl.targets.seq, 'ctl.targets.seq').served.length;
    outageMarks.restartExit = await ctl.restart('SIGTERM');
    const after = defined(ctl.targets.seq, 'ctl.targets.seq').served.length;
    await ctl.waitFor(
      () =>
        Date.now() - outageStart >= OUTAGE_MS && defined(ctl.targets.seq, 'ctl.targets.seq').served.length >= after + 2,
      20_000,
      'the outage to last 8 s',
    );
    rx.setDefault({ status: 204 });
    const served = defined(ctl.targets.seq, 'ctl.targets.seq').served.length;
    await ctl.waitFor(() => new Set(seqValues(flatSeq(rx))).size >= served, 15_000, 'the backlog to arrive');
  },
}));

/** seq samples straight from a receiver (during the run, before ScenarioRun exists). */
function flatSeq(rx: RwReceiver): WireSample[] {
  const out: WireSample[] = [];
  rx.requests.forEach((req, request) => {
    for (const s of req.samples)
      if (s.labels.__name__ === 'seq')
        out.push({ raw: [], labels: s.labels, value: s.value, stale: s.stale, timestamp: s.timestamp, request });
  });
  return out;
}

// ---- 51 [Outpost-better]: a disk cap smaller than the backlog -----------------------------------

const MiB = 1024 * 1024;
const SEGMENT = 10 * MiB; // the smallest segment size the flag allows
const CAP = 1 * MiB;
const HEAVY_SERIES = 20_000;
const LATE_AFTER_SCRAPES = 8;

interface CapMarks {
  maxWalBytes: number;
  /** WAL directory entries (segments, checkpoints) and their bytes at the peak, and before SIGINT. */
  peakListing: Record<string, number>;
  finalListing: Record<string, number>;
  droppedMetric: number;
  recoveredAt: number;
}
const capMarks: CapMarks = { maxWalBytes: 0, peakListing: {}, finalListing: {}, droppedMetric: 0, recoveredAt: 0 };

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      if (e.isDirectory()) total += await dirBytes(p);
      else total += (await fs.stat(p)).size;
    } catch {
      // removed while we looked (truncation): not on disk any more
    }
  }
  return total;
}

async function listing(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    out[e.name] = e.isDirectory()
      ? await dirBytes(path.join(dir, e.name))
      : await fs.stat(path.join(dir, e.name)).then(
          (st) => st.size,
          () => -1,
        );
  }
  return out;
}

/** Sum of a counter over all its label sets in a /metrics page, with a label filter. */
function metricSum(page: string, name: string, filter: string): number {
  let sum = 0;
  for (const line of page.split('\n'))
    if (line.startsWith(name + '{') && line.includes(filter)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

const capRuns = sharedRuns(() => {
  let heavy = false;
  let heavyScrapes = 0;
  const heavyBody = Array.from({ length: HEAVY_SERIES }, (_, i) => `h{i="${i}"} ${i}`).join('\n') + '\n';
  // `late_seq` is born a second into the outage, when the endpoint's reader is long blocked behind
  // the burst: its series record lands in the segment the cap drops, but the series lives on.
  const heavyTarget: MetricsHandler = (scrape) => {
    if (heavy) heavyScrapes++;
    const late = heavyScrapes > LATE_AFTER_SCRAPES ? `late_seq ${scrape}\n` : '';
    return { body: (heavy ? heavyBody : 'h_idle 1\n') + late, contentType: TEXT_CONTENT_TYPE };
  };
  return {
    name: 'cap',
    targets: { seq: seqTarget(), heavy: heavyTarget },
    flags: () => [
      `--storage.agent.wal-segment-size=${SEGMENT / MiB}MiB`,
      `--storage.agent.max-size=${CAP / MiB}MiB`,
      '--no-storage.agent.wal-compression',
      '--storage.remote.flush-deadline=1s',
    ],
    config: (env) =>
      agentConfig(env, {
        jobs: [
          job(env, 'seq', ['seq'], { scrape_interval: '250ms' }),
          job(env, 'heavy', ['heavy'], { scrape_interval: '125ms' }),
        ],
        remoteWrite: [
          {
            url: env.receivers[0],
            queue_config: { batch_send_deadline: '500ms', min_backoff: '100ms', max_backoff: '500ms' },
          },
        ],
      }),
    async drive(ctl) {
      const rx = at(ctl.rxs, 0, 'ctl.rxs');
      const walDir = path.join(ctl.env.dataDir, 'wal');
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const b = await dirBytes(walDir);
          if (b > capMarks.maxWalBytes) {
            capMarks.maxWalBytes = b;
            capMarks.peakListing = await listing(walDir);
          }
          await ctl.sleep(100);
        }
      })();
      const dropped = async (): Promise<number> => {
        const res = await fetch(`http://${ctl.env.web}/metrics`);
        return metricSum(await res.text(), 'prometheus_remote_storage_samples_dropped_total', 'reason="wal_size_cap"');
      };
      try {
        // Healthy first, so the endpoint has a position; then the outage, with a burst of samples.
        await ctl.waitFor(() => seqValues(flatSeq(rx)).length >= 2, 20_000, 'first deliveries');
        rx.setDefault({ status: 503 });
        heavy = true;
        // Until segment 0 is full and closed (the cap only drops closed segments), then quiet again
        // so the remaining backlog stays small.
        const segment1 = path.join(walDir, '00000001');
        for (const end = Date.now() + 40_000; heavy; await ctl.sleep(100)) {
          if (Date.now() > end) throw new Error('segment 0 never filled');
          heavy = !(await fs.access(segment1).then(
            () => true,
            () => false,
          ));
        }
        for (const end = Date.now() + 15_000; capMarks.droppedMetric === 0 && Date.now() < end; await ctl.sleep(250))
          capMarks.droppedMetric = await dropped();
        rx.setDefault({ status: 204 });
        capMarks.recoveredAt = Date.now();
        const served = defined(ctl.targets.seq, 'ctl.targets.seq').served.length;
        await ctl.waitFor(() => seqValues(flatSeq(rx)).includes(served - 1), 15_000, 'data after the recovery');
        // A little longer, so late_seq's newest samples would be there too.
        await ctl.sleep(1500);
        capMarks.droppedMetric = await dropped();
        capMarks.finalListing = await listing(walDir);
      } finally {
        watching = false;
        await watch;
      }
    },
  };
});

const OUTPOST_BETTER =
  '[Outpost-better] Prometheus 2.42 fails this by design (conformance.md §6.9: after a restart it delivers 0 of the samples scraped during the outage; it has no disk cap)';

registerBlackBox('remote', [
  {
    title:
      '50. 503 outage with a restart in the middle: every sample scraped before the restart arrives exactly once, in order',
    runs: outageRuns,
    outpostOnly: OUTPOST_BETTER,
    check(t, r) {
      t.is(r.exitCode, 0);
      t.deepEqual(r.restartExitCodes, [0], 'SIGTERM during the outage exits 0');
      t.true(outageMarks.beforeRestart >= 3, `scrapes before the restart: ${outageMarks.beforeRestart}`);
      const seq = realSamples(at(r.samples, 0, 'r.samples'), { __name__: 'seq' });
      const values = seq.map((s) => s.value);
      const before = Array.from({ length: outageMarks.beforeRestart }, (_, i) => i);
      t.deepEqual(
        values.slice(0, before.length),
        before,
        'the samples scraped before the restart arrive first, exactly once and in order',
      );
      t.deepEqual(duplicates(seq), [], 'nothing twice');
      t.true(
        seq.every((s, i) => i === 0 || s.timestamp > at(seq, i - 1, 'seq').timestamp),
        'timestamps increase in arrival order',
      );
      const served = defined(r.targets.seq, 'r.targets.seq').served.length;
      t.deepEqual(
        values,
        Array.from({ length: values.length }, (_, i) => i),
        'no gap at all',
      );
      t.true(values.length >= served - 2, `${values.length} of ${served} scrapes delivered`);
    },
  },
  {
    title: '51a. disk cap below the backlog: the WAL stays ≤ cap + 1 segment',
    runs: capRuns,
    outpostOnly: OUTPOST_BETTER,
    check(t, r) {
      t.is(r.exitCode, 0);
      t.log(
        `WAL at its peak: ${JSON.stringify(capMarks.peakListing)}; before SIGINT: ${JSON.stringify(capMarks.finalListing)}`,
      );
      t.true(capMarks.droppedMetric > 0, 'the cap was enforced');
      t.true(
        capMarks.maxWalBytes <= CAP + SEGMENT + MiB,
        `WAL peaked at ${(capMarks.maxWalBytes / MiB).toFixed(1)} MiB (cap ${CAP / MiB} MiB + one ${SEGMENT / MiB} MiB segment)`,
      );
      // Once the cap was enforced, everything but the open segment fits the cap (1 MiB slack for the series checkpoint).
      const entries = Object.entries(capMarks.finalListing).sort(([a], [b]) => (a < b ? -1 : 1));
      const open = entries.filter(([n]) => /^\d{8}$/.test(n)).at(-1)?.[0];
      const rest = entries.filter(([n]) => n !== open).reduce((n, [, b]) => n + b, 0);
      t.true(
        rest <= CAP + MiB,
        `closed segments + checkpoints hold ${(rest / MiB).toFixed(1)} MiB after the cap was enforced (cap ${CAP / MiB} MiB)`,
      );
    },
  },
  {
    title: '51b. disk cap below the backlog: oldest data dropped first and counted, newer data arrives after recovery',
    runs: capRuns,
    outpostOnly: OUTPOST_BETTER,
    check(t, r) {
      t.is(r.exitCode, 0);
      t.true(
        capMarks.droppedMetric > 0,
        `prometheus_remote_storage_samples_dropped_total{reason="wal_size_cap"} = ${capMarks.droppedMetric}`,
      );
      const seq = realSamples(at(r.samples, 0, 'r.samples'), { __name__: 'seq' });
      const got = new Set(seq.map((s) => s.value));
      const served = defined(r.targets.seq, 'r.targets.seq').served.length;
      const missing = Array.from({ length: served }, (_, i) => i).filter((v) => !got.has(v));
      t.true(missing.length > 0, 'some old data was dropped');
      // The dropped block is the longest run of consecutive missing values. On a loaded machine a
      // 250 ms scrape of `seq` can time out: the target counted the value as served but the agent
      // recorded up=0 and no sample. Such values may be missing outside the block, at most one per
      // failed scrape that reached the receiver; anything else missing would be a lost sample.
      let first = missing[0] ?? 0;
      let last = first;
      let runStart = first;
      for (const [i, v] of missing.entries()) {
        if (i > 0 && v !== at(missing, i - 1, 'missing') + 1) runStart = v;
        if (v - runStart > last - first) [first, last] = [runStart, v];
      }
      const outside = missing.filter((v) => v < first || v > last);
      const failedScrapes = realSamples(at(r.samples, 0, 'r.samples'), { __name__: 'up', job: 'seq' }).filter(
        (s) => s.value === 0 && s.timestamp > at(seq, 0, 'seq').timestamp,
      );
      t.true(
        outside.length <= failedScrapes.length,
        `one contiguous block of old data is missing (${first}..${last}); also missing ${outside.join(',') || 'nothing'} with ${failedScrapes.length} failed scrapes`,
      );
      if (outside.length > 0)
        t.log(
          `seq values missing outside the dropped block: ${outside.join(',')}; failed scrapes (up=0): ${failedScrapes.length}`,
        );
      t.true(first > 0, 'what was delivered before the outage stays delivered');
      t.true(
        seq.filter((s) => s.timestamp > capMarks.recoveredAt).length >= 2,
        'data scraped after the recovery arrives',
      );
      t.true(got.has(served - 1) || got.has(served - 2), 'the newest samples arrive');
      t.true(
        seq.every((s, i) => i === 0 || s.timestamp > at(seq, i - 1, 'seq').timestamp),
        'in order',
      );
      t.log(
        `WAL peak ${(capMarks.maxWalBytes / MiB).toFixed(1)} MiB; dropped ${capMarks.droppedMetric} samples; seq missing ${first}..${last} of 0..${served - 1}`,
      );
    },
  },
  {
    title: '51c. disk cap below the backlog: a series born during the outage is delivered after recovery',
    runs: capRuns,
    outpostOnly: OUTPOST_BETTER,
    check(t, r) {
      t.true(capMarks.droppedMetric > 0, 'the cap was enforced');
      const late = realSamples(at(r.samples, 0, 'r.samples'), { __name__: 'late_seq' }).filter(
        (s) => s.timestamp > capMarks.recoveredAt,
      );
      t.true(late.length >= 2, `late_seq samples scraped after the recovery: ${late.length}`);
    },
  },
]);

/**
 * Black-box acceptance cases 21–26 (research/conformance.md §7, "Staleness & report series"), each
 * checked against Outpost and the real Prometheus 2.42 agent. Cases 21–24 and 26 share one run per
 * sender; case 25 (file_sd removal, then a job removed by SIGHUP reload) has its own scripted run.
 */
import type { ExecutionContext } from 'ava';
import {
  agentConfig,
  job,
  realSamples,
  registerBlackBox,
  REPORT_SERIES,
  runExitsZero,
  select,
  serveText,
  sharedRuns,
  showSamples,
  staleMarkers,
  TEXT_CONTENT_TYPE,
  type MetricsHandler,
  type ScenarioEnv,
  type ScenarioRun,
  type WireSample,
  type Yaml,
} from '../helpers/compliance.ts';
import { at, defined } from '../helpers/defined.ts';

const REPORT = REPORT_SERIES;

/** Serves `first` for the first n scrapes, then `rest`. */
function phases(n: number, first: MetricsHandler, rest: MetricsHandler): MetricsHandler {
  return (scrape) => (scrape < n ? first(scrape) : rest(scrape));
}

function byTime(ss: readonly WireSample[]): WireSample[] {
  return [...ss].sort((a, b) => a.timestamp - b.timestamp);
}

function of(r: ScenarioRun, target: string, m: Record<string, string> = {}): WireSample[] {
  return select(at(r.samples, 0, 'r.samples'), {
    ...m,
    instance: defined(r.env.targets[target], `target ${target}`),
  });
}

// ---- cases 21–24, 26: one run -------------------------------------------------------------------

const runs = sharedRuns(() => {
  let future = 0;
  return {
    name: 'staleness',
    targets: {
      c21: phases(1, serveText('a 1\nb 1\n'), serveText('a 1\n')),
      c22: phases(2, serveText('a 1\n'), () => ({ status: 500, body: 'boom\n', contentType: 'text/plain' })),
      // An explicit timestamp two minutes ahead (after the agent start, so 2.42 sends it too), fixed at the first scrape.
      c23: phases(
        2,
        () => ({ body: `a 1 ${(future ||= Date.now() + 120_000)}\nb 1\n`, contentType: TEXT_CONTENT_TYPE }),
        serveText('b 1\n'),
      ),
      c24: serveText('a 1\n'),
      c26: () => ({ body: 'a 1\n', contentType: TEXT_CONTENT_TYPE, delayMs: 3000 }),
    },
    config: (env) =>
      agentConfig(env, {
        jobs: [
          job(env, 't', ['c21', 'c22', 'c23', 'c24']),
          job(env, 't-timeout', ['c26'], { scrape_timeout: '500ms' }),
        ],
      }),
    minScrapes: 5,
  };
});

// ---- case 25: target dropped from file_sd, then a job removed by reload ------------------------

const SD_FILE = 'sd.json';
const SD_REFRESH = '1s';

function sdGroups(env: ScenarioEnv, names: readonly string[]): string {
  return JSON.stringify([{ targets: names.map((n) => env.targets[n]) }]);
}

function churnConfig(env: ScenarioEnv, withGoneJob: boolean): string {
  const jobs: Yaml[] = [
    { job_name: 't', file_sd_configs: [{ files: [`${env.dir}/${SD_FILE}`], refresh_interval: SD_REFRESH }] },
  ];
  if (withGoneJob) jobs.push(job(env, 'gone', ['g']));
  return agentConfig(env, { jobs });
}

/** When the scripted run changed discovery and the config (ms), read back by the checks. */
interface ChurnTimes {
  sdChangedAt: number;
  reloadedAt: number;
}
const churnTimes = new Map<string, ChurnTimes>();

const churnRuns = sharedRuns((sender) => ({
  name: 'churn',
  targets: { k: serveText('k_metric 1\n'), d: serveText('d_metric 1\n'), g: serveText('g_metric 1\n') },
  files: (env) => ({ [SD_FILE]: sdGroups(env, ['k', 'd']) }),
  config: (env) => churnConfig(env, true),
  async drive(ctl) {
    const times: ChurnTimes = { sdChangedAt: 0, reloadedAt: 0 };
    churnTimes.set(sender, times);
    await ctl.waitScrapes(3);
    // 1. d leaves file_sd; job t stays. Wait for the stale marker of its `up`.
    await ctl.writeFile(SD_FILE, sdGroups(ctl.env, ['k']));
    times.sdChangedAt = Date.now();
    const dUp = { __name__: 'up', instance: ctl.env.targets.d };
    await ctl.waitFor(
      () =>
        at(ctl.rxs, 0, 'ctl.rxs')
          .samples()
          .some((s) => s.stale && s.labels.__name__ === dUp.__name__ && s.labels.instance === dUp.instance),
      20_000,
      'the stale marker of d',
    );
    // 2. Job `gone` removed by a SIGHUP reload.
    await ctl.writeFile('agent.yml', churnConfig(ctl.env, false));
    ctl.signal('SIGHUP');
    times.reloadedAt = Date.now();
    const g = defined(ctl.targets.g, 'ctl.targets.g');
    await ctl.waitFor(() => Date.now() - (g.servedAt.at(-1) ?? 0) > 1500, 15_000, 'job gone to stop scraping');
    // Long enough for Prometheus' end-of-run staleness (2 intervals + 10 %) and one more batch.
    const kScrapes = defined(ctl.targets.k, 'ctl.targets.k').served.length;
    await ctl.sleep(3500);
    await ctl.waitFor(
      () => defined(ctl.targets.k, 'ctl.targets.k').served.length >= kScrapes + 2,
      5000,
      'k to keep being scraped',
    );
  },
}));

/**
 * Every series of the target (its metric and the report series) has exactly one stale marker, after its
 * last real sample and no later than the next would-be scrape (+100 ms).
 */
function expectMarkedOnce(t: ExecutionContext, r: ScenarioRun, target: string, metric: string): void {
  for (const name of [metric, ...REPORT]) {
    const all = of(r, target, { __name__: name });
    const real = byTime(all.filter((s) => !s.stale));
    const markers = all.filter((s) => s.stale);
    t.true(real.length >= 2, `${name}: real samples ${real.length}`);
    t.is(markers.length, 1, `${name} of ${target}: exactly one stale marker\n${showSamples(all)}`);
    const last = real.at(-1);
    if (markers.length === 1 && last) {
      const gap = at(markers, 0, 'markers').timestamp - last.timestamp;
      t.true(gap > 0 && gap <= 1100, `${name}: marker ${gap} ms after the last sample (≤ one interval)`);
    }
  }
}

registerBlackBox('staleness', [
  {
    title: '0. the run exits 0 on SIGINT',
    runs,
    check: runExitsZero,
  },
  {
    title: '21. a series gone from the body gets one stale marker at the next scrape; the rest continue',
    runs,
    check(t, r) {
      const b = of(r, 'c21', { __name__: 'b' });
      const a = byTime(of(r, 'c21', { __name__: 'a' }));
      t.is(b.filter((s) => !s.stale).length, 1, `one real b sample\n${showSamples(b)}`);
      const markers = b.filter((s) => s.stale);
      t.is(markers.length, 1, `exactly one stale marker for b (bits 0x7ff0000000000002)\n${showSamples(b)}`);
      t.true(a.length >= 4, `a keeps arriving: ${a.length}`);
      t.deepEqual(staleMarkers(a, {}).length, 0, 'a is never marked stale');
      if (markers.length === 1 && a.length >= 2)
        t.is(at(markers, 0, 'markers').timestamp, at(a, 1, 'a').timestamp, "at scrape 2's timestamp");
    },
  },
  {
    title: '22. HTTP 500 after two good scrapes: up 1,1,0,…; a stale marker at the first failing scrape',
    runs,
    check(t, r) {
      const ups = byTime(realSamples(of(r, 'c22'), { __name__: 'up' }));
      const values = ups.map((s) => s.value);
      t.true(values.length >= 4, `up samples ${values.length}`);
      t.deepEqual(
        values,
        values.map((_, i) => (i < 2 ? 1 : 0)),
        'up goes 1,1,0,…',
      );
      const a = of(r, 'c22', { __name__: 'a' });
      const markers = a.filter((s) => s.stale);
      t.is(a.filter((s) => !s.stale).length, 2, 'two real a samples');
      t.is(markers.length, 1, `one stale marker for a\n${showSamples(a)}`);
      if (markers.length === 1 && ups.length >= 3)
        t.is(
          at(markers, 0, 'markers').timestamp,
          at(ups, 2, 'ups').timestamp,
          "at the first failing scrape's timestamp",
        );
    },
  },
  {
    title: '23. a series that carried an explicit timestamp gets no stale marker when it goes',
    runs,
    check(t, r) {
      const a = of(r, 'c23', { __name__: 'a' });
      const ts = Number(/^a 1 (\d+)$/m.exec(defined(r.targets.c23, 'r.targets.c23').served[0]?.body ?? '')?.[1] ?? NaN);
      t.true(
        a.filter((s) => !s.stale && s.timestamp === ts).length >= 1,
        `a arrived at its explicit timestamp ${ts}\n${showSamples(a)}`,
      );
      t.deepEqual(showSamples(staleMarkers(a, {})), '', 'no stale marker for a');
      t.true(defined(r.targets.c23, 'r.targets.c23').served.length >= 4, 'the target was scraped after a went away');
      t.true(realSamples(of(r, 'c23'), { __name__: 'b' }).length >= 4, 'b keeps arriving');
    },
  },
  {
    title: '24. report series on every scrape, with job and instance',
    runs,
    check(t, r) {
      const ups = byTime(realSamples(of(r, 'c24'), { __name__: 'up' }));
      t.true(ups.length >= 4, `up samples ${ups.length}`);
      const times = ups.map((s) => s.timestamp);
      const expect: Record<(typeof REPORT)[number], (v: number, i: number) => boolean> = {
        up: (v) => v === 1,
        scrape_duration_seconds: (v) => v > 0 && v < 1,
        scrape_samples_scraped: (v) => v === 1,
        scrape_samples_post_metric_relabeling: (v) => v === 1,
        scrape_series_added: (v, i) => v === (i === 0 ? 1 : 0),
      };
      for (const name of REPORT) {
        const ss = byTime(realSamples(of(r, 'c24'), { __name__: name }));
        t.deepEqual(
          ss.map((s) => s.timestamp),
          times,
          `${name}: one sample per scrape, at the scrape's timestamp`,
        );
        t.deepEqual(
          ss.filter((s, i) => !expect[name](s.value, i)).map((s) => s.value),
          [],
          `${name} values`,
        );
        t.deepEqual(
          ss.filter((s) => s.labels.job !== 't' || s.labels.instance !== r.env.targets.c24).length,
          0,
          `${name} carries job and instance`,
        );
      }
    },
  },
  {
    title:
      '25a. a target dropped from file_sd: each of its series (up, scrape_* too) gets one stale marker; the job continues',
    runs: churnRuns,
    check(t, r) {
      t.is(r.exitCode, 0);
      expectMarkedOnce(t, r, 'd', 'd_metric');
      const times = churnTimes.get(r.sender);
      const k = realSamples(of(r, 'k'), { __name__: 'k_metric' });
      t.true(
        times !== undefined && k.some((s) => s.timestamp > (times.reloadedAt ?? 0)),
        'k, still in file_sd, keeps arriving',
      );
    },
  },
  {
    // Prometheus 2.42 cancels the pool while its end-of-run staleness races to fire: mostly nothing
    // is marked, now and then (1 CI run in 7) one marker lands. Outpost marks the series of a
    // removed job stale, each exactly once (a deliberate improvement).
    title:
      '25b. a job removed by SIGHUP reload: Prometheus 2.42 marks a series at most once (usually not at all), Outpost marks each series once',
    runs: churnRuns,
    check(t, r) {
      const g = of(r, 'g');
      t.true(realSamples(g, { __name__: 'g_metric' }).length >= 3, 'job gone was scraped before the reload');
      if (r.sender === 'prometheus') {
        const perSeries = new Map<string, number>();
        for (const s of staleMarkers(g, {}))
          perSeries.set(
            defined(s.labels.__name__, 's.labels.__name__'),
            (perSeries.get(defined(s.labels.__name__, 's.labels.__name__')) ?? 0) + 1,
          );
        t.deepEqual(
          [...perSeries].filter(([, n]) => n > 1),
          [],
          `no series marked twice\n${showSamples(staleMarkers(g, {}))}`,
        );
      } else expectMarkedOnce(t, r, 'g', 'g_metric');
    },
  },
  {
    title: '26. scrape_timeout 500ms against a 3 s target: up=0, scrape_duration_seconds ≈ 0.5',
    runs,
    check(t, r) {
      const ups = realSamples(of(r, 'c26'), { __name__: 'up' });
      t.true(ups.length >= 3, `up samples ${ups.length}`);
      t.deepEqual(
        ups.filter((s) => s.value !== 0).map((s) => s.value),
        [],
        'up=0',
      );
      // A scrape still waiting when SIGINT came is cut short (Prometheus reports it too); it says nothing about the timeout.
      const d = realSamples(of(r, 'c26'), { __name__: 'scrape_duration_seconds' })
        .filter((s) => s.timestamp + 600 < r.interruptedAt)
        .map((s) => s.value);
      t.true(d.length >= 3);
      t.deepEqual(
        d.filter((v) => v < 0.45 || v > 0.8),
        [],
        `durations ≈ 0.5 s: ${d.join(', ')}`,
      );
      t.deepEqual(showSamples(realSamples(of(r, 'c26'), { __name__: 'a' })), '', 'nothing ingested');
    },
  },
]);

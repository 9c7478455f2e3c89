/**
 * Black-box acceptance cases 1–20 (research/conformance.md §7, "Scraping & parsing"). One run per
 * sender scrapes every case's target at once: job `t` holds the targets with default settings (a case
 * is told apart by its `instance`), job `t-ts-off` the one with honor_timestamps: false. Each case is
 * checked against Outpost and against the real Prometheus 2.42 agent. Where the versions differ, each
 * sender is held to its own documented behaviour (Outpost follows Prometheus 3.x semantics).
 */
import type { ExecutionContext } from 'ava';
import {
  agentConfig,
  job,
  labelsWithout,
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
  type ScenarioRun,
  type WireSample,
} from '../helpers/compliance.ts';
import { at, defined } from '../helpers/defined.ts';

const OM_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

const om =
  (body: string): MetricsHandler =>
  () => ({ body, contentType: OM_CONTENT_TYPE });

/** A body fixed at the first scrape (e.g. one holding a timestamp taken then). */
function fixedAtFirstScrape(make: () => string, contentType: string): MetricsHandler {
  let body: string | null = null;
  return () => ({ body: (body ??= make()), contentType });
}

/** A number in the first body the target served (e.g. a timestamp chosen at the first scrape). */
function servedNumber(r: ScenarioRun, target: string, re: RegExp): number {
  const first = r.targets[target]?.served[0];
  const m = first ? re.exec(first.body) : null;
  return m ? Number(m[1]) : NaN;
}

const OLD_TS = 1600000000000;

/** Fresh targets per run: some keep state (a timestamp fixed at their first scrape). */
function targets(): Record<string, MetricsHandler> {
  return {
    c1: serveText('a{b="c"} 1\n'),
    c2: serveText('a{z="1",b="2"} 1\n'),
    c3: serveText('a{b=""} 1\n'),
    c4: serveText('a{b="x\\"y\\\\z\\nw"} 1\n'),
    c5: serveText('nan NaN\npinf +Inf\nninf -Inf\nbig 1.7976931348623157e308\nsci 1e-07\n'),
    c6: serveText(`a 1 ${OLD_TS}\n`),
    c7: serveText(`a 1 ${OLD_TS}\n`),
    // Two minutes ahead, fixed at the first scrape.
    c8: fixedAtFirstScrape(() => `a 1 ${Date.now() + 120_000}\n`, TEXT_CONTENT_TYPE),
    // OpenMetrics seconds with a fraction; the first scrape is after the agent started.
    c9: fixedAtFirstScrape(
      () => `# TYPE b counter\nb_total 1 ${Math.ceil(Date.now() / 1000)}.5\n# EOF\n`,
      OM_CONTENT_TYPE,
    ),
    c10: om('# TYPE a counter\na_total 1\na_created 1600000000\n# EOF\n'),
    c11: om('# TYPE a counter\na_total 1\n'),
    c12: om('# TYPE a info\na_info{x="y"} 1\n# TYPE s stateset\ns{s="foo"} 1\ns{s="bar"} 0\n# EOF\n'),
    c13: () => ({ body: 'a 1\n', contentType: 'application/json' }),
    c13n: () => ({ body: 'a 1\n', contentType: 'application/json' }),
    c13b: () => ({ body: 'a 1\n', contentType: '' }),
    c14: serveText('# TYPE a counter\na_total 1 # {trace_id="abc"} 1\n'),
    c15: serveText('1234notvali}{ 444\n'),
    c16: serveText('{label="value"} 1\n'),
    c17: serveText('a{x="1",x="2"} 1\nok 1\n'),
    c18: serveText('a.b 1\n'),
    // Not in §7: the same name quoted, the 3.x text-format spelling of a UTF-8 name.
    c18q: serveText('{"a.b"} 1\n'),
    c18l: serveText('{"a.b"} 1\n'),
    c19: () => ({
      body: 'a{b="<0xff>"} 1\n',
      bytes: Buffer.concat([Buffer.from('a{b="'), Buffer.from([0xff]), Buffer.from('"} 1\n')]),
      contentType: TEXT_CONTENT_TYPE,
    }),
    c20: serveText('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n'),
  };
}

const runs = sharedRuns((sender) => {
  const ts = targets();
  // Outpost reproduces 2.42's behaviour where a 3.x field selects it: text as the fallback for an unknown
  // Content-Type (c13) and legacy names (c18l). Prometheus 2.42 rejects those keys, so it scrapes these
  // targets in job t.
  const own = sender === 'outpost' ? ['c13', 'c18l'] : [];
  return {
    name: 'scraping',
    targets: ts,
    config: (env) =>
      agentConfig(env, {
        jobs: [
          job(
            env,
            't',
            Object.keys(ts).filter((k) => k !== 'c7' && !own.includes(k)),
          ),
          job(env, 't-ts-off', ['c7'], { honor_timestamps: false }),
          ...(own.length > 0
            ? [
                job(env, 't-fallback', ['c13'], { fallback_scrape_protocol: 'PrometheusText0.0.4' }),
                job(env, 't-legacy', ['c18l'], { metric_name_validation_scheme: 'legacy' }),
              ]
            : []),
        ],
      }),
    minScrapes: 4,
  };
});

/** Samples of one case's target. */
function of(r: ScenarioRun, target: string, m: Record<string, string> = {}): WireSample[] {
  return select(at(r.samples, 0, 'r.samples'), {
    ...m,
    instance: defined(r.env.targets[target], `target ${target}`),
  });
}

function up(r: ScenarioRun, target: string): number[] {
  return realSamples(at(r.samples, 0, 'r.samples'), {
    __name__: 'up',
    instance: defined(r.env.targets[target], `target ${target}`),
  }).map((s) => s.value);
}

/** At least `min` up samples arrived for the target and all have this value. */
function expectUp(t: ExecutionContext, r: ScenarioRun, target: string, value: 0 | 1, min = 3): void {
  const ups = up(r, target);
  t.true(ups.length >= min, `${target}: expected ≥${min} up samples, got ${ups.length}`);
  t.deepEqual(
    ups.filter((v) => v !== value),
    [],
    `${target}: every up is ${value}`,
  );
}

/** Only report series arrived from the target (a failed scrape ingests nothing). */
function expectOnlyReportSeries(t: ExecutionContext, r: ScenarioRun, target: string): void {
  const other = of(r, target).filter((s) => !REPORT.has(s.labels.__name__ ?? ''));
  t.deepEqual(showSamples(other), '', `${target}: nothing but report series`);
}

const REPORT: ReadonlySet<string> = new Set(REPORT_SERIES);

/** ts lies in the window of one of the target's scrapes: taken at most 50 ms after, 1 s before, a request. */
function nearServe(r: ScenarioRun, target: string, ts: number): boolean {
  return defined(r.targets[target], `target ${target}`).servedAt.some((at) => at - ts >= -50 && at - ts <= 1000);
}

/** Every real sample of the series, with at least `min` of them, has value v. */
function expectValues(
  t: ExecutionContext,
  r: ScenarioRun,
  target: string,
  m: Record<string, string>,
  v: number,
  min = 3,
): WireSample[] {
  const got = realSamples(of(r, target), m);
  t.true(
    got.length >= min,
    `${target} ${JSON.stringify(m)}: expected ≥${min} samples, got ${got.length}\n${showSamples(of(r, target))}`,
  );
  t.deepEqual(
    got.filter((s) => !Object.is(s.value, v)).map((s) => s.value),
    [],
    `${target} ${JSON.stringify(m)} = ${v}`,
  );
  return got;
}

registerBlackBox('scraping', [
  {
    title: '0. the run exits 0 on SIGINT',
    runs,
    check: runExitsZero,
  },
  {
    title: '1. a{b="c"} arrives with instance and job, scrape-time ms timestamps',
    runs,
    check(t, r) {
      const got = expectValues(t, r, 'c1', { __name__: 'a' }, 1);
      for (const s of got)
        t.deepEqual(labelsWithout(s), { __name__: 'a', b: 'c', instance: r.env.targets.c1, job: 't' });
      const off = got.filter((s) => !nearServe(r, 'c1', s.timestamp));
      t.deepEqual(showSamples(off), '', 'timestamps are ms taken at scrape time');
    },
  },
  {
    title: '2. labels on the wire are sorted: __name__,b,instance,job,z',
    runs,
    check(t, r) {
      const got = expectValues(t, r, 'c2', { __name__: 'a' }, 1);
      for (const s of got)
        t.deepEqual(
          s.raw.map((l) => l.name),
          ['__name__', 'b', 'instance', 'job', 'z'],
        );
    },
  },
  {
    title: '3. an empty label value is dropped',
    runs,
    check(t, r) {
      const got = expectValues(t, r, 'c3', { __name__: 'a' }, 1);
      for (const s of got)
        t.deepEqual(
          s.raw.map((l) => l.name),
          ['__name__', 'instance', 'job'],
        );
    },
  },
  {
    title: '4. label value escapes decode',
    runs,
    check(t, r) {
      const got = expectValues(t, r, 'c4', { __name__: 'a' }, 1);
      for (const s of got) t.is(s.labels.b, 'x"y\\z\nw');
    },
  },
  {
    title: '5. NaN (not the stale bits), ±Inf, max float and 1e-7 values',
    runs,
    check(t, r) {
      const nan = of(r, 'c5', { __name__: 'nan' });
      t.true(nan.length >= 3, `nan samples: ${nan.length}`);
      t.deepEqual(
        nan.filter((s) => s.stale || !Number.isNaN(s.value)).map((s) => s.value),
        [],
        'NaN, never the stale marker',
      );
      expectValues(t, r, 'c5', { __name__: 'pinf' }, Infinity);
      expectValues(t, r, 'c5', { __name__: 'ninf' }, -Infinity);
      expectValues(t, r, 'c5', { __name__: 'big' }, 1.7976931348623157e308);
      expectValues(t, r, 'c5', { __name__: 'sci' }, 1e-7);
    },
  },
  {
    // Prometheus 2.42's WAL watcher skips anything at or before its start time, so the sample is never
    // sent. Outpost's watcher has no such cut-off: a sample newer than its series' last one is sent.
    title: '6. an old explicit timestamp: up=1, scraped=1; Prometheus 2.42 sends nothing, Outpost sends it once',
    runs,
    check(t, r) {
      expectUp(t, r, 'c6', 1);
      expectValues(t, r, 'c6', { __name__: 'scrape_samples_scraped' }, 1);
      const a = of(r, 'c6', { __name__: 'a' });
      if (r.sender === 'prometheus') t.deepEqual(showSamples(a), '', 'no a sample (older than the agent start)');
      else
        t.deepEqual(
          a.map((s) => [s.value, s.timestamp, s.stale]),
          [[1, OLD_TS, false]],
          'exactly one a sample, at the exposed timestamp',
        );
    },
  },
  {
    title: '7. honor_timestamps: false stamps the sample at scrape time',
    runs,
    check(t, r) {
      const got = expectValues(t, r, 'c7', { __name__: 'a' }, 1);
      t.deepEqual(showSamples(got.filter((s) => !nearServe(r, 'c7', s.timestamp))), '', 'scrape timestamps');
      t.true(
        got.every((s, i) => i === 0 || s.timestamp > at(got, i - 1, 'got').timestamp),
        'one sample per scrape, increasing',
      );
    },
  },
  {
    // 2.42's agent rejects only t < last, so the identical sample goes out again after every scrape;
    // head (and Outpost) reject t <= last, so it is sent once.
    title: '8. a future explicit timestamp is sent verbatim (2.42: on every scrape; Outpost: once)',
    runs,
    check(t, r) {
      const a = of(r, 'c8', { __name__: 'a' });
      const futureTs = servedNumber(r, 'c8', /^a 1 (\d+)$/m);
      t.true(futureTs > 0, 'the target was scraped');
      t.deepEqual(
        a.filter((s) => s.stale || s.value !== 1 || s.timestamp !== futureTs).map((s) => [s.value, s.timestamp]),
        [],
        `all at ${futureTs}`,
      );
      const scrapes = up(r, 'c8').length;
      if (r.sender === 'prometheus')
        t.true(
          a.length >= 2 && a.length >= scrapes - 1,
          `resent after every scrape: ${a.length} samples, ${scrapes} scrapes`,
        );
      else t.is(a.length, 1, 'sent exactly once');
    },
  },
  {
    title: '9. OpenMetrics timestamp T.5 seconds → T*1000+500 ms',
    runs,
    check(t, r) {
      const b = realSamples(of(r, 'c9'), { __name__: 'b_total' });
      const omSeconds = servedNumber(r, 'c9', /^b_total 1 (\d+)\.5$/m);
      t.true(omSeconds > 0 && b.length >= 1, `b_total samples: ${b.length}`);
      t.deepEqual(
        b.filter((s) => s.timestamp !== omSeconds * 1000 + 500 || s.value !== 1).map((s) => [s.value, s.timestamp]),
        [],
      );
    },
  },
  {
    title: '10. OpenMetrics a_created arrives as its own series',
    runs,
    check(t, r) {
      expectValues(t, r, 'c10', { __name__: 'a_total' }, 1);
      expectValues(t, r, 'c10', { __name__: 'a_created' }, 1600000000);
    },
  },
  {
    title: '11. OpenMetrics without # EOF fails the scrape',
    runs,
    check(t, r) {
      expectUp(t, r, 'c11', 0);
      t.deepEqual(showSamples(of(r, 'c11', { __name__: 'a_total' })), '');
    },
  },
  {
    title: '12. OpenMetrics info and stateset samples',
    runs,
    check(t, r) {
      expectValues(t, r, 'c12', { __name__: 'a_info', x: 'y' }, 1);
      expectValues(t, r, 'c12', { __name__: 's', s: 'foo' }, 1);
      expectValues(t, r, 'c12', { __name__: 's', s: 'bar' }, 0);
    },
  },
  {
    // 3.x fails the scrape without fallback_scrape_protocol; Outpost keeps 2.42's text fallback.
    // Outpost gets 2.42's reading from 3.x's fallback_scrape_protocol: PrometheusText0.0.4.
    title: '13. Content-Type application/json is parsed as text (both; Outpost with a text fallback)',
    runs,
    check(t, r) {
      expectUp(t, r, 'c13', 1);
      expectValues(t, r, 'c13', { __name__: 'a' }, 1);
    },
  },
  {
    // Prometheus 3 (model/textparse/interface.go v3.14.0 lines 93-123) fails a scrape whose
    // Content-Type is unknown or blank unless fallback_scrape_protocol is set; 2.42 read it as text.
    title: '13b. unknown or blank Content-Type without a fallback: Outpost (3.x) fails the scrape, 2.42 reads text',
    runs,
    check(t, r) {
      for (const c of ['c13n', 'c13b']) {
        if (r.sender === 'prometheus') {
          expectUp(t, r, c, 1);
          expectValues(t, r, c, { __name__: 'a' }, 1);
        } else {
          expectUp(t, r, c, 0);
          expectOnlyReportSeries(t, r, c);
        }
      }
    },
  },
  {
    title: '14. an exemplar in text/plain fails the scrape',
    runs,
    check(t, r) {
      expectUp(t, r, 'c14', 0);
      expectOnlyReportSeries(t, r, 'c14');
    },
  },
  {
    title: '15. an unparsable body fails the scrape, only report series arrive',
    runs,
    check(t, r) {
      expectUp(t, r, 'c15', 0);
      expectOnlyReportSeries(t, r, 'c15');
    },
  },
  {
    title: '16. a sample without a metric name fails the scrape',
    runs,
    check(t, r) {
      expectUp(t, r, 'c16', 0);
      const nameless = at(r.samples, 0, 'r.samples').filter((s) => (s.labels.__name__ ?? '') === '');
      t.deepEqual(showSamples(nameless), '', 'no series without __name__ ever arrives');
    },
  },
  {
    title: '17. a duplicate label name fails the whole scrape',
    runs,
    check(t, r) {
      expectUp(t, r, 'c17', 0);
      expectOnlyReportSeries(t, r, 'c17');
    },
  },
  {
    title: '18. unquoted dotted name a.b fails the scrape',
    runs,
    check(t, r) {
      expectUp(t, r, 'c18', 0);
      expectOnlyReportSeries(t, r, 'c18');
    },
  },
  {
    // Not in §7. Outpost asks for UTF-8 names (Accept: escaping=allow-utf-8) and parses 3.x quoted
    // names; under the utf8 validation scheme (3.x's default) a.b is a valid name. 2.42 knows no quoting.
    title: '18b. quoted UTF-8 name {"a.b"}: Outpost (utf8 by default) ingests a.b, Prometheus 2.42 fails the scrape',
    runs,
    check(t, r) {
      if (r.sender === 'prometheus') {
        expectUp(t, r, 'c18q', 0);
        expectOnlyReportSeries(t, r, 'c18q');
      } else {
        expectUp(t, r, 'c18q', 1);
        expectValues(t, r, 'c18q', { __name__: 'a.b', job: 't' }, 1);
      }
    },
  },
  {
    // A target that serves UTF-8 names to a legacy job (it was asked for escaping=underscores):
    // 3.x parses the quoted name, then fails the scrape on lset.IsValid(legacy) (scrape/scrape.go
    // v3.14.0 line 1730). 2.42 fails it at parsing.
    title: '18c. quoted UTF-8 name under legacy names fails the scrape (Outpost legacy job, 2.42)',
    runs,
    check(t, r) {
      expectUp(t, r, 'c18l', 0);
      expectOnlyReportSeries(t, r, 'c18l');
    },
  },
  {
    title: '19. invalid UTF-8 in a label value fails the scrape; the agent keeps running',
    runs,
    check(t, r) {
      expectUp(t, r, 'c19', 0);
      expectOnlyReportSeries(t, r, 'c19');
      t.is(r.exitCode, 0, 'still running and exits cleanly');
    },
  },
  {
    // 3.x parsers normalise le to "1.0"; both 2.42 and Outpost keep it as written.
    // Prometheus 3 normalises le/quantile values (model/textparse/openmetricsparse.go v3.14.0 lines
    // 773-783): le="1" is stored as "1.0". 2.42 kept "1".
    title: '20. classic histogram: four series, le normalised to "1.0" (2.42 kept "1")',
    runs,
    check(t, r) {
      const one = r.sender === 'prometheus' ? '1' : '1.0';
      expectValues(t, r, 'c20', { __name__: 'h_bucket', le: one }, 1);
      expectValues(t, r, 'c20', { __name__: 'h_bucket', le: '+Inf' }, 2);
      expectValues(t, r, 'c20', { __name__: 'h_sum' }, 3);
      expectValues(t, r, 'c20', { __name__: 'h_count' }, 2);
      const les = new Set(of(r, 'c20', { __name__: 'h_bucket' }).map((s) => s.labels.le));
      t.deepEqual([...les].sort(), ['+Inf', one]);
      t.deepEqual(staleMarkers(of(r, 'c20'), {}).length, 0, 'no stale markers');
    },
  },
]);

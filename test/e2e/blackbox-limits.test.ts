/**
 * Black-box acceptance cases 27–29 (research/conformance.md §7, "Limits"): a breached limit fails the
 * whole scrape. One run per sender, one job per limit; checked against Outpost and Prometheus 2.42.
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
  type ScenarioRun,
} from '../helpers/compliance.ts';
import { at, defined } from '../helpers/defined.ts';

const REPORT: ReadonlySet<string> = new Set(REPORT_SERIES);

/** 50 bytes exactly. */
const BODY_50 = 'padding_metric_name_for_fifty_bytes{x="123456"} 1\n';

const runs = sharedRuns(() => ({
  name: 'limits',
  targets: {
    c27: serveText('a 1\nb 1\nc 1\n'),
    c28: serveText('a{x="1",y="2",z="3"} 1\n'),
    c29: serveText(BODY_50),
  },
  config: (env) =>
    agentConfig(env, {
      jobs: [
        job(env, 't-samples', ['c27'], { sample_limit: 2 }),
        job(env, 't-labels', ['c28'], { label_limit: 3 }),
        job(env, 't-body', ['c29'], { body_size_limit: '10B' }),
      ],
    }),
  minScrapes: 4,
}));

function report(r: ScenarioRun, target: string, name: string): number[] {
  return realSamples(at(r.samples, 0, 'r.samples'), {
    __name__: name,
    instance: defined(r.env.targets[target], `target ${target}`),
  }).map((s) => s.value);
}

function expectFailedScrapes(t: ExecutionContext, r: ScenarioRun, target: string, scraped: number): void {
  const ups = report(r, target, 'up');
  t.true(ups.length >= 3, `up samples ${ups.length}`);
  t.deepEqual(
    ups.filter((v) => v !== 0),
    [],
    'up=0',
  );
  const n = report(r, target, 'scrape_samples_scraped');
  t.is(n.length, ups.length, 'scrape_samples_scraped on every scrape');
  t.deepEqual(
    n.filter((v) => v !== scraped),
    [],
    `scrape_samples_scraped=${scraped}`,
  );
  const other = select(at(r.samples, 0, 'r.samples'), {
    instance: defined(r.env.targets[target], `target ${target}`),
  }).filter((s) => !REPORT.has(s.labels.__name__ ?? ''));
  t.deepEqual(showSamples(other), '', 'none of the scraped samples arrive');
}

registerBlackBox('limits', [
  {
    title: '0. the run exits 0 on SIGINT',
    runs,
    check: runExitsZero,
  },
  {
    title: '27. sample_limit 2 with 3 series: up=0, scrape_samples_scraped=3, nothing ingested',
    runs,
    check(t, r) {
      t.is(BODY_50.length, 50);
      expectFailedScrapes(t, r, 'c27', 3);
    },
  },
  {
    title: '28. label_limit 3 with 3 labels + job + instance: up=0',
    runs,
    check(t, r) {
      const ups = report(r, 'c28', 'up');
      t.true(ups.length >= 3, `up samples ${ups.length}`);
      t.deepEqual(
        ups.filter((v) => v !== 0),
        [],
        'up=0',
      );
      t.deepEqual(
        showSamples(
          select(at(r.samples, 0, 'r.samples'), {
            __name__: 'a',
            instance: defined(r.env.targets.c28, 'r.env.targets.c28'),
          }),
        ),
        '',
        'a never arrives',
      );
    },
  },
  {
    title: '29. body_size_limit 10B with a 50-byte body: up=0, scrape_samples_scraped=0',
    runs,
    check(t, r) {
      expectFailedScrapes(t, r, 'c29', 0);
    },
  },
]);

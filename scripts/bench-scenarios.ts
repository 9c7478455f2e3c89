/**
 * The scenarios of issue 12 and their goals. Goals compare Outpost ("ours") with the reference agents
 * measured in the same run wherever the issue states them as ratios, because CPU seconds and even RSS
 * move with the host and its load; only the absolute limits (45 MiB, 12 MiB, 3 s, 0.1 % of a core) are
 * checked as such.
 */
import type { AgentResult, Results } from './bench-results.ts';

export const SCENARIO_NAMES = ['edge', 'idle', '100k', '400k', 'otlp'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export type Verdict = 'met' | 'MISSED' | '?';

export interface GoalCheck {
  status: Verdict;
  /** The measured figure(s) behind the verdict, or why there is none. */
  figure: string;
}

export interface Goal {
  text: string;
  check: (res: Results, ourName: string) => GoalCheck;
}

export interface Scenario {
  name: ScenarioName;
  /** "harness": one run of the shared harness; "idle": scripts/bench-self-scrape.ts; "otlp": bench/otlp.ts. */
  kind: 'harness' | 'idle' | 'otlp';
  /** Harness variables of the scenario; a variable set in the environment overrides them. */
  env: Record<string, string>;
  title: string;
  goals: Goal[];
  notes: string[];
}

function agentOf(res: Results, name: string): AgentResult | undefined {
  const r = res.results.find((x) => x.agent === name);
  return r && !r.error ? r : undefined;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
const cpu1M = (v: number): string => `${v.toFixed(2)} s/1M`;
const bytesPerSeries = (v: number): string => `${v.toFixed(0)} B/series`;
const seconds = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)} s` : 'never');

/** A figure, Infinity included (catch-up "never"); undefined when missing or NaN. */
function measured(v: number | null | undefined): number | undefined {
  return v === null || v === undefined || Number.isNaN(v) ? undefined : v;
}

function missing(res: Results, name: string): string {
  const r = res.results.find((x) => x.agent === name);
  if (!r) return `${name} not in this run`;
  return r.error ? `${name} not measured: ${r.error}` : `${name}: no figure`;
}

/** ours <= limit (or < limit when strict). */
function absolute(
  text: string,
  get: (r: AgentResult) => number | null | undefined,
  limit: number,
  fmt: (v: number) => string,
  strict = false,
): Goal {
  return {
    text,
    check(res, ourName) {
      const o = agentOf(res, ourName);
      const v = o ? measured(get(o)) : undefined;
      if (v === undefined) return { status: '?', figure: missing(res, ourName) };
      const ok = strict ? v < limit : v <= limit;
      return { status: ok ? 'met' : 'MISSED', figure: `${fmt(v)} (limit ${strict ? '<' : '≤'} ${fmt(limit)})` };
    },
  };
}

/** ours / peer <= maxRatio (or < maxRatio when strict). */
function relative(
  text: string,
  peer: string,
  get: (r: AgentResult) => number | null | undefined,
  maxRatio: number,
  fmt: (v: number) => string,
  strict = false,
): Goal {
  return {
    text,
    check(res, ourName) {
      const o = agentOf(res, ourName);
      const p = agentOf(res, peer);
      const v = o ? measured(get(o)) : undefined;
      const pv = p ? measured(get(p)) : undefined;
      if (v === undefined) return { status: '?', figure: missing(res, ourName) };
      if (pv === undefined || pv <= 0) return { status: '?', figure: `${fmt(v)}; ${missing(res, peer)}` };
      const ratio = v / pv;
      const ok = strict ? ratio < maxRatio : ratio <= maxRatio;
      // Two decimals unless they would round a miss onto the limit (1.004x "≤ 1.0x").
      const shown = !Number.isFinite(ratio)
        ? '-'
        : ratio.toFixed(2) === maxRatio.toFixed(2)
          ? ratio.toFixed(3)
          : ratio.toFixed(2);
      return {
        status: ok ? 'met' : 'MISSED',
        figure: `${fmt(v)} vs ${peer} ${fmt(pv)} = ${shown}x (limit ${strict ? '<' : '≤'} ${maxRatio.toFixed(1)}x)`,
      };
    },
  };
}

/** Goals about the outage can only be checked when the run had one. */
function outageOnly(g: Goal): Goal {
  return {
    text: g.text,
    check: (res, ourName) =>
      res.config.outage > 0 ? g.check(res, ourName) : { status: '?', figure: 'OUTAGE=0: not measured' },
  };
}

/** Infinity when the agent never caught up (the harness writes null). */
const catchupS = (r: AgentResult): number => r.catchup_s ?? Infinity;

const catchupVsVmagent = outageOnly(relative("catch-up after the outage ≤ vmagent's", 'vmagent', catchupS, 1, seconds));
const catchupUnder3s = outageOnly(absolute('catch-up after the outage < 3 s', catchupS, 3, seconds, true));

const noLossNoDup = outageOnly({
  text: '0 samples lost, 0 duplicated',
  check(res, ourName) {
    const o = agentOf(res, ourName);
    if (!o || o.samples_lost === undefined) return { status: '?', figure: missing(res, ourName) };
    const extra = o.samples_extra ?? 0;
    return {
      status: o.samples_lost === 0 && extra === 0 ? 'met' : 'MISSED',
      figure: `lost ${o.samples_lost}, duplicated ${extra}`,
    };
  },
});

/**
 * The harness compares consecutive raw `up` timestamps of the first 5 targets over the window with the
 * interval; a skipped scrape leaves a gap of two intervals, a deviation of one whole interval.
 */
const scrapesOnTime: Goal = {
  text: 'every scrape on time: `up` timestamps deviate ≤ 10 % of the interval',
  check(res, ourName) {
    const o = agentOf(res, ourName);
    const d = o?.ts_deltas;
    if (!o || !d || !Number.isFinite(d.max_abs_dev_ms))
      return { status: '?', figure: o ? 'no timestamp check in the results' : missing(res, ourName) };
    const iv = res.config.interval * 1000;
    const limit = 0.1 * iv;
    const skipped = d.max_abs_dev_ms >= 0.9 * iv ? ', a whole interval: a skipped scrape' : '';
    return {
      status: d.max_abs_dev_ms <= limit ? 'met' : 'MISSED',
      figure: `max deviation ${d.max_abs_dev_ms} ms over ${d.n} intervals, ${d.exact} exact${skipped} (limit ${limit} ms)`,
    };
  },
};

const rssAvg = (r: AgentResult): number | undefined => r.rss_avg;
const cpuPerSample = (r: AgentResult): number | undefined => r.cpu_s_per_1M;

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  edge: {
    name: 'edge',
    kind: 'harness',
    env: { T: '2', S: '500', SCRAPE_INTERVAL: '10s', OUTAGE: '0' },
    title: 'edge: T=2 S=500 every 10 s, no outage (~1k series)',
    goals: [
      absolute('average RSS ≤ 45 MiB', rssAvg, 45 * 2 ** 20, mib),
      relative("average RSS below Prometheus' agent's", 'prometheus', rssAvg, 1, mib, true),
      absolute('anonymous memory (RssAnon avg) ≤ 12 MiB', (r) => r.rss_anon_avg, 12 * 2 ** 20, mib),
      relative("CPU per sample ≤ 2× vmagent's", 'vmagent', cpuPerSample, 2, cpu1M),
    ],
    notes: [],
  },
  idle: {
    name: 'idle',
    kind: 'idle',
    env: {},
    title: 'idle: each agent scrapes only itself every 15 s, headless',
    goals: [
      absolute(
        'scraping only itself every 15 s: ≤ 0.1 % of one core',
        (r) => r.cpu_pct,
        0.1,
        (v) => `${v.toFixed(3)} %`,
      ),
    ],
    notes: [],
  },
  '100k': {
    name: '100k',
    kind: 'harness',
    env: { T: '50', S: '2000', SCRAPE_INTERVAL: '10s', OUTAGE: '60' },
    title: '100k: T=50 S=2000 every 10 s, 60 s receiver outage (~100k series)',
    goals: [
      relative("CPU per sample ≤ 1.0× vmagent's", 'vmagent', cpuPerSample, 1, cpu1M),
      relative("average RSS ≤ 1.3× vmagent's", 'vmagent', rssAvg, 1.3, mib),
      catchupVsVmagent,
      catchupUnder3s,
      noLossNoDup,
    ],
    notes: [],
  },
  '400k': {
    name: '400k',
    kind: 'harness',
    env: { T: '200', S: '2000', SCRAPE_INTERVAL: '10s', OUTAGE: '0' },
    title: '400k: T=200 S=2000 every 10 s, no outage (~400k series)',
    goals: [
      relative("RSS per series ≤ vmagent's", 'vmagent', (r) => r.rss_bytes_per_series, 1, bytesPerSeries),
      relative("CPU per sample ≤ vmagent's", 'vmagent', cpuPerSample, 1, cpu1M),
      scrapesOnTime,
    ],
    notes: ['OUTAGE=0 at 400k keeps the run length sane: catch-up and loss are measured in the 100k scenario only.'],
  },
  otlp: {
    name: 'otlp',
    kind: 'otlp',
    env: {},
    title: 'otlp: points per second through the OTLP receiver (issue 18), Outpost only',
    goals: [
      absolute(
        'no point rejected while clients push in order',
        (r) => r.otlp_points_rejected,
        0,
        (v) => String(v),
      ),
    ],
    notes: [
      'Prometheus 2.42 has no OTLP receiver and vmagent 1.79 predates its OpenTelemetry endpoint: no peers to compare.',
    ],
  },
};

export function isScenarioName(s: string): s is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(s);
}

/** BENCH_SCENARIOS=edge,idle,100k,400k (the default, in this order). */
export function selectScenarios(spec: string | undefined): Scenario[] {
  if (!spec || spec.trim() === '') return SCENARIO_NAMES.map((n) => SCENARIOS[n]);
  const names = spec.split(/[\s,]+/).filter(Boolean);
  const bad = names.filter((n) => !isScenarioName(n));
  if (bad.length > 0)
    throw new Error(`BENCH_SCENARIOS: unknown scenario ${bad.join(', ')} (known: ${SCENARIO_NAMES.join(', ')})`);
  return [...new Set(names)].map((n) => SCENARIOS[n as ScenarioName]);
}

/** The scenario a results file belongs to: by its directory name, else by its shape. */
export function scenarioOf(res: Results, dirName: string): Scenario | undefined {
  if (isScenarioName(dirName)) return SCENARIOS[dirName];
  if (res.config.kind === 'idle') return SCENARIOS.idle;
  if (res.config.kind === 'otlp') return SCENARIOS.otlp;
  return Object.values(SCENARIOS).find(
    (s) =>
      s.kind === 'harness' &&
      Number(s.env.T) === res.config.T &&
      Number(s.env.S) === res.config.S &&
      parseFloat(s.env.SCRAPE_INTERVAL!) === res.config.interval,
  );
}

/** Where a run's shape differs from the scenario's own (an explicitly set T, S, … overrode it). */
export function shapeDeviation(s: Scenario, res: Results): string | null {
  if (s.kind !== 'harness') return null;
  const c = res.config;
  const want = {
    T: Number(s.env.T),
    S: Number(s.env.S),
    interval: parseFloat(s.env.SCRAPE_INTERVAL!),
    outage: Number(s.env.OUTAGE),
  };
  const got = { T: c.T, S: c.S, interval: c.interval, outage: c.outage };
  const diff = (Object.keys(want) as (keyof typeof want)[])
    .filter((k) => want[k] !== got[k])
    .map((k) => `${k}=${got[k]} (scenario: ${want[k]})`);
  return diff.length
    ? `this run's shape differs from the scenario's: ${diff.join(', ')}; the goals are stated for the scenario's shape`
    : null;
}

export function evaluateGoals(
  s: Scenario,
  res: Results,
  ourName: string,
): { goal: string; status: Verdict; figure: string }[] {
  return s.goals.map((g) => ({ goal: g.text, ...g.check(res, ourName) }));
}

/**
 * Text and JSON of `npm run bench`: one table per scenario (every agent's figures, ours/peer ratios), the
 * scenario's goals with met/MISSED and the figure, then one combined table over all scenarios; the same
 * content goes to summary.md and, as data, to summary.json in the parent run directory.
 */
import os from 'node:os';
import { type AgentResult, FLOOR_NAME, finite, mibOf, type Results, type RunConfig } from './bench-results.ts';
import { evaluateGoals, type Scenario, shapeDeviation, type Verdict } from './bench-scenarios.ts';

/** One scenario as run (or re-read): its results, or why there are none. */
export interface ScenarioOutcome {
  name: string;
  scenario: Scenario | undefined;
  runDir: string;
  res?: Results;
  error?: string;
}

/** Finds reference results of the same shape measured on the host the old absolute goals were set on. */
export type BaselineLookup = (c: RunConfig) => Results | null;

interface Metric {
  label: string;
  /** Short label for the combined table; metrics without one stay out of it. */
  short?: string;
  get: (r: AgentResult, c: RunConfig) => number | null | undefined;
  fmt: (v: number) => string;
  /** Ratios are meaningless for counts that are usually zero. */
  ratio: boolean;
}

const mib1 = (v: number): string => v.toFixed(1);

const MEMORY: Metric[] = [
  { label: 'RSS MiB avg', short: 'RSS MiB avg', get: (r) => mibOf(r.rss_avg), fmt: mib1, ratio: true },
  { label: 'PSS MiB (window end)', short: 'PSS MiB', get: (r) => mibOf(r.pss_end_window), fmt: mib1, ratio: true },
  { label: 'anon MiB avg (RssAnon)', short: 'anon MiB avg', get: (r) => mibOf(r.rss_anon_avg), fmt: mib1, ratio: true },
  { label: 'RSS MiB peak', get: (r) => mibOf(r.rss_peak), fmt: mib1, ratio: true },
];

const HARNESS_METRICS: Metric[] = [
  ...MEMORY,
  { label: 'RSS B / series (avg)', get: (r) => r.rss_bytes_per_series, fmt: (v) => v.toFixed(0), ratio: true },
  {
    label: 'CPU s / 1M samples',
    short: 'CPU s / 1M samples',
    get: (r) => r.cpu_s_per_1M,
    fmt: (v) => v.toFixed(2),
    ratio: true,
  },
  { label: 'CPU % of a core', get: (r) => r.cpu_pct, fmt: (v) => v.toFixed(2), ratio: true },
  {
    label: 'catch-up s',
    get: (r, c) => (c.outage > 0 ? (r.catchup_s ?? Infinity) : undefined),
    fmt: (v) => (Number.isFinite(v) ? v.toFixed(1) : 'never'),
    ratio: true,
  },
  {
    label: 'samples lost',
    get: (r, c) => (c.outage > 0 ? r.samples_lost : undefined),
    fmt: (v) => String(v),
    ratio: false,
  },
  {
    label: 'samples extra (dups)',
    get: (r, c) => (c.outage > 0 ? r.samples_extra : undefined),
    fmt: (v) => String(v),
    ratio: false,
  },
  {
    label: 'up timestamps: max deviation ms',
    get: (r) => r.ts_deltas?.max_abs_dev_ms,
    fmt: (v) => String(v),
    ratio: false,
  },
  {
    label: 'delivered / expected %',
    get: (r) =>
      r.delivered !== undefined && r.expected_incl_auto ? (100 * r.delivered) / r.expected_incl_auto : undefined,
    fmt: (v) => v.toFixed(1),
    ratio: false,
  },
  { label: 'samples/s', get: (r) => r.samples_per_s, fmt: (v) => v.toFixed(0), ratio: false },
  // No ratio: vmagent keeps ~57 B on disk in steady state, so any ratio against it is noise.
  { label: 'WAL/buffer MiB (window end)', get: (r) => mibOf(r.disk_end_window), fmt: mib1, ratio: false },
];

const IDLE_METRICS: Metric[] = [
  ...MEMORY,
  { label: 'CPU % of a core', short: 'CPU % of a core', get: (r) => r.cpu_pct, fmt: (v) => v.toFixed(3), ratio: true },
  { label: 'remote-write requests (window)', get: (r) => r.sink_requests, fmt: (v) => String(v), ratio: false },
];

const OTLP_METRICS: Metric[] = [
  ...MEMORY,
  {
    label: 'OTLP points/s accepted',
    short: 'OTLP points/s',
    get: (r) => r.otlp_points_per_s,
    fmt: (v) => v.toFixed(0),
    ratio: true,
  },
  { label: 'CPU s / 1M points', get: (r) => r.cpu_s_per_1M, fmt: (v) => v.toFixed(2), ratio: true },
  { label: 'CPU % of a core', get: (r) => r.cpu_pct, fmt: (v) => v.toFixed(1), ratio: true },
  { label: 'points rejected (window)', get: (r) => r.otlp_points_rejected, fmt: (v) => String(v), ratio: false },
  { label: 'remote-write requests (window)', get: (r) => r.sink_requests, fmt: (v) => String(v), ratio: false },
];

const metricsOf = (c: RunConfig): Metric[] =>
  c.kind === 'idle' ? IDLE_METRICS : c.kind === 'otlp' ? OTLP_METRICS : HARNESS_METRICS;

function cellOf(m: Metric, r: AgentResult | undefined, c: RunConfig): number | undefined {
  if (!r || r.error) return undefined;
  const v = m.get(r, c);
  return v === null || v === undefined || Number.isNaN(v) ? undefined : v;
}

function ratioOf(ours: number | undefined, ref: number | undefined): number | undefined {
  if (ours === undefined || ref === undefined || !Number.isFinite(ours) || !Number.isFinite(ref)) return undefined;
  if (ref === 0) return ours === 0 ? 1 : undefined;
  return ours / ref;
}

function ratioText(ours: number | undefined, ref: number | undefined): string {
  const r = ratioOf(ours, ref);
  return r === undefined ? '' : ` (${r.toFixed(2)}x)`;
}

export function renderTable(rows: string[][]): string {
  const [header, ...body] = rows;
  if (header === undefined) throw new Error('renderTable: a table needs a header row');
  const widths: number[] = [];
  for (const r of rows) for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n');
}

function peersOf(res: Results, ourName: string): AgentResult[] {
  return res.results.filter((r) => r.agent !== ourName);
}

/** Rows whose figures mean another process shared the targets, or the agent fell behind. */
function warnings(res: Results): string[] {
  const out: string[] = [];
  for (const r of res.results) if (r.error) out.push(`!! ${r.agent} was not measured: ${r.error}`);
  for (const r of res.results) {
    if (r.error) continue;
    if (res.config.kind === 'idle') {
      if (r.agent !== FLOOR_NAME && r.sink_requests === 0 && res.config.window >= 2 * res.config.interval) {
        out.push(
          `!! ${r.agent}: no remote-write request reached the sink during the window: it did not scrape itself or did not send (see agent-${r.agent}.log)`,
        );
      }
      continue;
    }
    if (r.auto_series_per_target === 0) {
      out.push(
        `!! ${r.agent}: the harness found no up/scrape_* series in the receiver after the warm-up (WARMUP too short?): expected, delivered % and lost are off`,
      );
    }
    if (r.scrapes !== undefined && r.window_s) {
      // The agent makes about T scrapes per interval; the targets count every request from anyone.
      const own = (res.config.T * r.window_s) / res.config.interval;
      if (r.scrapes > 1.2 * own + res.config.T) {
        out.push(
          `!! ${r.agent}: the targets answered ${r.scrapes} scrapes during the window, the agent makes ~${Math.round(own)}: another process scraped the targets' ports (see bench/README.md, "Reading the numbers"); served, expected and lost are off`,
        );
      }
    }
    if (r.delivered === undefined || !r.expected_incl_auto) continue;
    const f = r.delivered / r.expected_incl_auto;
    // Window edges move this by a few tenths of a percent; far more means a second writer or scraper.
    if (f > 1.03 || (r.samples_extra ?? 0) > 0) {
      out.push(
        `!! ${r.agent}: delivered ${(100 * f).toFixed(1)}% of expected, ${r.samples_extra ?? 0} extra samples: another process probably used the same targets or receiver during its run; do not trust this row`,
      );
    } else if (f < 0.97) {
      out.push(
        `!! ${r.agent}: delivered only ${(100 * f).toFixed(1)}% of what its targets served during the window: it fell behind (see agent-${r.agent}.log and timeseries-${r.agent}.csv in the run directory), ` +
          `or another process scraped the targets' ports (every scrape counts as served)`,
      );
    }
  }
  return out;
}

/**
 * CPU seconds depend on the host and on whatever else runs on it, so the reference agents of this run
 * serve as a yardstick: ours x (reference on the baseline host / reference now) is what ours would
 * have measured on the baseline host.
 */
function scaledCpu(res: Results, ourName: string, baselineOf: BaselineLookup): string[] {
  if (res.config.kind === 'idle') return [];
  const base = baselineOf(res.config);
  const ours = res.results.find((r) => r.agent === ourName);
  if (!base || !ours || ours.error || ours.cpu_s_per_1M === undefined) return [];
  const lines: string[] = [];
  for (const r of peersOf(res, ourName)) {
    const b = base.results.find((x) => x.agent === r.agent);
    if (!b || r.error || !r.cpu_s_per_1M || !b.cpu_s_per_1M) continue;
    const scale = b.cpu_s_per_1M / r.cpu_s_per_1M;
    lines.push(
      `CPU scaled through ${r.agent}: it took ${r.cpu_s_per_1M.toFixed(2)} s/1M here and ${b.cpu_s_per_1M.toFixed(2)} on the baseline host (x${scale.toFixed(2)}), ` +
        `so ours ~ ${(ours.cpu_s_per_1M * scale).toFixed(2)} s/1M there`,
    );
  }
  return lines;
}

function configLine(name: string, c: RunConfig): string {
  if (c.kind === 'idle')
    return `${name}: each agent scrapes only itself every ${c.interval}s, headless; warm-up ${c.warmup}s, window ${c.window}s (${c.runDir})`;
  if (c.kind === 'otlp')
    return `${name}: ${c.T} OTLP clients pushing ${c.S}-point protobuf requests back to back; warm-up ${c.warmup}s, window ${c.window}s (${c.runDir})`;
  return `${name}: T=${c.T} S=${c.S} every ${c.interval}s, warm-up ${c.warmup}s, window ${c.window}s, outage ${c.outage}s (${c.runDir})`;
}

export interface GoalResult {
  goal: string;
  status: Verdict;
  figure: string;
}

export function goalsOf(o: ScenarioOutcome, ourName: string): GoalResult[] {
  if (!o.scenario) return [];
  if (!o.res) return o.scenario.goals.map((g) => ({ goal: g.text, status: '?', figure: o.error ?? 'no results' }));
  return evaluateGoals(o.scenario, o.res, ourName);
}

/** The per-scenario section: table, goals, notes. */
export function scenarioText(o: ScenarioOutcome, ourName: string, baselineOf: BaselineLookup): string {
  const out: string[] = [`## ${o.scenario?.title ?? o.name}`, ''];
  if (!o.res) {
    out.push(`!! no results: ${o.error ?? 'unknown error'} (${o.runDir})`);
    return out.join('\n');
  }
  const res = o.res;
  const c = res.config;
  out.push(configLine(o.name, c));
  out.push(...warnings(res));
  const ours = res.results.find((r) => r.agent === ourName);
  if (!ours) out.push(`(no "${ourName}" result in this run: showing the reference agents only)`);
  const peers = peersOf(res, ourName);
  const rows: string[][] = [['metric', ourName, ...peers.map((r) => `${r.agent} (${ourName}/${r.agent})`)]];
  for (const m of metricsOf(c)) {
    const v = cellOf(m, ours, c);
    const row = [m.label, v === undefined ? '-' : m.fmt(v)];
    for (const p of peers) {
      const pv = cellOf(m, p, c);
      row.push(pv === undefined ? '-' : m.fmt(pv) + (m.ratio ? ratioText(v, pv) : ''));
    }
    if (row.slice(1).some((x) => x !== '-')) rows.push(row);
  }
  out.push('', renderTable(rows), '');
  const goals = goalsOf(o, ourName);
  if (goals.length > 0) {
    out.push('Goals (issue 12):');
    for (const g of goals) out.push(`  ${g.status.padEnd(6)} ${g.goal}: ${g.figure}`);
  } else {
    out.push('(no issue-12 scenario has this shape: no goals checked)');
  }
  out.push(...scaledCpu(res, ourName, baselineOf));
  const dev = o.scenario ? shapeDeviation(o.scenario, res) : null;
  if (dev) out.push(`note: ${dev}.`);
  for (const n of o.scenario?.notes ?? []) out.push(`note: ${n}`);
  if (c.kind === undefined && c.outage === 0 && !o.scenario?.notes.length)
    out.push('note: OUTAGE=0, so catch-up and loss were not measured.');
  const side = res.results
    .filter((r) => !r.error && r.targets_cpu_pct !== undefined)
    .map(
      (r) =>
        `${r.agent}: targets ${r.targets_cpu_pct?.toFixed(1)}% / victoria-metrics ${r.vm_cpu_pct?.toFixed(1)}% CPU`,
    );
  if (side.length) out.push(`side load during each window (not counted in the agent's CPU): ${side.join('; ')}`);
  return out.join('\n');
}

/** The combined table (memory and CPU of every scenario side by side) and the combined goal list. */
export function combinedText(outcomes: ScenarioOutcome[], ourName: string): string {
  const peers: string[] = [];
  for (const o of outcomes)
    for (const r of o.res ? peersOf(o.res, ourName) : []) if (!peers.includes(r.agent)) peers.push(r.agent);
  const rows: string[][] = [['scenario', 'metric', ourName, ...peers.map((p) => `${p} (${ourName}/${p})`)]];
  for (const o of outcomes) {
    if (!o.res) {
      rows.push([o.name, `no results: ${o.error ?? '?'}`, '', ...peers.map(() => '')]);
      continue;
    }
    const c = o.res.config;
    const ours = o.res.results.find((r) => r.agent === ourName);
    for (const m of metricsOf(c).filter((x) => x.short)) {
      const v = cellOf(m, ours, c);
      const row = [o.name, m.short!, v === undefined ? '-' : m.fmt(v)];
      for (const p of peers) {
        const pv = cellOf(
          m,
          o.res.results.find((r) => r.agent === p),
          c,
        );
        row.push(pv === undefined ? '-' : m.fmt(pv) + ratioText(v, pv));
      }
      rows.push(row);
    }
  }
  const goals: string[][] = [['scenario', 'goal', 'verdict', 'figure']];
  for (const o of outcomes) for (const g of goalsOf(o, ourName)) goals.push([o.name, g.goal, g.status, g.figure]);
  const out = ['## All scenarios', '', renderTable(rows)];
  if (goals.length > 1) out.push('', renderTable(goals));
  return out.join('\n');
}

/** summary.json: the figures, ratios and verdicts, per scenario. */
export function summaryJson(
  parentDir: string,
  outcomes: ScenarioOutcome[],
  ourName: string,
  loadAtEnd: string | undefined,
): unknown {
  const pick = (r: AgentResult) => ({
    agent: r.agent,
    ...(r.error ? { error: r.error } : {}),
    rss_avg: finite(r.rss_avg),
    pss_end_window: finite(r.pss_end_window),
    rss_anon_avg: finite(r.rss_anon_avg),
    rss_peak: finite(r.rss_peak),
    rss_bytes_per_series: finite(r.rss_bytes_per_series),
    cpu_s_per_1M: finite(r.cpu_s_per_1M),
    cpu_pct: finite(r.cpu_pct),
    catchup_s: r.catchup_s,
    samples_lost: r.samples_lost,
    samples_extra: r.samples_extra,
    ts_max_abs_dev_ms: r.ts_deltas?.max_abs_dev_ms,
    sink_requests: r.sink_requests,
  });
  const RATIO_KEYS = [
    'rss_avg',
    'pss_end_window',
    'rss_anon_avg',
    'rss_bytes_per_series',
    'cpu_s_per_1M',
    'cpu_pct',
  ] as const;
  return {
    run_dir: parentDir,
    written: new Date().toISOString(),
    host: `${os.availableParallelism()} cores, ${os.release()}`,
    load_average_end: loadAtEnd,
    ours: ourName,
    scenarios: outcomes.map((o) => {
      const ours = o.res?.results.find((r) => r.agent === ourName && !r.error);
      const ratios: Record<string, Record<string, number | undefined>> = {};
      for (const p of o.res ? peersOf(o.res, ourName) : []) {
        if (!ours || p.error) continue;
        ratios[p.agent] = Object.fromEntries(RATIO_KEYS.map((k) => [k, ratioOf(finite(ours[k]), finite(p[k]))]));
      }
      return {
        name: o.name,
        title: o.scenario?.title,
        run_dir: o.runDir,
        ...(o.error ? { error: o.error } : {}),
        config: o.res?.config,
        agents: o.res?.results.map(pick) ?? [],
        ratios,
        goals: goalsOf(o, ourName),
      };
    }),
  };
}

/**
 * Side-by-side benchmark of Outpost against Prometheus' agent and vmagent: `npm run bench`.
 *
 * Runs the shared harness (../shared/bench/run.sh next to the repo, or BENCH_HARNESS) with AGENT_CMD_OURS set to
 * dist/outpost.mjs under the project's Node, then reads the harness' results.json and prints Outpost's numbers as
 * ratios against every reference agent measured in the same run, and against the goals.
 *
 *   npm run bench                                   # T=50 S=2000 every 10s, prometheus + vmagent + ours
 *   AGENTS=ours WINDOW=60 OUTAGE=0 npm run bench    # quick wiring check
 *   BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' AGENTS=ours npm run bench
 *   npm run bench -- --summary=/tmp/bench-run-X/results.json   # re-print the comparison of an earlier run
 *
 * Every harness variable (T, S, SCRAPE_INTERVAL, WARMUP, WINDOW, OUTAGE, CATCHUP_MAX, AGENTS, RUN_DIR, ports,
 * AGENT_*_<NAME>) passes through unchanged. Own variables:
 *   BENCH_HARNESS     path of run.sh (or of the directory holding it)
 *   BENCH_BUILD       1: always rebuild, 0: never; unset: rebuild when dist/outpost.mjs is older than src/ or tui/
 *   BENCH_NODE        node binary for Outpost (default: node_modules/.bin/node, else the running node)
 *   BENCH_NODE_FLAGS  flags placed between node and the bundle (profiling)
 *   BENCH_BASELINE_DIR  results of the reference agents on the host the goals were set on (default: the harness'
 *                     baseline/ directory); used to scale CPU numbers between hosts
 *   BENCH_BUNDLE      another bundle to run instead of dist/outpost.mjs (e.g. an unminified build); never rebuilt
 *   AGENT_CMD_OURS    when set, used as is instead of the generated command
 *
 * Exit status: the harness' own status; 1 when results.json is missing; 2 when an agent could not be measured
 * (it crashed or never became ready). A missed goal never changes the exit status.
 */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const env = process.env;

/** Goals at 50 targets x 2000 series every 10 s (bench/README.md). */
const GOALS = { cpuPer1M: 0.8, rssPerSeries: 600, catchupS: 3, lost: 0 } as const;
const GOAL_SHAPE = { T: 50, S: 2000, interval: 10, outage: 60 } as const;

/** Prometheus' metric names, which Outpost copies: the harness reports their growth over the window. */
const OUR_COUNTERS = [
  'prometheus_agent_samples_appended_total',
  'prometheus_remote_storage_samples_total',
  'prometheus_remote_storage_samples_retried_total',
  'prometheus_remote_storage_samples_failed_total',
  'prometheus_remote_storage_samples_dropped_total',
  'prometheus_remote_storage_bytes_total',
].join(',');

interface AgentResult {
  agent: string;
  error?: string;
  samples_per_s?: number;
  delivered?: number;
  expected_incl_auto?: number;
  cpu_pct?: number;
  cpu_s_per_1M?: number;
  rss_avg?: number;
  rss_peak?: number;
  rss_bytes_per_series?: number;
  disk_end_window?: number;
  catchup_s?: number | null;
  samples_lost?: number;
  samples_extra?: number;
  rss_peak_outage?: number;
  disk_growth_outage?: number;
  targets_cpu_pct?: number;
  vm_cpu_pct?: number;
}

interface HarnessConfig {
  T: number;
  S: number;
  interval: number;
  window: number;
  outage: number;
  catchupMax: number;
  runDir: string;
}

interface Results {
  config: HarnessConfig;
  results: AgentResult[];
}

function newestMtime(dir: string): number {
  let newest = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  if (existsSync(dir)) walk(dir);
  return newest;
}

function ensureBuilt(bundle: string, node: string): void {
  const mode = env.BENCH_BUILD;
  let stale: boolean;
  if (mode === '1') stale = true;
  else if (mode === '0') stale = false;
  else {
    const built = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
    const sources = Math.max(
      newestMtime(path.join(root, 'src')),
      newestMtime(path.join(root, 'tui')),
      statSync(path.join(root, 'package.json')).mtimeMs,
    );
    stale = built < sources;
  }
  if (!stale) {
    if (!existsSync(bundle)) throw new Error(`${bundle} does not exist and BENCH_BUILD=0`);
    return;
  }
  console.log('bench: building dist/outpost.mjs');
  const r = spawnSync(node, [path.join(root, 'scripts/build.ts')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`build failed (status ${r.status ?? r.signal})`);
}

function locateHarness(): string {
  const given = env.BENCH_HARNESS;
  const p = given ? path.resolve(given) : path.resolve(root, '..', 'shared', 'bench', 'run.sh');
  const script = existsSync(p) && statSync(p).isDirectory() ? path.join(p, 'run.sh') : p;
  if (!existsSync(script)) throw new Error(`harness not found at ${script} (set BENCH_HARNESS)`);
  return script;
}

function projectNode(): string {
  const given = env.BENCH_NODE;
  if (given) return given;
  const local = path.join(root, 'node_modules', '.bin', 'node');
  return existsSync(local) ? realpathSync(local) : process.execPath;
}

/** Single-quotes for bash: the harness runs the command as `bash -c "exec …"`. */
function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Resolves true when nothing listens on 127.0.0.1:port (we could bind it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * The harness uses fixed ports and trusts whatever answers there: a second run started meanwhile
 * cannot bind its receiver and targets, so its agent scrapes our targets and writes into our
 * receiver, and both runs report garbage (extra samples, "lost" samples). Refuse to start instead.
 */
async function busyPorts(e: NodeJS.ProcessEnv): Promise<number[]> {
  const n = (k: string, d: number): number => (e[k] ? Number(e[k]) : d);
  const base = n('BASE_PORT', 20000);
  const ports = [n('VM_PORT', 8428), n('CTRL_PORT', 19999)];
  for (let i = 0; i < n('T', 50); i++) ports.push(base + i);
  const agents = (e.AGENTS ?? 'prometheus vmagent ours').split(/[\s,]+/).filter(Boolean);
  const builtin: Record<string, number> = { prometheus: 9090, vmagent: 8429 };
  for (const [i, a] of agents.entries())
    ports.push(n(`AGENT_PORT_${a.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`, builtin[a] ?? 9300 + i));
  const busy: number[] = [];
  for (const p of ports) if (!(await portFree(p))) busy.push(p);
  return busy;
}

function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
}

function runHarness(script: string, childEnv: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(script, [], { stdio: 'inherit', env: childEnv });
    // The harness stops what it started on SIGINT/SIGTERM; pass ours on so it gets the chance.
    const forward = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, sig) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (sig ? 128 : 1));
    });
    child.on('error', (e) => {
      console.error(`bench: cannot start harness: ${e.message}`);
      resolve(1);
    });
  });
}

// ---- summary -----------------------------------------------------------------------------------

interface Metric {
  label: string;
  get: (r: AgentResult, c: HarnessConfig) => number | null | undefined;
  fmt: (v: number) => string;
  goal?: number;
  /** Ratios are meaningless for counts that are usually zero. */
  ratio: boolean;
}

const METRICS: Metric[] = [
  {
    label: 'CPU s / 1M samples',
    get: (r) => r.cpu_s_per_1M,
    fmt: (v) => v.toFixed(2),
    goal: GOALS.cpuPer1M,
    ratio: true,
  },
  {
    label: 'RSS B / series (avg)',
    get: (r) => r.rss_bytes_per_series,
    fmt: (v) => v.toFixed(0),
    goal: GOALS.rssPerSeries,
    ratio: true,
  },
  { label: 'RSS MiB avg', get: (r) => mibOf(r.rss_avg), fmt: (v) => v.toFixed(1), ratio: true },
  { label: 'RSS MiB peak', get: (r) => mibOf(r.rss_peak), fmt: (v) => v.toFixed(1), ratio: true },
  {
    label: 'catch-up s',
    get: (r, c) => (c.outage > 0 ? (r.catchup_s ?? Infinity) : undefined),
    fmt: (v) => (Number.isFinite(v) ? v.toFixed(1) : 'never'),
    goal: GOALS.catchupS,
    ratio: true,
  },
  {
    label: 'samples lost',
    get: (r, c) => (c.outage > 0 ? r.samples_lost : undefined),
    fmt: (v) => String(v),
    goal: GOALS.lost,
    ratio: false,
  },
  {
    label: 'samples extra (dups)',
    get: (r, c) => (c.outage > 0 ? r.samples_extra : undefined),
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
  {
    label: 'WAL/buffer MiB (window end)',
    get: (r) => mibOf(r.disk_end_window),
    fmt: (v) => v.toFixed(1),
    ratio: false,
  },
];

function mibOf(b: number | undefined): number | undefined {
  return b === undefined ? undefined : b / 2 ** 20;
}

function cellOf(m: Metric, r: AgentResult | undefined, c: HarnessConfig): number | undefined {
  if (!r || r.error) return undefined;
  const v = m.get(r, c);
  return v === null || v === undefined || Number.isNaN(v) ? undefined : v;
}

function ratioText(ours: number | undefined, ref: number | undefined): string {
  if (ours === undefined || ref === undefined) return '';
  if (!Number.isFinite(ours) || !Number.isFinite(ref)) return '';
  if (ref === 0) return ours === 0 ? ' (1.00x)' : '';
  return ` (${(ours / ref).toFixed(2)}x)`;
}

function renderTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(rows[0]), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(line)].join(
    '\n',
  );
}

/**
 * The harness' baseline results (measured on a quieter host) with the same T, S and interval, if any:
 * bench/README.md explains why CPU is compared through them.
 */
function findBaseline(harness: string, c: HarnessConfig): Results | null {
  const dir = env.BENCH_BASELINE_DIR ?? path.join(path.dirname(harness), 'baseline');
  if (!existsSync(dir)) return null;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      const b = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Results;
      if (b.config.T === c.T && b.config.S === c.S && b.config.interval === c.interval) return b;
    } catch {
      // Not a results file.
    }
  }
  return null;
}

let baselineOf: (c: HarnessConfig) => Results | null = () => null;

/**
 * CPU seconds depend on the host and on whatever else runs on it, so the reference agents of this run
 * serve as a yardstick: ours x (reference on the baseline host / reference now) is what ours would
 * have measured on the baseline host, the host the goals were set on.
 */
function normalized(res: Results, ours: AgentResult | undefined, refs: AgentResult[]): string[] {
  const base = baselineOf(res.config);
  if (!base || !ours || ours.error || ours.cpu_s_per_1M === undefined) return [];
  const lines: string[] = [];
  for (const r of refs) {
    const b = base.results.find((x) => x.agent === r.agent);
    if (!b || r.error || !r.cpu_s_per_1M || !b.cpu_s_per_1M) continue;
    const scale = b.cpu_s_per_1M / r.cpu_s_per_1M;
    const est = ours.cpu_s_per_1M * scale;
    lines.push(
      `CPU scaled through ${r.agent}: it took ${r.cpu_s_per_1M.toFixed(2)} s/1M here and ${b.cpu_s_per_1M.toFixed(2)} on the baseline host (x${scale.toFixed(2)}), ` +
        `so ours ~ ${est.toFixed(2)} s/1M there (goal <= ${GOALS.cpuPer1M}: ${est <= GOALS.cpuPer1M ? 'met' : 'missed'})`,
    );
  }
  return lines;
}

function summarize(res: Results, ourName: string, loadAtEnd?: string): string {
  const c = res.config;
  const ours = res.results.find((r) => r.agent === ourName);
  const refs = res.results.filter((r) => r.agent !== ourName);
  const out: string[] = [];
  out.push(
    `Outpost vs reference agents, T=${c.T} S=${c.S} every ${c.interval}s, window ${c.window}s, outage ${c.outage}s (${c.runDir})`,
  );
  for (const r of res.results) if (r.error) out.push(`!! ${r.agent} was not measured: ${r.error}`);
  for (const r of res.results) {
    if (r.error || r.delivered === undefined || !r.expected_incl_auto) continue;
    const f = r.delivered / r.expected_incl_auto;
    // Window edges move this by a few tenths of a percent; far more means a second writer or scraper.
    if (f > 1.03 || (r.samples_extra ?? 0) > 0) {
      out.push(
        `!! ${r.agent}: delivered ${(100 * f).toFixed(1)}% of expected, ${r.samples_extra ?? 0} extra samples: another process probably used the same targets or receiver during its run; do not trust this row`,
      );
    } else if (f < 0.97) {
      out.push(
        `!! ${r.agent}: delivered only ${(100 * f).toFixed(1)}% of what its targets served during the window: it fell behind (see agent-${r.agent}.log and timeseries-${r.agent}.csv in the run directory)`,
      );
    }
  }
  if (!ours) {
    out.push(`(no "${ourName}" result in this run: showing the reference agents only)`);
  }
  const header = [
    'metric',
    ourName,
    ...refs.map((r) => `${r.agent} (${ourName}/${r.agent})`),
    'goal',
    ourName + ' vs goal',
  ];
  const rows: string[][] = [header];
  for (const m of METRICS) {
    const o = cellOf(m, ours, c);
    const row = [m.label, o === undefined ? '-' : m.fmt(o)];
    for (const r of refs) {
      const v = cellOf(m, r, c);
      row.push(v === undefined ? '-' : m.fmt(v) + (m.ratio ? ratioText(o, v) : ''));
    }
    if (
      m.goal === undefined ||
      (m.label === 'catch-up s' && c.outage === 0) ||
      (m.label === 'samples lost' && c.outage === 0)
    ) {
      row.push('', '');
    } else {
      row.push(
        `<= ${m.goal}`,
        o === undefined ? '?' : o <= m.goal ? 'met' : `MISSED (${(o / (m.goal || 1)).toFixed(2)}x)`,
      );
    }
    rows.push(row);
  }
  out.push(renderTable(rows));
  out.push(...normalized(res, ours, refs));
  const shapeOk =
    c.T === GOAL_SHAPE.T &&
    c.S === GOAL_SHAPE.S &&
    c.interval === GOAL_SHAPE.interval &&
    (c.outage === 0 || c.outage === GOAL_SHAPE.outage);
  if (!shapeOk)
    out.push(
      `note: the goals are set for T=${GOAL_SHAPE.T} S=${GOAL_SHAPE.S} every ${GOAL_SHAPE.interval}s with a ${GOAL_SHAPE.outage}s outage; this run has another shape.`,
    );
  if (c.outage === 0) out.push('note: OUTAGE=0, so catch-up and loss were not measured.');
  const side = res.results
    .filter((r) => !r.error)
    .map(
      (r) =>
        `${r.agent}: targets ${r.targets_cpu_pct?.toFixed(1)}% / victoria-metrics ${r.vm_cpu_pct?.toFixed(1)}% CPU`,
    );
  if (side.length) out.push(`side load during each window (not counted in the agent's CPU): ${side.join('; ')}`);
  if (loadAtEnd)
    out.push(
      `load average at the end: ${loadAtEnd} (${os.availableParallelism()} cores; other work inflates every agent's CPU s/1M)`,
    );
  return out.join('\n');
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<number> {
  // `--summary=RUN_DIR/results.json` only re-prints the comparison of an earlier run.
  const summaryOf = process.argv.find((a) => a.startsWith('--summary='))?.slice('--summary='.length);
  if (summaryOf) {
    try {
      const harness = locateHarness();
      baselineOf = (c) => findBaseline(harness, c);
    } catch {
      // No harness around: no baseline scaling either.
    }
    console.log(summarize(JSON.parse(readFileSync(summaryOf, 'utf8')) as Results, 'ours'));
    return 0;
  }
  const node = projectNode();
  const bundle = env.BENCH_BUNDLE ? path.resolve(env.BENCH_BUNDLE) : path.join(root, 'dist', 'outpost.mjs');
  const ourName = 'ours';
  const childEnv: NodeJS.ProcessEnv = { ...env };
  const busy = await busyPorts(env);
  if (busy.length > 0) {
    console.error(
      `bench: ports already in use on 127.0.0.1: ${busy.join(', ')}. Another benchmark (or agent) is running; ` +
        'wait for it, or move this run with BASE_PORT / CTRL_PORT / VM_PORT / AGENT_PORT_<NAME>.',
    );
    return 1;
  }
  if (!env.AGENT_CMD_OURS) {
    if (env.BENCH_BUNDLE) {
      if (!existsSync(bundle)) throw new Error(`BENCH_BUNDLE ${bundle} does not exist`);
    } else ensureBuilt(bundle, node);
    const flags = env.BENCH_NODE_FLAGS ? ' ' + env.BENCH_NODE_FLAGS : '';
    childEnv.AGENT_CMD_OURS = `${q(node)}${flags} ${q(bundle)} --config.file="$CONFIG" --storage.agent.path="$DATA_DIR" --web.listen-address=127.0.0.1:$PORT --no-tui`;
  }
  childEnv.AGENT_COUNTERS_OURS ??= OUR_COUNTERS;
  if (existsSync(bundle))
    childEnv.AGENT_VERSION_OURS ??=
      spawnSync(node, [bundle, '--version'], { encoding: 'utf8' }).stdout?.split('\n')[0]?.trim() || 'outpost';
  const runDir = (childEnv.RUN_DIR ??= path.join('/tmp', `bench-run-${stamp()}`));
  const harness = locateHarness();
  baselineOf = (c) => findBaseline(harness, c);
  const load = loadavg();
  console.log(`bench: harness ${harness}, RUN_DIR ${runDir}, load average ${load}`);
  console.log(`bench: AGENT_CMD_OURS=${childEnv.AGENT_CMD_OURS}`);

  const status = await runHarness(harness, childEnv);
  const file = path.join(runDir, 'results.json');
  if (!existsSync(file)) {
    console.error(`bench: harness exited ${status} without ${file}`);
    return status || 1;
  }
  const res = JSON.parse(readFileSync(file, 'utf8')) as Results;
  const text = summarize(res, ourName, loadavg());
  console.log('\n' + text);
  writeFileSync(path.join(runDir, 'summary.md'), text + '\n');
  if (status !== 0) return status;
  return res.results.some((r) => r.error) ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

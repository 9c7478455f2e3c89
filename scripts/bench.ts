/**
 * Side-by-side benchmark of Outpost against Prometheus' agent and vmagent: `npm run bench`.
 *
 * Runs the scenarios of issue 12 one after another (bench/README.md): `edge`, `idle`, `100k` and `400k`, and
 * `otlp` (issue 18: points per second through the OTLP receiver, bench/otlp.ts)
 * (BENCH_SCENARIOS selects). Each harness scenario is one run of the shared harness (../shared/bench/run.sh
 * next to the repo, or BENCH_HARNESS) in its own RUN_DIR under one parent run directory; `idle` is
 * scripts/bench-self-scrape.ts. Ours is the single executable dist/outpost. After each scenario it prints
 * every agent's memory (RSS, PSS, RssAnon) and CPU with the ratios ours/peer and the scenario's goals
 * (met / MISSED, with the figure); at the end one combined table, also written to summary.md and
 * summary.json in the parent run directory.
 *
 *   npm run bench                                            # everything, ~40 min
 *   BENCH_SCENARIOS=edge AGENTS=ours WARMUP=10 WINDOW=20 npm run bench   # quick wiring check
 *   BENCH_SCENARIOS=idle BENCH_IDLE_WARMUP=5 BENCH_IDLE_WINDOW=20 npm run bench
 *   BENCH_BUNDLE=dist/outpost.mjs BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' AGENTS=ours BENCH_SCENARIOS=100k npm run bench
 *   npm run bench -- --summary=/tmp/bench-run-X            # re-print an earlier run (parent or scenario dir, or a results.json)
 *
 * Every harness variable (T, S, SCRAPE_INTERVAL, WARMUP, WINDOW, OUTAGE, CATCHUP_MAX, AGENTS, ports,
 * AGENT_*_<NAME>) passes through; one set in the environment overrides the scenario's own value. RUN_DIR
 * names the parent run directory. Own variables:
 *   BENCH_SCENARIOS   comma list of edge,idle,100k,400k,otlp (default: all, in that order)
 *   BENCH_HARNESS     path of run.sh (or of the directory holding it)
 *   BENCH_BUILD       1: always rebuild, 0: never; unset: rebuild dist/outpost when older than src/, tui/,
 *                     package.json or sea-config.json
 *   BENCH_BUNDLE      run this bundle under the project's node instead of dist/outpost; never rebuilt
 *   BENCH_NODE        node binary for BENCH_BUNDLE (default: node_modules/.bin/node, else the running node)
 *   BENCH_NODE_FLAGS  flags placed between node and the bundle (profiling); needs BENCH_BUNDLE
 *   BENCH_EVICT       0: do not evict the agents' executables from the page cache before each scenario
 *   BENCH_IDLE_WARMUP, BENCH_IDLE_WINDOW   seconds for the idle scenario (default 30, 120)
 *   BENCH_OTLP_WARMUP, BENCH_OTLP_WINDOW, BENCH_OTLP_CLIENTS   the otlp scenario (default 10 s, 60 s, 2 clients)
 *   BENCH_BASELINE_DIR  results of the reference agents on the baseline host (default: the harness'
 *                     baseline/ directory); used to scale CPU numbers between hosts
 *   AGENT_CMD_OURS    when set, used as is instead of the generated command
 *
 * Exit status: the first harness failure's status; 1 when a scenario left no results.json; 2 when an agent
 * could not be measured (it crashed or never became ready). A missed goal never changes the exit status.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type BaselineLookup, combinedText, type ScenarioOutcome, scenarioText, summaryJson } from './bench-report.ts';
import { FLOOR_NAME, isDir, readResults, RESULTS_FILE, type RunConfig } from './bench-results.ts';
import { SCENARIO_NAMES, type Scenario, scenarioOf, SCENARIOS, selectScenarios } from './bench-scenarios.ts';
import { runOtlpBench } from '../bench/otlp.ts';
import { runSelfScrape, type SelfScrapeAgent } from './bench-self-scrape.ts';

const root = path.resolve(import.meta.dirname, '..');
const env = process.env;
const OUR_NAME = 'ours';

/** Prometheus' metric names, which Outpost copies: the harness reports their growth over the window. */
const OUR_COUNTERS = [
  'prometheus_agent_samples_appended_total',
  'prometheus_remote_storage_samples_total',
  'prometheus_remote_storage_samples_retried_total',
  'prometheus_remote_storage_samples_failed_total',
  'prometheus_remote_storage_samples_dropped_total',
  'prometheus_remote_storage_bytes_total',
].join(',');

/** The harness' own commands for the reference agents (shared/bench/harness.mjs), for the idle scenario. */
const PEER_COMMANDS: Record<string, string> = {
  prometheus:
    'prometheus --enable-feature=agent --config.file="$CONFIG" --storage.agent.path="$DATA_DIR" --web.listen-address=127.0.0.1:$PORT',
  vmagent:
    'vmagent -promscrape.config="$CONFIG" -promscrape.config.strictParse=false -remoteWrite.url="$RW_URL" -remoteWrite.tmpDataPath="$DATA_DIR" -httpListenAddr=127.0.0.1:$PORT',
};

const envName = (agent: string): string => agent.toUpperCase().replace(/[^A-Z0-9]/g, '_');

function agentsOf(e: NodeJS.ProcessEnv): string[] {
  return (e.AGENTS ?? 'prometheus vmagent ours').split(/[\s,]+/).filter(Boolean);
}

function log(msg: string): void {
  console.log(`bench: ${msg}`);
}

// ---- our executable --------------------------------------------------------------------------------

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

/** Builds dist/outpost with `npm run build:sea` when it is older than what goes into it (BENCH_BUILD decides). */
function ensureExecutable(exe: string): void {
  const mode = env.BENCH_BUILD;
  let stale: boolean;
  if (mode === '1') stale = true;
  else if (mode === '0') stale = false;
  else {
    const built = existsSync(exe) ? statSync(exe).mtimeMs : 0;
    const inputs = [newestMtime(path.join(root, 'src')), newestMtime(path.join(root, 'tui'))];
    for (const f of ['package.json', 'sea-config.json'])
      if (existsSync(path.join(root, f))) inputs.push(statSync(path.join(root, f)).mtimeMs);
    stale = built < Math.max(...inputs);
  }
  if (!stale) {
    if (!existsSync(exe)) throw new Error(`${exe} does not exist and BENCH_BUILD=0`);
    return;
  }
  log('building dist/outpost (npm run build:sea)');
  const r = spawnSync('npm', ['run', 'build:sea'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build:sea failed (status ${r.status ?? r.signal})`);
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

interface Ours {
  cmd: string;
  /** Files whose page cache is evicted before each scenario. */
  files: string[];
  version: string;
}

const OUR_FLAGS =
  '--config.file="$CONFIG" --storage.agent.path="$DATA_DIR" --web.listen-address=127.0.0.1:$PORT --no-tui';

function resolveOurs(): Ours {
  const given = env.AGENT_CMD_OURS;
  if (given) return { cmd: given, files: [], version: env.AGENT_VERSION_OURS ?? 'outpost (AGENT_CMD_OURS)' };
  const bundleGiven = env.BENCH_BUNDLE;
  if (env.BENCH_NODE_FLAGS && !bundleGiven) {
    throw new Error(
      'BENCH_NODE_FLAGS applies to a bundle run under node: set BENCH_BUNDLE too (e.g. BENCH_BUNDLE=dist/outpost.mjs)',
    );
  }
  const versionOf = (cmd: string, ...args: string[]): string =>
    spawnSync(cmd, [...args, '--version'], { encoding: 'utf8' })
      .stdout?.split('\n')[0]
      ?.trim() || 'outpost';
  if (bundleGiven) {
    const bundle = path.resolve(bundleGiven);
    if (!existsSync(bundle)) throw new Error(`BENCH_BUNDLE ${bundle} does not exist`);
    const node = projectNode();
    const flags = env.BENCH_NODE_FLAGS ? ' ' + env.BENCH_NODE_FLAGS : '';
    return {
      cmd: `${q(node)}${flags} ${q(bundle)} ${OUR_FLAGS}`,
      files: [node, bundle],
      version: `${versionOf(node, bundle)} (bundle under node)`,
    };
  }
  const exe = path.join(root, 'dist', 'outpost');
  ensureExecutable(exe);
  return { cmd: `${q(exe)} ${OUR_FLAGS}`, files: [exe], version: versionOf(exe) };
}

// ---- page cache ------------------------------------------------------------------------------------

function which(cmd: string): string | null {
  const r = spawnSync('bash', ['-c', `command -v ${q(cmd)}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p.startsWith('/') ? p : null;
}

/** Bytes of the file in the page cache (fincore, util-linux), or undefined without fincore. */
function resident(file: string): number | undefined {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output=RES', file], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

const mibText = (b: number | undefined): string => (b === undefined ? '?' : `${(b / 2 ** 20).toFixed(1)} MiB`);

/**
 * Drops each agent's executable from the page cache (posix_fadvise DONTNEED through dd) so that every
 * agent maps it from disk the same way: a file still cached from being written (a fresh build) can be
 * mapped with large folios, which shows as tens of MiB more file-backed RSS. DONTNEED skips dirty pages
 * and pages under writeback, which a build has just left behind, so the file is fsynced first (`sync
 * FILE`). Pages a running process maps stay.
 */
function evictExecutables(ours: Ours, agents: string[]): void {
  if (env.BENCH_EVICT === '0') return;
  const files = new Set<string>();
  if (agents.includes(OUR_NAME)) {
    if (ours.files.length === 0) log('AGENT_CMD_OURS is set: its executable is not evicted from the page cache');
    for (const f of ours.files) files.add(f);
  }
  for (const a of ['prometheus', 'vmagent']) {
    if (!agents.includes(a)) continue;
    const p = which(a);
    if (p) files.add(p);
  }
  const done: string[] = [];
  for (const f of files) {
    const before = resident(f);
    const synced = spawnSync('sync', [f], { encoding: 'utf8' });
    if (synced.status !== 0) log(`could not fsync ${f}: ${synced.stderr.trim() || synced.status}`);
    const r = spawnSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none'], { encoding: 'utf8' });
    if (r.status !== 0) {
      log(`could not evict ${f} from the page cache: ${r.stderr.trim() || r.status}`);
      continue;
    }
    const after = resident(f);
    done.push(`${f} (${mibText(before)} -> ${mibText(after)}${after ? ', the rest mapped by running processes' : ''})`);
  }
  if (done.length) log(`page cache evicted: ${done.join(', ')}`);
}

// ---- harness ---------------------------------------------------------------------------------------

function locateHarness(): string {
  const given = env.BENCH_HARNESS;
  const p = given ? path.resolve(given) : path.resolve(root, '..', 'shared', 'bench', 'run.sh');
  const script = isDir(p) ? path.join(p, 'run.sh') : p;
  if (!existsSync(script)) throw new Error(`harness not found at ${script} (set BENCH_HARNESS)`);
  return script;
}

/**
 * The harness' baseline results (measured on a quieter host) with the same T, S and interval, if any:
 * bench/README.md explains why CPU is compared through them.
 */
function baselineLookup(harness: string | null): BaselineLookup {
  const dir = env.BENCH_BASELINE_DIR ?? (harness ? path.join(path.dirname(harness), 'baseline') : null);
  if (!dir || !existsSync(dir)) return () => null;
  return (c: RunConfig) => {
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const b = readResults(path.join(dir, f));
        if (b.config.T === c.T && b.config.S === c.S && b.config.interval === c.interval) return b;
      } catch {
        // Not a results file.
      }
    }
    return null;
  };
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
  const builtin: Record<string, number> = { prometheus: 9090, vmagent: 8429 };
  agentsOf(e).forEach((a, i) => {
    ports.push(n(`AGENT_PORT_${envName(a)}`, builtin[a] ?? 9300 + i));
  });
  const busy: number[] = [];
  for (const p of ports) if (!(await portFree(p))) busy.push(p);
  return busy;
}

function busyMessage(busy: number[]): string {
  return `ports already in use on 127.0.0.1: ${busy.join(', ')}. Another benchmark (or agent) is running; wait for it, or move this run with BASE_PORT / CTRL_PORT / VM_PORT / AGENT_PORT_<NAME>.`;
}

/** The scenario's harness variables under the environment's: a variable set (non-empty) in the environment wins. */
function scenarioEnv(s: Scenario, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...base };
  for (const [k, v] of Object.entries(s.env)) if (!base[k]) e[k] = v;
  return e;
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

// ---- scenarios -------------------------------------------------------------------------------------

interface Run {
  outcome: ScenarioOutcome;
  /** Non-zero: the harness failed (its status), or no results (1). */
  status: number;
}

async function runHarnessScenario(s: Scenario, runDir: string, harness: string, ours: Ours): Promise<Run> {
  const e = scenarioEnv(s, env);
  e.RUN_DIR = runDir;
  e.AGENT_CMD_OURS = ours.cmd;
  e.AGENT_COUNTERS_OURS ??= OUR_COUNTERS;
  e.AGENT_VERSION_OURS ??= ours.version;
  const outcome: ScenarioOutcome = { name: s.name, scenario: s, runDir };
  const busy = await busyPorts(e);
  if (busy.length > 0) {
    outcome.error = busyMessage(busy);
    console.error(`bench: ${s.name}: ${outcome.error}`);
    return { outcome, status: 1 };
  }
  const status = await runHarness(harness, e);
  const file = path.join(runDir, RESULTS_FILE);
  if (!existsSync(file)) {
    outcome.error = `harness exited ${status} without ${file}`;
    console.error(`bench: ${s.name}: ${outcome.error}`);
    return { outcome, status: status || 1 };
  }
  outcome.res = readResults(file);
  return { outcome, status };
}

/** The bare runtime (bench/node-floor.mjs), tuned as Outpost tunes itself, next to the agents. */
function floorCommand(): string {
  const tuning = 'MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536';
  return `env ${tuning} ${q(projectNode())} --max-semi-space-size=2 ${q(path.join(root, 'bench', 'node-floor.mjs'))}`;
}

function seconds(name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: "${v}" is not a number of seconds`);
  return n;
}

async function runIdleScenario(s: Scenario, runDir: string, ours: Ours): Promise<Run> {
  const outcome: ScenarioOutcome = { name: s.name, scenario: s, runDir };
  const agents: SelfScrapeAgent[] = [];
  for (const name of agentsOf(env)) {
    const U = envName(name);
    const cmd = name === OUR_NAME ? ours.cmd : (env[`AGENT_CMD_${U}`] ?? PEER_COMMANDS[name]);
    if (!cmd) {
      log(`idle: no command for agent ${name} (set AGENT_CMD_${U}); skipped`);
      continue;
    }
    const args = env[`AGENT_ARGS_${U}`];
    const port = env[`AGENT_PORT_${U}`] ? Number(env[`AGENT_PORT_${U}`]) : undefined;
    agents.push({ name, cmd: args ? `${cmd} ${args}` : cmd, port });
  }
  if (env.BENCH_FLOOR !== '0') agents.push({ name: FLOOR_NAME, cmd: floorCommand() });
  try {
    outcome.res = await runSelfScrape({
      runDir,
      agents,
      warmupS: seconds('BENCH_IDLE_WARMUP', 30),
      windowS: seconds('BENCH_IDLE_WINDOW', 120),
    });
    return { outcome, status: 0 };
  } catch (e) {
    outcome.error = e instanceof Error ? e.message : String(e);
    console.error(`bench: idle: ${outcome.error}`);
    return { outcome, status: 1 };
  }
}

async function runOtlpScenario(s: Scenario, runDir: string, ours: Ours): Promise<Run> {
  const outcome: ScenarioOutcome = { name: s.name, scenario: s, runDir };
  if (!agentsOf(env).includes(OUR_NAME)) {
    outcome.error = `the otlp scenario measures ${OUR_NAME} only (AGENTS=${env.AGENTS ?? ''})`;
    return { outcome, status: 1 };
  }
  try {
    outcome.res = await runOtlpBench({
      runDir,
      cmd: ours.cmd,
      name: OUR_NAME,
      warmupS: seconds('BENCH_OTLP_WARMUP', 10),
      windowS: seconds('BENCH_OTLP_WINDOW', 60),
      clients: Number(env.BENCH_OTLP_CLIENTS ?? 2),
    });
    return { outcome, status: outcome.res.results.some((r) => r.error) ? 2 : 0 };
  } catch (e) {
    outcome.error = e instanceof Error ? e.message : String(e);
    console.error(`bench: otlp: ${outcome.error}`);
    return { outcome, status: 1 };
  }
}

function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
}

// ---- --summary -------------------------------------------------------------------------------------

/** A results.json, a scenario's run dir, or a parent run dir with one subdirectory per scenario. */
function outcomesAt(p: string): ScenarioOutcome[] {
  const direct = isDir(p) ? path.join(p, RESULTS_FILE) : p;
  if (existsSync(direct) && !isDir(direct)) {
    const res = readResults(direct);
    const dir = path.dirname(direct);
    const scenario = scenarioOf(res, path.basename(dir));
    return [{ name: scenario?.name ?? path.basename(dir), scenario, runDir: dir, res }];
  }
  if (!isDir(p)) throw new Error(`${p}: no such file or directory`);
  const out: ScenarioOutcome[] = [];
  for (const name of SCENARIO_NAMES) {
    const file = path.join(p, name, RESULTS_FILE);
    if (existsSync(file))
      out.push({ name, scenario: SCENARIOS[name], runDir: path.join(p, name), res: readResults(file) });
  }
  if (out.length === 0)
    throw new Error(
      `${p}: neither a ${RESULTS_FILE} nor a run directory with ${SCENARIO_NAMES.join('/')}/${RESULTS_FILE}`,
    );
  return out;
}

function report(outcomes: ScenarioOutcome[], lookup: BaselineLookup): string {
  const parts = outcomes.map((o) => scenarioText(o, OUR_NAME, lookup));
  if (outcomes.length > 1) parts.push(combinedText(outcomes, OUR_NAME));
  return parts.join('\n\n');
}

function reprint(p: string): number {
  let harness: string | null = null;
  try {
    harness = locateHarness();
  } catch {
    // No harness around: no baseline scaling either.
  }
  console.log(report(outcomesAt(path.resolve(p)), baselineLookup(harness)));
  return 0;
}

// ---- main ------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const summaryOf = process.argv.find((a) => a.startsWith('--summary='))?.slice('--summary='.length);
  if (summaryOf) return reprint(summaryOf);

  const scenarios = selectScenarios(env.BENCH_SCENARIOS);
  const needsHarness = scenarios.some((s) => s.kind === 'harness');
  const harness = needsHarness ? locateHarness() : null;
  for (const s of scenarios.filter((x) => x.kind === 'harness')) {
    const busy = await busyPorts(scenarioEnv(s, env));
    if (busy.length > 0) {
      console.error(`bench: ${busyMessage(busy)}`);
      return 1;
    }
  }
  const ours = resolveOurs();
  const parent = env.RUN_DIR || path.join('/tmp', `bench-run-${stamp()}`);
  mkdirSync(parent, { recursive: true });
  const lookup = baselineLookup(harness);
  log(
    `scenarios ${scenarios.map((s) => s.name).join(', ')}; agents ${agentsOf(env).join(' ')}; RUN_DIR ${parent}; load average ${loadavg()}`,
  );
  log(`ours: ${ours.version}: ${ours.cmd}`);
  if (harness) log(`harness ${harness}`);

  const runs: Run[] = [];
  for (const s of scenarios) {
    const runDir = path.join(parent, s.name);
    console.log(`\nbench: ===== scenario ${s.title} (${runDir}) =====`);
    evictExecutables(ours, agentsOf(env));
    const run =
      s.kind === 'harness'
        ? await runHarnessScenario(s, runDir, harness!, ours)
        : s.kind === 'otlp'
          ? await runOtlpScenario(s, runDir, ours)
          : await runIdleScenario(s, runDir, ours);
    runs.push(run);
    console.log('\n' + scenarioText(run.outcome, OUR_NAME, lookup));
  }

  const outcomes = runs.map((r) => r.outcome);
  const load = loadavg();
  const combined = combinedText(outcomes, OUR_NAME);
  console.log('\n' + combined);
  const tail = `load average at the end: ${load}; ours: ${ours.version}`;
  console.log(tail);
  const md = [`# npm run bench, ${new Date().toISOString()} (${parent})`, report(outcomes, lookup), tail].join('\n\n');
  writeFileSync(path.join(parent, 'summary.md'), md + '\n');
  writeFileSync(
    path.join(parent, 'summary.json'),
    JSON.stringify(summaryJson(parent, outcomes, OUR_NAME, load), null, 1) + '\n',
  );
  log(`summary in ${parent}/summary.{md,json}`);

  const failed = runs.find((r) => r.status !== 0);
  if (failed) return failed.status;
  return outcomes.some((o) => o.res?.results.some((r) => r.error)) ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

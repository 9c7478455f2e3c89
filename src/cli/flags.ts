import os from 'node:os';
import yargs, { type Options } from 'yargs';
import { formatDuration, parseDuration } from '../config/duration.ts';
import { formatByteSize, parseByteSize } from '../config/units.ts';
import { OutpostError, errorMessage } from '../util/errors.ts';
import { closest } from '../util/suggest.ts';
import type { LogFormat, LogLevel } from '../log/logger.ts';
import { FLAG_TABLE, RW_PROTO_MESSAGES, type FlagSpec } from './flag-table.ts';

export class FlagError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_FLAG_INVALID', message);
  }
}

/** A server-only flag given to the agent: 3.x exits 3 for it, not 2 as for a parse error. */
export class AgentModeFlagError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_FLAG_SERVER_ONLY', message);
  }
}

/** A warning to log once the logger exists (flags are parsed before it is). */
interface FlagWarning {
  readonly msg: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** Parsed command line, Prometheus' flag names, values already validated. */
export interface Flags {
  readonly command: 'run' | 'check-config';
  readonly checkFiles: readonly string[];
  readonly configFile: string;
  readonly dataDir: string;
  /** The first `--web.listen-address`: the one the external URL and the status show. */
  readonly listenAddress: string;
  /** Every `--web.listen-address`, in order (3.x takes the flag several times). */
  readonly listenAddresses: readonly string[];
  readonly enableFeatures: readonly string[];
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly tui: boolean;
  readonly walCompression: boolean;
  /** `--storage.agent.wal-compression-type`; only used while walCompression is on. */
  readonly walCompressionType: 'snappy' | 'zstd';
  readonly walSegmentSize: number;
  readonly noLockfile: boolean;
  readonly retentionMinTime: number;
  readonly retentionMaxTime: number;
  readonly truncateFrequency: number;
  /** 0 = no cap. */
  readonly maxSize: number;
  readonly flushDeadline: number;
  readonly enableLifecycle: boolean;
  /** `--config.auto-reload` (or the deprecated `auto-reload-config` feature). */
  readonly autoReload: boolean;
  /** `--config.auto-reload-interval`, at least 1s as in 3.x. */
  readonly autoReloadInterval: number;
  /** `--web.enable-otlp-receiver`. */
  readonly enableOtlpReceiver: boolean;
  /** `--enable-feature=otlp-native-delta-ingestion`: OTLP delta sums and histograms stored as they come. */
  readonly otlpNativeDelta: boolean;
  /** `--enable-feature=otlp-deltatocumulative`: OTLP deltas summed into cumulative series before translation. */
  readonly otlpDeltaToCumulative: boolean;
  /** `--web.config.file`: TLS / basic-auth config in exporter-toolkit format; '' = none. */
  readonly webConfigFile: string;
  readonly walFsync: 'rotate' | 'always' | 'never';
  /** Things 3.x would log about these flags, to be logged once the logger exists. */
  readonly warnings: readonly FlagWarning[];
  /** `--scrape.shards` (or OUTPOST_SCRAPE_SHARDS): how many agents split the targets; 1 = no sharding. */
  readonly scrapeShards: number;
  /** This agent's shard, 0-based: `--scrape.shard-index`, the host name's ordinal, or OUTPOST_SCRAPE_SHARD_INDEX. */
  readonly scrapeShardIndex: number;
  /** Every flag as given or defaulted, for /api/v1/status/flags. */
  readonly all: Readonly<Record<string, string>>;
}

/** What each `--enable-feature` value does here; 3.x's own log lines where 3.x logs one (main.go setFeatureListOptions). */
const FEATURE_WARNINGS: Readonly<Record<string, string>> = {
  'auto-reload-config': 'This option for --enable-feature is deprecated. Use --config.auto-reload instead.',
  'native-histograms':
    'This option for --enable-feature is a no-op. To scrape native histograms, set the scrape_native_histograms ' +
    'scrape config setting to true.',
  'promql-duration-expr': 'This option for --enable-feature is now permanently enabled and therefore a no-op.',
  'ooo-native-histograms': 'This option for --enable-feature is now permanently enabled and therefore a no-op.',
};

/** 3.x features that change nothing an agent does (query engine, TSDB blocks, UI of the server). */
const SERVER_FEATURES = new Set([
  'exemplar-storage',
  'memory-snapshot-on-shutdown',
  'promql-per-step-stats',
  'concurrent-rule-eval',
  'promql-experimental-functions',
  'xor2-encoding',
  'histograms-st-encoding',
  'use-start-timestamps',
  'delayed-compaction',
  'promql-delayed-name-removal',
  'promql-extended-range-selectors',
  'promql-binop-fill-modifiers',
  'old-ui',
  'use-uncached-io',
  'fast-startup',
  'search-api',
]);

/** 3.x features that change what an agent does and that Outpost does not implement (yet). */
const UNIMPLEMENTED_FEATURES = new Set([
  'extra-scrape-metrics',
  'metadata-wal-records',
  'created-timestamp-zero-ingestion',
  'st-synthesis',
  'st-storage',
  'type-and-unit-labels',
]);

/** 3.x features Outpost implements, which need no log line. */
const IMPLEMENTED_FEATURES = new Set(['otlp-deltatocumulative', 'otlp-native-delta-ingestion']);

const OPTIONS: Record<string, Options> = Object.fromEntries(
  Object.entries(FLAG_TABLE).map(([name, f]) => {
    const o: Options = { describe: f.help, hidden: f.hidden === true || f.scope === 'server' };
    if (f.kind === 'boolean') Object.assign(o, { type: 'boolean', default: f.default === 'true' });
    else if (f.kind === 'number') Object.assign(o, { type: 'number', default: Number(f.default) });
    else if (f.kind === 'list') Object.assign(o, { type: 'string', array: true, default: [] as string[] });
    else Object.assign(o, { type: 'string', default: f.default });
    if (f.choices) o.choices = [...f.choices];
    return [name, o];
  }),
);

/**
 * Agent flags 3.x holds as model.Duration or units.Base2Bytes: /api/v1/status/flags shows them as
 * those types print themselves (`300s` given reads `5m`, `131072KiB` reads `128MiB`).
 */
const DURATION_FLAGS = new Set([
  'config.auto-reload-interval',
  'web.read-timeout',
  'storage.agent.wal-truncate-frequency',
  'storage.agent.retention.min-time',
  'storage.agent.retention.max-time',
  'storage.remote.flush-deadline',
  'scrape.discovery-reload-interval',
]);
const BYTES_FLAGS = new Set(['storage.agent.wal-segment-size']);

/** Environment variables that stand in for the sharding flags when those are not given. */
const SHARDS_ENV = 'OUTPOST_SCRAPE_SHARDS';
const SHARD_INDEX_ENV = 'OUTPOST_SCRAPE_SHARD_INDEX';

/** What the sharding flags read besides argv (tests pass their own). */
export interface FlagSystem {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: () => string;
}

function parseCount(v: string, what: string, min: number): number {
  if (!/^[0-9]+$/.test(v.trim())) throw new FlagError(`${what}: "${v}" is not a whole number`);
  const n = Number(v.trim());
  if (n < min || n > 1_000_000) throw new FlagError(`${what}: ${n} is out of range (${min} to 1000000)`);
  return n;
}

/** Resolves --scrape.shards and the shard index from the flags, the host name and the environment. */
function shardFlags(
  shards: string,
  index: string,
  fromHostname: boolean,
  sys: FlagSystem,
): { count: number; index: number } {
  const envShards = sys.env[SHARDS_ENV] ?? '';
  const count =
    shards !== ''
      ? parseCount(shards, '--scrape.shards', 1)
      : envShards !== ''
        ? parseCount(envShards, SHARDS_ENV, 1)
        : 1;
  let i = 0;
  if (fromHostname) {
    if (index !== '')
      throw new FlagError('--scrape.shard-index and --scrape.shard-index-from-hostname cannot be used together');
    const host = sys.hostname();
    const m = /-([0-9]+)$/.exec(host);
    if (!m)
      throw new FlagError(
        `--scrape.shard-index-from-hostname: host name "${host}" does not end in -<ordinal> (a StatefulSet pod name does)`,
      );
    i = parseCount(m[1] as string, `--scrape.shard-index-from-hostname (host name "${host}")`, 0);
  } else if (index !== '') i = parseCount(index, '--scrape.shard-index', 0);
  else if ((sys.env[SHARD_INDEX_ENV] ?? '') !== '')
    i = parseCount(sys.env[SHARD_INDEX_ENV] as string, SHARD_INDEX_ENV, 0);
  if (i >= count) {
    throw new FlagError(
      `scrape shard index ${i} is out of range for ${count} shard${count === 1 ? '' : 's'} (indexes 0 to ${count - 1}; ` +
        'set --scrape.shards)',
    );
  }
  return { count, index: i };
}

/** Long flags besides the table that the parser knows. */
const OTHER_FLAGS = ['help', 'version'];

/** The table's entry for a name, if the name is a flag. */
function spec(name: string): FlagSpec | undefined {
  return Object.hasOwn(FLAG_TABLE, name) ? FLAG_TABLE[name] : undefined;
}

/**
 * Refuses what yargs would silently accept or word badly: a single-value flag given twice (yargs
 * joins the values, so `--storage.agent.path=/a --storage.agent.path=/b` ran in "/a,/b"; Prometheus
 * refuses it with the same words), and an unknown flag, which gets the nearest known one. Returns
 * the flags given, by name, in order.
 */
function checkFlagNames(argv: readonly string[]): string[] {
  const seen = new Set<string>();
  const given: string[] = [];
  const known = [...Object.keys(FLAG_TABLE).filter((k) => FLAG_TABLE[k]?.scope !== 'server'), ...OTHER_FLAGS];
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    let name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!spec(name) && name.startsWith('no-') && spec(name.slice(3))?.kind === 'boolean') name = name.slice(3);
    const f = spec(name);
    if (!f && !OTHER_FLAGS.includes(name)) {
      const near = closest(name, known);
      throw new FlagError(`unknown long flag '--${name}'` + (near ? `, did you mean '--${near}'?` : ''));
    }
    if (f && f.kind !== 'list') {
      // 3.x listens on every --web.listen-address given.
      if (seen.has(name) && name !== 'web.listen-address') throw new FlagError(`flag '${name}' cannot be repeated`);
      seen.add(name);
    }
    if (f) given.push(name);
  }
  return given;
}

/** Go's %q of a []string: `["--a" "--b"]`. */
function goQuoteList(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** kingpin's --write-documentation: the flags as a Markdown table. */
function flagsMarkdown(): string {
  const rows = Object.entries(FLAG_TABLE)
    .filter(([, f]) => !f.hidden && f.scope !== 'server')
    .map(
      ([n, f]) => `| <code class="text-nowrap">--${n}</code> | ${f.help} | ${f.default ? `\`${f.default}\`` : ''} |`,
    );
  return ['# outpost', '', '## Flags', '', '| Flag | Description | Default |', '| --- | --- | --- |', ...rows].join(
    '\n',
  );
}

/** Parses argv (without node and script). Throws FlagError naming the flag on bad values. */
export function parseFlags(
  argv: readonly string[],
  sys: FlagSystem = { env: process.env, hostname: os.hostname },
): Flags | { exit: number; output: string } {
  const given = checkFlagNames(argv);
  let output = '';
  let exitCode: number | null = null;
  const y = yargs([...argv])
    .scriptName('outpost')
    .usage(
      '$0 [flags]\n$0 check config FILE...\n\nOutpost: a Prometheus agent-mode collector (scrape, WAL, remote write).',
    )
    .parserConfiguration({ 'dot-notation': false, 'camel-case-expansion': false, 'boolean-negation': true })
    .options(OPTIONS)
    .version(false)
    .option('version', { type: 'boolean', describe: 'Show application version.' })
    .help('help')
    .alias('help', 'h')
    .strictOptions()
    // Wide enough that the longest flag name (56 characters) is never cut in two.
    .wrap(Math.max(130, process.stdout.columns || 0))
    .exitProcess(false)
    .fail((msg, err) => {
      throw new FlagError(msg || errorMessage(err));
    });
  const a = y.parseSync(argv as string[], {}, (_err, _argv, out) => {
    if (out) output = out;
  });
  if (a.help) exitCode = 0;
  if (exitCode !== null) return { exit: exitCode, output };
  if (a.version) return { exit: 0, output: '__version__' };
  if (a['write-documentation']) return { exit: 0, output: flagsMarkdown() };
  const str = (name: string): string => String(a[name]);
  const bool = (name: string): boolean => Boolean(a[name]);

  const positional = (a._ as (string | number)[]).map(String);
  let command: Flags['command'] = 'run';
  let checkFiles: string[] = [];
  if (positional.length > 0) {
    if (positional[0] === 'check' && positional[1] === 'config' && positional.length > 2) {
      command = 'check-config';
      checkFiles = positional.slice(2);
    } else {
      throw new FlagError(`unexpected argument "${positional.join(' ')}" (usage: outpost check config FILE...)`);
    }
  }

  const warnings: FlagWarning[] = [];
  const features = (a['enable-feature'] as string[])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  let autoReload = bool('config.auto-reload');
  for (const f of features) {
    if (f === 'agent') continue; // 2.x's way to ask for agent mode; 3.x asks with --agent
    if (IMPLEMENTED_FEATURES.has(f)) continue;
    if (f === 'auto-reload-config') autoReload = true;
    const w = FEATURE_WARNINGS[f];
    if (w !== undefined) warnings.push({ msg: w, fields: { option: f } });
    else if (UNIMPLEMENTED_FEATURES.has(f))
      warnings.push({ msg: 'This option for --enable-feature is not implemented by Outpost', fields: { option: f } });
    else if (SERVER_FEATURES.has(f))
      warnings.push({ msg: 'This option for --enable-feature has no effect in agent mode', fields: { option: f } });
    else warnings.push({ msg: 'Unknown option for --enable-feature', fields: { option: f } });
  }
  // main.go setFeatureListOptions refuses this pair.
  if (features.includes('otlp-deltatocumulative') && features.includes('otlp-native-delta-ingestion'))
    throw new FlagError(
      'Error parsing feature list: cannot enable otlp-deltatocumulative and otlp-native-delta-ingestion features ' +
        'at the same time',
    );

  // A 3.x agent refuses server-only flags once the command line parsed (main.go, agentMode && serverOnlyFlags).
  const serverOnly = given.filter((n) => FLAG_TABLE[n]?.scope === 'server').map((n) => `--${n}`);
  if (serverOnly.length > 0)
    throw new AgentModeFlagError(`The following flag(s) can not be used in agent mode: ${goQuoteList(serverOnly)}`);

  const dur = (name: string) => {
    try {
      return parseDuration(str(name));
    } catch (err) {
      throw new FlagError(`--${name}: ${errorMessage(err)}`);
    }
  };
  const size = (name: string) => {
    const v = str(name);
    try {
      return v === '0' ? 0 : parseByteSize(v);
    } catch (err) {
      throw new FlagError(`--${name}: ${errorMessage(err)}`);
    }
  };
  const batch = Number(a['storage.agent.checkpoint-batch-size']);
  if (!(batch > 0)) throw new FlagError('--storage.agent.checkpoint-batch-size must be greater than 0.');
  const ratio = Number(str('auto-gomemlimit.ratio'));
  if (!(ratio > 0 && ratio <= 1))
    throw new FlagError('--auto-gomemlimit.ratio must be greater than 0 and less than or equal to 1.');
  if (bool('web.enable-remote-write-receiver'))
    throw new FlagError('--web.enable-remote-write-receiver: Outpost has no remote-write receiver');
  for (const m of a['web.remote-write-receiver.accepted-protobuf-messages'] as string[])
    for (const v of m.split(','))
      if (!(RW_PROTO_MESSAGES as readonly string[]).includes(v))
        throw new FlagError(
          `--web.remote-write-receiver.accepted-protobuf-messages: unknown remote write protobuf message ${v}, ` +
            `supported: ${RW_PROTO_MESSAGES.join(', ')}`,
        );

  // 0 means the default, 128MiB (tsdb/agent/db.go validateOptions); else 10MiB-256MiB (main.go).
  let segSize = size('storage.agent.wal-segment-size');
  if (segSize === 0) segSize = 128 * 1024 * 1024;
  if (segSize < 10 * 1024 * 1024 || segSize > 256 * 1024 * 1024 || segSize % 32768 !== 0) {
    throw new FlagError(
      "flag 'storage.agent.wal-segment-size' must be set between 10MB and 256MB (and be a multiple of 32KiB)",
    );
  }
  const listenRaw = a['web.listen-address'];
  const listens = (Array.isArray(listenRaw) ? listenRaw : [listenRaw]).map(String);
  for (const listen of listens) {
    if (!/^(\[[0-9a-fA-F:.]*\]|[^:\s]*):\d{1,5}$/.test(listen))
      throw new FlagError(`--web.listen-address: "${listen}" is not host:port`);
    if (Number(listen.slice(listen.lastIndexOf(':') + 1)) > 65535)
      throw new FlagError(`--web.listen-address: "${listen}": invalid port (0 to 65535)`);
  }
  const listen = listens[0] ?? '0.0.0.0:9090';

  // Normalised as tsdb/agent/db.go validateOptions does: truncate frequency <= 0 => 2h, min <= 0 => 5m,
  // max <= 0 => 4h, max >= min, max >= truncate frequency.
  let minTime = dur('storage.agent.retention.min-time');
  let maxTime = dur('storage.agent.retention.max-time');
  let truncFreq = dur('storage.agent.wal-truncate-frequency');
  if (truncFreq <= 0) truncFreq = 2 * 3600_000;
  if (minTime <= 0) minTime = 5 * 60_000;
  if (maxTime <= 0) maxTime = 4 * 3600_000;
  if (minTime > maxTime) maxTime = minTime;
  if (maxTime < truncFreq) maxTime = truncFreq;
  // main.go: an interval under one second becomes one second.
  const autoReloadInterval = Math.max(1000, dur('config.auto-reload-interval'));

  const shard = shardFlags(
    String(a['scrape.shards']),
    String(a['scrape.shard-index']),
    Boolean(a['scrape.shard-index-from-hostname']),
    sys,
  );

  const all: Record<string, string> = {};
  for (const k of Object.keys(FLAG_TABLE)) {
    const v = a[k];
    all[k] = Array.isArray(v) ? v.join(',') : String(v);
    if (DURATION_FLAGS.has(k)) all[k] = formatDuration(dur(k));
    else if (BYTES_FLAGS.has(k)) all[k] = formatByteSize(size(k));
  }
  all['web.remote-write-receiver.accepted-protobuf-messages'] ||= FLAG_TABLE[
    'web.remote-write-receiver.accepted-protobuf-messages'
  ]?.default as string;
  // Outpost always runs as an agent, which a 3.x agent can only do when given --agent.
  all.agent = 'true';
  all['config.auto-reload-interval'] = formatDuration(autoReloadInterval);
  // The values in effect, wherever they came from.
  all['scrape.shards'] = String(shard.count);
  all['scrape.shard-index'] = String(shard.index);

  return Object.freeze({
    command,
    checkFiles,
    configFile: str('config.file'),
    dataDir: str('storage.agent.path'),
    listenAddress: listen,
    listenAddresses: listens,
    enableFeatures: features,
    logLevel: a['log.level'] as LogLevel,
    logFormat: a['log.format'] as LogFormat,
    tui: bool('tui'),
    walCompression: bool('storage.agent.wal-compression'),
    walCompressionType: str('storage.agent.wal-compression-type') as Flags['walCompressionType'],
    walSegmentSize: segSize,
    noLockfile: bool('storage.agent.no-lockfile'),
    retentionMinTime: minTime,
    retentionMaxTime: maxTime,
    truncateFrequency: truncFreq,
    maxSize: size('storage.agent.max-size'),
    flushDeadline: dur('storage.remote.flush-deadline'),
    enableLifecycle: bool('web.enable-lifecycle'),
    autoReload,
    autoReloadInterval,
    enableOtlpReceiver: bool('web.enable-otlp-receiver'),
    otlpNativeDelta: features.includes('otlp-native-delta-ingestion'),
    otlpDeltaToCumulative: features.includes('otlp-deltatocumulative'),
    webConfigFile: str('web.config.file'),
    walFsync: a['storage.agent.wal-fsync'] as Flags['walFsync'],
    warnings,
    scrapeShards: shard.count,
    scrapeShardIndex: shard.index,
    all,
  });
}

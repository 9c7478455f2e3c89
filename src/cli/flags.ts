import yargs from 'yargs';
import { parseDuration } from '../config/duration.ts';
import { parseByteSize } from '../config/units.ts';
import { OutpostError, errorMessage } from '../util/errors.ts';
import { closest } from '../util/suggest.ts';
import type { LogFormat, LogLevel } from '../log/logger.ts';

export class FlagError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_FLAG_INVALID', message);
  }
}

/** Parsed command line, Prometheus' flag names, values already validated. */
export interface Flags {
  readonly command: 'run' | 'check-config';
  readonly checkFiles: readonly string[];
  readonly configFile: string;
  readonly dataDir: string;
  readonly listenAddress: string;
  readonly enableFeatures: readonly string[];
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly tui: boolean;
  readonly walCompression: boolean;
  readonly walSegmentSize: number;
  readonly noLockfile: boolean;
  readonly retentionMinTime: number;
  readonly retentionMaxTime: number;
  readonly truncateFrequency: number;
  /** 0 = no cap. */
  readonly maxSize: number;
  readonly flushDeadline: number;
  readonly enableLifecycle: boolean;
  /** `--web.enable-otlp-receiver` (or 2.x's `--enable-feature=otlp-write-receiver`): POST /api/v1/otlp/v1/metrics. */
  readonly enableOtlpReceiver: boolean;
  /** `--enable-feature=otlp-native-delta-ingestion`: OTLP delta sums and histograms stored as they come. */
  readonly otlpNativeDelta: boolean;
  /** `--enable-feature=otlp-deltatocumulative`: OTLP deltas summed into cumulative series before translation. */
  readonly otlpDeltaToCumulative: boolean;
  /** `--web.config.file`: TLS / basic-auth config in exporter-toolkit format; '' = none. */
  readonly webConfigFile: string;
  readonly walFsync: 'rotate' | 'always' | 'never';
  /** Every flag as given or defaulted, for /api/v1/status/flags. */
  readonly all: Readonly<Record<string, string>>;
}

const KNOWN_FEATURES = new Set([
  'agent',
  'extra-scrape-metrics',
  'native-histograms',
  'expand-external-labels',
  'memory-snapshot-on-shutdown',
  'new-service-discovery-manager',
  'auto-gomaxprocs',
  'auto-gomemlimit',
  'created-timestamp-zero-ingestion',
  'metadata-wal-records',
  'otlp-write-receiver',
  'otlp-native-delta-ingestion',
  'otlp-deltatocumulative',
  'remote-write-receiver',
  'no-default-scrape-port',
]);

const OPTIONS = {
  'config.file': { type: 'string', default: 'prometheus.yml', describe: 'Prometheus configuration file path.' },
  'storage.agent.path': { type: 'string', default: 'data-agent/', describe: 'Base path for metrics storage.' },
  'web.listen-address': {
    type: 'string',
    default: '0.0.0.0:9090',
    describe: 'Address to listen on for UI, API, and telemetry.',
  },
  'web.external-url': {
    type: 'string',
    default: '',
    describe: 'The URL under which Outpost is externally reachable (for example, if it is served via a reverse proxy).',
  },
  'web.route-prefix': {
    type: 'string',
    default: '',
    describe: 'Prefix for the internal routes of web endpoints. Defaults to the path of --web.external-url.',
  },
  'web.max-connections': { type: 'number', default: 512, describe: 'Maximum number of simultaneous connections.' },
  'web.read-timeout': {
    type: 'string',
    default: '5m',
    describe: 'Maximum duration before timing out read of the request, and closing idle connections.',
  },
  'web.cors.origin': { type: 'string', default: '.*', describe: 'Regex for CORS origin. It is fully anchored.' },
  'web.page-title': { type: 'string', default: 'Outpost', describe: 'Document title of the web UI.' },
  'web.enable-lifecycle': { type: 'boolean', default: false, describe: 'Enable shutdown and reload via HTTP request.' },
  'web.enable-otlp-receiver': {
    type: 'boolean',
    default: false,
    describe: 'Enable API endpoint accepting OTLP write requests (POST /api/v1/otlp/v1/metrics).',
  },
  'web.config.file': {
    type: 'string',
    default: '',
    describe:
      'Path to a configuration file that can enable TLS or authentication (Prometheus exporter-toolkit format; re-read on every request).',
  },
  'enable-feature': {
    type: 'string',
    array: true,
    default: [] as string[],
    describe: 'Comma separated feature names to enable. Outpost always runs in agent mode; "agent" is accepted.',
  },
  'log.level': {
    type: 'string',
    default: 'info',
    choices: ['debug', 'info', 'warn', 'error'],
    describe: 'Only log messages with the given severity or above.',
  },
  'log.format': {
    type: 'string',
    default: 'logfmt',
    choices: ['logfmt', 'json'],
    describe: 'Output format of log messages.',
  },
  tui: {
    type: 'boolean',
    default: true,
    describe: 'Show the interactive terminal dashboard when stdout is a TTY (--no-tui: headless service mode).',
  },
  'storage.agent.wal-compression': { type: 'boolean', default: true, describe: 'Compress the agent WAL (snappy).' },
  'storage.agent.wal-segment-size': {
    type: 'string',
    default: '128MiB',
    describe: 'Size at which to split WAL segment files (10MiB to 256MiB).',
  },
  'storage.agent.no-lockfile': {
    type: 'boolean',
    default: false,
    describe: 'Do not create a lockfile in the data directory.',
  },
  'storage.agent.retention.min-time': {
    type: 'string',
    default: '5m',
    describe: 'Minimum age samples may be before being considered for deletion when the WAL is truncated.',
  },
  'storage.agent.retention.max-time': {
    type: 'string',
    default: '4h',
    describe: 'Maximum age samples may be before being forcibly deleted when the WAL is truncated.',
  },
  'storage.agent.wal-truncate-frequency': {
    type: 'string',
    default: '2h',
    describe: 'How often the WAL is truncated.',
  },
  'storage.agent.max-size': {
    type: 'string',
    default: '0',
    describe: 'Cap on WAL bytes on disk (e.g. 2GiB); beyond it the oldest segments are dropped (counted). 0 = no cap.',
  },
  'storage.agent.wal-fsync': {
    type: 'string',
    default: 'rotate',
    choices: ['rotate', 'always', 'never'],
    describe: 'When the WAL is fsynced: on segment rotation (like Prometheus), after every commit, or never.',
  },
  'storage.remote.flush-deadline': {
    type: 'string',
    default: '1m',
    describe: 'How long to wait flushing sample on shutdown or config reload.',
  },
} as const;

/** Long flags besides OPTIONS that the parser knows. */
const OTHER_FLAGS = ['help', 'version'];

/**
 * Refuses what yargs would silently accept or word badly: a single-value flag given twice (yargs
 * joins the values, so `--storage.agent.path=/a --storage.agent.path=/b` ran in "/a,/b"; Prometheus
 * refuses it with the same words), and an unknown flag, which gets the nearest known one.
 */
function checkFlagNames(argv: readonly string[]): void {
  const seen = new Set<string>();
  const known = [...Object.keys(OPTIONS), ...OTHER_FLAGS];
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    let name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!(name in OPTIONS) && name.startsWith('no-') && isBoolean(name.slice(3))) name = name.slice(3);
    if (!(name in OPTIONS) && !OTHER_FLAGS.includes(name)) {
      const near = closest(name, known);
      throw new FlagError(`unknown long flag '--${name}'` + (near ? `, did you mean '--${near}'?` : ''));
    }
    if (name in OPTIONS && !('array' in OPTIONS[name as keyof typeof OPTIONS])) {
      if (seen.has(name)) throw new FlagError(`flag '${name}' cannot be repeated`);
      seen.add(name);
    }
  }
}

function isBoolean(name: string): boolean {
  return name in OPTIONS && OPTIONS[name as keyof typeof OPTIONS].type === 'boolean';
}

/** Parses argv (without node and script). Throws FlagError naming the flag on bad values. */
export function parseFlags(argv: readonly string[]): Flags | { exit: number; output: string } {
  checkFlagNames(argv);
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
    .wrap(Math.min(120, process.stdout.columns || 100))
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

  const features = (a['enable-feature'] as string[])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const f of features) if (!KNOWN_FEATURES.has(f)) throw new FlagError(`--enable-feature: unknown feature "${f}"`);
  if (features.includes('otlp-deltatocumulative') && features.includes('otlp-native-delta-ingestion'))
    throw new FlagError(
      '--enable-feature: cannot enable otlp-deltatocumulative and otlp-native-delta-ingestion features at the same time',
    );

  const dur = (name: keyof typeof OPTIONS) => {
    try {
      return parseDuration(String(a[name]));
    } catch (err) {
      throw new FlagError(`--${name}: ${errorMessage(err)}`);
    }
  };
  const size = (name: keyof typeof OPTIONS) => {
    const v = String(a[name]);
    try {
      return v === '0' ? 0 : parseByteSize(v);
    } catch (err) {
      throw new FlagError(`--${name}: ${errorMessage(err)}`);
    }
  };
  const segSize = size('storage.agent.wal-segment-size');
  if (segSize < 10 * 1024 * 1024 || segSize > 256 * 1024 * 1024 || segSize % 32768 !== 0) {
    throw new FlagError('--storage.agent.wal-segment-size: must be between 10MiB and 256MiB and a multiple of 32KiB');
  }
  const listen = String(a['web.listen-address']);
  if (!/^(\[[0-9a-fA-F:.]*\]|[^:\s]*):\d{1,5}$/.test(listen))
    throw new FlagError(`--web.listen-address: "${listen}" is not host:port`);
  if (Number(listen.slice(listen.lastIndexOf(':') + 1)) > 65535)
    throw new FlagError(`--web.listen-address: "${listen}": invalid port (0 to 65535)`);

  // Normalised as Prometheus does: min <= 0 => 5m, max <= 0 => 4h, max >= min, max >= truncate frequency.
  let minTime = dur('storage.agent.retention.min-time');
  let maxTime = dur('storage.agent.retention.max-time');
  const truncFreq = dur('storage.agent.wal-truncate-frequency');
  if (minTime <= 0) minTime = 5 * 60_000;
  if (maxTime <= 0) maxTime = 4 * 3600_000;
  if (minTime > maxTime) maxTime = minTime;
  if (maxTime < truncFreq) maxTime = truncFreq;

  const all: Record<string, string> = {};
  for (const k of Object.keys(OPTIONS)) all[k] = Array.isArray(a[k]) ? (a[k] as string[]).join(',') : String(a[k]);

  return Object.freeze({
    command,
    checkFiles,
    configFile: String(a['config.file']),
    dataDir: String(a['storage.agent.path']),
    listenAddress: listen,
    enableFeatures: features,
    logLevel: a['log.level'] as LogLevel,
    logFormat: a['log.format'] as LogFormat,
    tui: Boolean(a.tui),
    walCompression: Boolean(a['storage.agent.wal-compression']),
    walSegmentSize: segSize,
    noLockfile: Boolean(a['storage.agent.no-lockfile']),
    retentionMinTime: minTime,
    retentionMaxTime: maxTime,
    truncateFrequency: truncFreq,
    maxSize: size('storage.agent.max-size'),
    flushDeadline: dur('storage.remote.flush-deadline'),
    enableLifecycle: Boolean(a['web.enable-lifecycle']),
    enableOtlpReceiver: Boolean(a['web.enable-otlp-receiver']) || features.includes('otlp-write-receiver'),
    otlpNativeDelta: features.includes('otlp-native-delta-ingestion'),
    otlpDeltaToCumulative: features.includes('otlp-deltatocumulative'),
    webConfigFile: String(a['web.config.file']),
    walFsync: a['storage.agent.wal-fsync'] as Flags['walFsync'],
    all,
  });
}

/**
 * Every command-line flag of a Prometheus 3.x agent (cmd/prometheus/main.go at v3.14.0, plus the
 * log flags of prometheus/common's promslog/flag), with its 3.x default as /api/v1/status/flags
 * prints it and its help text, and the few flags only Outpost has.
 *
 * `scope` says who may use a flag: `any` and `agent` flags work here; a `server` flag is parsed
 * (so a bad value still reads as a parse error) and then refused as a 3.x agent refuses it;
 * `outpost` flags are Outpost's own. Server flags stay out of --help (Outpost has no server mode)
 * but are listed by /api/v1/status/flags, as a 3.x agent lists them.
 */

type FlagKind = 'string' | 'boolean' | 'number' | 'list';

export interface FlagSpec {
  readonly kind: FlagKind;
  /** The default as 3.x shows it in /api/v1/status/flags (kingpin's Value.String()). */
  readonly default: string;
  readonly help: string;
  readonly scope: 'any' | 'agent' | 'server' | 'outpost';
  /** Left out of --help, as kingpin's Hidden() leaves it out. */
  readonly hidden?: boolean;
  readonly choices?: readonly string[];
}

const SERVER_SUFFIX = ' Use with server mode only.';
const AGENT_SUFFIX = ' Use with agent mode only.';
const ISSUE_7846 = 'See https://github.com/prometheus/prometheus/issues/7846 for more context.';
const REMOVED_LATER = 'Experimental. This flag will be removed in a future release.';

const any = (kind: FlagKind, def: string, help: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  kind,
  default: def,
  help,
  scope: 'any',
  ...extra,
});
const agent = (kind: FlagKind, def: string, help: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  kind,
  default: def,
  help: help + AGENT_SUFFIX,
  scope: 'agent',
  ...extra,
});
const server = (kind: FlagKind, def: string, help: string): FlagSpec => ({
  kind,
  default: def,
  help: help + SERVER_SUFFIX,
  scope: 'server',
  hidden: true,
});
const own = (kind: FlagKind, def: string, help: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  kind,
  default: def,
  help,
  scope: 'outpost',
  ...extra,
});

/** The remote-write messages 3.x knows (remoteapi.WriteV1MessageType, WriteV2MessageType). */
export const RW_PROTO_MESSAGES = ['prometheus.WriteRequest', 'io.prometheus.write.v2.Request'] as const;

/** In main.go's order; `log.*` come from promslogflag.AddFlags, called after `--agent`. */
export const FLAG_TABLE: Readonly<Record<string, FlagSpec>> = {
  'config.file': any('string', 'prometheus.yml', 'Prometheus configuration file path.'),
  'config.auto-reload': any(
    'boolean',
    'false',
    'Enable automatic configuration file reloading. See also --config.auto-reload-interval.',
  ),
  'config.auto-reload-interval': any(
    'string',
    '30s',
    'Specifies the interval for checking and automatically reloading the Prometheus configuration file upon ' +
      'detecting changes. Only used when --config.auto-reload is set.',
  ),
  'web.listen-address': any(
    'string',
    '0.0.0.0:9090',
    'Address to listen on for UI, API, and telemetry. Can be repeated.',
  ),
  // Go runtime settings: Outpost has no Go runtime; accepted so 3.x command lines keep working.
  'auto-gomaxprocs': any(
    'boolean',
    'true',
    'Automatically set GOMAXPROCS to match Linux container CPU quota (no effect in Outpost).',
  ),
  'auto-gomemlimit': any(
    'boolean',
    'true',
    'Automatically set GOMEMLIMIT to match Linux container or system memory limit (no effect in Outpost).',
  ),
  'auto-gomemlimit.ratio': any(
    'string',
    '0.9',
    'The ratio of reserved GOMEMLIMIT memory to the detected maximum container or system memory ' +
      '(no effect in Outpost).',
  ),
  'web.config.file': any(
    'string',
    '',
    '[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication.',
  ),
  'web.read-timeout': any(
    'string',
    '5m',
    'Maximum duration before timing out read of the request, and closing idle connections.',
  ),
  'web.max-connections': any('number', '512', 'Maximum number of simultaneous connections across all listeners.'),
  'web.max-notifications-subscribers': any(
    'number',
    '16',
    'Limits the maximum number of subscribers that can concurrently receive live notifications. If the limit is ' +
      'reached, new subscription requests will be denied until existing connections close.',
  ),
  'web.external-url': any(
    'string',
    '',
    'The URL under which Outpost is externally reachable (for example, if it is served via a reverse proxy). ' +
      'Used for generating relative and absolute links back to Outpost itself. If the URL has a path portion, ' +
      'it will be used to prefix all HTTP endpoints. If omitted, relevant URL components will be derived ' +
      'automatically.',
  ),
  'web.route-prefix': any(
    'string',
    '',
    'Prefix for the internal routes of web endpoints. Defaults to path of --web.external-url.',
  ),
  'web.user-assets': any('string', '', 'Path to static asset directory, available at /user.'),
  'web.enable-lifecycle': any('boolean', 'false', 'Enable shutdown and reload via HTTP request.'),
  'web.enable-admin-api': any('boolean', 'false', 'Enable API endpoints for admin control actions.'),
  'web.enable-remote-write-receiver': any('boolean', 'false', 'Enable API endpoint accepting remote write requests.'),
  'web.remote-write-receiver.accepted-protobuf-messages': any(
    'list',
    RW_PROTO_MESSAGES.join(','),
    'List of the remote write protobuf messages to accept when receiving the remote writes. Supported values: ' +
      RW_PROTO_MESSAGES.join(', '),
  ),
  'web.enable-otlp-receiver': any('boolean', 'false', 'Enable API endpoint accepting OTLP write requests.'),
  'web.console.templates': any('string', 'consoles', 'Path to the console template directory, available at /consoles.'),
  'web.console.libraries': any('string', 'console_libraries', 'Path to the console library directory.'),
  // 3.x's default is "Prometheus Time Series Collection and Processing Server"; Outpost names itself.
  'web.page-title': any('string', 'Outpost', 'Document title of the web UI.'),
  'web.cors.origin': any(
    'string',
    '.*',
    "Regex for CORS origin. It is fully anchored. Example: 'https?://(domain1|domain2)\\.com'",
  ),
  'storage.tsdb.path': server('string', 'data/', 'Base path for metrics storage.'),
  'storage.tsdb.min-block-duration': server(
    'string',
    '2h',
    'Minimum duration of a data block before being persisted. For use in testing.',
  ),
  'storage.tsdb.max-block-duration': server('string', '0s', 'Maximum duration compacted blocks may span.'),
  'storage.tsdb.max-block-chunk-segment-size': server(
    'string',
    '0B',
    'The maximum size for a single chunk segment in a block.',
  ),
  'storage.tsdb.wal-segment-size': server('string', '0B', 'Size at which to split the tsdb WAL segment files.'),
  // Shown as the retention the loaded config holds, 15d by default (main.go 770 after 716-726).
  'storage.tsdb.retention.time': server('string', '15d', '[DEPRECATED] How long to retain samples in storage.'),
  'storage.tsdb.retention.size': server(
    'string',
    '0B',
    '[DEPRECATED] Maximum number of bytes that can be stored for blocks.',
  ),
  'storage.tsdb.no-lockfile': server('boolean', 'false', 'Do not create lockfile in data directory.'),
  'storage.tsdb.allow-overlapping-compaction': server('boolean', 'true', 'Allow compaction of overlapping blocks.'),
  'storage.tsdb.wal-compression': server('boolean', 'true', 'Compress the tsdb WAL.'),
  'storage.tsdb.wal-compression-type': server('string', 'snappy', 'Compression algorithm for the tsdb WAL.'),
  'storage.tsdb.head-chunks-write-queue-size': server(
    'number',
    '0',
    'Size of the queue through which head chunks are written to the disk to be m-mapped.',
  ),
  'storage.tsdb.samples-per-chunk': server('number', '120', 'Target number of samples per chunk.'),
  'storage.tsdb.delayed-compaction.max-percent': server(
    'number',
    '10',
    'Sets the upper limit for the random compaction delay.',
  ),
  'storage.tsdb.delay-compact-file.path': server('string', '', 'Path to a JSON file with uploaded TSDB blocks.'),
  'storage.tsdb.block-reload-interval': server(
    'string',
    '1m',
    'Interval at which to check for new or removed blocks in storage.',
  ),
  'storage.agent.path': agent('string', 'data-agent/', 'Base path for metrics storage.'),
  // 0B: the default segment size, 128MiB (tsdb/agent/db.go validateOptions).
  'storage.agent.wal-segment-size': agent('string', '0B', 'Size at which to split WAL segment files. Example: 100MB', {
    hidden: true,
  }),
  'storage.agent.wal-compression': agent(
    'boolean',
    'true',
    'Compress the agent WAL. If false, the --storage.agent.wal-compression-type flag is ignored.',
  ),
  'storage.agent.wal-compression-type': agent(
    'string',
    'snappy',
    'Compression algorithm for the agent WAL, used when --storage.agent.wal-compression is true.',
    { hidden: true, choices: ['snappy', 'zstd'] },
  ),
  // 0s: the default frequency, 2h (tsdb/agent/db.go validateOptions).
  'storage.agent.wal-truncate-frequency': agent(
    'string',
    '0s',
    'The frequency at which to truncate the WAL and remove old data.',
    { hidden: true },
  ),
  'storage.agent.retention.min-time': agent(
    'string',
    '5m',
    'Minimum age samples may be before being considered for deletion when the WAL is truncated',
  ),
  'storage.agent.retention.max-time': agent(
    'string',
    '4h',
    'Maximum age samples may be before being forcibly deleted when the WAL is truncated',
  ),
  'storage.agent.checkpoint-from-in-memory-series': agent(
    'boolean',
    'false',
    'Use only in-memory series data when building a checkpoint.',
  ),
  'storage.agent.checkpoint-batch-size': agent(
    'number',
    '1000',
    'Size of a single WAL log entry chunk to be flushed. Has no effect without ' +
      '--storage.agent.checkpoint-from-in-memory-series flag.',
  ),
  'storage.agent.no-lockfile': agent('boolean', 'false', 'Do not create lockfile in data directory.'),
  'storage.remote.flush-deadline': any(
    'string',
    '1m',
    'How long to wait flushing sample on shutdown or config reload.',
  ),
  'storage.remote.read-sample-limit': server(
    'number',
    '50000000',
    'Maximum overall number of samples to return via the remote read interface, in a single query.',
  ),
  'storage.remote.read-concurrent-limit': server('number', '10', 'Maximum number of concurrent remote read calls.'),
  'storage.remote.read-max-bytes-in-frame': server(
    'number',
    '1048576',
    'Maximum number of bytes in a single frame for streaming remote read response types.',
  ),
  'web.search.max-limit': server('number', '10000', 'Hard upper bound on the "limit" query parameter of search.'),
  'rules.alert.for-outage-tolerance': server(
    'string',
    '1h',
    'Max time to tolerate prometheus outage for restoring "for" state of alert.',
  ),
  'rules.alert.for-grace-period': server('string', '10m', 'Minimum duration between alert and restored "for" state.'),
  'rules.alert.resend-delay': server(
    'string',
    '1m',
    'Minimum amount of time to wait before resending an alert to Alertmanager.',
  ),
  'rules.max-concurrent-evals': server('number', '4', 'Global concurrency limit for independent rules.'),
  'scrape.adjust-timestamps': any(
    'boolean',
    'true',
    'Adjust scrape timestamps by up to `scrape.timestamp-tolerance` to align them to the intended schedule. ' +
      `${ISSUE_7846} ${REMOVED_LATER}`,
    { hidden: true },
  ),
  'scrape.timestamp-tolerance': any('string', '2ms', `Timestamp tolerance. ${ISSUE_7846} ${REMOVED_LATER}`, {
    hidden: true,
  }),
  'alertmanager.notification-queue-capacity': server(
    'number',
    '10000',
    'The capacity of the queue for pending Alertmanager notifications.',
  ),
  'alertmanager.notification-batch-size': server(
    'number',
    '256',
    'The maximum number of notifications per batch to send to the Alertmanager.',
  ),
  'alertmanager.drain-notification-queue-on-shutdown': server(
    'boolean',
    'true',
    'Send any outstanding Alertmanager notifications when shutting down.',
  ),
  'query.lookback-delta': server('string', '5m', 'The maximum lookback duration for retrieving metrics.'),
  'query.timeout': server('string', '2m', 'Maximum time a query may take before being aborted.'),
  'query.max-concurrency': server('number', '20', 'Maximum number of queries executed concurrently.'),
  'query.max-samples': server('number', '50000000', 'Maximum number of samples a single query can load into memory.'),
  'scrape.discovery-reload-interval': any(
    'string',
    '5s',
    'Interval used by scrape manager to throttle target groups updates.',
    { hidden: true },
  ),
  'enable-feature': any(
    'list',
    '',
    'Comma separated feature names to enable. Outpost runs in agent mode whether or not "agent" is given. ' +
      'See https://prometheus.io/docs/prometheus/latest/feature_flags/ for more details.',
  ),
  agent: any('boolean', 'false', "Run Prometheus in 'Agent mode'. Outpost always runs in agent mode."),
  'log.level': any(
    'string',
    'info',
    'Only log messages with the given severity or above. One of: [debug, info, warn, error]',
    {
      choices: ['debug', 'info', 'warn', 'error'],
    },
  ),
  'log.format': any('string', 'logfmt', 'Output format of log messages. One of: [logfmt, json]', {
    choices: ['logfmt', 'json'],
  }),
  'write-documentation': any('boolean', 'false', 'Generate command line documentation. Internal use.', {
    hidden: true,
  }),
  tui: own(
    'boolean',
    'true',
    'Show the interactive terminal dashboard when stdout is a TTY (--no-tui: headless service mode).',
  ),
  'storage.agent.max-size': own(
    'string',
    '0',
    'Cap on WAL bytes on disk (e.g. 2GiB); beyond it the oldest segments are dropped (counted). 0 = no cap.',
  ),
  'storage.agent.wal-fsync': own(
    'string',
    'rotate',
    'When the WAL is fsynced: on segment rotation (like Prometheus), after every commit, or never.',
    { choices: ['rotate', 'always', 'never'] },
  ),
};

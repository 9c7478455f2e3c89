import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { AgentModeFlagError, FlagError, parseFlags, type Flags } from '../../src/cli/flags.ts';
import { ROOT } from '../helpers/procs.ts';
import { fakeAgent, request, startServer } from '../web/helpers.ts';

/**
 * The flags of a Prometheus 3.x agent. Facts from prometheus/prometheus v3.14.0,
 * cmd/prometheus/main.go (line of each a.Flag / serverOnlyFlag / agentOnlyFlag call), and
 * prometheus/common v0.70.1 promslog/flag/flag.go for log.level and log.format. `shown` is the
 * value a 3.x agent started without the flag lists in /api/v1/status/flags (main.go 1066-1075 lists
 * every flag of the kingpin model but kingpin's own help/version/completion flags).
 */
interface Flag3x {
  name: string;
  line: number;
  scope: 'any' | 'agent' | 'server';
  shown: string;
}

const FLAGS_3X: Flag3x[] = [
  { name: 'config.file', line: 415, scope: 'any', shown: 'prometheus.yml' },
  { name: 'config.auto-reload', line: 418, scope: 'any', shown: 'false' },
  { name: 'config.auto-reload-interval', line: 421, scope: 'any', shown: '30s' },
  { name: 'web.listen-address', line: 424, scope: 'any', shown: '0.0.0.0:9090' },
  { name: 'auto-gomaxprocs', line: 427, scope: 'any', shown: 'true' },
  { name: 'auto-gomemlimit', line: 429, scope: 'any', shown: 'true' },
  { name: 'auto-gomemlimit.ratio', line: 431, scope: 'any', shown: '0.9' },
  { name: 'web.config.file', line: 434, scope: 'any', shown: '' },
  { name: 'web.read-timeout', line: 439, scope: 'any', shown: '5m' },
  { name: 'web.max-connections', line: 443, scope: 'any', shown: '512' },
  { name: 'web.max-notifications-subscribers', line: 446, scope: 'any', shown: '16' },
  { name: 'web.external-url', line: 449, scope: 'any', shown: '' },
  // main.go 776-781 normalises the prefix before the map is built: "/" at the root.
  { name: 'web.route-prefix', line: 453, scope: 'any', shown: '/' },
  { name: 'web.user-assets', line: 457, scope: 'any', shown: '' },
  { name: 'web.enable-lifecycle', line: 460, scope: 'any', shown: 'false' },
  { name: 'web.enable-admin-api', line: 463, scope: 'any', shown: 'false' },
  { name: 'web.enable-remote-write-receiver', line: 468, scope: 'any', shown: 'false' },
  {
    name: 'web.remote-write-receiver.accepted-protobuf-messages',
    line: 472,
    scope: 'any',
    shown: 'prometheus.WriteRequest,io.prometheus.write.v2.Request',
  },
  { name: 'web.enable-otlp-receiver', line: 475, scope: 'any', shown: 'false' },
  { name: 'web.console.templates', line: 478, scope: 'any', shown: 'consoles' },
  { name: 'web.console.libraries', line: 481, scope: 'any', shown: 'console_libraries' },
  // 3.x: "Prometheus Time Series Collection and Processing Server"; Outpost's UI names itself.
  { name: 'web.page-title', line: 484, scope: 'any', shown: 'Outpost' },
  { name: 'web.cors.origin', line: 487, scope: 'any', shown: '.*' },
  { name: 'storage.tsdb.path', line: 490, scope: 'server', shown: 'data/' },
  { name: 'storage.tsdb.min-block-duration', line: 493, scope: 'server', shown: '2h' },
  { name: 'storage.tsdb.max-block-duration', line: 496, scope: 'server', shown: '0s' },
  { name: 'storage.tsdb.max-block-chunk-segment-size', line: 500, scope: 'server', shown: '0B' },
  { name: 'storage.tsdb.wal-segment-size', line: 504, scope: 'server', shown: '0B' },
  // main.go 770: the value shown is the retention of the loaded config, 15d by default (main.go 143, 716-726).
  { name: 'storage.tsdb.retention.time', line: 508, scope: 'server', shown: '15d' },
  { name: 'storage.tsdb.retention.size', line: 511, scope: 'server', shown: '0B' },
  { name: 'storage.tsdb.no-lockfile', line: 514, scope: 'server', shown: 'false' },
  { name: 'storage.tsdb.allow-overlapping-compaction', line: 517, scope: 'server', shown: 'true' },
  { name: 'storage.tsdb.wal-compression', line: 525, scope: 'server', shown: 'true' },
  { name: 'storage.tsdb.wal-compression-type', line: 528, scope: 'server', shown: 'snappy' },
  { name: 'storage.tsdb.head-chunks-write-queue-size', line: 531, scope: 'server', shown: '0' },
  { name: 'storage.tsdb.samples-per-chunk', line: 534, scope: 'server', shown: '120' },
  { name: 'storage.tsdb.delayed-compaction.max-percent', line: 537, scope: 'server', shown: '10' },
  { name: 'storage.tsdb.delay-compact-file.path', line: 540, scope: 'server', shown: '' },
  { name: 'storage.tsdb.block-reload-interval', line: 543, scope: 'server', shown: '1m' },
  { name: 'storage.agent.path', line: 546, scope: 'agent', shown: 'data-agent/' },
  { name: 'storage.agent.wal-segment-size', line: 549, scope: 'agent', shown: '0B' },
  { name: 'storage.agent.wal-compression', line: 557, scope: 'agent', shown: 'true' },
  { name: 'storage.agent.wal-compression-type', line: 560, scope: 'agent', shown: 'snappy' },
  { name: 'storage.agent.wal-truncate-frequency', line: 563, scope: 'agent', shown: '0s' },
  { name: 'storage.agent.retention.min-time', line: 571, scope: 'agent', shown: '5m' },
  { name: 'storage.agent.retention.max-time', line: 575, scope: 'agent', shown: '4h' },
  { name: 'storage.agent.checkpoint-from-in-memory-series', line: 579, scope: 'agent', shown: 'false' },
  { name: 'storage.agent.checkpoint-batch-size', line: 582, scope: 'agent', shown: '1000' },
  { name: 'storage.agent.no-lockfile', line: 585, scope: 'agent', shown: 'false' },
  { name: 'storage.remote.flush-deadline', line: 588, scope: 'any', shown: '1m' },
  { name: 'storage.remote.read-sample-limit', line: 591, scope: 'server', shown: '50000000' },
  { name: 'storage.remote.read-concurrent-limit', line: 594, scope: 'server', shown: '10' },
  { name: 'storage.remote.read-max-bytes-in-frame', line: 597, scope: 'server', shown: '1048576' },
  { name: 'web.search.max-limit', line: 600, scope: 'server', shown: '10000' },
  { name: 'rules.alert.for-outage-tolerance', line: 603, scope: 'server', shown: '1h' },
  { name: 'rules.alert.for-grace-period', line: 606, scope: 'server', shown: '10m' },
  { name: 'rules.alert.resend-delay', line: 609, scope: 'server', shown: '1m' },
  { name: 'rules.max-concurrent-evals', line: 612, scope: 'server', shown: '4' },
  { name: 'scrape.adjust-timestamps', line: 615, scope: 'any', shown: 'true' },
  { name: 'scrape.timestamp-tolerance', line: 618, scope: 'any', shown: '2ms' },
  { name: 'alertmanager.notification-queue-capacity', line: 621, scope: 'server', shown: '10000' },
  // notifier.DefaultMaxBatchSize = 256 (notifier/notifier.go 37).
  { name: 'alertmanager.notification-batch-size', line: 624, scope: 'server', shown: '256' },
  { name: 'alertmanager.drain-notification-queue-on-shutdown', line: 627, scope: 'server', shown: 'true' },
  { name: 'query.lookback-delta', line: 630, scope: 'server', shown: '5m' },
  { name: 'query.timeout', line: 633, scope: 'server', shown: '2m' },
  { name: 'query.max-concurrency', line: 636, scope: 'server', shown: '20' },
  { name: 'query.max-samples', line: 639, scope: 'server', shown: '50000000' },
  { name: 'scrape.discovery-reload-interval', line: 642, scope: 'any', shown: '5s' },
  { name: 'enable-feature', line: 645, scope: 'any', shown: '' },
  // A 3.x agent runs only with --agent given, so it always lists true.
  { name: 'agent', line: 648, scope: 'any', shown: 'true' },
  // promslog/flag/flag.go AddFlags, called at main.go 650.
  { name: 'log.level', line: 650, scope: 'any', shown: 'info' },
  { name: 'log.format', line: 650, scope: 'any', shown: 'logfmt' },
  { name: 'write-documentation', line: 652, scope: 'any', shown: 'false' },
];

/** Outpost's own flags, listed besides the 3.x ones. */
const OUTPOST_ONLY = ['tui', 'storage.agent.max-size', 'storage.agent.wal-fsync'];

function parsed(argv: string[]): Flags {
  const f = parseFlags(argv);
  if ('exit' in f) throw new Error(`unexpected exit ${f.exit}`);
  return f;
}

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'src/main.ts'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('/api/v1/status/flags lists every flag of a 3.x agent, with 3.x defaults, plus Outpost-only ones', async (t) => {
  const fake = fakeAgent();
  fake.deps.flags = parsed([]).all;
  const s = await startServer(fake.deps);
  t.teardown(() => s.close());
  const all = ((await request(`${s.base}/api/v1/status/flags`)).json() as { data: Record<string, string> }).data;
  for (const f of FLAGS_3X) t.is(all[f.name], f.shown, `${f.name} (main.go:${f.line})`);
  const extra = Object.keys(all).filter((k) => !FLAGS_3X.some((f) => f.name === k));
  t.deepEqual(extra.sort(), [...OUTPOST_ONLY].sort());
});

test('every flag an agent may use is accepted; values given show as given', (t) => {
  const agentFlags = FLAGS_3X.filter((f) => f.scope !== 'server');
  const argv: string[] = [];
  const values: Record<string, string> = {
    'config.auto-reload': 'true',
    'config.auto-reload-interval': '10s',
    'web.listen-address': '127.0.0.1:0',
    'auto-gomemlimit.ratio': '0.5',
    'web.max-connections': '7',
    'web.max-notifications-subscribers': '3',
    'storage.agent.checkpoint-batch-size': '50',
    'storage.agent.wal-segment-size': '64MiB',
    'storage.agent.wal-truncate-frequency': '1h',
    'storage.agent.wal-compression-type': 'snappy',
    'web.remote-write-receiver.accepted-protobuf-messages': 'io.prometheus.write.v2.Request',
    'scrape.timestamp-tolerance': '5ms',
    'scrape.discovery-reload-interval': '1s',
    'enable-feature': 'agent',
  };
  const skip = new Set(['write-documentation', 'web.enable-remote-write-receiver', 'web.user-assets']);
  for (const f of agentFlags) {
    if (skip.has(f.name)) continue;
    const v = values[f.name] ?? (f.shown === 'true' || f.shown === 'false' ? f.shown : f.shown || 'x');
    argv.push(`--${f.name}=${v}`);
  }
  const flags = parsed(argv);
  t.is(flags.all['config.auto-reload-interval'], '10s');
  // model.Duration and units.Base2Bytes print themselves canonically.
  t.is(parsed(['--storage.agent.retention.min-time=300s']).all['storage.agent.retention.min-time'], '5m');
  t.is(parsed(['--storage.agent.wal-segment-size=131072KiB']).all['storage.agent.wal-segment-size'], '128MiB');
  t.is(flags.all['storage.agent.checkpoint-batch-size'], '50');
  t.true(flags.autoReload);
  t.is(flags.autoReloadInterval, 10_000);
  t.is(flags.walSegmentSize, 64 * 1024 * 1024);
  t.is(flags.truncateFrequency, 3600_000);
});

test('defaults that mean "the agent default" resolve as tsdb/agent/db.go validateOptions resolves them', (t) => {
  const f = parsed([]);
  // db.go 381-383: segment size <= 0 -> wlog.DefaultSegmentSize (128MiB); 393-395: truncate frequency 2h.
  t.is(f.walSegmentSize, 128 * 1024 * 1024);
  t.is(f.truncateFrequency, 2 * 3600_000);
  t.is(f.retentionMinTime, 5 * 60_000);
  t.is(f.retentionMaxTime, 4 * 3600_000);
  t.false(f.autoReload);
  t.is(f.autoReloadInterval, 30_000);
  t.false(f.enableOtlpReceiver);
  t.is(f.walCompressionType, 'snappy');
  // main.go 560-561: an enum of snappy and zstd.
  t.is(parsed(['--storage.agent.wal-compression-type=zstd']).walCompressionType, 'zstd');
  t.throws(() => parsed(['--storage.agent.wal-compression-type=lz4']), { instanceOf: FlagError });
  // main.go 532-534 (check at 1531-1533): a set size must be between 10MB and 256MB.
  t.throws(() => parsed(['--storage.agent.wal-segment-size=5MB']), {
    instanceOf: FlagError,
    message: /flag 'storage\.agent\.wal-segment-size' must be set between 10MB and 256MB/,
  });
});

test('--agent and --enable-feature=agent both run the agent', (t) => {
  t.is(parsed(['--agent']).all.agent, 'true');
  t.deepEqual(parsed(['--enable-feature=agent']).warnings, []);
  t.deepEqual(parsed(['--agent', '--enable-feature=agent']).enableFeatures, ['agent']);
});

test('--enable-feature values: 3.x log lines, and unknown ones only warn (main.go setFeatureListOptions)', (t) => {
  const cases: { feature: string; msg: RegExp }[] = [
    // main.go 253-255: deprecated, but it still turns auto-reload on.
    { feature: 'auto-reload-config', msg: /deprecated\. Use --config\.auto-reload instead/ },
    // main.go 262-263.
    { feature: 'native-histograms', msg: /is a no-op\. To scrape native histograms, set the scrape_native_histograms/ },
    // main.go 260-261, 264-265.
    { feature: 'promql-duration-expr', msg: /now permanently enabled and therefore a no-op/ },
    { feature: 'ooo-native-histograms', msg: /now permanently enabled and therefore a no-op/ },
    // main.go 344-345: the default case.
    { feature: 'warp-drive', msg: /^Unknown option for --enable-feature$/ },
    { feature: 'exemplar-storage', msg: /no effect in agent mode/ },
    { feature: 'metadata-wal-records', msg: /not implemented by Outpost/ },
  ];
  for (const c of cases) {
    const f = parsed([`--enable-feature=${c.feature}`]);
    t.is(f.warnings.length, 1, c.feature);
    t.regex(f.warnings[0]?.msg ?? '', c.msg, c.feature);
    t.deepEqual(f.warnings[0]?.fields, { option: c.feature });
  }
  t.true(parsed(['--enable-feature=auto-reload-config']).autoReload);
  // main.go 348-350.
  t.throws(() => parsed(['--enable-feature=otlp-deltatocumulative,otlp-native-delta-ingestion']), {
    message: /cannot enable otlp-deltatocumulative and otlp-native-delta-ingestion features at the same time/,
  });
});

test('a server-only flag gets the 3.x error and exit code 3 (main.go 690-693)', (t) => {
  t.throws(() => parsed(['--storage.tsdb.path=/x']), {
    instanceOf: AgentModeFlagError,
    message: 'The following flag(s) can not be used in agent mode: ["--storage.tsdb.path"]',
  });
  t.throws(() => parsed(['--query.timeout', '1m', '--storage.tsdb.no-lockfile', '--agent']), {
    message: 'The following flag(s) can not be used in agent mode: ["--query.timeout" "--storage.tsdb.no-lockfile"]',
  });
  const r = run(['--storage.tsdb.retention.time=1d', '--no-tui']);
  t.is(r.code, 3, r.err);
  t.regex(r.err, /The following flag\(s\) can not be used in agent mode: \["--storage\.tsdb\.retention\.time"\]/);
});

test('--web.listen-address can be repeated, as in 3.x (main.go 424-425); other single flags cannot', (t) => {
  const f = parsed(['--web.listen-address=127.0.0.1:9090', '--web.listen-address', '[::1]:9090']);
  t.deepEqual(f.listenAddresses, ['127.0.0.1:9090', '[::1]:9090']);
  t.is(f.listenAddress, '127.0.0.1:9090');
  t.is(f.all['web.listen-address'], '127.0.0.1:9090,[::1]:9090');
  t.deepEqual(parsed([]).listenAddresses, ['0.0.0.0:9090']);
  t.throws(() => parsed(['--web.listen-address=127.0.0.1:1', '--web.listen-address=nope']), {
    message: /"nope" is not host:port/,
  });
});

test('range checks 3.x makes after parsing', (t) => {
  // main.go 695-698 and 700-703.
  t.throws(() => parsed(['--storage.agent.checkpoint-batch-size=0']), {
    message: '--storage.agent.checkpoint-batch-size must be greater than 0.',
  });
  t.throws(() => parsed(['--auto-gomemlimit.ratio=1.5']), {
    message: '--auto-gomemlimit.ratio must be greater than 0 and less than or equal to 1.',
  });
  // main.go 681-684: under one second becomes one second.
  t.is(parsed(['--config.auto-reload-interval=10ms']).autoReloadInterval, 1000);
  t.is(parsed(['--config.auto-reload-interval=10ms']).all['config.auto-reload-interval'], '1s');
  t.throws(() => parsed(['--web.remote-write-receiver.accepted-protobuf-messages=foo']), {
    message: /unknown remote write protobuf message foo/,
  });
});

test('--help shows the agent flags with 3.x help text and hides hidden and server-only ones', (t) => {
  const h = parseFlags(['--help']);
  if (!('exit' in h)) return t.fail('expected help');
  // yargs wraps both columns (long names too): compare without whitespace.
  const squash = (s: string) => s.replace(/\s+/g, '');
  const out = squash(h.output);
  for (const text of [
    '--config.auto-reload-interval Specifies the interval for checking and automatically reloading the Prometheus ' +
      'configuration file upon detecting changes. Only used when --config.auto-reload is set.',
    '--storage.agent.checkpoint-from-in-memory-series Use only in-memory series data when building a checkpoint. ' +
      'Use with agent mode only.',
    '--web.enable-otlp-receiver Enable API endpoint accepting OTLP write requests.',
    '--storage.agent.retention.min-time Minimum age samples may be before being considered for deletion when the WAL ' +
      'is truncated Use with agent mode only.',
  ])
    t.true(out.includes(squash(text)), text);
  // Hidden() in main.go 549-551, 560, 563-565, 615-619, 642-643; server-only ones are Outpost's choice.
  for (const hidden of [
    '--storage.agent.wal-segment-size',
    '--storage.agent.wal-truncate-frequency',
    '--scrape.timestamp-tolerance',
    '--storage.tsdb.path',
  ])
    t.false(out.includes(`${hidden}`), hidden);
});

test('--write-documentation prints the flags as Markdown and exits 0', (t) => {
  const r = run(['--write-documentation']);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /\| <code class="text-nowrap">--config\.auto-reload<\/code> \|/);
});

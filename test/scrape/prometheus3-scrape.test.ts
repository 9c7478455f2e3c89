/**
 * Prometheus 3 scrape semantics at the scrape manager, against real loopback targets: the Accept
 * header per name escaping scheme and protocol list, Content-Type without a fallback, UTF-8 names
 * served to a legacy job, and scrape_failure_log_file.
 */
import test from 'ava';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { freePort, tmpDir, waitUntil } from '../helpers/procs.ts';
import { metricsServer, newLoop, scrapeManager, TEXT_FORMAT } from '../helpers/scrape-loop.ts';
import { memoryLogger } from '../../src/log/logger.ts';

const OM_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=%;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,' +
  'text/plain;version=1.0.0;escaping=%;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

// scrape/scrape.go acceptHeader (v3.14.0 lines 705-721) with the job's escaping scheme, which
// config.go ScrapeConfig.Validate (lines 993-1029) derives from the validation scheme when unset.
const acceptCases: [string, string, string][] = [
  ['defaults (utf8)', '', OM_ACCEPT.replaceAll('%', 'allow-utf-8')],
  ['legacy names', 'metric_name_validation_scheme: legacy', OM_ACCEPT.replaceAll('%', 'underscores')],
  [
    'legacy names with dots escaping',
    'metric_name_validation_scheme: legacy\n    metric_name_escaping_scheme: dots',
    OM_ACCEPT.replaceAll('%', 'dots'),
  ],
  ['utf8 with values escaping', 'metric_name_escaping_scheme: values', OM_ACCEPT.replaceAll('%', 'values')],
  [
    'one protocol',
    'scrape_protocols: [PrometheusText1.0.0]',
    'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5',
  ],
];

for (const [name, extra, want] of acceptCases) {
  test(`Accept header: ${name}`, async (t) => {
    const target = await metricsServer(t);
    target.set(200, 'a 1\n');
    const { scrapeAll } = await scrapeManager(
      t,
      `  - job_name: j\n    ${extra}\n    static_configs: [{targets: ['127.0.0.1:${target.port}']}]`,
    );
    await scrapeAll();
    t.is(target.lastHeaders().accept, want);
    t.is(target.lastHeaders()['accept-encoding'], 'gzip');
  });
}

test('enable_compression: false asks for identity', async (t) => {
  const target = await metricsServer(t);
  target.set(200, 'a 1\n');
  const { scrapeAll } = await scrapeManager(
    t,
    `  - job_name: j\n    enable_compression: false\n    static_configs: [{targets: ['127.0.0.1:${target.port}']}]`,
  );
  await scrapeAll();
  t.is(target.lastHeaders()['accept-encoding'], 'identity');
});

// model/textparse/interface.go extractMediaType (v3.14.0 lines 93-123); 2.42 read these bodies as text.
const contentTypeCases: [string, string, string, string][] = [
  [
    'blank, no fallback',
    '',
    '',
    'non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target',
  ],
  [
    'unknown, no fallback',
    'application/json',
    '',
    'received unsupported Content-Type "application/json" and no fallback_scrape_protocol specified for target',
  ],
  ['blank with a text fallback', '', 'fallback_scrape_protocol: PrometheusText0.0.4', ''],
  ['unknown with an OpenMetrics fallback', 'application/json', 'fallback_scrape_protocol: OpenMetricsText1.0.0', ''],
];
for (const [name, contentType, extra, wantError] of contentTypeCases) {
  test(`Content-Type ${name}`, async (t) => {
    const target = await metricsServer(t);
    target.set(200, 'a 1\n# EOF\n', contentType);
    const { mgr, scrapeAll } = await scrapeManager(
      t,
      `  - job_name: j\n    ${extra}\n    static_configs: [{targets: ['127.0.0.1:${target.port}']}]`,
    );
    await scrapeAll();
    const [st] = mgr.targets();
    t.is(st?.lastError, wantError);
    t.is(st?.health, wantError === '' ? 'up' : 'down');
  });
}

test('an empty body with a blank Content-Type is an empty scrape, not a failure (3.x)', async (t) => {
  const target = await metricsServer(t);
  target.set(200, '', '');
  const { mgr, scrapeAll } = await scrapeManager(
    t,
    `  - job_name: j\n    static_configs: [{targets: ['127.0.0.1:${target.port}']}]`,
  );
  await scrapeAll();
  t.is(mgr.targets()[0]?.health, 'up');
});

// A target that ignores escaping=underscores and serves UTF-8 names to a legacy job: 3.x parses
// the names, then fails the scrape (scrape/scrape.go v3.14.0 line 1730) with the label set quoted
// as model/labels Labels.String does. A utf8 job takes the same body.
const legacyCases: [string, string, string][] = [
  [
    'quoted metric name',
    '{"my.metric","a.b"="v"} 1\n',
    'invalid metric name or label names: {__name__="my.metric", "a.b"="v", instance="127.0.0.1:PORT", job="j"}',
  ],
  [
    'quoted label name on a legacy metric',
    'ok{"a.b"="v"} 1\n',
    'invalid metric name or label names: {__name__="ok", "a.b"="v", instance="127.0.0.1:PORT", job="j"}',
  ],
];
for (const [name, body, wantError] of legacyCases) {
  for (const scheme of ['legacy', 'utf8'] as const) {
    test(`UTF-8 names served to a ${scheme} job: ${name}`, async (t) => {
      const target = await metricsServer(t);
      target.set(200, body, TEXT_FORMAT);
      const { mgr, scrapeAll } = await scrapeManager(
        t,
        `  - job_name: j\n    metric_name_validation_scheme: ${scheme}\n` +
          `    static_configs: [{targets: ['127.0.0.1:${target.port}']}]`,
      );
      await scrapeAll();
      const [st] = mgr.targets();
      t.is(st?.lastError, scheme === 'legacy' ? wantError.replace('PORT', String(target.port)) : '');
    });
  }
}

test('scrape_failure_log_file: one JSON line per failed fetch, reopened on reload', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'failures.log');
  const failing = await metricsServer(t);
  failing.set(500, 'oops');
  const unparsable = await metricsServer(t);
  unparsable.set(200, '}{ not metrics\n');
  const dead = await freePort();
  const jobs =
    `  - job_name: j\n    scrape_failure_log_file: ${file}\n` +
    `    static_configs: [{targets: ['127.0.0.1:${failing.port}', '127.0.0.1:${dead}', '127.0.0.1:${unparsable.port}']}]\n` +
    `  - job_name: quiet\n    static_configs: [{targets: ['127.0.0.1:${failing.port}']}]`;
  const { mgr, scrapeAll } = await scrapeManager(t, jobs);
  await scrapeAll();
  const lines = (await fsp.readFile(file, 'utf8')).trimEnd().split('\n');
  const entries = lines.map((l) => JSON.parse(l) as Record<string, string>);
  // The HTTP failures of job j only: no line for the parse error (3.x logs scrapeErr, not appErr)
  // nor for job quiet, which names no file.
  t.deepEqual(entries.map((e) => e.target).sort(), [
    `http://127.0.0.1:${dead}/metrics`,
    `http://127.0.0.1:${failing.port}/metrics`,
  ]);
  for (const e of entries) {
    t.deepEqual(Object.keys(e), ['time', 'level', 'msg', 'job_name', 'target']);
    t.is(e.level, 'ERROR');
    t.is(e.job_name, 'j');
    t.regex(e.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/);
  }
  t.is(
    entries.find((e) => e.target?.includes(String(failing.port)))?.msg,
    'server returned HTTP status 500 Internal Server Error',
  );

  // A rotated file is recreated by the next reload, for unchanged jobs too.
  await fsp.rename(file, `${file}.1`);
  const cfg = parseConfig(
    `global:\n  scrape_interval: 5s\n  scrape_timeout: 5s\nscrape_configs:\n${jobs}\n`,
    'test.yml',
  );
  await mgr.applyConfig(cfg.scrapeConfigs);
  await scrapeAll();
  const lineCount = async (): Promise<number> =>
    (await fsp.readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').length;
  await waitUntil(async () => (await lineCount()) >= 2, 15_000, 'two failure lines in the reopened file');
  t.is(await lineCount(), 2);
});

test('a Content-Type without a format is logged at error level, a fallback at debug level, as 3.x', async (t) => {
  const target = await metricsServer(t);
  target.set(200, 'a 1\n', 'application/json');
  const log = memoryLogger();
  await newLoop(target.url, { log }).scrape(1_700_000_000_000);
  t.true(
    log.lines.some(
      (l) =>
        l.includes('level=error') &&
        l.includes('msg="Failed to determine correct type of scrape target."') &&
        l.includes('content_type=application/json'),
    ),
    log.lines.join('\n'),
  );
  const quiet = memoryLogger();
  await newLoop(target.url, { log: quiet, options: { fallbackProtocol: 'PrometheusText0.0.4' } }).scrape(
    1_700_000_000_000,
  );
  t.true(
    quiet.lines.some(
      (l) =>
        l.includes('level=debug') &&
        l.includes('Invalid content type on scrape, using fallback setting.') &&
        l.includes('received unsupported Content-Type'),
    ),
    quiet.lines.join('\n'),
  );
  t.false(quiet.lines.some((l) => l.includes('level=error')));
});

test('relabeling away __name__ fails the scrape with Prometheus errNameLabelMandatory', async (t) => {
  const target = await metricsServer(t);
  target.set(200, 'a 1\n');
  const { mgr, scrapeAll } = await scrapeManager(
    t,
    `  - job_name: j\n    metric_relabel_configs: [{action: labeldrop, regex: __name__}]\n` +
      `    static_configs: [{targets: ['127.0.0.1:${target.port}']}]`,
  );
  await scrapeAll();
  t.is(mgr.targets()[0]?.lastError, 'missing metric name (__name__ label)');
});

// Target labels are accepted as UTF-8 whatever the scheme (model.LabelName); a legacy job then fails
// each scrape on the series that carry them, as 3.x's lset.IsValid does.
for (const scheme of ['legacy', 'utf8'] as const) {
  test(`a UTF-8 target label under a ${scheme} job`, async (t) => {
    const target = await metricsServer(t);
    target.set(200, 'a 1\n');
    const { mgr, scrapeAll } = await scrapeManager(
      t,
      `  - job_name: j\n    metric_name_validation_scheme: ${scheme}\n` +
        `    static_configs: [{targets: ['127.0.0.1:${target.port}'], labels: {k8s.pod: p}}]`,
    );
    await scrapeAll();
    const want =
      scheme === 'legacy'
        ? `invalid metric name or label names: {__name__="a", instance="127.0.0.1:${target.port}", job="j", "k8s.pod"="p"}`
        : '';
    t.is(mgr.targets()[0]?.lastError, want);
  });
}

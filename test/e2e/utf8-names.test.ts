/**
 * The quoted-name fixture corpus (test/fixtures/utf8-names) end to end: loopback targets serve each
 * file, a real Outpost parses it, applies metric relabeling over UTF-8 names, appends to its WAL and
 * remote-writes to a recording receiver. Facts from prometheus/prometheus v3.14.0: quoted names in
 * model/textparse/promlex.l and openmetricslex.l (names before the brace stay unquoted), names
 * checked after relabeling by the job's scheme (scrape/scrape.go line 1730), le/quantile normalised
 * (openmetricsparse.go lines 773-783), escaping= in Accept (scrape.go lines 705-721).
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { labelsFromRecord, labelsToString } from '../../src/util/labels.ts';
import { startServer, type Received } from '../helpers/http.ts';
import { startAgent, waitUntil } from '../helpers/procs.ts';
import { RwReceiver, type ReceivedSample } from '../helpers/rw-receiver.ts';
import { replayWal } from '../../src/wal/reader.ts';
import { decodeSeries, RecordType, recordType } from '../../src/wal/records.ts';

const DIR = path.join(import.meta.dirname, '../fixtures/utf8-names');

interface GoodFixture {
  contentType: string;
  series: [labels: string, value: number][];
  legacyError: string;
}
interface BadFixture {
  contentType: string;
  error: string;
}
type Fixture = GoodFixture | BadFixture;

const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as Record<string, unknown>;
const fixtures = Object.entries(manifest).filter((e): e is [string, Fixture] => e[0] !== 'about');
const isGood = (f: Fixture): f is GoodFixture => 'series' in f;

const REPORT = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
]);

/** A received sample's labels as the manifest writes them: without instance and job. */
function shown(s: ReceivedSample): string {
  const { instance: _i, job: _j, ...rest } = s.labels;
  return labelsToString(labelsFromRecord(rest));
}

interface TargetInfo {
  scrapePool: string;
  scrapeUrl: string;
  lastError: string;
  health: string;
}

test('e2e: quoted UTF-8 name corpus through parser, relabel, WAL and remote write', async (t) => {
  const rx = await RwReceiver.start();
  t.teardown(() => rx.close());
  const served = new Map<string, { port: number; received: Received[] }>();
  for (const [file, fx] of fixtures) {
    const body = fs.readFileSync(path.join(DIR, file));
    const s = await startServer(
      (_r, res) => {
        res.writeHead(200, { 'Content-Type': fx.contentType });
        res.end(body);
      },
      { t },
    );
    served.set(file, { port: s.port, received: s.received });
  }
  const targets = [...served.values()].map((s) => `'127.0.0.1:${s.port}'`).join(', ');
  const { agent, port, dataDir } = await startAgent(t, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    // The default scheme (utf8), with relabeling that reads, writes and maps UTF-8 names.
    '  - job_name: utf8',
    `    static_configs: [{targets: [${targets}]}]`,
    '    metric_relabel_configs:',
    '      - {source_labels: [service.name], regex: "(.+)", target_label: svc.name}',
    '      - {action: labelmap, regex: "k8s\\\\.(.+)", replacement: "kubernetes.$1"}',
    '      - {action: labeldrop, regex: "drop\\\\.me|k8s\\\\..+"}',
    '  - job_name: legacy',
    '    metrics_path: /legacy',
    '    metric_name_validation_scheme: legacy',
    `    static_configs: [{targets: [${targets}]}]`,
    'remote_write:',
    `  - url: ${rx.url}`,
    '    queue_config: {batch_send_deadline: 1s}',
    '',
  ]);

  const instance = (file: string): string => `127.0.0.1:${served.get(file)?.port ?? 0}`;
  const ups = (file: string, job: string): number[] =>
    rx
      .series('up')
      .filter((s) => !s.stale && s.labels.instance === instance(file) && s.labels.job === job)
      .map((s) => s.value);
  // Every target of both jobs has reported twice, and every good series has arrived.
  await waitUntil(
    async () =>
      fixtures.every(([f]) => ups(f, 'utf8').length >= 2 && ups(f, 'legacy').length >= 2) &&
      fixtures.every(([f, fx]) => {
        if (!isGood(fx)) return true;
        const got = new Set(
          rx
            .samples()
            .filter((s) => s.labels.instance === instance(f) && s.labels.job === 'utf8')
            .map(shown),
        );
        return fx.series.every(([l]) => got.has(l));
      }),
    60_000,
    () => `every target scraped twice and every good series received\n${agent.output()}`,
  );
  const api = (await (await fetch(`http://127.0.0.1:${port}/api/v1/targets`)).json()) as {
    data: { activeTargets: TargetInfo[] };
  };
  const info = (file: string, job: string): TargetInfo | undefined =>
    api.data.activeTargets.find((x) => x.scrapePool === job && x.scrapeUrl.includes(`:${served.get(file)?.port}/`));

  for (const [file, fx] of fixtures) {
    const fromJob = (job: string): ReceivedSample[] =>
      rx
        .samples()
        .filter((s) => !s.stale && s.labels.instance === instance(file) && s.labels.job === job)
        .filter((s) => !REPORT.has(s.labels.__name__ ?? '') && s.labels.__name__ !== 'scrape_series_added');
    const legacy = info(file, 'legacy');
    t.deepEqual(fromJob('legacy'), [], `${file}: nothing but report series from the legacy job`);
    t.true(
      ups(file, 'legacy').every((v) => v === 0),
      `${file}: legacy up=0`,
    );
    if (isGood(fx)) {
      // Latest value of each series (values are constant, so any sample will do).
      const got = new Map(fromJob('utf8').map((s) => [shown(s), s.value]));
      t.deepEqual(
        [...got.entries()].sort(),
        fx.series.map(([l, v]) => [l, v] as [string, number]).sort(),
        `${file}: series after relabeling`,
      );
      t.true(
        ups(file, 'utf8').every((v) => v === 1),
        `${file}: utf8 up=1`,
      );
      t.true(legacy?.lastError.startsWith(fx.legacyError), `${file}: legacy error ${legacy?.lastError}`);
    } else {
      t.deepEqual(fromJob('utf8'), [], `${file}: nothing but report series`);
      t.true(
        ups(file, 'utf8').every((v) => v === 0),
        `${file}: utf8 up=0`,
      );
      t.true(info(file, 'utf8')?.lastError.startsWith(fx.error), `${file}: error ${info(file, 'utf8')?.lastError}`);
      t.true(legacy?.lastError.startsWith(fx.error), `${file}: legacy error ${legacy?.lastError}`);
    }
    // Each job asked for its escaping scheme.
    const accepts = (p: string): Set<string | undefined> =>
      new Set(
        served
          .get(file)
          ?.received.filter((r) => r.url === p)
          .map((r) => r.headers.accept),
      );
    t.deepEqual(
      [...accepts('/metrics')].map((a) => a?.includes('escaping=allow-utf-8')),
      [true],
    );
    t.deepEqual(
      [...accepts('/legacy')].map((a) => a?.includes('escaping=underscores')),
      [true],
    );
  }

  // The WAL holds the same label sets, UTF-8 names as they are (series records are byte strings).
  t.is(await agent.stop('SIGTERM'), 0);
  const walSeries = new Set<string>();
  await replayWal(path.join(dataDir, 'wal'), (rec) => {
    if (recordType(rec) === RecordType.Series)
      decodeSeries(rec, (_ref, ls) => {
        const rest = ls.filter((_x, i) => {
          const name = ls[i - (i % 2)];
          return name !== 'instance' && name !== 'job';
        });
        walSeries.add(labelsToString(rest));
      });
  });
  const wanted = fixtures.flatMap(([, fx]) => (isGood(fx) ? fx.series.map(([l]) => l) : []));
  t.deepEqual(
    wanted.filter((l) => !walSeries.has(l)),
    [],
    'every good series is in the WAL',
  );
});

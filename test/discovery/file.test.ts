import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileSdConfig } from '../../src/config/types.ts';
import { FileDiscoverer, glob, globRegExp } from '../../src/discovery/file.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { systemClock, type Clock } from '../../src/util/clock.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { tmpDir } from '../helpers/procs.ts';
import { metricValue, newMetrics, plain, Run, scrapeConfigs, waitFor, writeAtomic } from './helpers.ts';
import { at, firstN } from '../helpers/defined.ts';

function fileConfig(files: string[], refresh = '1h'): FileSdConfig {
  const [cfg] = firstN(
    scrapeConfigs(
      `scrape_configs:\n  - job_name: j\n    file_sd_configs:\n      - files: ${JSON.stringify(files)}\n        refresh_interval: ${refresh}\n`,
    ),
    1,
    'scrapeConfigs(...)',
  );
  return at(cfg.fileSdConfigs, 0, 'cfg.fileSdConfigs');
}

function start(files: string[], opts: { clock?: Clock; refresh?: string } = {}) {
  const { reg, metrics } = newMetrics();
  const log = memoryLogger();
  const d = new FileDiscoverer({
    config: fileConfig(files, opts.refresh),
    scheme: 'legacy',
    log,
    metrics,
    clock: opts.clock ?? systemClock,
    debounceMs: 10,
  });
  return { run: new Run(d), reg, log };
}

test('JSON and YAML files matched by globs, sources and __meta_filepath', async (t) => {
  const dir = await tmpDir();
  const a = path.join(dir, 'a.json');
  const b = path.join(dir, 'b.yml');
  await fs.writeFile(
    a,
    JSON.stringify([{ targets: ['h1:9100', 'h2:9100'], labels: { env: 'prod' } }, { targets: ['h3:9100'] }]),
  );
  await fs.writeFile(b, '- targets: [y1:80]\n  labels:\n    team: edge\n');
  await fs.writeFile(path.join(dir, 'ignored.txt'), '[]');
  const { run, reg } = start([path.join(dir, '*.json'), path.join(dir, '*.yml')]);
  try {
    const first = await run.emitted(1);
    t.deepEqual(plain(first), [
      { source: `${a}:0`, targets: ['h1:9100', 'h2:9100'], labels: ['__meta_filepath', a, 'env', 'prod'] },
      { source: `${a}:1`, targets: ['h3:9100'], labels: ['__meta_filepath', a] },
      { source: `${b}:0`, targets: ['y1:80'], labels: ['__meta_filepath', b, 'team', 'edge'] },
    ]);
    const mtime = Math.floor((await fs.stat(a)).mtimeMs / 1000);
    t.is(await metricValue(reg, 'prometheus_sd_file_mtime_seconds', { filename: a }), mtime);
    t.is(await metricValue(reg, 'prometheus_sd_file_read_errors_total'), 0);
    t.true(((await reg.getSingleMetric('prometheus_sd_file_scan_duration_seconds')?.get())?.values.length ?? 0) > 0);
  } finally {
    await run.stop();
  }
  // Stopping forgets the files' mtimes, as Prometheus does.
  t.is(await metricValue(reg, 'prometheus_sd_file_mtime_seconds', { filename: a }), undefined);
});

test('watch: change, broken file keeps last, new file, deleted file', async (t) => {
  const dir = await tmpDir();
  const a = path.join(dir, 'a.json');
  const c = path.join(dir, 'c.yaml');
  await fs.writeFile(a, '[{"targets":["h1:1"]}]');
  const { run, reg, log } = start([path.join(dir, '*.json'), path.join(dir, '*.yaml')]);
  const targets = () => run.last.flatMap((g) => g.targets);
  try {
    await run.emitted(1);
    t.deepEqual(targets(), ['h1:1']);

    await writeAtomic(a, '[{"targets":["h1:1","h2:2"]}]');
    await waitFor(() => targets().length === 2, 'update after change');
    t.deepEqual(targets(), ['h1:1', 'h2:2']);

    // A broken file: counted, logged with the file and the error, and its last targets stay.
    const before = run.emits.length;
    await writeAtomic(a, '[{"targets":["h1:1"], "oops": 1}]');
    await waitFor(async () => (await metricValue(reg, 'prometheus_sd_file_read_errors_total')) === 1, 'read error');
    await waitFor(() => run.emits.length > before, 'emit after broken file');
    t.deepEqual(targets(), ['h1:1', 'h2:2']);
    const line = log.lines.find((l) => l.includes('Error reading file'));
    t.truthy(line);
    t.true(line?.includes(a));
    t.true(line?.includes('oops'));

    // A new file matching a pattern is picked up from the directory watch.
    await writeAtomic(c, '- targets: [c1:3]\n');
    await waitFor(() => targets().includes('c1:3'), 'new yaml file');
    t.deepEqual(targets(), ['h1:1', 'h2:2', 'c1:3']);

    await fs.rm(a);
    await waitFor(() => !targets().includes('h1:1'), 'deleted file');
    t.deepEqual(targets(), ['c1:3']);
    t.is(await metricValue(reg, 'prometheus_sd_file_mtime_seconds', { filename: a }), undefined);
  } finally {
    await run.stop();
  }
});

test('a file broken from the start yields nothing, then its targets once fixed', async (t) => {
  const dir = await tmpDir();
  const a = path.join(dir, 'a.yml');
  await fs.writeFile(a, '- targets: [x:1]\n  lables: {}\n');
  const { run } = start([a]);
  try {
    t.deepEqual(await run.emitted(1), []);
    await writeAtomic(a, '- targets: [x:1]\n');
    await waitFor(() => run.last.length === 1, 'fixed file');
    t.deepEqual(at(run.last, 0, 'run.last').targets, ['x:1']);
  } finally {
    await run.stop();
  }
});

test('refresh_interval re-reads without filesystem events', async (t) => {
  const dir = await tmpDir();
  const a = path.join(dir, 'a.json');
  await fs.writeFile(a, '[{"targets":["h1:1"]}]');
  const clock = new FakeClock();
  // The debounce runs on the fake clock too, so watch events alone cannot cause a re-read here.
  const { run } = start([a], { clock, refresh: '30s' });
  try {
    await run.emitted(1);
    await waitFor(() => clock.pending > 0, 'discoverer waiting');
    await fs.writeFile(a, '[{"targets":["h9:9"]}]');
    await new Promise((r) => setTimeout(r, 50));
    t.is(run.emits.length, 1);
    clock.advance(30_000);
    await run.emitted(2);
    t.deepEqual(at(run.last, 0, 'run.last').targets, ['h9:9']);
  } finally {
    await run.stop();
  }
});

test('a missing directory is retried at each refresh', async (t) => {
  const root = await tmpDir();
  const dir = path.join(root, 'later');
  const clock = new FakeClock();
  const { run } = start([path.join(dir, '*.json')], { clock, refresh: '10s' });
  try {
    t.deepEqual(await run.emitted(1), []);
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'x.json'), '[{"targets":["x:1"]}]');
    await waitFor(() => clock.pending > 0, 'discoverer waiting');
    clock.advance(10_000);
    await run.emitted(2);
    t.deepEqual(
      run.last.flatMap((g) => g.targets),
      ['x:1'],
    );
  } finally {
    await run.stop();
  }
});

test('glob: Go filepath.Glob semantics', async (t) => {
  const dir = await tmpDir();
  for (const n of ['b.json', 'a.json', '.hidden.json', 'c.yml', 'ab.json']) await fs.writeFile(path.join(dir, n), '[]');
  t.deepEqual(
    await glob(path.join(dir, '*.json')),
    ['.hidden.json', 'a.json', 'ab.json', 'b.json'].map((n) => path.join(dir, n)),
  );
  t.deepEqual(
    await glob(path.join(dir, '?.json')),
    ['a.json', 'b.json'].map((n) => path.join(dir, n)),
  );
  t.deepEqual(
    await glob(path.join(dir, '[a-b].json')),
    ['a.json', 'b.json'].map((n) => path.join(dir, n)),
  );
  t.deepEqual(await glob(path.join(dir, '[^a].json')), [path.join(dir, 'b.json')]);
  t.deepEqual(await glob(path.join(dir, 'c.yml')), [path.join(dir, 'c.yml')]);
  t.deepEqual(await glob(path.join(dir, 'none.yml')), []);
  t.deepEqual(await glob(path.join(dir, 'nodir', '*.yml')), []);
  t.false(globRegExp('*.json').test('a/b.json'));
  t.throws(() => globRegExp('[.json'));
});

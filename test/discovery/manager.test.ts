import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Registry } from 'prom-client';
import type { ScrapeConfig, TargetGroup } from '../../src/config/types.ts';
import type { Discoverer } from '../../src/discovery/discoverer.ts';
import { DiscoveryManager, deepEqual, type SdProviderConfig } from '../../src/discovery/manager.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { tmpDir } from '../helpers/procs.ts';
import { metricValue, scrapeConfigs, waitFor, writeAtomic } from './helpers.ts';
import { at, defined, firstN } from '../helpers/defined.ts';

/** A discoverer the test drives by hand. */
class FakeDiscoverer implements Discoverer {
  readonly spec: SdProviderConfig;
  readonly provider: string;
  signal: AbortSignal | undefined;
  private emitFn: ((g: TargetGroup[]) => void) | undefined;
  constructor(spec: SdProviderConfig, provider: string) {
    this.spec = spec;
    this.provider = provider;
  }
  run(signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void> {
    this.signal = signal;
    this.emitFn = emit;
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  emit(...targets: string[]): void {
    this.emitFn?.([{ targets, labels: ['__meta_fake', this.provider], source: `${this.provider}:0` }]);
  }
  get stopped(): boolean {
    return this.signal?.aborted ?? false;
  }
}

interface Update {
  at: number;
  job: string;
  provider: string;
  targets: string[];
}

function setup(opts: { failOn?: string } = {}) {
  const clock = new FakeClock();
  const reg = new Registry();
  const updates: Update[] = [];
  const created: FakeDiscoverer[] = [];
  const mgr = new DiscoveryManager({
    log: memoryLogger(),
    registry: reg,
    clock,
    onUpdate: (job, provider, groups) =>
      updates.push({ at: clock.now() - start, job, provider, targets: groups.flatMap((g) => [...g.targets]) }),
    createDiscoverer: (spec, ctx) => {
      if (opts.failOn && spec.kind === 'file' && spec.config.files.some((f) => f.includes(opts.failOn as string)))
        throw new Error('cannot build');
      const d = new FakeDiscoverer(spec, ctx.provider);
      created.push(d);
      return d;
    },
  });
  const start = clock.now();
  return { clock, reg, updates, created, mgr };
}

const JOB = (files: string, extra = '') =>
  `  - job_name: edge\n${extra}    file_sd_configs:\n      - files: [${files}]\n`;

test('bursts are merged: first update at once, then at most one per interval with the latest list', async (t) => {
  const { clock, reg, updates, created, mgr } = setup();
  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('a.json')}`));
  t.is(created.length, 1);
  const d = at(created, 0, 'created');
  d.emit('a:1');
  t.deepEqual(updates, [{ at: 0, job: 'edge', provider: 'file/0', targets: ['a:1'] }]);

  clock.advance(1000);
  d.emit('a:1', 'b:2');
  d.emit('a:1', 'b:2', 'c:3');
  clock.advance(3999);
  t.is(updates.length, 1, 'held until the interval is over');
  clock.advance(1);
  t.deepEqual(updates.at(-1), { at: 5000, job: 'edge', provider: 'file/0', targets: ['a:1', 'b:2', 'c:3'] });
  t.is(updates.length, 2);

  // Idle for longer than the interval: the next change goes out at once.
  clock.advance(20_000);
  d.emit('c:3');
  t.deepEqual(updates.at(-1), { at: 25_000, job: 'edge', provider: 'file/0', targets: ['c:3'] });

  // Re-emitting an unchanged list is received but not forwarded.
  clock.advance(20_000);
  d.emit('c:3');
  t.is(updates.length, 3);

  t.is(await metricValue(reg, 'prometheus_sd_received_updates_total', { name: 'scrape' }), 5);
  t.is(await metricValue(reg, 'prometheus_sd_updates_total', { name: 'scrape' }), 3);
  t.is(await metricValue(reg, 'prometheus_sd_discovered_targets', { config: 'edge', name: 'scrape' }), 1);
  await mgr.stop();
});

test('jobs are rate-limited independently', (t) => {
  const { clock, updates, created, mgr } = setup();
  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('a.json')}${JOB('b.json').replace('edge', 'other')}`));
  const [a, b] = firstN(created, 2, 'created');
  a.emit('a:1');
  b.emit('b:1');
  a.emit('a:2');
  t.deepEqual(
    updates.map((u) => [u.job, u.targets]),
    [
      ['edge', ['a:1']],
      ['other', ['b:1']],
    ],
  );
  clock.advance(5000);
  t.deepEqual(updates.at(-1)?.targets, ['a:2']);
  t.is(updates.length, 3);
});

test('reload with unchanged SD configs keeps discoverers running and sends nothing', async (t) => {
  const { clock, updates, created, mgr } = setup();
  const yaml = `scrape_configs:\n${JOB('a.json, b.yml', '    scrape_interval: 15s\n')}    dns_sd_configs: [{names: [x.test], type: A, port: 80}]\n`;
  mgr.applyConfig(scrapeConfigs(yaml));
  t.is(created.length, 2);
  for (const d of created) d.emit(`${d.provider}:1`);
  t.is(updates.length, 1);
  clock.advance(5000);
  t.is(updates.length, 2);

  // Same SD blocks (parsed anew, so different objects), other job settings changed.
  mgr.applyConfig(scrapeConfigs(yaml.replace('15s', '30s')));
  t.is(created.length, 2, 'no new discoverer');
  t.false(created.some((d) => d.stopped));
  clock.advance(60_000);
  t.is(updates.length, 2, 'no withdrawal, no re-send');
  at(created, 0, 'created').emit('later:1');
  t.deepEqual(updates.at(-1)?.targets, ['later:1']);
  await mgr.stop();
  t.true(created.every((d) => d.stopped));
});

test('a changed SD config replaces its discoverer; the old groups are withdrawn after the new ones arrive', (t) => {
  const { clock, updates, created, mgr } = setup();
  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('a.json')}`));
  at(created, 0, 'created').emit('a:1', 'shared:1');
  clock.advance(60_000);

  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('a.json, more.json')}`));
  t.is(created.length, 2);
  t.true(at(created, 0, 'created').stopped);
  t.is(updates.length, 1, 'withdrawal held until the new discoverer reports');
  at(created, 1, 'created').emit('shared:1', 'b:2');
  t.deepEqual(
    updates.slice(1).map((u) => [u.provider, u.targets]),
    [
      ['file/1', ['shared:1', 'b:2']],
      ['file/0', []],
    ],
  );
});

test('a withdrawal is held at most one interval when the new discoverer stays silent', (t) => {
  const { clock, updates, created, mgr } = setup();
  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('a.json')}`));
  at(created, 0, 'created').emit('a:1');
  clock.advance(60_000);
  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('b.json')}`));
  clock.advance(4999);
  t.is(updates.length, 1);
  clock.advance(1);
  t.deepEqual(updates.at(-1), { at: 65_000, job: 'edge', provider: 'file/0', targets: [] });
});

test('removing an SD block withdraws its groups; removing the job stops its discoverers and its gauge', async (t) => {
  const { clock, reg, updates, created, mgr } = setup();
  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('a.json')}    static_configs: [{targets: [s:1, s:2]}]\n`));
  t.is(
    await metricValue(reg, 'prometheus_sd_discovered_targets', { config: 'edge', name: 'scrape' }),
    2,
    'static targets count',
  );
  at(created, 0, 'created').emit('a:1');
  t.is(await metricValue(reg, 'prometheus_sd_discovered_targets', { config: 'edge', name: 'scrape' }), 3);
  clock.advance(60_000);

  mgr.applyConfig(scrapeConfigs('scrape_configs:\n  - job_name: edge\n    static_configs: [{targets: [s:1]}]\n'));
  t.true(at(created, 0, 'created').stopped);
  t.deepEqual(updates.at(-1), { at: 60_000, job: 'edge', provider: 'file/0', targets: [] });
  t.is(await metricValue(reg, 'prometheus_sd_discovered_targets', { config: 'edge', name: 'scrape' }), 1);

  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('z.json').replace('edge', 'next')}`));
  t.is(await metricValue(reg, 'prometheus_sd_discovered_targets', { config: 'edge', name: 'scrape' }), undefined);
  const n = updates.length;
  at(created, 1, 'created').emit('n:1');
  t.is(updates.length, n + 1);
  await mgr.stop();
  at(created, 1, 'created').emit('after:stop');
  t.is(updates.length, n + 1, 'nothing after stop');
});

test('a discoverer that cannot be built is counted in prometheus_sd_failed_configs', async (t) => {
  const { reg, created, mgr } = setup({ failOn: 'bad' });
  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('bad.json')}${JOB('ok.json').replace('edge', 'fine')}`));
  t.is(created.length, 1);
  t.is(await metricValue(reg, 'prometheus_sd_failed_configs', { name: 'scrape' }), 1);
  mgr.applyConfig(scrapeConfigs(`scrape_configs:\n${JOB('ok.json').replace('edge', 'fine')}`));
  t.is(await metricValue(reg, 'prometheus_sd_failed_configs', { name: 'scrape' }), 0);
  await mgr.stop();
});

test('end to end with a real file_sd discoverer', async (t) => {
  const dir = await tmpDir();
  const file = path.join(dir, 'targets.json');
  await fs.writeFile(file, '[{"targets":["h1:9100"],"labels":{"site":"a"}}]');
  const updates: { job: string; provider: string; groups: readonly TargetGroup[] }[] = [];
  const mgr = new DiscoveryManager({
    log: memoryLogger(),
    registry: new Registry(),
    updateIntervalMs: 50,
    fileDebounceMs: 10,
    onUpdate: (job, provider, groups) => updates.push({ job, provider, groups }),
  });
  const cfgs: readonly ScrapeConfig[] = scrapeConfigs(
    `scrape_configs:\n  - job_name: j\n    file_sd_configs: [{files: ['*.json']}]\n`,
    path.join(dir, 'agent.yml'),
  );
  try {
    mgr.applyConfig(cfgs);
    await waitFor(() => updates.length === 1, 'first update');
    t.is(at(updates, 0, 'updates').provider, 'file/0');
    t.deepEqual(
      [...at(at(updates, 0, 'updates').groups, 0, 'updates[0].groups').labels],
      ['__meta_filepath', file, 'site', 'a'],
    );
    await writeAtomic(file, '[{"targets":["h1:9100","h2:9100"]}]');
    await waitFor(() => updates.at(-1)?.groups[0]?.targets.length === 2, 'changed file');
    t.deepEqual(
      [...(defined(updates.at(-1)?.groups[0], 'first group of the last update').targets ?? [])],
      ['h1:9100', 'h2:9100'],
    );
  } finally {
    await mgr.stop();
  }
});

test('deepEqual compares secrets by value without revealing them', (t) => {
  const yaml = (pw: string) =>
    `scrape_configs:\n  - job_name: j\n    http_sd_configs: [{url: 'http://127.0.0.1:1/sd', basic_auth: {username: u, password: ${pw}}}]\n`;
  const a = at(scrapeConfigs(yaml('one')), 0, "scrapeConfigs(yaml('one'))").httpSdConfigs[0];
  t.true(deepEqual(a, at(scrapeConfigs(yaml('one')), 0, "scrapeConfigs(yaml('one'))").httpSdConfigs[0]));
  t.false(deepEqual(a, at(scrapeConfigs(yaml('two')), 0, "scrapeConfigs(yaml('two'))").httpSdConfigs[0]));
});

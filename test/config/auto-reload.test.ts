import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AutoReloader } from '../../src/config/auto-reload.ts';
import { configChecksum } from '../../src/config/checksum.ts';
import { createLogger } from '../../src/log/logger.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { tmpDir } from '../helpers/procs.ts';

/**
 * `--config.auto-reload` as in Prometheus v3.14.0: config/reload.go GenerateChecksum (lines 35-96)
 * and the reload loop of cmd/prometheus/main.go (1356-1420).
 */

async function setup(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await tmpDir('outpost-autoreload-');
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const main = path.join(dir, 'prometheus.yml');
  await fs.mkdir(path.join(dir, 'jobs'));
  await fs.writeFile(path.join(dir, 'jobs', 'a.yml'), 'scrape_configs: []\n');
  await fs.writeFile(path.join(dir, 'jobs', 'b.yml'), 'scrape_configs: [] # b\n');
  await fs.writeFile(main, 'global: {}\nscrape_config_files: [jobs/*.yml]\n');
  return { dir, main };
}

test('the checksum covers the config file, then each included file as prefix NUL path NUL content NUL', async (t) => {
  const { dir, main } = await setup(t);
  const h = createHash('sha256');
  h.update(await fs.readFile(main));
  for (const f of ['a.yml', 'b.yml']) {
    // reload.go 56-60: relative patterns are joined to the config's directory; 83-90: "s\0<path>\0<content>\0".
    const p = path.join(dir, 'jobs', f);
    h.update(`s\0${p}\0`);
    h.update(await fs.readFile(p));
    h.update('\0');
  }
  const sum = await configChecksum(main);
  t.is(sum, h.digest('hex'));
  // Same bytes: same checksum, whatever the mtime.
  await fs.writeFile(path.join(dir, 'jobs', 'a.yml'), 'scrape_configs: []\n');
  t.is(await configChecksum(main), sum);
  // An included file's edit changes it; a file no longer matched changes it too.
  await fs.writeFile(path.join(dir, 'jobs', 'a.yml'), 'scrape_configs: [] # edited\n');
  const edited = await configChecksum(main);
  t.not(edited, sum);
  await fs.rm(path.join(dir, 'jobs', 'b.yml'));
  t.not(await configChecksum(main), edited);
  await t.throwsAsync(configChecksum(path.join(dir, 'missing.yml')), { message: /error reading YAML file/ });
});

test('auto-reload reloads on a changed checksum only, retries a failed reload, and follows reloads made elsewhere', async (t) => {
  const { dir, main } = await setup(t);
  const clock = new FakeClock();
  const lines: string[] = [];
  const log = createLogger({ format: 'json', write: (l) => void lines.push(l) });
  let reloads = 0;
  let nextOk = true;
  const r = new AutoReloader({
    file: main,
    intervalMs: 30_000,
    clock,
    log,
    reload: async () => {
      reloads++;
      return { ok: nextOk };
    },
  });
  await r.start();
  t.teardown(() => r.stop());
  // One check: the timer fires, the check reads files (real I/O) and schedules the next one.
  const tick = async () => {
    const before = clock.pending;
    clock.advance(30_000);
    for (let i = 0; i < 200 && clock.pending < before; i++) await new Promise((res) => setTimeout(res, 5));
  };

  await tick();
  t.is(reloads, 0, 'nothing changed');

  await fs.writeFile(path.join(dir, 'jobs', 'b.yml'), 'scrape_configs: [] # changed\n');
  nextOk = false;
  await tick();
  t.is(reloads, 1);
  // main.go 1414-1417: a failed reload keeps the old checksum, so the next check tries again.
  await tick();
  t.is(reloads, 2);
  nextOk = true;
  await tick();
  t.is(reloads, 3);
  await tick();
  t.is(reloads, 3, 'the checksum of the applied config is remembered');

  // A reload by SIGHUP or the API (main.go 1378-1398) refreshes the checksum: no second reload.
  await fs.writeFile(main, 'global: {scrape_interval: 5s}\nscrape_config_files: [jobs/*.yml]\n');
  await r.reloaded();
  await tick();
  t.is(reloads, 3);

  // A checksum that cannot be computed is logged and the reload is attempted (main.go 1404-1407).
  await fs.writeFile(main, 'global: [unclosed\n');
  nextOk = false;
  await tick();
  t.is(reloads, 4);
  t.true(lines.some((l) => l.includes('Failed to generate checksum during configuration reload')));
  t.true(lines.some((l) => l.includes('Configuration file change detected, reloading the configuration.')));
});

test('stop() cancels the next check', async (t) => {
  const { main } = await setup(t);
  const clock = new FakeClock();
  let reloads = 0;
  const r = new AutoReloader({
    file: main,
    intervalMs: 1000,
    clock,
    log: createLogger({ write: () => {} }),
    reload: async () => {
      reloads++;
      return { ok: true };
    },
  });
  await r.start();
  t.is(clock.pending, 1);
  await r.stop();
  t.is(clock.pending, 0);
  clock.advance(5000);
  t.is(reloads, 0);
});

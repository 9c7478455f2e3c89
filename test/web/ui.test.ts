import anyTest, { type TestFn } from 'ava';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FakeClock } from '../helpers/fake-clock.ts';
import { ROOT } from '../helpers/procs.ts';
import { fakeAgent, remote, snapshot, startServer, T0, type FakeAgent, type Running } from './helpers.ts';

/**
 * The operator UI in headless Chromium, driven by playwright-core: each page against a WebServer over
 * a fake agent. Screenshots go to artifacts/web/ for a human to look at.
 */

// The few playwright-core calls used here; the package is optional, so its types may be absent.
interface Locator {
  first(): Locator;
  nth(i: number): Locator;
  count(): Promise<number>;
  textContent(): Promise<string | null>;
  innerText(): Promise<string>;
  getAttribute(name: string): Promise<string | null>;
  isVisible(): Promise<boolean>;
  fill(v: string): Promise<void>;
  focus(): Promise<void>;
  selectOption(v: string): Promise<unknown>;
  waitFor(o?: { state?: 'attached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  getByRole(role: string, o?: { name?: string | RegExp; exact?: boolean }): Locator;
  screenshot(o: { path: string; fullPage?: boolean }): Promise<unknown>;
  keyboard: { press(key: string): Promise<void> };
  /** Expressions as strings: this project type-checks without the DOM library. */
  evaluate<R>(expression: string): Promise<R>;
  waitForFunction(expression: string): Promise<unknown>;
  on(ev: 'console', fn: (m: { type(): string; text(): string }) => void): void;
  on(ev: 'pageerror', fn: (e: Error) => void): void;
  emulateMedia(o: { colorScheme: 'dark' | 'light' }): Promise<void>;
  close(): Promise<void>;
}
interface Context {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface PlaywrightCore {
  chromium: { launchPersistentContext(dir: string, o: Record<string, unknown>): Promise<Context> };
}

const CHROMIUM = '/usr/bin/chromium';
// As /work/.library/env/machines/node.md prescribes: without the networking flags Chromium keeps
// trying to reach Google's hosts, which this machine's closed network refuses.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = path.join(ROOT, 'artifacts', 'web');

async function loadPlaywright(): Promise<{ pw: PlaywrightCore } | { reason: string }> {
  if (!fs.existsSync(CHROMIUM)) return { reason: `${CHROMIUM} missing (apt-get install -y chromium)` };
  const name = 'playwright-core';
  try {
    return { pw: (await import(name)) as PlaywrightCore };
  } catch {
    return { reason: 'playwright-core not installed (npm i -D playwright-core)' };
  }
}

interface Ctx {
  context: Context;
  profile: string;
  fake: FakeAgent;
  server: Running;
  clock: FakeClock;
}

const test = anyTest as TestFn<Ctx>;
const loaded = await loadPlaywright();

if ('reason' in loaded) {
  test.skip(`operator UI in headless Chromium — skipped: ${loaded.reason}`, () => {});
} else {
  const { pw } = loaded;

  test.before(async (t) => {
    await fsp.mkdir(SHOTS, { recursive: true });
    const profile = await fsp.mkdtemp(path.join(os.tmpdir(), 'outpost-chromium-'));
    const context = await pw.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 860 },
    });
    const clock = new FakeClock(T0);
    const fake = fakeAgent({ clock, options: { historyIntervalMs: 5000, historyPoints: 60 } });
    const server = await startServer(fake.deps);
    // A minute of throughput history, so the sparkline has a shape.
    for (let k = 0; k < 24; k++) {
      fake.snap = snapshot({
        remote: [
          remote({ sendRate: 300 + 120 * Math.sin(k / 3) }),
          remote({
            name: 'backup',
            url: 'http://10.0.0.9:8428/api/v1/write',
            health: 'down',
            lastError: 'server returned HTTP status 503 Service Unavailable',
            lastErrorAt: Date.now() - 5000,
            lagSeconds: 95,
            pendingSamples: 5000,
            backlogBytes: 8 * 1024 * 1024,
            sendRate: k < 12 ? 200 : 0,
          }),
        ],
      });
      clock.advance(5000);
    }
    // Timestamps the browser shows relative to its own clock.
    const now = Date.now();
    fake.snap = {
      ...fake.snap,
      startedAt: now - 3_600_000,
      reload: { ok: true, at: now - 3_600_000, error: '' },
      targets: fake.snap.targets.map((x) =>
        x.lastScrape > 0 ? { ...x, lastScrape: now - 3000, histograms: 4, histogramSeries: 4 } : x,
      ),
      wal: { ...fake.snap.wal, oldestTimestamp: now - 7_200_000 },
      otlp: {
        requests: 40,
        requestsFailed: 1,
        pointsReceived: 12_000,
        pointsRejected: 3,
        samplesAppended: 30_000,
        pointsPerSecond: 42.5,
        lastError: '3 of 300 data points rejected: samples refused: 3 duplicate',
        lastErrorAt: now - 60_000,
        lastRequestAt: now - 2000,
        topResources: [
          { job: 'shop/api', instance: 'i-1', points: 9000, lastSeen: now - 2000 },
          { job: 'cron', instance: '', points: 3000, lastSeen: now - 30_000 },
        ],
      },
    };
    t.context = { context, profile, fake, server, clock };
  });

  test.after.always(async (t) => {
    if (!t.context.context) return;
    await t.context.context.close();
    await t.context.server.close();
    await fsp.rm(t.context.profile, { recursive: true, force: true });
  });

  /** Opens a page, waits until its data is drawn, and fails the test on any script error or CSP report. */
  async function open(
    t: { context: Ctx; teardown(fn: () => Promise<void>): void },
    pathname: string,
    base = t.context.server.base,
  ): Promise<{ page: Page; errors: string[] }> {
    const page = await t.context.context.newPage();
    t.teardown(() => page.close());
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base + pathname);
    await page.locator('#content[aria-busy="false"]').waitFor({ timeout: 10_000 });
    return { page, errors };
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  test.serial('agent page: overview of targets, WAL and remote write', async (t) => {
    const { page, errors } = await open(t, '/');
    t.regex(await page.locator('h1').innerText(), /^Agent$/);
    t.is(await page.locator('nav a[aria-current="page"]').innerText(), 'Agent');
    const text = await page.locator('#content').innerText();
    t.regex(text, /Phase\s+running/);
    t.regex(text, /1\s+up\s+1\s+down\s+1\s+unknown/);
    t.regex(text, /3\.00 MiB of 1\.00 GiB cap/);
    t.regex(text, /central/);
    t.regex(text, /backup/);
    // The OTLP receiver as a source: rate, totals, last error, the busiest resources.
    const otlp = await page.locator('#panel-ov-otlp').innerText();
    t.regex(otlp, /42\.5\s+points\/s\s+12,?000\s+received\s+3\s+rejected/);
    t.regex(otlp, /3 of 300 data points rejected/);
    t.regex(otlp, /shop\/api\s+i-1\s+9,?000/);
    await shot(page, 'agent');
    t.deepEqual(errors, []);
  });

  test.serial(
    'targets page: pools, health, last scrape, errors and labels; filters and keyboard collapse',
    async (t) => {
      const { page, errors } = await open(t, '/targets');
      const pools = page.locator('section.panel h2');
      t.is(await pools.count(), 2);
      t.regex(await pools.nth(0).innerText(), /blackbox$/);
      t.regex(await page.locator('section.panel').nth(1).innerText(), /1 \/ 2 up/);
      const table = await page.locator('#content').innerText();
      t.regex(table, /http:\/\/edge:9115\/probe\s+DOWN/i);
      t.regex(table, /connection refused/);
      t.regex(table, /job="node"/);
      t.regex(table, /\d+(ms|s|m\d\ds) ago/);
      t.regex(table, /\b13ms\b/, "the dashboard's style: whole milliseconds under a second");
      t.regex(table, /never/);
      t.regex(table, /\b\d+ \+ 4 hist\b/, 'native histograms counted apart from floats');
      await shot(page, 'targets');

      await page.locator('#target-search').fill('role="db"');
      t.is(await page.locator('tbody tr').count(), 1);
      t.regex(await page.locator('#target-count').innerText(), /1 of 3 targets shown/);
      await page.locator('#target-search').fill('');
      await page.locator('#target-health').selectOption('down');
      t.is(await page.locator('tbody tr').count(), 1);
      t.regex(await page.locator('tbody tr').first().innerText(), /edge:9115/);
      await shot(page, 'targets-filtered');
      await page.locator('#target-health').selectOption('all');

      const toggle = page.getByRole('button', { name: /node/ });
      await toggle.focus();
      await page.keyboard.press('Enter');
      t.is(await toggle.getAttribute('aria-expanded'), 'false');
      const bodyId = (await toggle.getAttribute('aria-controls')) ?? '';
      t.false(await page.locator(`#${bodyId}`).isVisible());
      await page.keyboard.press('Space');
      t.is(await toggle.getAttribute('aria-expanded'), 'true');
      // A refresh rebuilds the tables; focus must stay on the control the keyboard user was on.
      await page.evaluate<void>(
        "document.querySelector('#content').setAttribute('aria-busy', 'true'); document.dispatchEvent(new Event('visibilitychange'))",
      );
      await page.locator('#content[aria-busy="false"]').waitFor();
      t.is(await page.evaluate<string>('document.activeElement.id'), (await toggle.getAttribute('id')) ?? 'missing');
      t.deepEqual(errors, []);
    },
  );

  test.serial('service discovery page: discovered vs target labels, dropped targets, empty pools', async (t) => {
    const { page, errors } = await open(t, '/service-discovery');
    const text = await page.locator('#content').innerText();
    t.regex(text, /__address__="127\.0\.0\.1:9999"/);
    t.regex(text, /dropped/i);
    t.regex(text, /idle\s+0 active, 0 dropped/);
    t.regex(text, /node\s+2 active, 1 dropped/);
    await shot(page, 'service-discovery');
    await page.locator('#sd-show').selectOption('dropped');
    t.is(await page.locator('tbody tr').count(), 1);
    t.deepEqual(errors, []);
  });

  test.serial('service discovery page: a target another scrape shard owns shows why it is dropped', async (t) => {
    const reason = 'scrape shard 1 of 3 owns it: hashmod(__address__, 3) = 1, this agent is shard 0';
    const sharded = await startServer(
      fakeAgent({
        droppedTargets: () => [{ pool: 'node', discovered: { __address__: '10.0.0.5:9100', job: 'node' }, reason }],
      }).deps,
    );
    t.teardown(() => sharded.close());
    const { page, errors } = await open(t, '/service-discovery', sharded.base);
    await page.locator('#sd-show').selectOption('dropped');
    t.is(await page.locator('tbody tr').count(), 1);
    const row = await page.locator('tbody tr').first().innerText();
    t.regex(row, /10\.0\.0\.5:9100/);
    t.regex(row, /dropped/i);
    t.true(row.includes(reason), row);
    t.deepEqual(errors, []);
  });

  test.serial(
    'remote write page: per endpoint health, lag, pending, backlog, counters and a throughput sparkline',
    async (t) => {
      const { page, errors } = await open(t, '/remote-write');
      const panels = page.locator('section.panel');
      t.is(await panels.count(), 2);
      const central = await panels.nth(0).innerText();
      t.regex(central, /UP/i);
      t.regex(central, /https:\/\/user:xxxxx@metrics\.example\/api\/v1\/write/);
      t.regex(central, /64\.0 KiB\s+WAL backlog/);
      t.regex(central, /250\s+pending samples/);
      t.regex(central, /Retried\s+12/);
      const backup = await panels.nth(1).innerText();
      t.regex(backup, /DOWN/i);
      t.regex(backup, /1m35s\s+lag/);
      t.regex(backup, /server returned HTTP status 503/);
      const spark = page.locator('svg.spark[role="img"]').first();
      t.regex(
        (await spark.getAttribute('aria-label')) ?? '',
        /^Throughput over the last 2 min: latest [\d.,]+ samples\/s, peak [\d.,]+ samples\/s$/,
      );
      const points = await page.evaluate<number>(
        "document.querySelector('svg.spark polyline').getAttribute('points').split(' ').length",
      );
      t.is(points, 25, 'one sample at start and one per interval');
      await shot(page, 'remote-write');
      t.deepEqual(errors, []);
    },
  );

  test.serial('WAL, config, flags and status pages', async (t) => {
    const wal = await open(t, '/wal');
    const walText = await wal.page.locator('#content').innerText();
    t.regex(walText, /Size\s+3\.00 MiB/);
    t.regex(walText, /Segments\s+3 \(4 – 6\)/);
    t.regex(walText, /Active\s+1,234/);
    t.regex(walText, /Oldest sample\s+2h00m ago/);
    t.regex(walText, /Size cap\s+1\.00 GiB\s+0\.3% used/);
    t.regex(walText, /Replay\s+done/i);
    await shot(wal.page, 'wal');

    const cfg = await open(t, '/config');
    t.regex(await cfg.page.locator('pre.code').innerText(), /password: <secret>/);
    await shot(cfg.page, 'config');

    const flags = await open(t, '/flags');
    t.is(await flags.page.locator('tbody tr').count(), 4);
    await flags.page.locator('#flag-search').fill('storage');
    t.is(await flags.page.locator('tbody tr').count(), 1);
    t.regex(await flags.page.locator('tbody').innerText(), /--storage\.agent\.path\s+\/var\/lib\/outpost/);
    await shot(flags.page, 'flags');

    const status = await open(t, '/status');
    const st = await status.page.locator('#content').innerText();
    t.regex(st, /Revision\s+abc123/);
    t.regex(st, /Configuration reload\s+Successful/);
    await shot(status.page, 'status');
    t.deepEqual([...wal.errors, ...cfg.errors, ...flags.errors, ...status.errors], []);
  });

  test.serial('dark color scheme', async (t) => {
    const { page, errors } = await open(t, '/targets');
    const light = await page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
    t.not(dark, light);
    await shot(page, 'targets-dark');
    t.deepEqual(errors, []);
  });

  test.serial('keyboard and screen-reader basics: skip link, labelled controls, table headers', async (t) => {
    const { page } = await open(t, '/targets');
    await page.keyboard.press('Tab');
    t.is(await page.evaluate<string>('document.activeElement.textContent'), 'Skip to content');
    await page.keyboard.press('Enter');
    t.is(await page.evaluate<string>('document.activeElement.id'), 'main');
    const unlabeled = await page.evaluate<number>(
      "[...document.querySelectorAll('input, select')].filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).length",
    );
    t.is(unlabeled, 0);
    const headerless = await page.evaluate<number>(
      "[...document.querySelectorAll('table')].filter((tb) => tb.querySelectorAll('th').length === 0 || !tb.querySelector('caption')).length",
    );
    t.is(headerless, 0);
    t.is(await page.evaluate<string>('document.documentElement.lang'), 'en');
  });

  test.serial('while the WAL replays, pages show progress instead of data', async (t) => {
    const { fake } = t.context;
    const saved = fake.snap;
    fake.ready = false;
    fake.snap = snapshot({ phase: 'replaying', wal: { ...saved.wal, replay: { done: false, current: 2, max: 6 } } });
    t.teardown(async () => {
      fake.ready = true;
      fake.snap = saved;
    });
    const { page, errors } = await open(t, '/targets');
    const text = await page.locator('#content').innerText();
    t.regex(text, /Starting up/);
    t.regex(text, /Replaying WAL segment 2 of 6/);
    t.is(await page.locator('progress').getAttribute('value'), '2');
    await shot(page, 'replaying');
    // The failed API call's 503 shows up in the console; nothing else may.
    t.deepEqual(
      errors.filter((e) => !/503/.test(e)),
      [],
    );
  });

  test.serial('the UI works under a route prefix', async (t) => {
    const fake = fakeAgent({ options: { routePrefix: '/outpost' } });
    const server = await startServer(fake.deps);
    t.teardown(() => server.close());
    const { page, errors } = await open(t, '/', server.base);
    t.regex(await page.evaluate<string>('location.pathname'), /^\/outpost\/agent$/);
    await page.getByRole('link', { name: 'Targets', exact: true }).first().focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction("location.pathname === '/outpost/targets'");
    await page.locator('#content[aria-busy="false"]').waitFor();
    t.is(await page.locator('section.panel').count(), 2);
    t.deepEqual(errors, []);
  });
}

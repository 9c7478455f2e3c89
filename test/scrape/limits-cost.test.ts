import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { Registry } from 'prom-client';
import { memoryLogger } from '../../src/log/logger.ts';
import { compileRelabelConfigs } from '../../src/relabel/relabel.ts';
import { RELABEL_DEFAULTS } from '../../src/relabel/types.ts';
import type { LoopOptions } from '../../src/scrape/loop.ts';
import { openStorage, rmrf, tmpDir } from '../helpers/agent-parts.ts';
import { loopCounters, metricsServer, newLoop } from '../helpers/scrape-loop.ts';
import type { ExecutionContext } from 'ava';

const T = 1_700_000_000_000;
const SERIES = 50_000;

/** A target exposing SERIES distinct series, scraped once into a real AgentStorage with `options`. */
async function scrapeOnce(t: ExecutionContext, options: Partial<LoopOptions>, body?: string) {
  const dir = await tmpDir();
  t.teardown(() => rmrf(dir));
  const { storage } = await openStorage(
    dir,
    { segmentSize: 10 * 1024 * 1024, compress: true },
    memoryLogger('error'),
    new Registry(),
  );
  t.teardown(() => storage.close());
  const tg = await metricsServer(t);
  let text = body;
  if (text === undefined) {
    const lines: string[] = [];
    for (let i = 0; i < SERIES; i++) lines.push(`hostile_series{id="${i}"} ${i}`);
    text = lines.join('\n') + '\n';
  }
  tg.set(200, text);
  const c = loopCounters();
  const loop = newLoop(tg.url, { options, appender: storage.appender(), counters: c, target: { timeoutMs: 20_000 } });
  await loop.scrape(T);
  await storage.flushWal();
  const walBytes = await dirBytes(storage.walDir);
  return { storage, loop, c, walBytes };
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await fs.readdir(dir)) n += (await fs.stat(path.join(dir, f))).size;
  return n;
}

test('sample_limit: series past the limit are neither created nor written to the WAL', async (t) => {
  const { storage, loop, c, walBytes } = await scrapeOnce(t, { sampleLimit: 100 });
  t.regex(loop.state.lastError, /sample limit exceeded/);
  t.is(c.sampleLimitHit, 1);
  // The 100 series accepted before the limit and the five report series; not 50,000.
  t.true(storage.series.size <= 100 + 5, `active series ${storage.series.size}`);
  t.true(walBytes < 64 * 1024, `WAL ${walBytes} bytes`);
});

test('sample_limit: series dropped by metric relabeling past the limit do not fail the scrape', async (t) => {
  const lines = ['kept 1', 'kept_too 2'];
  for (let i = 0; i < 1000; i++) lines.push(`dropped_series{id="${i}"} ${i}`);
  const metricRelabel = compileRelabelConfigs([
    {
      sourceLabels: ['__name__'],
      separator: RELABEL_DEFAULTS.separator,
      regex: 'dropped_series',
      modulus: 0,
      targetLabel: '',
      replacement: RELABEL_DEFAULTS.replacement,
      action: 'drop',
      explicit: new Set(),
    },
  ]);
  const { storage, loop } = await scrapeOnce(t, { sampleLimit: 2, metricRelabel }, lines.join('\n') + '\n');
  t.is(loop.state.lastError, '');
  t.is(loop.state.health, 'up');
  t.is(storage.series.size, 2 + 5);
});

for (const [name, options] of [
  ['label_limit', { labelLimit: 2 }],
  ['label_name_length_limit', { labelNameLengthLimit: 1 }],
  ['label_value_length_limit', { labelValueLengthLimit: 1 }],
] as const) {
  test(`${name}: a refused scrape creates no series beyond the report series`, async (t) => {
    const { storage, loop, walBytes } = await scrapeOnce(t, options);
    t.regex(loop.state.lastError, new RegExp(name));
    t.is(storage.series.size, 5);
    t.true(walBytes < 16 * 1024, `WAL ${walBytes} bytes`);
  });
}

import test from 'ava';
import zlib from 'node:zlib';
import { BufferPool } from '../../src/scrape/buffer-pool.ts';
import { DEFAULT_BODY_SIZE_LIMIT } from '../../src/scrape/manager.ts';
import { RecordingAppender } from '../helpers/recording-appender.ts';
import { loopCounters, metricsServer, newLoop, scrapeManager } from '../helpers/scrape-loop.ts';
import { at, defined } from '../helpers/defined.ts';

const T = 1_700_000_000_000;
const MB = 1024 * 1024;

test('a gzip bomb is refused while inflating, long before it is buffered, even without body_size_limit', async (t) => {
  const tg = await metricsServer(t);
  // 256 MiB of one repeated line, gzipped to ~0.25 MiB.
  const line = Buffer.from('bomb{a="aaaaaaaaaaaaaaaa"} 1\n');
  const raw = Buffer.alloc(256 * MB);
  for (let o = 0; o < raw.length; o += line.length) line.copy(raw, o);
  const gz = zlib.gzipSync(raw);
  tg.set(200, gz, 'text/plain', { 'Content-Encoding': 'gzip' });
  const app = new RecordingAppender();
  const c = loopCounters();
  const buffers = new BufferPool();
  const loop = newLoop(tg.url, {
    options: { bodySizeLimit: 0, buffers },
    appender: app,
    counters: c,
    target: { timeoutMs: 20_000 },
  });
  await loop.scrape(T);
  t.regex(loop.state.lastError, /gzip body inflates more than 200 times .*decompression bomb/);
  t.is(c.bodyLimitHit, 1);
  t.is(at(app.named('up', T), 0, "app.named('up', T)").v, 0);
  t.is(app.named('bomb').length, 0);
});

test('normal gzip bodies pass the ratio guard', async (t) => {
  const tg = await metricsServer(t);
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++)
    lines.push(`node_cpu_seconds_total{cpu="${i % 64}",mode="idle",i="${i}"} ${i * 1.5}`);
  tg.set(200, zlib.gzipSync(lines.join('\n') + '\n'), 'text/plain', { 'Content-Encoding': 'gzip' });
  const app = new RecordingAppender();
  const loop = newLoop(tg.url, { options: { bodySizeLimit: 0 }, appender: app, target: { timeoutMs: 20_000 } });
  await loop.scrape(T);
  t.is(loop.state.lastError, '');
  t.is(app.named('node_cpu_seconds_total').length, 200_000);
});

test('without body_size_limit a body may not exceed the documented default; a configured limit wins', async (t) => {
  const big = 'x'.repeat(100) + ' 1\n';
  const body = big.repeat(Math.ceil((DEFAULT_BODY_SIZE_LIMIT + MB) / big.length));
  const tg = await metricsServer(t);
  tg.set(200, body);
  const addr = new URL(tg.url).host;
  const f = await scrapeManager(
    t,
    `  - job_name: unlimited\n    static_configs: [{targets: ['${addr}']}]\n  - job_name: raised\n    body_size_limit: 64MiB\n    static_configs: [{targets: ['${addr}']}]\n`,
  );
  await f.scrapeAll();
  const byJob = Object.fromEntries(f.mgr.targets().map((x) => [x.pool, x]));
  t.is(defined(byJob.unlimited, 'byJob.unlimited').health, 'down');
  t.regex(
    defined(byJob.unlimited, 'byJob.unlimited').lastError,
    /body size limit exceeded \(limit: 16777216 bytes; Outpost's default when body_size_limit is not set\)/,
  );
  t.is(defined(byJob.raised, 'byJob.raised').health, 'up', defined(byJob.raised, 'byJob.raised').lastError);
});

test('a buffer grown for one huge scrape is given back, not pooled for good', (t) => {
  const pool = new BufferPool();
  pool.put(Buffer.allocUnsafe(64 * 1024));
  pool.put(Buffer.allocUnsafe(300 * MB));
  t.is(pool.pooled, 1);
  t.true(pool.get(1).length < 300 * MB);
});

test('a target that refuses connections takes no body buffer and creates no scrape cache', async (t) => {
  let taken = 0;
  const buffers = new BufferPool();
  const get = buffers.get.bind(buffers);
  buffers.get = (size: number) => {
    taken++;
    return get(size);
  };
  const app = new RecordingAppender();
  const loop = newLoop('http://127.0.0.1:1/metrics', { options: { buffers }, appender: app });
  await loop.scrape(T);
  await loop.scrape(T + 1000);
  t.regex(loop.state.lastError, /ECONNREFUSED/);
  t.is(taken, 0);
  t.deepEqual(loop.listMetadata(), []);
  t.is((loop as unknown as { seriesCache: unknown }).seriesCache, null);
});

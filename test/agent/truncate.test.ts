import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { WalTruncator } from '../../src/agent/truncate.ts';
import { WalStats } from '../../src/agent/wal-stats.ts';
import { systemClock } from '../../src/util/clock.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { rmrf, startPipeline, tmpDir } from '../helpers/agent-parts.ts';
import { at } from '../helpers/defined.ts';

const SEG = 32768 * 3;

function yaml(a: string, b: string): string {
  const q = '    queue_config:\n      batch_send_deadline: 20ms\n      min_backoff: 5ms\n      max_backoff: 20ms\n';
  return `remote_write:\n  - url: ${a}\n    name: a\n${q}  - url: ${b}\n    name: b\n${q}`;
}

async function walFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(path.join(dir, 'wal'))).sort();
}

test('segments stay while any endpoint needs them; the disk cap drops oldest first and counts it', async (t) => {
  const ra = await RwReceiver.start();
  const rb = await RwReceiver.start();
  const dir = await tmpDir();
  t.teardown(async () => {
    await new Promise((r) => setTimeout(r, 10));
    await ra.close();
    await rb.close();
    await rmrf(dir);
  });
  rb.setDefault({ status: 503 });
  const p = await startPipeline(dir, yaml(ra.url, rb.url), { segmentSize: SEG, flushDeadlineMs: 100, compress: false });
  t.teardown(() => p.stop());
  const stats = new WalStats(p.storage.walDir);
  let capBytes = 0;
  const truncator = new WalTruncator({
    storage: p.storage,
    clock: systemClock,
    log: p.log,
    minTimeMs: 5 * 60_000,
    maxTimeMs: 4 * 3600_000,
    get maxSizeBytes() {
      return capBytes;
    },
    compress: false,
    lowestAcked: () => p.remote.lowestAcked(),
    lowestSentTimestamp: () => p.remote.lowestSentTimestamp(),
    segmentSizes: () => stats.sizes,
    onForcedDrop: (below, reason) =>
      p.remote.segmentsDropped(below, (f, to) => p.storage.samplesInSegments(f, to), reason),
  });
  const now = Date.now();
  const series: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) series[`m${i}`] = i;
  for (let k = 0; k < 20; k++) await p.append(now + k * 10, series);
  await ra.waitFor((r) => r.series('m0').length === 20, 10_000);
  const before = await walFiles(dir);
  t.true(before.length >= 3, `several segments written (${before})`);

  // B has acknowledged nothing: truncation must keep every segment that holds data.
  await truncator.truncate();
  await stats.refresh();
  const kept = await walFiles(dir);
  for (const f of before) t.true(kept.includes(f), `segment ${f} kept for endpoint b`);

  // B recovers and catches up: now old segments go and a checkpoint keeps the series.
  rb.setDefault({ status: 204 });
  await rb.waitFor((r) => r.series('m999').length === 20, 15_000);
  await new Promise((r) => setTimeout(r, 100));
  await truncator.truncate();
  const after = await walFiles(dir);
  t.true(
    after.some((f) => f.startsWith('checkpoint.')),
    `checkpoint written (${after})`,
  );
  t.false(after.includes(at(before, 0, 'before')), 'oldest segment deleted once everyone passed it');

  // B dies again; the cap forces the oldest segments out and B counts what it lost.
  rb.setDefault({ status: 503 });
  for (let k = 20; k < 60; k++) await p.append(now + k * 10, series);
  await ra.waitFor((r) => r.series('m0').length === 60, 10_000);
  await stats.refresh();
  capBytes = SEG * 2;
  await truncator.truncate();
  await stats.refresh();
  let total = 0;
  for (const s of stats.sizes.values()) total += s;
  t.true(total <= capBytes + SEG, `WAL within cap + one segment (${total})`);
  const m = await p.registry.metrics();
  const dropped =
    /prometheus_remote_storage_samples_dropped_total\{remote_name="b",url="[^"]+",reason="wal_size_cap"\} (\d+)/.exec(
      m,
    );
  t.truthy(
    dropped,
    m
      .split('\n')
      .filter((l) => l.includes('dropped'))
      .join('\n'),
  );
  t.true(Number(dropped?.[1]) > 0);
  t.false(/remote_name="a",url="[^"]+",reason="wal_size_cap"/.test(m), 'endpoint a lost nothing');
  t.is(ra.series('m0').length, 60, 'a received everything');
  await truncator.stop();
  await p.stop();

  // The data directory replays after all this (checkpoint + remaining segments).
  const p2 = await startPipeline(dir, yaml(ra.url, rb.url), {
    segmentSize: SEG,
    flushDeadlineMs: 100,
    compress: false,
  });
  t.is(p2.storage.series.size, 1000);
  await p2.stop();
});

import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { WalStats } from '../../src/agent/wal-stats.ts';
import { rmrf, tmpDir } from '../helpers/agent-parts.ts';

type FlushFn = (segment: number, size: number) => void;

async function walDir(t: { teardown(fn: () => Promise<void>): void }, sizes: Record<string, number>): Promise<string> {
  const dir = await tmpDir('outpost-walstats-');
  t.teardown(() => rmrf(dir));
  for (const [name, size] of Object.entries(sizes)) await fs.writeFile(path.join(dir, name), Buffer.alloc(size));
  return dir;
}

test('flushes of the head segment update the sizes without reading the directory', async (t) => {
  const dir = await walDir(t, { '00000003': 1000, '00000004': 200 });
  const stats = new WalStats(dir);
  await stats.refresh();
  t.is(stats.bytes, 1200);
  let emit: FlushFn = () => {};
  stats.follow((fn) => {
    emit = fn;
    return () => {};
  });
  // The file stays 200 bytes on disk: only the flush reports can move the figure.
  emit(4, 900);
  t.is(stats.bytes, 1900);
  t.is(stats.sizes.get(4), 900);
  t.deepEqual(stats.bytesAfter({ segment: 4, offset: 100 }), 800);
  emit(4, 850);
  t.is(stats.bytes, 1900, 'a smaller report (an older flush settling late) never shrinks a segment');
});

test('a flush into a new segment rescans, so the finished segment counts its bytes on disk', async (t) => {
  const dir = await walDir(t, { '00000000': 500 });
  const stats = new WalStats(dir);
  await stats.refresh();
  let emit: FlushFn = () => {};
  stats.follow((fn) => {
    emit = fn;
    return () => {};
  });
  await fs.writeFile(path.join(dir, '00000000'), Buffer.alloc(32768));
  await fs.writeFile(path.join(dir, '00000001'), Buffer.alloc(100));
  emit(1, 100);
  t.is(stats.last, 1);
  await stats.refresh();
  t.is(stats.sizes.get(0), 32768);
  t.is(stats.bytes, 32768 + 100);
  t.is(stats.first, 0);
});

test('refresh after deletion drops the deleted segments (the truncator calls it before the next cap check)', async (t) => {
  const dir = await walDir(t, { '00000001': 100, '00000002': 100, '00000003': 100 });
  const stats = new WalStats(dir);
  await stats.refresh();
  t.is(stats.segments, 3);
  await fs.rm(path.join(dir, '00000001'));
  await fs.rm(path.join(dir, '00000002'));
  await Promise.all([stats.refresh(), stats.refresh()]);
  t.is(stats.segments, 1);
  t.is(stats.first, 3);
  t.is(stats.bytes, 100);
});

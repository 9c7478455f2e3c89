import test from 'ava';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ProgressFile } from '../../src/remote/progress.ts';

async function tmp(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'outpost-progress-'));
}

test('the newest position survives a new instance, and older ones are ignored', async (t) => {
  const dir = await tmp();
  const p = new ProgressFile(dir, 'central/1');
  for (let i = 1; i <= 500; i++) p.save({ segment: Math.floor(i / 100), offset: i * 1000 });
  p.save({ segment: 2, offset: 5 });
  await p.flush();
  t.deepEqual(p.position, { segment: 5, offset: 500000 });
  const raw = await fs.readFile(path.join(dir, 'remote', 'central_1.json'), 'utf8');
  t.deepEqual(JSON.parse(raw), { segment: 5, offset: 500000 });
  t.is(raw.length, 64, 'one fixed-width record, rewritten in place');
  const again = new ProgressFile(dir, 'central/1');
  t.deepEqual(await again.load(), { segment: 5, offset: 500000 });
});

test('a shorter position overwrites a longer one completely', async (t) => {
  const dir = await tmp();
  const p = new ProgressFile(dir, 'e');
  p.save({ segment: 123456, offset: 987654321 });
  await p.flush();
  // After a forced skip the reader may move to a position with fewer digits in a later segment.
  p.save({ segment: 1234567, offset: 0 });
  await p.flush();
  t.deepEqual(await new ProgressFile(dir, 'e').load(), { segment: 1234567, offset: 0 });
});

test('a position file of the older temp-file format is read and then rewritten', async (t) => {
  const dir = await tmp();
  await fs.mkdir(path.join(dir, 'remote'));
  await fs.writeFile(path.join(dir, 'remote', 'old.json'), '{"segment":3,"offset":42}\n');
  const p = new ProgressFile(dir, 'old');
  t.deepEqual(await p.load(), { segment: 3, offset: 42 });
  p.save({ segment: 3, offset: 43 });
  await p.flush();
  t.deepEqual(await new ProgressFile(dir, 'old').load(), { segment: 3, offset: 43 });
});

test('a failed write keeps the position pending and a later save writes it', async (t) => {
  const dir = await tmp();
  // The remote directory is a file: every open fails until it is fixed.
  await fs.writeFile(path.join(dir, 'remote'), 'in the way');
  const p = new ProgressFile(dir, 'e');
  p.save({ segment: 1, offset: 10 });
  await p.flush();
  t.not(p.lastError, '');
  t.deepEqual(p.position, { segment: 1, offset: 10 });
  await fs.rm(path.join(dir, 'remote'));
  p.save({ segment: 1, offset: 20 });
  await p.flush();
  t.is(p.lastError, '');
  t.deepEqual(await new ProgressFile(dir, 'e').load(), { segment: 1, offset: 20 });
});

test('remove() deletes the file and a missing file loads as no position', async (t) => {
  const dir = await tmp();
  const p = new ProgressFile(dir, 'gone');
  p.save({ segment: 0, offset: 1 });
  await p.remove();
  await t.throwsAsync(fs.access(p.file));
  t.is(await new ProgressFile(dir, 'gone').load(), null);
});

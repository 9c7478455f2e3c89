import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LockError, acquireDirLock, LOCK_NAME, LOCK_OWNER_NAME } from '../../src/wal/lock.ts';
import { tmpDir } from './helpers.ts';

const LOCK_MODULE = pathToFileURL(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/wal/lock.ts'),
).href;

/** Starts a separate Node process that takes the lock and then waits to be killed. */
async function holder(dir: string): Promise<ChildProcess> {
  const code = `
    const { acquireDirLock } = await import(${JSON.stringify(LOCK_MODULE)});
    const l = await acquireDirLock(${JSON.stringify(dir)}, {});
    process.stdout.write('locked ' + l.cleanStart + '\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked')) resolve();
    });
    child.once('exit', (c) => reject(new Error(`holder exited with ${c} before locking`)));
  });
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

test('first acquire is clean; a second in the same process fails naming dir and pid; release allows again', async (t) => {
  const dir = await tmpDir(t);
  const l = await acquireDirLock(dir, {});
  t.is(l.cleanStart, 1);
  const owner = JSON.parse(await readFile(path.join(dir, LOCK_OWNER_NAME), 'utf8')) as { pid: number };
  t.is(owner.pid, process.pid);
  const err = await t.throwsAsync(acquireDirLock(dir, {}), { instanceOf: LockError });
  t.is(err?.dir, dir);
  t.is(err?.pid, process.pid);
  t.true(err?.message.includes(dir) && err.message.includes(`pid ${process.pid}`));
  await l.release();
  t.deepEqual(await readdir(dir), [], 'release removes the lock and owner file');
  const again = await acquireDirLock(dir, {});
  t.is(again.cleanStart, 1);
  await again.release();
});

test('disabled lock: clean_start -1 and nothing on disk', async (t) => {
  const dir = await tmpDir(t);
  const l = await acquireDirLock(dir, { disabled: true });
  t.is(l.cleanStart, -1);
  t.deepEqual(await readdir(dir), []);
  await l.release();
});

test('a lock held by a live process fails; after SIGKILL it is taken over at once (clean_start 0)', async (t) => {
  const dir = await tmpDir(t);
  const child = await holder(dir);
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const err = await t.throwsAsync(acquireDirLock(dir, {}), { instanceOf: LockError });
  t.is(err?.pid, child.pid ?? -1);
  child.kill('SIGKILL');
  await exited(child);
  const l = await acquireDirLock(dir, {});
  t.is(l.cleanStart, 0);
  const owner = JSON.parse(await readFile(path.join(dir, LOCK_OWNER_NAME), 'utf8')) as { pid: number };
  t.is(owner.pid, process.pid);
  await l.release();
});

test('a lock without owner information is only taken over once stale', async (t) => {
  const dir = await tmpDir(t);
  await mkdir(path.join(dir, LOCK_NAME));
  await t.throwsAsync(acquireDirLock(dir, {}), { instanceOf: LockError, message: /locked/ });
  // Old mtime: proper-lockfile's own staleness rule applies.
  const { utimes } = await import('node:fs/promises');
  const old = new Date(Date.now() - 60_000);
  await utimes(path.join(dir, LOCK_NAME), old, old);
  const l = await acquireDirLock(dir, { stale: 5_000 });
  t.is(l.cleanStart, 0);
  await l.release();
});

test('garbage owner file does not count as a dead owner', async (t) => {
  const dir = await tmpDir(t);
  await mkdir(path.join(dir, LOCK_NAME));
  await writeFile(path.join(dir, LOCK_OWNER_NAME), 'not json');
  await t.throwsAsync(acquireDirLock(dir, {}), { instanceOf: LockError });
});

/**
 * One writer per data directory. proper-lockfile's lock (an atomically created directory whose
 * mtime the holder keeps fresh) plus an owner file with pid and host, so a lock left behind by a
 * killed process on this host is taken over at once instead of after the staleness timeout.
 *
 * The lock is `<dir>/outpost.lock`, not Prometheus' `<dir>/lock`: Prometheus flocks a regular
 * file of that name and would refuse to start if a crashed Outpost had left a directory there.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { LockError } from './errors.ts';

export { LockError } from './errors.ts';

export const LOCK_NAME = 'outpost.lock';
const DEFAULT_STALE_MS = 60_000;
export const LOCK_OWNER_NAME = 'outpost.lock.owner';

export interface DirLockOptions {
  disabled?: boolean;
  /** Age in ms after which an unrefreshed lock counts as abandoned whatever its owner file says. */
  stale?: number;
  /** Called if the lock is lost while held (lock directory removed or not refreshable). */
  onCompromised?: (err: Error) => void;
}

export interface DirLock {
  release(): Promise<void>;
  /** prometheus_agent_clean_start: -1 lock disabled, 0 a stale lock was replaced, 1 clean. */
  readonly cleanStart: -1 | 0 | 1;
  /** Set when the lock was lost while held. */
  readonly compromised: Error | null;
}

interface Owner {
  pid: number;
  hostname: string;
  started: string;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function readOwner(file: string): Promise<Owner | null> {
  try {
    const o = JSON.parse(await readFile(file, 'utf8')) as Partial<Owner>;
    if (typeof o.pid !== 'number' || typeof o.hostname !== 'string') return null;
    return { pid: o.pid, hostname: o.hostname, started: String(o.started ?? '') };
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isLocked(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'ELOCKED';
}

export async function acquireDirLock(dir: string, opts: DirLockOptions = {}): Promise<DirLock> {
  if (opts.disabled) return { release: async () => {}, cleanStart: -1, compromised: null };

  const absDir = path.resolve(dir);
  await mkdir(absDir, { recursive: true });
  const lockPath = path.join(absDir, LOCK_NAME);
  const ownerPath = path.join(absDir, LOCK_OWNER_NAME);
  const found = await exists(lockPath);

  const state: { compromised: Error | null } = { compromised: null };
  const lockOpts = {
    lockfilePath: lockPath,
    realpath: false,
    // proper-lockfile refreshes the mtime every stale/2. The owner file already settles a crash on
    // this host at once, so the mtime only matters for a lock nobody can identify: a minute is
    // enough there, and an idle agent touches the disk every 30 s instead of every 5 s.
    stale: opts.stale ?? DEFAULT_STALE_MS,
    retries: 0,
    onCompromised: (err: Error) => {
      state.compromised = err;
      opts.onCompromised?.(err);
    },
  };

  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(absDir, lockOpts);
  } catch (e) {
    if (!isLocked(e))
      throw new LockError(absDir, `cannot lock data directory ${absDir}: ${(e as Error).message}`, null, { cause: e });
    const owner = await readOwner(ownerPath);
    const abandoned =
      owner !== null && owner.hostname === os.hostname() && owner.pid !== process.pid && !processAlive(owner.pid);
    if (!abandoned) {
      const who = owner ? ` by pid ${owner.pid} on ${owner.hostname} (since ${owner.started})` : '';
      throw new LockError(
        absDir,
        `data directory ${absDir} is locked${who}: another Outpost instance is using it (lock: ${lockPath})`,
        owner?.pid ?? null,
        { cause: e },
      );
    }
    // Its holder is gone: remove the lock and take it.
    await rm(lockPath, { recursive: true, force: true });
    try {
      release = await lockfile.lock(absDir, lockOpts);
    } catch (e2) {
      throw new LockError(absDir, `data directory ${absDir} was locked again while taking over a stale lock`, null, {
        cause: e2,
      });
    }
  }

  const me: Owner = { pid: process.pid, hostname: os.hostname(), started: new Date().toISOString() };
  const tmp = `${ownerPath}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(me) + '\n');
  await rename(tmp, ownerPath);

  let released = false;
  return {
    cleanStart: found ? 0 : 1,
    get compromised() {
      return state.compromised;
    },
    async release() {
      if (released) return;
      released = true;
      // Owner file first: a lock dir without owner is only taken over after `stale`, never wrongly.
      const o = await readOwner(ownerPath);
      if (o && o.pid === process.pid) await rm(ownerPath, { force: true });
      if (!state.compromised) await release();
    },
  };
}

/**
 * The single executable (dist/outpost, Node SEA) on its own: a copy of the file alone in an empty directory,
 * run under `env -i` (no PATH, HOME, NODE_*), so the test proves nothing outside the file is needed — no
 * node_modules next to it, no node on PATH, no environment. test/e2e/sea-arm64.test.ts does the same for
 * the linux-arm64 executable under emulation.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { loneSeaCopy, smokeScrapeAndRemoteWrite, versionPattern, VERSION } from '../helpers/sea.ts';
import { ROOT, startProc } from '../helpers/procs.ts';

const run = promisify(execFile);

/** One build and one lone copy for both tests; the copy lives in a directory holding nothing else. */
const prepare = loneSeaCopy('x64', (fn) => test.after.always(fn));

async function lone(t: ExecutionContext): Promise<{ dir: string; bin: string }> {
  // Building copies and strips a ~120 MB node; give it room on a slow runner.
  t.timeout(600_000);
  const p = await prepare();
  t.log(`dist/outpost: ${p.how}`);
  return p;
}

test('e2e sea: `env -i outpost --version` prints version, revision, Node version and build date', async (t) => {
  const { dir, bin } = await lone(t);
  const started = Date.now();
  const { stdout, stderr } = await run('env', ['-i', bin, '--version'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.log(`--version took ${Date.now() - started} ms`);
  t.is(stderr, '');
  const m = versionPattern('x64').exec(stdout);
  t.truthy(m, stdout);
  if (!m) return;
  t.is(m[1], VERSION);
  // A checkout builds with its commit; "unknown" only outside git (e.g. from a source tarball).
  if (spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).status === 0) t.regex(m[2]!, /^[0-9a-f]{40}$/);
  const built = Date.parse(m[3]!);
  t.regex(m[3]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.true(Number.isFinite(built) && built <= Date.now() + 60_000, `build date ${m[3]} is a real past time`);
  // The runtime is the one inside the file: the pinned Node that built it, not anything on the machine.
  t.is(m[4], process.version);
});

test('e2e sea: the lone binary under env -i scrapes, remote-writes, and exits 0 on SIGTERM', async (t) => {
  const { dir, bin } = await lone(t);
  await smokeScrapeAndRemoteWrite(t, (flags) => startProc('env', ['-i', bin, ...flags], { cwd: dir }));
});

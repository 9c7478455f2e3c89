import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TUNE_ENV, tunedReexec, type ProcessView } from '../../src/runtime-tuning.ts';
import { freePort, startOutpost, tmpDir, waitUntil } from '../helpers/procs.ts';

const base: ProcessView = {
  platform: 'linux',
  execPath: '/usr/bin/node',
  execArgv: ['--import=tsx'],
  argv: ['/usr/bin/node', '/opt/outpost.mjs', '--config.file=a.yml'],
  env: { PATH: '/bin', NODE_OPTIONS: '--enable-source-maps' },
  sea: false,
};

test('re-executes the same script with the same flags, tuned through the environment', (t) => {
  const r = tunedReexec(base);
  t.truthy(r);
  t.is(r?.file, '/usr/bin/node');
  t.deepEqual(r?.args, ['/usr/bin/node', '--import=tsx', '/opt/outpost.mjs', '--config.file=a.yml']);
  t.is(r?.env.MALLOC_ARENA_MAX, '2');
  t.is(r?.env.MALLOC_MMAP_THRESHOLD_, '65536');
  t.is(r?.env.NODE_OPTIONS, '--max-semi-space-size=2 --enable-source-maps', "the user's NODE_OPTIONS are kept");
  t.is(r?.env.PATH, '/bin');
  t.is(r?.env[TUNE_ENV], '0', 'the new process must not exec again');
});

test('a single executable is re-executed without the repeated binary in argv', (t) => {
  const r = tunedReexec({
    ...base,
    execPath: '/usr/local/bin/outpost',
    execArgv: [],
    argv: ['/usr/local/bin/outpost', '/usr/local/bin/outpost', '--no-tui'],
    sea: true,
  });
  t.deepEqual(r?.args, ['/usr/local/bin/outpost', '--no-tui']);
});

test('does nothing when already tuned, turned off, set by the user, or not on Linux', (t) => {
  t.is(tunedReexec({ ...base, env: { ...base.env, [TUNE_ENV]: '0' } }), null);
  t.is(tunedReexec({ ...base, platform: 'darwin' }), null);
  t.is(
    tunedReexec({
      ...base,
      env: { MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '131072', NODE_OPTIONS: '--max-semi-space-size=8' },
    }),
    null,
  );
  // Only the knobs the user did not set are added.
  const r = tunedReexec({ ...base, env: { MALLOC_ARENA_MAX: '4' } });
  t.is(r?.env.MALLOC_ARENA_MAX, '4');
  t.is(r?.env.MALLOC_MMAP_THRESHOLD_, '65536');
  t.is(r?.env.NODE_OPTIONS, '--max-semi-space-size=2');
  const s = tunedReexec({ ...base, execArgv: ['--max-semi-space-size=4'], env: {} });
  t.is(s?.env.NODE_OPTIONS, undefined);
  t.is(s?.env.MALLOC_ARENA_MAX, '2');
  const m = tunedReexec({ ...base, env: { MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--max-semi-space-size=8' } });
  t.deepEqual(m?.env, {
    MALLOC_ARENA_MAX: '4',
    NODE_OPTIONS: '--max-semi-space-size=8',
    MALLOC_MMAP_THRESHOLD_: '65536',
    [TUNE_ENV]: '0',
  });
  t.is(tunedReexec({ ...base, env: { MALLOC_MMAP_THRESHOLD_: '131072' } })?.env.MALLOC_MMAP_THRESHOLD_, '131072');
});

test('the running agent is tuned and keeps the PID it was started with', async (t) => {
  const dir = await tmpDir();
  const cfg = path.join(dir, 'agent.yml');
  await fs.writeFile(cfg, 'global:\n  scrape_interval: 10s\n');
  const port = await freePort();
  const env = { ...process.env };
  delete env[TUNE_ENV];
  delete env.MALLOC_ARENA_MAX;
  delete env.MALLOC_MMAP_THRESHOLD_;
  const p = await startOutpost(
    [
      `--config.file=${cfg}`,
      `--storage.agent.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    env,
  );
  try {
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => null))?.status === 200,
      20_000,
      'agent ready',
    );
    const environ = (await fs.readFile(`/proc/${p.child.pid}/environ`, 'utf8')).split('\0');
    t.true(environ.includes('MALLOC_ARENA_MAX=2'), p.output());
    t.true(environ.includes('MALLOC_MMAP_THRESHOLD_=65536'));
    t.true(environ.some((e) => e.startsWith('NODE_OPTIONS=') && e.includes('--max-semi-space-size=2')));
  } finally {
    t.is(await p.stop('SIGTERM'), 0, p.output());
  }
});

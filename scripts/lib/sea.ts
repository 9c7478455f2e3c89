/**
 * Builds one single executable (Node SEA) from the bundle for a target CPU with `node --build-sea`.
 *
 * Base binary: the pinned official node for the target (node-runtime.ts), stripped of symbols
 * (x64: `strip`, arm64: `aarch64-linux-gnu-strip` from binutils-aarch64-linux-gnu), about 114 MB instead
 * of ~150. sea-config.json stays free of machine paths: a derived config names the bundle, the output and
 * the stripped copy.
 *
 * V8 code cache (`useCodeCache`): the cache must be made by the target's V8, so Node can only build it for
 * its own CPU. For arm64 the arm64 node itself runs `--build-sea` under qemu user-mode emulation, which keeps
 * the cache (about 9 s). OUTPOST_SEA_CROSS=1 (needed without an emulator) builds it from the x64 node with the
 * cache off instead (Node's documented way for cross-platform builds). Under qemu on the 2-core build host that
 * cost --version 1.69 s instead of 1.08 s and /-/ready on an empty WAL 5.3 s instead of 4.1 s (bench:startup).
 *
 * Reproducible: the code cache holds values from V8's random generator (the string hash seed), so two
 * builds differ in ~200 kB unless it is seeded: `--random-seed` fixes it and, unlike `--hash-seed`, is left
 * out of V8's flag hash, so the running executable still accepts the cache (NODE_DEBUG_NATIVE=SEA says
 * "SEA module code cache accepted"). The runtime's own seed stays random.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { nodeBinary, type Arch } from './node-runtime.ts';
import { emulated, findEmulator } from './qemu.ts';

class SeaBuildError extends Error {
  override name = 'SeaBuildError';
}

interface SeaConfig {
  main: string;
  mainFormat?: 'commonjs' | 'module';
  output: string;
  executable?: string;
  useCodeCache?: boolean;
  /** Node and V8 flags the executable starts with. */
  execArgv?: string[];
  [key: string]: unknown;
}

export interface SeaBuild {
  output: string;
  bytes: number;
  codeCache: boolean;
  stripped: boolean;
  /** How the blob was made, for logs. */
  how: string;
}

const STRIP: Readonly<Record<Arch, string>> = { x64: 'strip', arm64: 'aarch64-linux-gnu-strip' };
/** Fixed so the code cache is byte-identical between builds; any value works. */
const BUILD_RANDOM_SEED = '--random-seed=1';

function hasTool(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function buildSea(opts: {
  root: string;
  arch: Arch;
  bundle: string;
  output: string;
  log?: (line: string) => void;
}): Promise<SeaBuild> {
  const { root, arch, bundle, output } = opts;
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const config = JSON.parse(await readFile(path.join(root, 'sea-config.json'), 'utf8')) as SeaConfig;
  try {
    await stat(bundle);
  } catch {
    throw new SeaBuildError(
      `${path.relative(root, bundle)} is missing: run \`npm run build\` first (npm run build:sea does both)`,
    );
  }
  const node = await nodeBinary(root, arch);

  const work = await mkdtemp(path.join(os.tmpdir(), `outpost-sea-${arch}-`));
  try {
    const base = path.join(work, 'node');
    await copyFile(node.path, base);
    const strip = STRIP[arch];
    const stripped = hasTool(strip);
    if (stripped) execFileSync(strip, [base], { stdio: 'inherit' });
    else log(`${strip} not found: using the unstripped node binary (larger executable)`);

    let builder: [string, string[]];
    let codeCache = config.useCodeCache === true;
    // V8 rejects a code cache made under other flags (a warning at every start, and no cache): the
    // builder runs with the flags the executable will have.
    const flags = [BUILD_RANDOM_SEED, ...(config.execArgv ?? [])];
    let how: string;
    if (arch === process.arch) {
      builder = [process.execPath, flags];
      how = 'native';
    } else if (process.env.OUTPOST_SEA_CROSS === '1') {
      builder = [process.execPath, []];
      codeCache = false;
      how = `cross build from ${process.arch} node, no code cache (OUTPOST_SEA_CROSS=1)`;
    } else {
      const emu = findEmulator();
      if (!('qemu' in emu)) {
        throw new SeaBuildError(
          `building the ${arch} executable needs an emulator to keep the V8 code cache: ${emu.missing}; or set OUTPOST_SEA_CROSS=1 to build it without the cache`,
        );
      }
      builder = emulated(emu, node.path, flags);
      how = `${path.basename(emu.qemu)} -L ${emu.sysroot} (arm64 node, code cache kept)`;
    }

    const derived = path.join(work, 'sea-config.json');
    // The blob records `main` as written: a bare file name (resolved against cwd) keeps the checkout's and
    // the output's paths out of the executable, so builds in other directories are identical too.
    await writeFile(
      derived,
      JSON.stringify(
        { ...config, main: path.basename(bundle), output, executable: base, useCodeCache: codeCache },
        null,
        2,
      ),
    );
    await rm(output, { force: true });
    await mkdir(path.dirname(output), { recursive: true });
    const [cmd, args] = builder;
    execFileSync(cmd, [...args, '--build-sea', derived], {
      cwd: path.dirname(bundle),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return { output, bytes: (await stat(output)).size, codeCache, stripped, how };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

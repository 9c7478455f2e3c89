/**
 * Turns dist/outpost.mjs (from build.ts) into a single executable with Node's own `node --build-sea`
 * (no postject); the work is in scripts/lib/sea.ts. `npm run build:sea` runs build.ts first.
 *
 *   node scripts/build-sea.ts                   # linux-x64:   dist/outpost
 *   node scripts/build-sea.ts --arch arm64      # linux-arm64: dist/outpost-arm64 (needs qemu, see lib/sea.ts)
 *   node scripts/build-sea.ts --output PATH --bundle PATH
 *
 * Verifies the result by running `<output> --version` (override with OUTPOST_SEA_CHECK_ARGS, space-separated),
 * under qemu for arm64.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ARCHES, type Arch } from './lib/node-runtime.ts';
import { emulated, findEmulator } from './lib/qemu.ts';
import { buildSea } from './lib/sea.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    arch: { type: 'string', default: 'x64' },
    output: { type: 'string' },
    bundle: { type: 'string', default: 'dist/outpost.mjs' },
  },
});
if (!ARCHES.includes(args.arch as Arch)) throw new Error(`--arch: "${args.arch}" is not one of ${ARCHES.join(', ')}`);
const arch = args.arch as Arch;
const output = path.resolve(root, args.output ?? (arch === 'x64' ? 'dist/outpost' : `dist/outpost-${arch}`));

const built = await buildSea({ root, arch, bundle: path.resolve(root, args.bundle), output });

const checkArgs = (process.env.OUTPOST_SEA_CHECK_ARGS ?? '--version').split(' ').filter((a) => a !== '');
let cmd: [string, string[]] = [output, checkArgs];
if (arch !== process.arch) {
  const emu = findEmulator();
  cmd = 'qemu' in emu ? emulated(emu, output, checkArgs) : ['', []];
}
const rel = path.relative(root, output);
const mib = `${(built.bytes / 1024 / 1024).toFixed(1)} MiB`;
if (cmd[0] === '') {
  process.stdout.write(`built ${rel} (${mib}, ${built.how}); not run: no emulator\n`);
} else {
  const t0 = performance.now();
  const check = spawnSync(cmd[0], cmd[1], { encoding: 'utf8', timeout: 60_000 });
  const ms = performance.now() - t0;
  if (check.status !== 0) {
    process.stderr.write(check.stdout + check.stderr);
    throw new Error(`${rel} ${checkArgs.join(' ')} exited with ${check.status ?? check.signal}`);
  }
  process.stdout.write(check.stdout);
  process.stdout.write(`built ${rel} (${mib}, ${built.how}); \`${checkArgs.join(' ')}\` ran in ${ms.toFixed(0)} ms\n`);
}

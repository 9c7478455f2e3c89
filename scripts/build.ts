/**
 * Bundles Outpost into one ESM file, dist/outpost.mjs (the input of the single executable, see build-sea.ts).
 *
 *   npm run build                      # minified, no source map
 *   npm run build -- --sourcemap       # plus dist/outpost.mjs.map (linked)
 *   npm run build -- --no-minify
 *   OUTPOST_BUILD_ENTRY=path/to/entry.ts npm run build   # another entry point (trials)
 *
 * ESM, not CJS: yoga-layout (Ink's layout engine) and Ink use top-level await, which CJS output cannot carry.
 * Build information is injected as global constants (define):
 *   __OUTPOST_VERSION__     package.json version
 *   __OUTPOST_REVISION__    `git rev-parse HEAD`, "unknown" outside a git checkout
 *   __OUTPOST_BUILD_DATE__  ISO 8601, from SOURCE_DATE_EPOCH when set (reproducible builds), else now
 */
import { build, type BuildOptions } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    sourcemap: { type: 'boolean', default: false },
    'no-minify': { type: 'boolean', default: false },
    outfile: { type: 'string', default: 'dist/outpost.mjs' },
  },
});

function gitRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

function buildDate(): string {
  const epoch = process.env['SOURCE_DATE_EPOCH'];
  const ms = epoch !== undefined && /^\d+$/.test(epoch) ? Number(epoch) * 1000 : Date.now();
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// CommonJS dependencies bundled into ESM (signal-exit, yargs' CJS parts, protobufjs, ...) call `require`,
// which ESM lacks. Only `require` is declared: some bundled ESM modules declare their own top-level
// `__dirname` (yargs' ESM shim does), and a second declaration would be a SyntaxError.
const banner = [
  "import { createRequire as __outpostCreateRequire } from 'node:module';",
  'const require = __outpostCreateRequire(import.meta.url);',
].join('\n');

async function bundle(): Promise<{ outfile: string; bytes: number }> {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const entry = process.env['OUTPOST_BUILD_ENTRY'] ?? 'src/main.ts';
  const outfile = path.resolve(root, args.outfile);
  await mkdir(path.dirname(outfile), { recursive: true });

  const options: BuildOptions = {
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node26',
    tsconfig: 'tsconfig.json',
    jsx: 'automatic',
    minify: !args['no-minify'],
    sourcemap: args.sourcemap ? 'linked' : false,
    banner: { js: banner },
    alias: { 'react-devtools-core': './scripts/react-devtools-stub.ts' },
    define: {
      // Selects React's production build and drops its development checks.
      'process.env.NODE_ENV': JSON.stringify('production'),
      __OUTPOST_VERSION__: JSON.stringify(pkg.version),
      __OUTPOST_REVISION__: JSON.stringify(gitRevision()),
      __OUTPOST_BUILD_DATE__: JSON.stringify(buildDate()),
    },
    metafile: true,
    logLevel: 'warning',
  };
  const result = await build(options);
  // package.json's "bin" points here; esbuild keeps the entry's #! line first.
  await chmod(outfile, 0o755);
  const bytes = result.metafile?.outputs[path.relative(root, outfile)]?.bytes ?? 0;
  return { outfile, bytes };
}

const { outfile, bytes } = await bundle();
process.stdout.write(`built ${path.relative(root, outfile)} (${(bytes / 1024 / 1024).toFixed(2)} MiB)\n`);

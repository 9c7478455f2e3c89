/**
 * Bundles Outpost into one ESM file, dist/outpost.mjs (the input of the single executable, see build-sea.ts).
 *
 *   npm run build                      # minified, no source map
 *   npm run build -- --sourcemap       # plus dist/outpost.mjs.map (linked)
 *   npm run build -- --no-minify
 *   npm run build -- --outfile DIR/outpost.mjs --metafile DIR/meta.json   # elsewhere; esbuild's metafile (release.ts)
 *   OUTPOST_BUILD_ENTRY=path/to/entry.ts npm run build   # another entry point (trials)
 *
 * ESM, not CJS: yoga-layout (Ink's layout engine) and Ink use top-level await, which CJS output cannot carry.
 * Build information is injected as global constants (define):
 *   __OUTPOST_VERSION__     package.json version
 *   __OUTPOST_REVISION__    `git rev-parse HEAD`, "unknown" outside a git checkout
 *   __OUTPOST_BUILD_DATE__  ISO 8601, from SOURCE_DATE_EPOCH when set (reproducible builds), else now
 *   __OUTPOST_CLIENT_JS__   the UI's browser script, bundled for the browser by scripts/client-bundle.ts
 *
 * Memory: what the bundle loads at start-up stays resident. In a Node 26 process that already has
 * node:http, tls (and so https) adds about 8 MB of RSS, crypto 2.3, zlib 0.9. A plain-HTTP agent
 * needs none of them (the MD5 of remote_write's queue name and of hashmod is src/util/md5.ts), so
 *  - src code reaches https/tls/crypto/zlib through src/util/lazy-builtin.ts, and loads node-fetch and
 *    bcryptjs with import() where it needs them;
 *  - lazyDependencies() below keeps the builtins those dependencies import from being hoisted into
 *    the bundle's top-level imports, and defers prom-client's Pushgateway (https, zlib) and its
 *    @opentelemetry/api (exemplars of process_cpu_*, never enabled);
 *  - it also turns `import ... from 'node:http'` into a plain module read: an ESM import of a builtin
 *    evaluates every export, and node:http's WebSocket, CloseEvent and MessageEvent getters load
 *    undici, which loads tls, http2, zlib and crypto, none of them used;
 *  - the output must be ASCII: one non-ASCII character makes V8 keep the whole 1.3 MB source as a
 *    two-byte string. `charset: 'ascii'` escapes strings; licence comments (which it leaves alone)
 *    go to dist/outpost.mjs.LEGAL.txt, named by a comment in the bundle.
 * With 50 targets x 2000 series and remote write, 75 s in, RSS went from ~148.6 to ~142.6 MB.
 * test/e2e/lazy-builtins.test.ts checks the built agent.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleClient } from './client-bundle.ts';

const root = path.resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    sourcemap: { type: 'boolean', default: false },
    'no-minify': { type: 'boolean', default: false },
    outfile: { type: 'string', default: 'dist/outpost.mjs' },
    metafile: { type: 'string' },
  },
});

function gitRevision(): string {
  try {
    return (
      execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || 'unknown'
    );
  } catch {
    return 'unknown';
  }
}

function buildDate(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const ms = epoch !== undefined && /^\d+$/.test(epoch) ? Number(epoch) * 1000 : Date.now();
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// CommonJS dependencies bundled into ESM (signal-exit, yargs' CJS parts, ...) call `require`,
// which ESM lacks. Only `require` is declared: some bundled ESM modules declare their own top-level
// `__dirname` (yargs' ESM shim does), and a second declaration would be a SyntaxError.
const banner = [
  "import { createRequire as __outpostCreateRequire } from 'node:module';",
  'const require = __outpostCreateRequire(import.meta.url);',
].join('\n');

/**
 * Builtins a plain-HTTP agent never needs (src/util/lazy-builtin.ts has the accessors for src), and
 * http, whose ESM import would load undici (see the top of this file).
 */
const SHIMMED_BUILTIN = /^(?:node:)?(https?|http2|tls|crypto|zlib)$/;

/**
 * esbuild hoists a dependency's `import x from 'node:zlib'` into the bundle's top-level imports even
 * when the dependency itself is only reached through import(), so the builtin would still load at
 * start-up. Resolved here to a CommonJS module instead, it runs when its importer is first
 * evaluated, it does not touch the module's getters, and named imports become property reads on
 * the real module.
 */
function lazyDependencies(): Plugin {
  return {
    name: 'outpost-lazy-dependencies',
    setup(b) {
      b.onResolve({ filter: SHIMMED_BUILTIN }, (a) => {
        if (a.kind !== 'import-statement') return undefined;
        return {
          path: (SHIMMED_BUILTIN.exec(a.path) as RegExpExecArray)[1] as string,
          namespace: 'outpost-lazy-builtin',
        };
      });
      b.onLoad({ filter: /.*/, namespace: 'outpost-lazy-builtin' }, (a) => ({
        contents: `module.exports = process.getBuiltinModule(${JSON.stringify('node:' + a.path)});\n`,
        loader: 'js',
      }));
      // prom-client's index requires its Pushgateway eagerly, and that requires https and zlib.
      // Outpost never pushes; the stand-in loads the real class if anything ever constructs one.
      b.onResolve({ filter: /^\.\/lib\/pushgateway$/ }, (a) => {
        if (!a.importer.includes(`${path.sep}prom-client${path.sep}`)) return undefined;
        return { path: path.join(a.resolveDir, 'lib', 'pushgateway.js'), namespace: 'outpost-lazy-pushgateway' };
      });
      b.onLoad({ filter: /.*/, namespace: 'outpost-lazy-pushgateway' }, (a) => ({
        contents: `module.exports = class Pushgateway {\n  constructor(...args) {\n    const Real = require(${JSON.stringify(a.path)});\n    return new Real(...args);\n  }\n};\n`,
        loader: 'js',
        resolveDir: path.dirname(a.path),
      }));
      // prom-client's process_cpu metrics require @opentelemetry/api (about 50 modules) to read a trace
      // id only for exemplars, which Outpost never enables on them: the stand-in loads it on first use.
      b.onResolve({ filter: /^@opentelemetry\/api$/ }, (a) => {
        if (!a.importer.includes(`${path.sep}prom-client${path.sep}`)) return undefined;
        return { path: a.path, namespace: 'outpost-lazy-otel-api', pluginData: a.resolveDir };
      });
      b.onLoad({ filter: /.*/, namespace: 'outpost-lazy-otel-api' }, (a) => ({
        contents: [
          'let real;',
          `const api = () => (real ??= require(${JSON.stringify(a.path)}));`,
          'module.exports = {',
          '  get trace() { return api().trace; },',
          '  get context() { return api().context; },',
          '};',
          '',
        ].join('\n'),
        loader: 'js',
        resolveDir: a.pluginData as string,
      }));
    },
  };
}

/** The start-up guarantees above, checked on the output so a new import cannot quietly undo them. */
function checkOutput(code: string): void {
  const problems: string[] = [];
  const nonAscii = /[^\x00-\x7f]/.exec(code);
  if (nonAscii)
    problems.push(
      `non-ASCII character U+${(nonAscii[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')} near ${JSON.stringify(code.slice(Math.max(0, nonAscii.index - 60), nonAscii.index + 20))}`,
    );
  for (const m of code.matchAll(
    /\bimport\s*[^;()]*?\bfrom\s*["'](?:node:)?(https?|http2|tls|crypto|zlib|undici)["']/g,
  )) {
    problems.push(`top-level import of ${m[1]} (lazyDependencies() should have replaced it): ${m[0].slice(0, 80)}`);
  }
  if (problems.length > 0) throw new Error(`bundle check failed:\n  ${problems.join('\n  ')}`);
}

async function bundle(): Promise<{ outfile: string; bytes: number }> {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const entry = process.env.OUTPOST_BUILD_ENTRY ?? 'src/main.ts';
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
      // The UI's browser script, bundled on its own (src/web/ui/client-script.ts serves it).
      __OUTPOST_CLIENT_JS__: JSON.stringify(await bundleClient({ minify: !args['no-minify'] })),
    },
    plugins: [lazyDependencies()],
    charset: 'ascii',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  };
  const result = await build(options);
  checkOutput(await readFile(outfile, 'utf8'));
  // package.json's "bin" points here; esbuild keeps the entry's #! line first.
  await chmod(outfile, 0o755);
  if (args.metafile !== undefined) await writeFile(path.resolve(root, args.metafile), JSON.stringify(result.metafile));
  const bytes = result.metafile?.outputs[path.relative(root, outfile)]?.bytes ?? 0;
  return { outfile, bytes };
}

const { outfile, bytes } = await bundle();
process.stdout.write(`built ${path.relative(root, outfile)} (${(bytes / 1024 / 1024).toFixed(2)} MiB)\n`);

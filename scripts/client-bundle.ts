/**
 * Bundles the UI's browser module (src/web/ui/client.ts) for the browser: one minified IIFE in
 * ASCII, which scripts/build.ts injects into the agent as __OUTPOST_CLIENT_JS__ (see
 * src/web/ui/client-script.ts). Target ES2022, which every current browser runs: from source the
 * script is served with its types stripped and nothing lowered, so it cannot rely on lowering anyway.
 */
import { build } from 'esbuild';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

export async function bundleClient(opts: { minify?: boolean } = {}): Promise<string> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['src/web/ui/client.ts'],
    tsconfig: 'src/web/ui/tsconfig.json',
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: opts.minify ?? true,
    charset: 'ascii',
    legalComments: 'none',
    logLevel: 'warning',
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild produced no output for src/web/ui/client.ts');
  return out.text;
}

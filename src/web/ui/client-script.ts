/**
 * The text served as /static/outpost.js. scripts/build.ts bundles the browser module client.ts with
 * esbuild (minified, for the browsers the UI supports) and injects the result here as a constant.
 * Running from source (`npm start`, the tests) there is no bundle: client.ts is written in erasable
 * TypeScript with type imports only, so stripping its types, as Node does for .ts files, yields
 * the script.
 */

import { durationFormats } from '../../status/format.ts';

/** The duration formatters the script calls outpostDurationFormats(): the dashboard's own code. */
export const PRELUDE = `var outpostDurationFormats = ${durationFormats.toString()};\n`;

// Set by the bundler (scripts/build.ts); absent when running from source.
declare const __OUTPOST_CLIENT_JS__: string | undefined;

let fromSource: string | undefined;

export function clientScript(): string {
  if (typeof __OUTPOST_CLIENT_JS__ === 'string') return PRELUDE + __OUTPOST_CLIENT_JS__;
  if (fromSource === undefined) {
    const { readFileSync } = process.getBuiltinModule('node:fs');
    const { stripTypeScriptTypes } = process.getBuiltinModule('node:module');
    fromSource = PRELUDE + stripTypeScriptTypes(readFileSync(new URL('./client.ts', import.meta.url), 'utf8'));
  }
  return fromSource;
}

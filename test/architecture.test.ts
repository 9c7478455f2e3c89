/**
 * The layering rules of ARCHITECTURE.md, checked on the import graph of src/ and tui/ (static,
 * type-only and dynamic imports). Each rule is also run on a small tree of deliberately bad imports,
 * so a rule that stopped finding anything would fail here too.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { cycles, importGraph, packageName, type ImportEdge } from './helpers/import-graph.ts';
import { ROOT, tmpDir } from './helpers/procs.ts';

/** Packages only the terminal UI may load. */
const UI_PACKAGES = new Set(['ink', 'react', 'ink-testing-library']);
/** The one place the core may load the UI: the entry point's dynamic import in interactive mode. */
const ENTRY = 'src/main.ts';
/** Runs in the browser, served from source with its types stripped (src/web/ui/client-script.ts): type imports only. */
const BROWSER_SCRIPT = 'src/web/ui/client.ts';

/**
 * The unit a file belongs to for the cycle rule: its folder directly under src/ or tui/, or the file
 * itself when it sits at that level (src/main.ts, src/build-info.ts, ...), so the composition root
 * importing every folder does not make a cycle with a folder reading build-info.
 */
function unitOf(file: string): string {
  const parts = file.split('/');
  return parts.slice(0, 2).join('/');
}

function where(e: ImportEdge): string {
  return `${e.from}:${e.line} imports '${e.specifier}'${e.kind === 'static' ? '' : ` (${e.kind})`}`;
}

function inside(file: string | undefined, dir: string): boolean {
  return file !== undefined && (file === dir || file.startsWith(dir + '/'));
}

/** Every broken rule in the tree at root, one readable line each. */
function violations(root: string): string[] {
  const edges = importGraph(root, ['src', 'tui']);
  const out: string[] = [];
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies?: object;
    devDependencies?: object;
  };
  // Test and build tools (protobufjs, ava, esbuild, ...) must not end up in the bundle.
  const devOnly = new Set(Object.keys(pkg.devDependencies ?? {}).filter((d) => !(d in (pkg.dependencies ?? {}))));

  for (const e of edges) {
    const name = packageName(e.specifier);
    if (devOnly.has(name)) out.push(`shipped code imports a devDependency: ${where(e)}`);
    if (inside(e.from, 'src')) {
      if (UI_PACKAGES.has(name) || name.startsWith('ink-')) out.push(`src/ imports a UI package: ${where(e)}`);
      if (inside(e.to, 'tui') && !(e.from === ENTRY && e.kind === 'dynamic'))
        out.push(`src/ imports tui/ (only ${ENTRY} may, with import()): ${where(e)}`);
    }
    if (inside(e.from, 'tui') && inside(e.to, 'src') && !inside(e.to, 'src/status'))
      out.push(`tui/ imports src/ outside src/status: ${where(e)}`);
    if (inside(e.to, 'test') || inside(e.to, 'bench')) out.push(`shipped code imports test code: ${where(e)}`);
    if (e.from === BROWSER_SCRIPT && e.kind !== 'type')
      out.push(`the browser script imports more than types: ${where(e)}`);
  }

  // Folder cycles, among the folders of src/ and tui/ themselves.
  const next = new Map<string, Map<string, ImportEdge>>();
  for (const e of edges) {
    if (e.to === undefined || !(inside(e.to, 'src') || inside(e.to, 'tui'))) continue;
    const a = unitOf(e.from);
    const b = unitOf(e.to);
    if (a === b) continue;
    let m = next.get(a);
    if (!m) next.set(a, (m = new Map()));
    if (!m.has(b)) m.set(b, e);
  }
  for (const scc of cycles(next.keys(), (u) => next.get(u)?.keys() ?? [])) {
    const members = new Set(scc);
    const links: string[] = [];
    for (const a of scc)
      for (const [b, e] of next.get(a) ?? []) if (members.has(b)) links.push(`${a} -> ${b} (${where(e)})`);
    out.push(`folder cycle ${scc.join(', ')}:\n    ${links.join('\n    ')}`);
  }

  // File cycles inside a folder (om-strict.ts and openmetrics.ts once imported each other).
  const files = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.to === undefined || unitOf(e.from) !== unitOf(e.to) || !(inside(e.to, 'src') || inside(e.to, 'tui')))
      continue;
    let s = files.get(e.from);
    if (!s) files.set(e.from, (s = new Set()));
    s.add(e.to);
  }
  for (const scc of cycles(files.keys(), (f) => files.get(f) ?? [])) out.push(`file cycle: ${scc.join(', ')}`);

  return out;
}

test('src/ and tui/ keep the layering: no folder or file cycles, no UI in the core, tui/ sees only src/status, no test code or devDependency shipped', (t) => {
  const found = violations(ROOT);
  t.deepEqual(found, [], found.join('\n'));
});

test('the graph covers the tree: the known layering edges are seen', (t) => {
  // Guards the reader itself: if it stopped finding imports, the rules above would pass vacuously.
  const edges = importGraph(ROOT, ['src', 'tui']);
  const has = (from: string, to: string, kind?: string): boolean =>
    edges.some((e) => e.from === from && e.to === to && (kind === undefined || e.kind === kind));
  t.true(has('src/main.ts', 'tui/index.tsx', 'dynamic'));
  t.true(has('src/scrape/manager.ts', 'src/storage/appender.ts', 'type'));
  t.true(edges.some((e) => e.from.startsWith('tui/') && inside(e.to, 'src/status')));
  t.true(edges.length > 500, `only ${edges.length} imports found`);
});

async function writeTree(files: Record<string, string>): Promise<string> {
  const root = await tmpDir('outpost-arch-');
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), text);
  }
  return root;
}

test('every rule fails on a deliberately bad import', async (t) => {
  const root = await writeTree({
    'package.json': JSON.stringify({
      dependencies: { ink: '8', react: '19' },
      devDependencies: { ava: '8', protobufjs: '8' },
    }),
    // Allowed: the entry's dynamic import of the UI, tui/ reading status types, comments and strings that only look like imports.
    'src/main.ts':
      "const { runTui } = await import('../tui/index.tsx');\n// import { x } from '../tui/App.tsx';\nconst s = \"import('ink')\";\n",
    'src/status/types.ts': 'export interface Snap { n: number }\n',
    'tui/index.tsx':
      "import { render } from 'ink';\nimport type { Snap } from '../src/status/types.ts';\nexport const runTui = (s: Snap) => render(s);\n",
    // A folder cycle made only of types, as scrape -> agent -> remote -> scrape once was.
    'src/scrape/loop.ts': "import type { Appender } from '../agent/storage.ts';\n",
    'src/agent/storage.ts':
      "import type {\n  WalPosition,\n} from '../remote/queue.ts';\nexport interface Appender {}\n",
    'src/remote/queue.ts': "export { AuthSource } from '../scrape/auth.ts';\n",
    'src/scrape/auth.ts': 'export class AuthSource {}\n',
    // Two files of one folder importing each other.
    'src/textparse/a.ts': "import { b } from './b.ts';\nexport const a = 1;\n",
    'src/textparse/b.ts': "import { a } from './a.ts';\nexport const b = 2;\n",
    // UI in the core, statically and through a package subpath.
    'src/web/page.ts': "import React from 'react';\nimport { jsx } from 'react/jsx-runtime';\n",
    'src/app.ts': "import { App } from '../tui/App.tsx';\n",
    // tui/ reaching past src/status.
    'tui/App.tsx': "import { loadConfig } from '../src/config/load.ts';\n",
    // The browser script loading code (only type imports are erased when it is served from source).
    'src/web/ui/client.ts': "import type { ApiTarget } from '../api-types.ts';\nimport { fmt } from './format.ts';\n",
    // A test helper and a test-only package shipped in the core.
    'src/util/clock.ts': "export { FakeClock } from '../../test/helpers/clock.ts';\n",
    'src/remote/decode.ts': "import protobuf from 'protobufjs';\n",
  });
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));

  t.deepEqual(violations(root), [
    "src/ imports tui/ (only src/main.ts may, with import()): src/app.ts:1 imports '../tui/App.tsx'",
    "shipped code imports a devDependency: src/remote/decode.ts:1 imports 'protobufjs'",
    "shipped code imports test code: src/util/clock.ts:1 imports '../../test/helpers/clock.ts'",
    "src/ imports a UI package: src/web/page.ts:1 imports 'react'",
    "src/ imports a UI package: src/web/page.ts:2 imports 'react/jsx-runtime'",
    "the browser script imports more than types: src/web/ui/client.ts:2 imports './format.ts'",
    "tui/ imports src/ outside src/status: tui/App.tsx:1 imports '../src/config/load.ts'",
    'folder cycle src/agent, src/remote, src/scrape:\n' +
      "    src/agent -> src/remote (src/agent/storage.ts:1 imports '../remote/queue.ts' (type))\n" +
      "    src/remote -> src/scrape (src/remote/queue.ts:1 imports '../scrape/auth.ts')\n" +
      "    src/scrape -> src/agent (src/scrape/loop.ts:1 imports '../agent/storage.ts' (type))",
    'file cycle: src/textparse/a.ts, src/textparse/b.ts',
  ]);
});

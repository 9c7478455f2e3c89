/**
 * THIRD_PARTY_NOTICES.md for a release: the licences of everything inside the executable that is not
 * Outpost's own code, i.e. the Node.js runtime (its LICENSE also covers V8, OpenSSL, ICU, libuv, ...) and
 * every npm package esbuild put into the bundle (read from esbuild's metafile, so a package that is
 * installed but tree-shaken away is not listed).
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

class NoticesError extends Error {
  override name = 'NoticesError';
}

interface Metafile {
  inputs: Record<string, unknown>;
}

/** Package directories (relative to root) of the bundle's inputs, e.g. node_modules/@scope/name. */
function bundledPackageDirs(meta: Metafile): string[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    // Plugin namespaces ("outpost-lazy-builtin:http") are not files; their packages appear as files too.
    if (/^[\w-]+:/.test(input)) continue;
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.replace(/\\/g, '/'));
    if (m) dirs.add(m[1]!);
  }
  return [...dirs].sort();
}

const LICENCE_FILE = /^(licen[cs]e|copying|notice)(\.(md|txt|markdown))?$/i;

export async function thirdPartyNotices(
  root: string,
  meta: Metafile,
  node: { version: string; license: string },
): Promise<string> {
  const parts: string[] = [
    '# Third-party notices',
    '',
    `The \`outpost\` executable contains the Node.js ${node.version} runtime and the npm packages below. Their licences follow.`,
    '',
  ];
  const sections: string[] = [];
  const seen = new Set<string>();
  for (const dir of bundledPackageDirs(meta)) {
    const pkg = JSON.parse(await readFile(path.join(root, dir, 'package.json'), 'utf8')) as {
      name?: string;
      version?: string;
      license?: string;
    };
    const id = `${pkg.name ?? dir}@${pkg.version ?? '?'}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const files = (await readdir(path.join(root, dir))).filter((f) => LICENCE_FILE.test(f)).sort();
    if (files.length === 0 && !pkg.license)
      throw new NoticesError(`${id} (${dir}) has neither a licence file nor a "license" field`);
    const texts = await Promise.all(
      files.map(async (f) => (await readFile(path.join(root, dir, f), 'utf8')).trimEnd()),
    );
    sections.push(
      [
        `## ${id}`,
        '',
        `License: ${pkg.license ?? 'see below'}`,
        '',
        ...(texts.length > 0
          ? texts.flatMap((t) => ['```text', t, '```', ''])
          : ['(the package ships no licence file)', '']),
      ].join('\n'),
    );
  }
  parts.push(
    `Packages: ${[...seen].join(', ')}.`,
    '',
    `## Node.js ${node.version}`,
    '',
    '```text',
    node.license.trimEnd(),
    '```',
    '',
    ...sections,
  );
  return parts.join('\n');
}

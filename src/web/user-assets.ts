/**
 * `--web.user-assets=DIR`: the files of DIR under `/user/`, as Prometheus serves them (web/web.go
 * registers `/user/*filepath` with a file server whenever the flag is set, agent mode included).
 * Files and a directory's index.html are served; nothing outside DIR is reachable (`..` and
 * encoded separators are resolved before the check). Directory listings, which Go's file server
 * would produce, are not: a directory without index.html is a 404.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end('404 page not found\n');
}

/** Answers a GET or HEAD for `rel` (the decoded path after `/user/`) from `root`. */
export async function serveUserAsset(root: string, rel: string, res: http.ServerResponse): Promise<void> {
  const base = path.resolve(root);
  let file = path.resolve(base, `.${path.posix.normalize(`/${rel}`)}`);
  if (file !== base && !file.startsWith(base + path.sep)) return notFound(res);
  let st: fs.Stats;
  try {
    st = await fsp.stat(file);
    if (st.isDirectory()) {
      file = path.join(file, 'index.html');
      st = await fsp.stat(file);
    }
  } catch {
    return notFound(res);
  }
  if (!st.isFile()) return notFound(res);
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': st.size,
    'Last-Modified': st.mtime.toUTCString(),
  });
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = fs.createReadStream(file);
    stream.once('error', () => {
      res.destroy();
      resolve();
    });
    stream.once('end', resolve);
    stream.pipe(res);
  });
}

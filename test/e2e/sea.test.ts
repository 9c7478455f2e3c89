/**
 * The single executable (dist/outpost, Node SEA) on its own: a copy of the file alone in an empty directory,
 * run under `env -i` (no PATH, HOME, NODE_*), so the test proves nothing outside the file is needed — no
 * node_modules next to it, no node on PATH, no environment.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleClient } from '../../scripts/client-bundle.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { ROOT, freePort, startProc, tmpDir, waitUntil, type Proc } from '../helpers/procs.ts';

const run = promisify(execFile);
const BUNDLE = path.join(ROOT, 'dist/outpost.mjs');
const SEA = path.join(ROOT, 'dist/outpost');
const { version } = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

async function mtime(p: string): Promise<number | null> {
  return fs.stat(p).then(
    (s) => s.mtimeMs,
    () => null,
  );
}

function build(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

/**
 * Builds dist/outpost when it is missing or older than the bundle. An existing bundle is left alone (only
 * build-sea.ts runs): other e2e tests run dist/outpost.mjs at the same time, and rewriting it under them
 * would hand them a half-written file.
 */
async function ensureSea(): Promise<string> {
  const bundle = await mtime(BUNDLE);
  const sea = await mtime(SEA);
  if (bundle === null) {
    build('npm', ['run', 'build:sea']);
    return 'built with npm run build:sea';
  }
  if (sea === null || sea < bundle) {
    build(process.execPath, [path.join(ROOT, 'scripts/build-sea.ts')]);
    return `${sea === null ? 'missing' : 'older than dist/outpost.mjs'}: built with scripts/build-sea.ts`;
  }
  return 'up to date';
}

let prepared: Promise<{ dir: string; bin: string; how: string }> | null = null;

/** One build and one lone copy for both tests; the copy lives in a directory holding nothing else. */
function prepare(): Promise<{ dir: string; bin: string; how: string }> {
  prepared ??= (async () => {
    const how = await ensureSea();
    const dir = await tmpDir('outpost-sea-test-');
    const bin = path.join(dir, 'outpost');
    await fs.copyFile(SEA, bin);
    await fs.chmod(bin, 0o755);
    return { dir, bin, how };
  })();
  return prepared;
}

test.after.always(async () => {
  if (prepared) await fs.rm((await prepared).dir, { recursive: true, force: true });
});

async function lone(t: ExecutionContext): Promise<{ dir: string; bin: string }> {
  // Building copies and strips a ~120 MB node; give it room on a slow runner.
  t.timeout(600_000);
  const p = await prepare();
  t.log(`dist/outpost: ${p.how}`);
  return p;
}

test('e2e sea: `env -i outpost --version` prints version, revision, Node version and build date', async (t) => {
  const { dir, bin } = await lone(t);
  const started = Date.now();
  const { stdout, stderr } = await run('env', ['-i', bin, '--version'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.log(`--version took ${Date.now() - started} ms`);
  t.is(stderr, '');
  const m =
    /^outpost, version (\S+) \(revision: ([0-9a-f]{40}|unknown)\)\n {2}build date: +(\S+)\n {2}node version: +(v\d+\.\d+\.\d+)\n {2}platform: +linux\/x64\n$/.exec(
      stdout,
    );
  t.truthy(m, stdout);
  if (!m) return;
  t.is(m[1], version);
  // A checkout builds with its commit; "unknown" only outside git (e.g. from a source tarball).
  if (spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).status === 0) t.regex(m[2]!, /^[0-9a-f]{40}$/);
  const built = Date.parse(m[3]!);
  t.regex(m[3]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.true(Number.isFinite(built) && built <= Date.now() + 60_000, `build date ${m[3]} is a real past time`);
  // The runtime is the one inside the file: the pinned Node that built it, not anything on the machine.
  t.is(m[4], process.version);
});

test('e2e sea: the lone binary under env -i scrapes, remote-writes, and exits 0 on SIGTERM', async (t) => {
  const { dir, bin } = await lone(t);
  let served = 0;
  const target = http.createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE sea_probe_scrapes_total counter\nsea_probe_scrapes_total ${served}\n`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  const rx = await RwReceiver.start();
  const work = await tmpDir('outpost-sea-run-');
  const cfg = path.join(work, 'agent.yml');
  await fs.writeFile(
    cfg,
    [
      'global:',
      '  scrape_interval: 1s',
      '  external_labels:',
      '    site: sea-test',
      'scrape_configs:',
      '  - job_name: probe',
      '    static_configs:',
      `      - targets: ['${addr}']`,
      'remote_write:',
      `  - url: ${rx.url}`,
      '    queue_config:',
      '      batch_send_deadline: 1s',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  let agent: Proc | null = null;
  t.teardown(async () => {
    await agent?.stop('SIGKILL');
    await rx.close();
    target.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  agent = startProc(
    'env',
    [
      '-i',
      bin,
      `--config.file=${cfg}`,
      `--storage.agent.path=${path.join(work, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--no-tui',
    ],
    { cwd: dir },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => (await fetch(`${base}/-/ready`)).status === 200,
    30_000,
    () => `/-/ready = 200\n${agent?.output()}`,
  );
  await rx.waitFor((r) => r.series('sea_probe_scrapes_total').length >= 3, 30_000);

  const first = rx.series('sea_probe_scrapes_total')[0]!;
  t.deepEqual(first.labels, { __name__: 'sea_probe_scrapes_total', instance: addr, job: 'probe', site: 'sea-test' });
  t.true(
    rx.series('up').some((s) => s.value === 1 && s.labels.job === 'probe'),
    'up=1 delivered',
  );
  t.is(rx.requests[0]!.headers['user-agent'], `Outpost/${version}`);
  const self = await (await fetch(`${base}/metrics`)).text();
  t.regex(self, new RegExp(`^prometheus_build_info\\{[^}]*version="${version.replace(/\./g, '\\.')}"[^}]*\\} 1$`, 'm'));
  t.regex(self, /^process_resident_memory_bytes \d+/m);
  const info = (await (await fetch(`${base}/api/v1/status/buildinfo`)).json()) as {
    data: { version: string; goVersion: string };
  };
  t.is(info.data.version, version);
  t.is(info.data.goVersion, `node${process.versions.node}`);
  // The UI script is the browser bundle built into the binary, not the source read from disk.
  const js = await (await fetch(`${base}/static/outpost.js`)).text();
  t.is(js, await bundleClient());

  const code = await agent.stop('SIGTERM');
  const out = agent.output();
  t.is(code, 0, out);
  t.regex(out, /Received termination request.*signal=SIGTERM/);
  t.regex(out, /See you next time!/);
  t.notRegex(out, /level=error|ExperimentalWarning|Warning:/);
  // Everything scraped before SIGTERM went out during the shutdown (a scrape cut short by it may be lost).
  const max = Math.max(...rx.series('sea_probe_scrapes_total').map((s) => s.value));
  t.true(max >= served - 1, `delivered up to ${max} of ${served} scrapes`);
});

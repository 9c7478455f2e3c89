/**
 * Shared by the single-executable tests (x64 natively, arm64 under qemu): building dist/outpost[-arm64]
 * when it is missing or stale, and the smoke run (scrape a local target, remote-write to a recording
 * receiver, exit 0 on SIGTERM).
 */
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { RwReceiver } from './rw-receiver.ts';
import { ROOT, freePort, tmpDir, waitUntil, type Proc } from './procs.ts';

const BUNDLE = path.join(ROOT, 'dist/outpost.mjs');
export const { version: VERSION } = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

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
 * Builds the executable for `arch` when it is missing or older than the bundle. An existing bundle is left
 * alone (only build-sea.ts runs): other e2e tests run dist/outpost.mjs at the same time, and rewriting it
 * under them would hand them a half-written file.
 */
async function ensureSea(arch: 'x64' | 'arm64'): Promise<{ bin: string; how: string }> {
  const bin = path.join(ROOT, arch === 'x64' ? 'dist/outpost' : 'dist/outpost-arm64');
  const seaArgs = [path.join(ROOT, 'scripts/build-sea.ts'), '--arch', arch];
  if ((await mtime(BUNDLE)) === null) build('npm', ['run', 'build']);
  const bundle = (await mtime(BUNDLE)) as number;
  const sea = await mtime(bin);
  if (sea === null || sea < bundle) {
    build(process.execPath, seaArgs);
    return {
      bin,
      how: `${sea === null ? 'missing' : 'older than dist/outpost.mjs'}: built with scripts/build-sea.ts --arch ${arch}`,
    };
  }
  return { bin, how: 'up to date' };
}

/**
 * The executable for `arch` (built when stale), copied alone into an empty directory as on a box:
 * once per test file, removed by the hook `after` registers (pass `(fn) => test.after.always(fn)`).
 */
export function loneSeaCopy(
  arch: 'x64' | 'arm64',
  after: (fn: () => Promise<void>) => void,
): () => Promise<{ dir: string; bin: string; how: string }> {
  let prepared: Promise<{ dir: string; bin: string; how: string }> | null = null;
  after(async () => {
    if (prepared) await fs.rm((await prepared).dir, { recursive: true, force: true });
  });
  return () => {
    prepared ??= (async () => {
      const { bin: built, how } = await ensureSea(arch);
      const dir = await tmpDir(`outpost-sea-${arch}-`);
      const bin = path.join(dir, 'outpost');
      await fs.copyFile(built, bin);
      await fs.chmod(bin, 0o755);
      return { dir, bin, how };
    })();
    return prepared;
  };
}

/** `outpost --version` output: version, revision, build date, node version, platform. */
export function versionPattern(arch: 'x64' | 'arm64'): RegExp {
  return new RegExp(
    `^outpost, version (\\S+) \\(revision: ([0-9a-f]{40}|unknown)\\)\\n {2}build date: +(\\S+)\\n {2}node version: +(v\\d+\\.\\d+\\.\\d+)\\n {2}platform: +linux/${arch}\\n$`,
  );
}

/**
 * Starts the agent through `start` (given the agent's flags) on a config that scrapes a local target every
 * second and remote-writes to a recording receiver; checks what arrives, the self-metrics and the build
 * info, then SIGTERM → exit 0 with everything scraped delivered.
 */
export async function smokeScrapeAndRemoteWrite(
  t: ExecutionContext,
  start: (flags: string[]) => Proc,
  timeoutMs = 30_000,
): Promise<void> {
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

  agent = start([
    `--config.file=${cfg}`,
    `--storage.agent.path=${path.join(work, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--no-tui',
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => (await fetch(`${base}/-/ready`)).status === 200,
    timeoutMs,
    () => `/-/ready = 200\n${agent?.output()}`,
  );
  await rx.waitFor((r) => r.series('sea_probe_scrapes_total').length >= 3, timeoutMs);

  const first = rx.series('sea_probe_scrapes_total')[0]!;
  t.deepEqual(first.labels, { __name__: 'sea_probe_scrapes_total', instance: addr, job: 'probe', site: 'sea-test' });
  t.true(
    rx.series('up').some((s) => s.value === 1 && s.labels.job === 'probe'),
    'up=1 delivered',
  );
  t.is(rx.requests[0]!.headers['user-agent'], `Outpost/${VERSION}`);
  const self = await (await fetch(`${base}/metrics`)).text();
  t.regex(self, new RegExp(`^prometheus_build_info\\{[^}]*version="${VERSION.replace(/\./g, '\\.')}"[^}]*\\} 1$`, 'm'));
  t.regex(self, /^process_resident_memory_bytes \d+/m);
  const info = (await (await fetch(`${base}/api/v1/status/buildinfo`)).json()) as {
    data: { version: string; goVersion: string };
  };
  t.is(info.data.version, VERSION);
  // The runtime inside the file: the pinned Node (both CPUs' packages are pinned to the build's version).
  t.is(info.data.goVersion, `node${process.versions.node}`);

  const code = await agent.stop('SIGTERM', timeoutMs);
  const out = agent.output();
  t.is(code, 0, out);
  t.regex(out, /Received termination request.*signal=SIGTERM/);
  t.regex(out, /See you next time!/);
  t.notRegex(out, /level=error|ExperimentalWarning|Warning:/);
  // Everything scraped before SIGTERM went out during the shutdown (a scrape cut short by it may be lost).
  const max = Math.max(...rx.series('sea_probe_scrapes_total').map((s) => s.value));
  t.true(max >= served - 1, `delivered up to ${max} of ${served} scrapes`);
}

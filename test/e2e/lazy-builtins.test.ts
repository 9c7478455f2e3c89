import test from 'ava';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ROOT, freePort, startProc, tmpDir, waitUntil } from '../helpers/procs.ts';

// The built agent with a plain-HTTP setup must not load the builtins only TLS, gzip, hashmod or
// http_sd need: about 6 MB of RSS on a 100k-series agent (scripts/build.ts, src/util/lazy-builtin.ts).
// Only the bundle is checked: run from the sources, `import http from 'node:http'` alone loads
// undici and with it tls, http2, zlib and crypto (scripts/build.ts rewrites that import).

const BUNDLE = path.join(ROOT, 'dist/outpost.mjs');

/** Loaded with --import: writes the builtins loaded so far on SIGUSR2 (the agent does not use it). */
const PRELOAD = `import { writeFileSync } from 'node:fs';
process.on('SIGUSR2', () => writeFileSync(process.env.OUTPOST_TEST_MODULES, JSON.stringify(process.moduleLoadList)));
`;

const HEAVY = ['https', 'tls', 'http2', 'zlib', 'internal/deps/undici/undici'];

interface Case {
  name: string;
  remoteWrite: boolean;
  /** Builtins that must stay unloaded. */
  absent: string[];
}

const cases: Case[] = [
  // The queue name is an MD5 of the remote_write entry (as in Prometheus); src/util/md5.ts keeps crypto out.
  { name: 'scrape and remote write over http', remoteWrite: true, absent: [...HEAVY, 'crypto'] },
  { name: 'scrape only', remoteWrite: false, absent: [...HEAVY, 'crypto'] },
];

for (const c of cases) {
  test(`e2e: a plain-HTTP agent loads no TLS, zlib or undici (${c.name})`, async (t) => {
    try {
      await fs.access(BUNDLE);
    } catch {
      t.fail(`${BUNDLE} is missing: run npm run build first`);
      return;
    }
    let scrapes = 0;
    let writes = 0;
    // A gzip-capable client asks for gzip; the target answers plain text, as many exporters do.
    const target = http.createServer((_req, res) => {
      scrapes++;
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(`# TYPE lazy_test_counter counter\nlazy_test_counter ${scrapes}\nlazy_test_gauge{a="1"} 2\n`);
    });
    const sink = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        writes++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const dir = await tmpDir();
    const preload = path.join(dir, 'preload.mjs');
    const modulesFile = path.join(dir, 'modules.json');
    await fs.writeFile(preload, PRELOAD);
    const cfg = path.join(dir, 'agent.yml');
    await fs.writeFile(
      cfg,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: plain',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${(target.address() as AddressInfo).port}']`,
        '    metric_relabel_configs:',
        '      - source_labels: [a]',
        '        target_label: b',
        ...(c.remoteWrite
          ? [
              'remote_write:',
              `  - url: http://127.0.0.1:${(sink.address() as AddressInfo).port}/write`,
              '    queue_config:',
              '      batch_send_deadline: 1s',
            ]
          : []),
        '',
      ].join('\n'),
    );
    const port = await freePort();
    // --import on the command line: the runtime-tuning re-exec keeps execArgv.
    const agent = startProc(
      process.execPath,
      [
        `--import=${preload}`,
        BUNDLE,
        '--no-tui',
        `--config.file=${cfg}`,
        `--storage.agent.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      {
        env: { ...process.env, OUTPOST_TEST_MODULES: modulesFile },
      },
    );
    t.teardown(async () => {
      await agent.stop('SIGKILL');
      target.close();
      sink.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    await waitUntil(
      async () => scrapes >= 2 && (!c.remoteWrite || writes >= 1),
      20_000,
      () => `two scrapes${c.remoteWrite ? ' and a remote write' : ''}\n${agent.output()}`,
    );
    agent.child.kill('SIGUSR2');
    const loaded = await waitUntil(
      async () => {
        try {
          return JSON.parse(readFileSync(modulesFile, 'utf8')) as string[];
        } catch {
          return null;
        }
      },
      10_000,
      () => `module list\n${agent.output()}`,
    );
    t.true(loaded.includes('NativeModule http'), 'the list is real: http is loaded');
    const unexpected = c.absent.filter((m) => loaded.includes(`NativeModule ${m}`));
    t.deepEqual(unexpected, [], `loaded without being needed:\n${agent.output()}`);
    t.is(await agent.stop('SIGTERM'), 0, agent.output());
  });
}

import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import { SourceMap } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { FakeKubeApi } from '../helpers/kube-api.ts';
import { encodeFamilies, PROTOBUF_CONTENT_TYPE } from '../helpers/metrics-proto.ts';
import { ROOT, freePort, startProc, tmpDir, waitUntil, type Proc } from '../helpers/procs.ts';

// The built agent evaluates the code of a feature only when the flags or the config ask for it
// (issue 12, start-up weight): the OTLP receiver, service discovery mechanisms, the protobuf parser,
// the NHCB converter, and @opentelemetry/api under prom-client. Which modules ran is read from V8's
// coverage (NODE_V8_COVERAGE, written at exit) of a bundle built with a source map: a module that
// was evaluated has at least its initializer counted.

const LAZY = [
  /^src\/otlp\//,
  /^src\/discovery\/kubernetes\//,
  /^src\/discovery\/(file|http|dns)\.ts$/,
  /^src\/textparse\/(protobuf|protobuf-wire|nhcb-text)\.ts$/,
  /^src\/storage\/nhcb\.ts$/,
  /node_modules\/@opentelemetry\//,
];

const execFileP = promisify(execFile);
let built: Promise<string> | undefined;

/** The bundle with a source map, built once into a temp dir (the same build script as dist/). */
function bundle(): Promise<string> {
  built ??= (async () => {
    const dir = await tmpDir('outpost-lazy-bundle-');
    const out = path.join(dir, 'outpost.mjs');
    await execFileP(process.execPath, ['scripts/build.ts', '--sourcemap', '--outfile', out], { cwd: ROOT });
    return out;
  })();
  return built;
}

/** Source files (relative to the repository) with code that ran, from the coverage files in `dir`. */
async function evaluatedSources(dir: string, bundlePath: string): Promise<Set<string>> {
  const map = new SourceMap(JSON.parse(await fs.readFile(`${bundlePath}.map`, 'utf8')));
  const text = await fs.readFile(bundlePath, 'utf8');
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const url = `file://${bundlePath}`;
  const out = new Set<string>();
  for (const f of await fs.readdir(dir)) {
    const cov = JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as {
      result: { url: string; functions: { ranges: { startOffset: number; count: number }[] }[] }[];
    };
    for (const script of cov.result) {
      if (script.url !== url) continue;
      for (const fn of script.functions) {
        const r = fn.ranges[0];
        if (!r || r.count === 0) continue;
        const line = lineOf(r.startOffset);
        const entry = map.findEntry(line, r.startOffset - (lineStarts[line] ?? 0));
        if ('originalSource' in entry && entry.originalSource)
          out.add(path.relative(ROOT, path.resolve(path.dirname(bundlePath), entry.originalSource)));
      }
    }
  }
  return out;
}

const lazyIn = (sources: Set<string>): string[] => [...sources].filter((s) => LAZY.some((re) => re.test(s))).sort();

interface Target {
  address: string;
  scrapes: number;
  close(): void;
}

/** A target answering protobuf when asked for it, else the text format (with one classic histogram). */
async function startTarget(): Promise<Target> {
  const t = {
    address: '',
    scrapes: 0,
    close: () => {
      server.close();
    },
  };
  const server = http.createServer((req, res) => {
    t.scrapes++;
    if ((req.headers.accept ?? '').includes('io.prometheus.client.MetricFamily')) {
      res.writeHead(200, { 'Content-Type': PROTOBUF_CONTENT_TYPE });
      res.end(encodeFamilies([{ name: 'lazy_up', type: 'GAUGE', metric: [{ gauge: { value: 1 } }] }]));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(
      '# TYPE lazy_seconds histogram\nlazy_seconds_bucket{le="1"} 1\nlazy_seconds_bucket{le="+Inf"} 2\n' +
        'lazy_seconds_sum 3\nlazy_seconds_count 2\n',
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return t;
}

interface Run {
  agent: Proc;
  dir: string;
  cfg: string;
  port: number;
  coverage: string;
}

async function startBundle(bundlePath: string, config: string, flags: string[]): Promise<Run> {
  const dir = await tmpDir();
  const cfg = path.join(dir, 'agent.yml');
  const coverage = path.join(dir, 'coverage');
  await fs.writeFile(cfg, config);
  const port = await freePort();
  const agent = startProc(
    process.execPath,
    [
      bundlePath,
      '--no-tui',
      `--config.file=${cfg}`,
      `--storage.agent.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...flags,
    ],
    { env: { ...process.env, NODE_V8_COVERAGE: coverage } },
  );
  return { agent, dir, cfg, port, coverage };
}

const scrapeJob = (name: string, address: string, extra: string[] = []): string[] => [
  `  - job_name: ${name}`,
  ...extra.map((l) => `    ${l}`),
  '    static_configs:',
  `      - targets: ['${address}']`,
];

test('e2e: an agent with static targets, text scrapes and remote write evaluates no OTLP, SD, protobuf or NHCB code', async (t) => {
  const bundlePath = await bundle();
  const target = await startTarget();
  let writes = 0;
  const sink = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      writes++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    ...scrapeJob('edge', target.address),
    'remote_write:',
    `  - url: http://127.0.0.1:${(sink.address() as AddressInfo).port}/write`,
    '    queue_config:',
    '      batch_send_deadline: 1s',
    '',
  ].join('\n');
  const run = await startBundle(bundlePath, config, []);
  t.teardown(async () => {
    await run.agent.stop('SIGKILL');
    target.close();
    sink.close();
    await fs.rm(run.dir, { recursive: true, force: true });
  });
  await waitUntil(
    async () => target.scrapes >= 2 && writes >= 1,
    20_000,
    () => `scrapes\n${run.agent.output()}`,
  );
  t.is(await run.agent.stop('SIGTERM'), 0, run.agent.output());
  const ran = await evaluatedSources(run.coverage, bundlePath);
  for (const s of ['src/scrape/loop.ts', 'src/textparse/prom-text.ts', 'src/remote/shard.ts'])
    t.true(ran.has(s), `the coverage is real: ${s} ran`);
  t.deepEqual(lazyIn(ran), [], 'evaluated without being asked for');
});

test('e2e: the OTLP flag, a protobuf target and a reload adding Kubernetes SD and NHCB conversion load their code', async (t) => {
  const bundlePath = await bundle();
  const target = await startTarget();
  const kube = new FakeKubeApi();
  const kubeUrl = await kube.start();
  const head = ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:'];
  const proto = scrapeJob('proto', target.address, ['scrape_protocols: [PrometheusProto, PrometheusText0.0.4]']);
  const run = await startBundle(bundlePath, [...head, ...proto, ''].join('\n'), [
    '--web.enable-otlp-receiver',
    '--web.enable-lifecycle',
  ]);
  t.teardown(async () => {
    await run.agent.stop('SIGKILL');
    target.close();
    await kube.close();
    await fs.rm(run.dir, { recursive: true, force: true });
  });
  await waitUntil(
    async () => target.scrapes >= 2,
    20_000,
    () => `scrapes\n${run.agent.output()}`,
  );
  await fs.writeFile(
    run.cfg,
    [
      ...head,
      ...proto,
      ...scrapeJob('nhcb', target.address, ['convert_classic_histograms_to_nhcb: true']),
      '  - job_name: kube',
      '    kubernetes_sd_configs:',
      '      - role: pod',
      `        api_server: ${kubeUrl}`,
      '',
    ].join('\n'),
  );
  const reload = await fetch(`http://127.0.0.1:${run.port}/-/reload`, { method: 'POST' });
  t.is(reload.status, 200, await reload.text());
  const after = target.scrapes;
  await waitUntil(
    async () => kube.requests.length > 0 && target.scrapes >= after + 3,
    20_000,
    () => `the Kubernetes API asked and the text job scraped\n${run.agent.output()}`,
  );
  t.is(await run.agent.stop('SIGTERM'), 0, run.agent.output());
  const ran = lazyIn(await evaluatedSources(run.coverage, bundlePath));
  for (const s of [
    'src/otlp/receiver.ts',
    'src/discovery/kubernetes/discoverer.ts',
    'src/textparse/protobuf.ts',
    'src/textparse/nhcb-text.ts',
  ])
    t.true(ran.includes(s), `${s} evaluated (got ${ran.join(', ')})`);
  t.false(
    ran.some((s) => /^src\/discovery\/(file|http|dns)\.ts$/.test(s)),
    'mechanisms not in the config stay unloaded',
  );
});

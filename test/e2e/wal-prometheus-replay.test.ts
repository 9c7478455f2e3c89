import test from 'ava';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { freePort, startAgent, startProc, waitUntil, httpOk } from '../helpers/procs.ts';

// Invariant 4: Prometheus' own agent (2.42) must replay a data directory Outpost wrote.

async function metric(url: string, name: string): Promise<number | undefined> {
  const body = await (await fetch(url)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

test('e2e: Prometheus 2.42 agent replays an Outpost WAL with no corruption and the same active series', async (t) => {
  const series = 300;
  const target = http.createServer((_req, res) => {
    let body = '# TYPE replay_gauge gauge\n';
    for (let i = 0; i < series; i++) body += `replay_gauge{i="${i}"} ${Math.random()}\n`;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  t.teardown(() => target.close());
  const {
    agent: ours,
    port,
    dir,
    dataDir: data,
  } = await startAgent(
    t,
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: replay\n    static_configs:\n      - targets: ['127.0.0.1:${(target.address() as AddressInfo).port}']\n`,
  );
  let active = 0;
  try {
    active = await waitUntil(
      async () => {
        const v = await metric(`http://127.0.0.1:${port}/metrics`, 'prometheus_agent_active_series');
        return v !== undefined && v >= series + 5 ? v : undefined;
      },
      20_000,
      () => `outpost active series\n${ours.output()}`,
    );
    await new Promise((r) => setTimeout(r, 2500));
  } finally {
    t.is(await ours.stop('SIGTERM'), 0, ours.output());
  }

  const pport = await freePort();
  const emptyCfg = path.join(dir, 'prom.yml');
  await fs.writeFile(emptyCfg, 'global:\n  scrape_interval: 1m\n');
  const prom = startProc('prometheus', [
    '--enable-feature=agent',
    `--config.file=${emptyCfg}`,
    `--storage.agent.path=${data}`,
    `--web.listen-address=127.0.0.1:${pport}`,
  ]);
  try {
    await waitUntil(
      () => httpOk(`http://127.0.0.1:${pport}/-/ready`),
      30_000,
      () => `prometheus ready\n${prom.output()}`,
    );
    const theirs = await metric(`http://127.0.0.1:${pport}/metrics`, 'prometheus_agent_active_series');
    t.is(theirs, active, 'same number of active series after Prometheus replayed our WAL');
    t.is(await metric(`http://127.0.0.1:${pport}/metrics`, 'prometheus_agent_corruptions_total'), 0);
    t.notRegex(prom.output(), /corrupt|repair|error/i, 'Prometheus logged no corruption or error');
  } finally {
    await prom.stop('SIGTERM');
  }
});

import test from 'ava';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { freePort, startOutpost, startPrometheusReceiver, tmpDir, waitUntil, type Proc } from '../helpers/procs.ts';
import { at } from '../helpers/defined.ts';

// The headline promise: an outage of the central Prometheus, with an Outpost restart in the middle of
// it, leaves no gap. Prometheus' own agent drops what it had not sent when it restarts.

test('e2e: receiver outage + Outpost restart during it: every scrape arrives, no gap', async (t) => {
  const prom = await startPrometheusReceiver();
  let served = 0;
  const target = http.createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE outage_counter counter\noutage_counter ${served}\n`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const dir = await tmpDir();
  const cfg = path.join(dir, 'agent.yml');
  await fs.writeFile(
    cfg,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: outage',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${(target.address() as AddressInfo).port}']`,
      'remote_write:',
      `  - url: ${prom.writeUrl}`,
      '    queue_config:',
      '      batch_send_deadline: 1s',
      '      max_backoff: 500ms',
      '',
    ].join('\n'),
  );
  const args = async () => [
    `--config.file=${cfg}`,
    `--storage.agent.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${await freePort()}`,
    '--storage.remote.flush-deadline=1s',
  ];
  let agent: Proc = await startOutpost(await args());
  t.teardown(async () => {
    await agent.stop('SIGKILL');
    target.close();
    await prom.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  await waitUntil(
    async () => (await prom.query('outage_counter')).length === 1,
    20_000,
    () => `first delivery\n${agent.output()}`,
  );
  await prom.pause();
  const atOutage = served;
  await waitUntil(async () => served >= atOutage + 3, 20_000, 'scrapes during the outage');
  t.is(await agent.stop('SIGTERM'), 0, agent.output());
  agent = await startOutpost(await args());
  const afterRestart = served;
  await waitUntil(
    async () => served >= afterRestart + 3,
    20_000,
    () => `scrapes after restart\n${agent.output()}`,
  );
  await prom.resume();
  await waitUntil(
    async () => {
      const r = await prom.query('max_over_time(outage_counter[10m])');
      return r.length === 1 && Number(at(r, 0, 'r').value[1]) >= served - 2;
    },
    30_000,
    () => `catch-up\n${agent.output()}`,
  );
  t.is(await agent.stop('SIGTERM'), 0, agent.output());
  const total = served;
  const count = await prom.query('count_over_time(outage_counter[10m])');
  t.is(Number(at(count, 0, 'count').value[1]), total, `every one of the ${total} scrapes arrived exactly once`);
  // Values are 1..N with no hole: the sum proves it given the count.
  const sum = await prom.query('sum_over_time(outage_counter[10m])');
  t.is(Number(at(sum, 0, 'sum').value[1]), (total * (total + 1)) / 2, 'no gap in the series');
});

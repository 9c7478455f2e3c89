import test from 'ava';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpOk, startAgent, waitUntil } from '../helpers/procs.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';

function counterTarget(name: string): Promise<{ server: http.Server; addr: string; served: () => number }> {
  let served = 0;
  const server = http.createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`${name} ${served}\n`);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, addr: `127.0.0.1:${(server.address() as AddressInfo).port}`, served: () => served }),
    ),
  );
}

test('e2e: reload keeps unchanged targets scraping (no gap, no duplicate); a bad config keeps the old one', async (t) => {
  const rx = await RwReceiver.start();
  const a = await counterTarget('keep_counter');
  const b = await counterTarget('new_counter');
  t.teardown(async () => {
    a.server.close();
    b.server.close();
    await rx.close();
  });
  const job = (name: string, addr: string) =>
    `  - job_name: ${name}\n    static_configs:\n      - targets: ['${addr}']\n`;
  const head = `global:\n  scrape_interval: 1s\nremote_write:\n  - url: ${rx.url}\n    queue_config:\n      batch_send_deadline: 200ms\nscrape_configs:\n`;
  const { agent, port, cfgPath: cfg } = await startAgent(t, head + job('keep', a.addr), ['--web.enable-lifecycle']);
  await waitUntil(
    () => httpOk(`http://127.0.0.1:${port}/-/ready`),
    20_000,
    () => agent.output(),
  );
  await waitUntil(async () => a.served() >= 2, 10_000, 'scrapes before the reload');

  // Add a job: the unchanged one must keep its loop.
  await fs.writeFile(cfg, head + job('keep', a.addr) + job('added', b.addr));
  const r1 = await fetch(`http://127.0.0.1:${port}/-/reload`, { method: 'POST' });
  t.is(r1.status, 200);
  await waitUntil(async () => b.served() >= 2, 10_000, 'the added job scrapes');

  // A broken config is refused and changes nothing.
  await fs.writeFile(cfg, head + job('keep', a.addr) + '    scrape_interval: 5x\n');
  const r2 = await fetch(`http://127.0.0.1:${port}/-/reload`, { method: 'POST' });
  t.is(r2.status, 500);
  t.regex(await r2.text(), /agent\.yml:\d+:\d+: .*scrape_interval/);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.regex(metrics, /^prometheus_config_last_reload_successful 0$/m);
  const before = b.served();
  await waitUntil(async () => b.served() > before + 1, 10_000, 'the old config keeps running');

  t.is(await agent.stop('SIGINT'), 0, agent.output());
  const values = rx
    .series('keep_counter')
    .filter((s) => !s.stale)
    .map((s) => s.value);
  t.deepEqual(
    values,
    [...Array(a.served()).keys()].map((i) => i + 1),
    'every scrape of the unchanged target exactly once, in order',
  );
});

// Prometheus v3.14.0 cmd/prometheus/main.go 418-422 (flags) and 1400-1420 (the reload loop).
test('e2e: --config.auto-reload applies an edited config at the next check, without SIGHUP or /-/reload', async (t) => {
  const a = await counterTarget('auto_counter');
  t.teardown(() => void a.server.close());
  const head = 'global:\n  scrape_interval: 1s\nscrape_configs:\n';
  const job = `  - job_name: auto\n    static_configs:\n      - targets: ['${a.addr}']\n`;
  const {
    agent,
    port,
    cfgPath: cfg,
  } = await startAgent(t, head.replace('scrape_configs:\n', 'scrape_configs: []\n'), [
    '--config.auto-reload',
    '--config.auto-reload-interval=1s',
  ]);
  await waitUntil(
    () => httpOk(`http://127.0.0.1:${port}/-/ready`),
    20_000,
    () => agent.output(),
  );
  t.is(a.served(), 0);
  await fs.writeFile(cfg, head + job);
  await waitUntil(
    async () => a.served() >= 1,
    10_000,
    () => `the edited config is applied\n${agent.output()}`,
  );
  t.regex(agent.output(), /Configuration file change detected, reloading the configuration\./);
  t.is(await agent.stop('SIGINT'), 0, agent.output());
});

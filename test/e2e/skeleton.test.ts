import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAgent, startNodeExporter, startPrometheusReceiver, waitUntil } from '../helpers/procs.ts';
import { at } from '../helpers/defined.ts';

// End-to-end: real node_exporter -> Outpost -> real Prometheus (remote-write receiver), all on 127.0.0.1.

function metricNames(body: string): Set<string> {
  const names = new Set<string>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (m) names.add(at(m, 1, 'm'));
  }
  return names;
}

test('e2e: node_exporter series arrive in a real Prometheus, up=1', async (t) => {
  const prom = await startPrometheusReceiver();
  t.teardown(() => prom.stop());
  const node = await startNodeExporter();
  t.teardown(() => node.proc.stop().then(() => undefined));
  const before = metricNames(await (await fetch(node.url)).text());
  const { agent, port } = await startAgent(t, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: node',
    '    static_configs:',
    `      - targets: ['${node.address}']`,
    'remote_write:',
    `  - url: ${prom.writeUrl}`,
    '    queue_config:',
    '      batch_send_deadline: 1s',
    '',
  ]);
  await waitUntil(
    async () => {
      const r = await prom.query('up{job="node"}');
      return r.length === 1 && at(r, 0, 'r').value[1] === '1';
    },
    30_000,
    () => `up{job="node"}=1 in Prometheus\n${agent.output()}`,
  );
  const up = await prom.query('up{job="node"}');
  t.is(at(up, 0, 'up').metric.instance, node.address);
  // Let a few more scrapes land, then compare the sets of names.
  await new Promise((r) => setTimeout(r, 3000));
  const after = metricNames(await (await fetch(node.url)).text());
  const res = await fetch(`${prom.url}/api/v1/label/__name__/values?match[]=${encodeURIComponent('{job="node"}')}`);
  const stored = new Set(((await res.json()) as { data: string[] }).data.filter((n) => n.startsWith('node_')));
  const always = [...before].filter((n) => after.has(n) && n.startsWith('node_'));
  const ever = new Set([...before, ...after]);
  t.true(always.length > 50, `node_exporter exposes many node_* metrics (${always.length})`);
  t.deepEqual(
    always.filter((n) => !stored.has(n)),
    [],
    'every node_* name node_exporter exposed arrived',
  );
  t.deepEqual(
    [...stored].filter((n) => !ever.has(n)),
    [],
    'nothing arrived that node_exporter did not expose',
  );
  // Agent HTTP surface.
  t.is((await fetch(`http://127.0.0.1:${port}/-/healthy`)).status, 200);
  t.is((await fetch(`http://127.0.0.1:${port}/-/ready`)).status, 200);
  const self = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.regex(self, /^prometheus_agent_active_series \d+/m);
  t.regex(self, /^prometheus_remote_storage_samples_total\{remote_name="[0-9a-f]{6}",url="[^"]+"\} \d+/m);
});

test('e2e: SIGINT exits 0 after delivering every scraped sample', async (t) => {
  const prom = await startPrometheusReceiver();
  // A target that counts its scrapes and exposes the count, so we know exactly what was scraped.
  let served = 0;
  const target = http.createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE scrape_counter counter\nscrape_counter ${served}\n`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  t.teardown(async () => {
    target.close();
    await prom.stop();
  });
  const { agent } = await startAgent(t, [
    'global:',
    '  scrape_interval: 1s',
    'scrape_configs:',
    '  - job_name: counter',
    '    static_configs:',
    `      - targets: ['${addr}']`,
    'remote_write:',
    `  - url: ${prom.writeUrl}`,
    // A long deadline: what is pending at SIGINT must be flushed by the shutdown, not by the timer.
    '    queue_config:',
    '      batch_send_deadline: 30s',
    '',
  ]);
  await waitUntil(
    async () => served >= 4,
    20_000,
    () => `4 scrapes\n${agent.output()}`,
  );
  const code = await agent.stop('SIGINT');
  t.is(code, 0, agent.output());
  const scraped = served;
  const r = await prom.query('count_over_time(scrape_counter[5m])');
  t.is(r.length, 1);
  t.is(Number(at(r, 0, 'r').value[1]), scraped, 'every scrape arrived exactly once');
  const maxv = await prom.query('max_over_time(scrape_counter[5m])');
  t.is(Number(at(maxv, 0, 'maxv').value[1]), scraped);
});

import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { httpOk, startAgent, waitUntil } from '../helpers/procs.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { metricsServer } from '../helpers/scrape-loop.ts';

/** Debug lines a person debugging needs, each as a pattern over one logfmt line. */
const EXPECTED: [string, RegExp][] = [
  [
    'the start-up line',
    /level=info msg="Starting Outpost" mode=agent version="\(version=[\d.]+, branch=\S+, revision=\S+\)" .*fd_limits="\(soft=\d+, hard=\d+\)"/,
  ],
  [
    'a successful scrape',
    /level=debug .*msg="Scrape succeeded" scrape_pool=static target=\S+ duration=[\d.]+(µs|ms|s) bytes=\d+ samples=1/,
  ],
  [
    'a failed scrape with its error',
    /level=debug .*msg="Scrape failed" scrape_pool=dead target=http:\/\/127\.0\.0\.1:1\/metrics duration=\S+ err=".*ECONNREFUSED/,
  ],
  ['an SD update', /level=debug .*msg="Service discovery update" job=files provider=file\/0 groups=1 targets=1/],
  [
    'a send attempt with status and duration',
    /level=debug .*msg="Remote write request sent" status=2xx duration=[\d.]+(µs|ms|s) bytes=\d+/,
  ],
  ['a resharding decision', /level=debug .*msg="Shard calculation" remote_name=\S+ desired=[\d.]+ shards=\d+/],
  ['a WAL segment', /level=debug component=wal msg="WAL segment created" segment=\d+ previous=\d+/],
  ['a checkpoint', /level=debug component=wal msg="Checkpoint created" through_segment=\d+ duration=/],
];

test('e2e: --log.level=debug says what a person debugging needs, before and after a reload', async (t) => {
  const rx = await RwReceiver.start();
  t.teardown(() => rx.close());
  const target = await metricsServer(t);
  target.set(200, 'debug_me 1\n');
  const addr = new URL(target.url).host;
  const head = [
    'global:',
    '  scrape_interval: 1s',
    'remote_write:',
    `  - url: ${rx.url}`,
    '    queue_config: {batch_send_deadline: 100ms}',
    'scrape_configs:',
    `  - job_name: static`,
    `    static_configs: [{targets: ['${addr}']}]`,
    `  - job_name: dead`,
    `    static_configs: [{targets: ['127.0.0.1:1']}]`,
    `  - job_name: files`,
    `    file_sd_configs: [{files: [targets.json]}]`,
    '',
  ].join('\n');
  const flags = [
    '--log.level=debug',
    '--web.enable-lifecycle',
    '--storage.agent.wal-truncate-frequency=2s',
    '--storage.agent.retention.min-time=1s',
    '--storage.agent.retention.max-time=2s',
  ];
  const { agent, port, dir, cfgPath } = await startAgent(t, head, flags);
  await fs.writeFile(path.join(dir, 'targets.json'), JSON.stringify([{ targets: [addr] }]));
  await waitUntil(
    () => httpOk(`http://127.0.0.1:${port}/-/ready`),
    20_000,
    () => agent.output(),
  );
  const lines = () => agent.output().split('\n');
  await waitUntil(
    async () => EXPECTED.every(([, re]) => lines().some((l) => re.test(l))),
    60_000,
    () => {
      const missing = EXPECTED.filter(([, re]) => !lines().some((l) => re.test(l))).map(([what]) => what);
      return `debug lines for: ${missing.join(', ')}\n${agent.output().slice(-4000)}`;
    },
  );
  for (const [what, re] of EXPECTED)
    t.true(
      lines().some((l) => re.test(l)),
      what,
    );

  // After a reload the same logger keeps printing debug lines, also for a job the reload added.
  await fs.writeFile(cfgPath, head + `  - job_name: added\n    static_configs: [{targets: ['${addr}']}]\n`);
  const r = await fetch(`http://127.0.0.1:${port}/-/reload`, { method: 'POST' });
  t.is(r.status, 200);
  const afterReload = () => agent.output().slice(agent.output().indexOf('Completed loading of configuration file'));
  const wanted = [
    /level=debug .*msg="Scrape succeeded" scrape_pool=added/,
    /level=debug .*msg="Scrape failed" scrape_pool=dead/,
  ];
  await waitUntil(
    async () => wanted.every((re) => re.test(afterReload())),
    15_000,
    () => agent.output().slice(-3000),
  );
  for (const re of wanted) t.regex(afterReload(), re);
});

/**
 * Scrape sharding against Prometheus' own hashmod: 1,000 file_sd targets split over 3 Outpost agents
 * (--scrape.shards=3 --scrape.shard-index=0..2) and, in the same test, the Debian Prometheus 2.42
 * agent running the relabel rules the Prometheus Operator appends for shards (hashmod of __address__
 * into __tmp_hash, keep the shard's value), one job per shard. Every target must be active in
 * exactly one Outpost shard, each shard's set must equal the matching Prometheus job's, and the
 * others must list it as dropped with the reason. The targets are 127.0.0.1 addresses that need not
 * answer: a 1h interval keeps scraping out of the way.
 */
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { prometheus2OrSkip, startPrometheusAgent } from '../helpers/compliance.ts';
import { freePort, startAgent, tmpDir, waitUntil } from '../helpers/procs.ts';

const SHARDS = 3;
const N = 1000;

interface TargetsReply {
  data: {
    activeTargets: { scrapePool: string; discoveredLabels: Record<string, string> }[];
    droppedTargets: { discoveredLabels: Record<string, string>; dropReason?: string }[];
  };
}

async function targets(port: number): Promise<TargetsReply['data']> {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/targets`);
  return ((await r.json()) as TargetsReply).data;
}

test('e2e sharding: 1,000 targets over 3 shards, each active in exactly one, split as Prometheus 2.42 hashmod', async (t) => {
  const bin = prometheus2OrSkip(t);
  if (bin === null) return;
  const dir = await tmpDir('outpost-shards-');
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const addresses = Array.from({ length: N }, (_, i) => `127.0.0.1:${20000 + i}`);
  const sdFile = path.join(dir, 'targets.json');
  await fs.writeFile(sdFile, JSON.stringify([{ targets: addresses, labels: { env: 'test' } }]));

  // The reference: one Prometheus job per shard with the Operator's relabel rules.
  const promPort = await freePort();
  const promJobs = Array.from({ length: SHARDS }, (_, i) => [
    `  - job_name: shard-${i}`,
    '    scrape_interval: 1h',
    '    scrape_timeout: 1s',
    `    file_sd_configs: [{files: ["${sdFile}"]}]`,
    '    relabel_configs:',
    `      - {source_labels: [__address__], action: hashmod, modulus: ${SHARDS}, target_label: __tmp_hash}`,
    `      - {source_labels: [__tmp_hash], action: keep, regex: "${i}"}`,
  ]).flat();
  await fs.writeFile(path.join(dir, 'prom.yml'), ['scrape_configs:', ...promJobs, ''].join('\n'));
  const prom = startPrometheusAgent(
    t,
    bin,
    [
      `--config.file=${path.join(dir, 'prom.yml')}`,
      `--storage.agent.path=${path.join(dir, 'prom-data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    dir,
  );

  const config = [
    'scrape_configs:',
    '  - job_name: sharded',
    '    scrape_interval: 1h',
    '    scrape_timeout: 1s',
    `    file_sd_configs: [{files: ["${sdFile}"]}]`,
    '',
  ];
  const agents = await Promise.all(
    Array.from({ length: SHARDS }, (_, i) =>
      startAgent(t, config, [`--scrape.shards=${SHARDS}`, `--scrape.shard-index=${i}`]),
    ),
  );

  const promTargets = await waitUntil(
    async () => {
      const d = await targets(promPort);
      return d.activeTargets.length === N ? d : null;
    },
    60_000,
    () => `Prometheus to list ${N} active targets\n${prom.output().slice(-2000)}`,
  );
  const outpost = await Promise.all(
    agents.map((a) =>
      waitUntil(
        async () => {
          const d = await targets(a.port);
          return d.activeTargets.length + d.droppedTargets.length === N ? d : null;
        },
        60_000,
        () => `Outpost to list ${N} targets\n${a.agent.output().slice(-2000)}`,
      ),
    ),
  );

  const owner = new Map<string, number>();
  for (const [i, d] of outpost.entries()) {
    for (const a of d.activeTargets) {
      const addr = a.discoveredLabels.__address__ ?? '';
      t.false(owner.has(addr), `${addr} is active in shards ${owner.get(addr)} and ${i}`);
      owner.set(addr, i);
    }
  }
  t.is(owner.size, N, 'every target is active in one shard');
  for (let i = 0; i < SHARDS; i++) {
    const promSet = promTargets.activeTargets
      .filter((a) => a.scrapePool === `shard-${i}`)
      .map((a) => a.discoveredLabels.__address__ ?? '')
      .sort();
    const ours = (outpost[i]?.activeTargets ?? []).map((a) => a.discoveredLabels.__address__ ?? '').sort();
    t.deepEqual(ours, promSet, `shard ${i} keeps what Prometheus' hashmod keeps`);
    t.true(ours.length > N / SHARDS / 2, `shard ${i} has a fair share (${ours.length})`);
    const dropped = outpost[i]?.droppedTargets ?? [];
    t.is(dropped.length, N - ours.length);
    const sample = dropped[0];
    const other = owner.get(sample?.discoveredLabels.__address__ ?? '');
    t.is(
      sample?.dropReason,
      `scrape shard ${other} of ${SHARDS} owns it: hashmod(__address__, ${SHARDS}) = ${other}, this agent is shard ${i}`,
    );
  }
  const metrics = await (await fetch(`http://127.0.0.1:${agents[2]?.port}/metrics`)).text();
  t.regex(metrics, /^outpost_scrape_shard_info\{shard="2",shards="3"\} 1$/m);
});

/**
 * Native histograms end to end: a target serving the protobuf exposition format → Outpost (scraping with
 * scrape_native_histograms) → a recording receiver and a real Prometheus 2.42 receiver (native-histograms
 * feature), queried back with histogram_count() / histogram_sum(). The same target is scraped in the same
 * test by the Debian 2.42 agent (`--enable-feature=agent,native-histograms`) writing to a second recording
 * receiver: both must deliver the same histograms and samples, scrape for scrape.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import test from 'ava';
import { prometheus2OrSkip } from '../helpers/compliance.ts';
import { encodeFamilies, PROTOBUF_CONTENT_TYPE, type MetricFamilyObject } from '../helpers/metrics-proto.ts';
import { startAgent, startPrometheusReceiver, startProc, tmpDir, waitUntil } from '../helpers/procs.ts';
import type { DecodedWriteRequest } from '../helpers/rw-proto.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';

/** What the target serves at the k-th scrape of one scraper: both scrapers see the same sequence. */
function exposition(k: number): MetricFamilyObject[] {
  const pos = [k + 1, 2 * k + 1, 1];
  const deltas = pos.map((c, i) => c - (i > 0 ? (pos[i - 1] ?? 0) : 0));
  const neg = k;
  const zero = k;
  return [
    {
      name: 'rpc_latency_seconds',
      help: 'RPC latency.',
      type: 'HISTOGRAM',
      metric: [
        {
          label: [{ name: 'method', value: 'get' }],
          histogram: {
            sample_count: pos.reduce((a, b) => a + b, 0) + neg + zero,
            sample_sum: 1.25 * k + 0.5,
            schema: 2,
            zero_threshold: 0.001,
            zero_count: zero,
            positive_span: [
              { offset: -2, length: 2 },
              { offset: 3, length: 1 },
            ],
            positive_delta: deltas,
            // A negative bucket only once there is something in it (Prometheus compacts empty ones away).
            ...(neg > 0 ? { negative_span: [{ offset: 1, length: 1 }], negative_delta: [neg] } : {}),
          },
        },
      ],
    },
    {
      name: 'queue_fill',
      help: 'Fill level.',
      type: 'GAUGE_HISTOGRAM',
      metric: [
        {
          histogram: {
            sample_count_float: 2.5 + k,
            sample_sum: 10 + k,
            schema: 0,
            // 2.42 tells native from classic by deltas, zero count or zero threshold (3.x by spans): a float
            // histogram needs a zero threshold for 2.42 to read it as native.
            zero_threshold: 1e-9,
            zero_count_float: 0.5,
            positive_span: [{ offset: 0, length: 2 }],
            positive_count: [1, 1 + k],
          },
        },
      ],
    },
    { name: 'jobs_total', help: 'Jobs.', type: 'COUNTER', metric: [{ counter: { value: 10 * k } }] },
  ];
}

interface Target {
  address: string;
  /** Accept headers seen, per scraper. */
  accepts: Map<string, string[]>;
  close(): Promise<void>;
}

/** Serves each scraper (told apart by User-Agent) its own sequence of expositions. */
async function startTarget(): Promise<Target> {
  const accepts = new Map<string, string[]>();
  const server = http.createServer((req, res) => {
    const who = (req.headers['user-agent'] ?? '').startsWith('Outpost') ? 'outpost' : 'prometheus';
    const seen = accepts.get(who) ?? [];
    accepts.set(who, seen);
    seen.push(req.headers.accept ?? '');
    res.writeHead(200, { 'Content-Type': PROTOBUF_CONTENT_TYPE });
    res.end(encodeFamilies(exposition(seen.length - 1)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Received = { name: string; t: number; what: unknown };

/** Every histogram and sample of the target's own series, in time order per series. */
function received(rx: RwReceiver): Received[] {
  const out: Received[] = [];
  for (const r of rx.requests) {
    for (const ts of (r.decoded as DecodedWriteRequest).timeseries) {
      const labels = Object.fromEntries(ts.labels.map((l) => [l.name, l.value]));
      const name = labels.__name__ ?? '';
      if (!['rpc_latency_seconds', 'queue_fill', 'jobs_total'].includes(name)) continue;
      for (const h of ts.histograms) {
        const { timestamp, ...rest } = h;
        out.push({ name, t: timestamp, what: { labels, ...rest } });
      }
      for (const s of ts.samples) out.push({ name, t: s.timestamp, what: { labels, value: s.value, stale: s.stale } });
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

function sequence(rx: RwReceiver, name: string): Received[] {
  return received(rx).filter((r) => r.name === name);
}

test('e2e: protobuf native histograms through Outpost and the 2.42 agent arrive alike; Prometheus 2.42 stores them', async (t) => {
  const bin = prometheus2OrSkip(t);
  if (bin === null) return;
  const target = await startTarget();
  const rxOutpost = await RwReceiver.start();
  const rxAgent = await RwReceiver.start();
  const prom = await startPrometheusReceiver(['--enable-feature=native-histograms']);
  t.teardown(async () => {
    await prom.stop();
    await rxOutpost.close();
    await rxAgent.close();
    await target.close();
  });

  const scrape = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: nh',
    '    static_configs:',
    `      - targets: ['${target.address}']`,
  ];
  const outpost = await startAgent(t, [
    ...scrape,
    '    scrape_native_histograms: true',
    'remote_write:',
    `  - url: ${rxOutpost.url}`,
    '    send_native_histograms: true',
    '    queue_config: {batch_send_deadline: 200ms}',
    `  - url: ${prom.writeUrl}`,
    '    send_native_histograms: true',
    '    queue_config: {batch_send_deadline: 200ms}',
  ]);
  const agentDir = await tmpDir('outpost-nh-agent-');
  await fs.writeFile(
    path.join(agentDir, 'agent.yml'),
    [...scrape, 'remote_write:', `  - url: ${rxAgent.url}`, '    send_native_histograms: true', ''].join('\n'),
  );
  const agent = startProc(bin, [
    '--enable-feature=agent,native-histograms',
    `--config.file=${path.join(agentDir, 'agent.yml')}`,
    `--storage.agent.path=${path.join(agentDir, 'data')}`,
    '--web.listen-address=127.0.0.1:0',
  ]);
  t.teardown(async () => {
    await agent.stop('SIGKILL', 5000);
    await fs.rm(agentDir, { recursive: true, force: true });
  });

  const WANT = 4;
  await waitUntil(
    async () =>
      sequence(rxOutpost, 'rpc_latency_seconds').length >= WANT &&
      sequence(rxAgent, 'rpc_latency_seconds').length >= WANT,
    60_000,
    () =>
      `${WANT} histograms from each sender (outpost ${sequence(rxOutpost, 'rpc_latency_seconds').length}, ` +
      `2.42 agent ${sequence(rxAgent, 'rpc_latency_seconds').length})\n${outpost.agent.output()}\n${agent.output()}`,
  );

  // Outpost asked for protobuf first, as 3.x does with native histograms on.
  const accept = target.accepts.get('outpost')?.[0] ?? '';
  t.regex(
    accept,
    /^application\/vnd\.google\.protobuf;proto=io\.prometheus\.client\.MetricFamily;encoding=delimited;q=0\.\d,/,
  );

  // Scrape for scrape, both senders deliver the same histograms and samples (timestamps aside).
  for (const name of ['rpc_latency_seconds', 'queue_fill', 'jobs_total']) {
    const a = sequence(rxOutpost, name).map((r) => r.what);
    const b = sequence(rxAgent, name).map((r) => r.what);
    const n = Math.min(a.length, b.length);
    t.true(n >= 3, `${name}: ${a.length} from Outpost, ${b.length} from the 2.42 agent`);
    t.deepEqual(a.slice(0, n), b.slice(0, n), name);
  }
  const first = sequence(rxOutpost, 'rpc_latency_seconds')[0]?.what as Record<string, unknown>;
  t.like(first, {
    countInt: 3,
    schema: 2,
    zeroThreshold: 0.001,
    positiveSpans: [
      { offset: -2, length: 2 },
      { offset: 3, length: 1 },
    ],
    positiveDeltas: [1, 0, 0],
  });

  // Prometheus 2.42 stored what Outpost sent: histogram_count/_sum at a delivered sample's timestamp.
  const last = sequence(rxOutpost, 'rpc_latency_seconds').at(-1);
  const lastFill = sequence(rxOutpost, 'queue_fill').at(-1);
  if (last === undefined || lastFill === undefined) throw new Error('nothing delivered');
  const h = last.what as { countInt: number; sum: number };
  const fh = lastFill.what as { countFloat: number; sum: number };
  const value = async (q: string, at: number) => {
    const v = await waitUntil(
      async () => (await prom.query(q, at))[0],
      20_000,
      () => `${q} at ${at}\n${prom.proc.output()}`,
    );
    return Number(v.value[1]);
  };
  t.is(await value('histogram_count(rpc_latency_seconds{method="get"})', last.t), h.countInt);
  t.is(await value('histogram_sum(rpc_latency_seconds{method="get"})', last.t), h.sum);
  t.is(await value('histogram_count(queue_fill)', lastFill.t), fh.countFloat);
  t.is(await value('histogram_sum(queue_fill)', lastFill.t), fh.sum);
  t.regex(prom.proc.output(), /^(?![\s\S]*level=error)/, 'the receiver logged no error');
});

/**
 * A WAL written record by record with the real WAL writer and codecs, tailed by a real
 * RemoteStorage: the remote tests put exemplar and histogram records on disk themselves instead
 * of going through the scrape side.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.ts';
import type { RemoteWriteConfig } from '../../src/config/types.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import type { WriteClient } from '../../src/remote/client.ts';
import type { MetadataSource } from '../../src/storage/metadata.ts';
import { RemoteStorage } from '../../src/remote/remote-storage.ts';
import { ByteWriter } from '../../src/util/bytes.ts';
import { systemClock, type Clock } from '../../src/util/clock.ts';
import type { RemoteStatus } from '../../src/status/types.ts';
import { seededRandom } from '../../src/util/random.ts';
import { labelsFromRecord } from '../../src/util/labels.ts';
import {
  encodeExemplars,
  encodeFloatHistogramSamples,
  encodeCustomBucketsHistogramSamples,
  encodeHistogramSamples,
  encodeSamples,
  encodeSeries,
  type RefExemplar,
  type RefHistogramSample,
} from '../../src/wal/records.ts';
import { WalWriter } from '../../src/wal/segment-writer.ts';
import type { Histogram } from '../../src/storage/histogram.ts';
import { firstN } from '../helpers/defined.ts';

export const T0 = 1_700_000_000_000;

export interface WalRemote {
  dir: string;
  registry: Registry;
  log: ReturnType<typeof memoryLogger>;
  series(ref: number, labels: Record<string, string>): void;
  samples(...s: { ref: number; t: number; v: number; stale?: boolean }[]): void;
  exemplars(...e: { ref: number; t: number; v: number; labels: Record<string, string> }[]): void;
  /** Integer histograms (record 7; custom-bucket ones go to their own record 9, as the agent writes them). */
  histograms(...h: RefHistogramSample[]): void;
  /** Float histograms (record 8). */
  floatHistograms(...h: RefHistogramSample[]): void;
  /** Appends record bytes as they are (to put damaged records on disk). */
  raw(record: Uint8Array): void;
  flush(): Promise<void>;
  /** Value of a queue metric (remote_name/url labels of the only queue), or of a labelled series. */
  metric(name: string, extra?: Record<string, string>): Promise<number>;
  /**
   * The metric once it equals want (polled for up to 5 s), else its last value: the receiver has
   * answered before the queue has counted the response.
   */
  settled(name: string, want: number, extra?: Record<string, string>): Promise<number>;
  status(): RemoteStatus[];
  /** Stops the endpoints (flushing as shutdown does); whether everything was delivered. */
  stopRemote(): Promise<boolean>;
  stop(): Promise<void>;
}

/** remote_write YAML for one endpoint with quick deadlines and backoffs; `extra` is indented under the entry. */
export function rwYaml(url: string, extra = '', queue = ''): string {
  return (
    'global:\n  external_labels:\n    site: edge1\nremote_write:\n' +
    `  - url: ${url}\n    name: central\n${extra}` +
    `    queue_config:\n      batch_send_deadline: 30ms\n      min_backoff: 10ms\n      max_backoff: 40ms\n${queue}`
  );
}

export async function startWalRemote(
  yaml: string,
  opts: {
    metadataSource?: MetadataSource;
    makeClient?: (cfg: RemoteWriteConfig) => WriteClient;
    flushDeadlineMs?: number;
    clock?: Clock;
  } = {},
): Promise<WalRemote> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-rwproto-'));
  const walDir = path.join(dir, 'wal');
  const writer = await WalWriter.open(walDir, { segmentSize: 32768 * 4 });
  const registry = new Registry();
  const log = memoryLogger('info');
  const remote = new RemoteStorage({
    dataDir: dir,
    walDir,
    clock: opts.clock ?? systemClock,
    log,
    registry,
    userAgent: 'outpost-test',
    walHead: () => ({ segment: writer.segment, offset: writer.offset }),
    subscribe: (fn) => writer.onFlush((segment) => fn(segment)),
    highestAppended: () => 0,
    bytesAfter: () => 0,
    flushDeadlineMs: opts.flushDeadlineMs ?? 2000,
    metadataSource: opts.metadataSource,
    makeClient: opts.makeClient,
    random: seededRandom(1),
  });
  const cfg = parseConfig(yaml, 'test.yml');
  await remote.applyConfig(cfg.remoteWrite, cfg.global.externalLabels);
  const w = new ByteWriter();
  const [rw] = firstN(cfg.remoteWrite, 1, 'remote_write');
  const queueLabels = { remote_name: rw.name, url: rw.url };
  const metric = async (name: string, extra: Record<string, string> = {}): Promise<number> => {
    const m = registry.getSingleMetric(name);
    if (!m) throw new Error(`no metric ${name}`);
    const want: Record<string, string> = { ...queueLabels, ...extra };
    const { values } = await m.get();
    let sum = 0;
    for (const v of values) {
      if ('metric_name' in v && v.metric_name !== undefined && v.metric_name !== name) continue;
      const ls = v.labels as Record<string, string | number>;
      if (Object.entries(want).every(([k, x]) => String(ls[k]) === x)) sum += v.value;
    }
    return sum;
  };
  return {
    dir,
    registry,
    log,
    series(ref, labels) {
      encodeSeries(w, [ref], [labelsFromRecord(labels)], 1);
      writer.append(w.view());
    },
    samples(...s) {
      const values = Float64Array.from(s.map((x) => x.v));
      encodeSamples(
        w,
        Float64Array.from(s, (x) => x.ref),
        Float64Array.from(s, (x) => x.t),
        values,
        Uint8Array.from(s.map((x) => (x.stale ? 1 : 0))),
        s.length,
      );
      writer.append(w.view());
    },
    exemplars(...e) {
      const recs: RefExemplar[] = e.map((x) => ({ ref: x.ref, t: x.t, v: x.v, labels: labelsFromRecord(x.labels) }));
      encodeExemplars(w, recs);
      writer.append(w.view());
    },
    histograms(...h) {
      const custom = encodeHistogramSamples(w, h);
      if (w.pos > 0) writer.append(w.view());
      if (custom.length > 0) {
        encodeCustomBucketsHistogramSamples(w, custom);
        writer.append(w.view());
      }
    },
    floatHistograms(...h) {
      encodeFloatHistogramSamples(w, h);
      if (w.pos > 0) writer.append(w.view());
    },
    raw(record) {
      writer.append(record);
    },
    async flush() {
      await writer.flush();
    },
    metric,
    status: () => remote.status(),
    stopRemote: () => remote.stop(),
    async settled(name, want, extra) {
      const end = Date.now() + 5000;
      for (;;) {
        const v = await metric(name, extra);
        if (v === want || Date.now() > end) return v;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      await remote.stop();
      await writer.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** An exponential-schema integer histogram: 2 positive buckets (counts 2, 3), 1 negative (1), zero bucket 4. */
export function intHistogram(over: Partial<Histogram> = {}): Histogram {
  return {
    counterResetHint: 2,
    schema: 1,
    zeroThreshold: 0.001,
    zeroCount: 4,
    count: 10,
    sum: 12.5,
    positiveSpans: [{ offset: -1, length: 2 }],
    negativeSpans: [{ offset: 3, length: 1 }],
    positiveBuckets: [2, 1],
    negativeBuckets: [1],
    ...over,
  };
}

/** The float counterpart: absolute bucket counts. */
export function floatHistogram(over: Partial<Histogram> = {}): Histogram {
  return {
    counterResetHint: 3,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0.5,
    count: 7.25,
    sum: -3.5,
    positiveSpans: [
      { offset: 0, length: 1 },
      { offset: 2, length: 2 },
    ],
    negativeSpans: [],
    positiveBuckets: [1.5, 2.25, 3],
    negativeBuckets: [],
    ...over,
  };
}

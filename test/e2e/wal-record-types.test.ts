/**
 * Which WAL record types the Debian Prometheus 2.42 agent replays from a directory Outpost wrote.
 *
 * 2.42's agent (tsdb/agent/db.go, loadWAL) decodes series (1), samples (2), histogram samples (7) and
 * float histogram samples (8), skips tombstones (3) and exemplars (4), and treats every other type as
 * corruption ("invalid record type"): it then repairs the WAL by cutting the segment at that record and
 * deleting later segments, so whatever follows is lost from disk. The custom-bucket histogram records (9, 10) came later (Prometheus 3.x,
 * tsdb/record/record.go: same layout as 7/8 plus the custom bounds); the metadata record (6) is known to
 * 2.42's decoder but not to its agent. Outpost writes 9/10 only for NHCB (convert_classic_histograms_to_nhcb
 * or schema −53 histograms); everything else it writes, 2.42 replays.
 *
 * Each case writes series A, a float sample, the record under test, then series B and its sample, and
 * checks what 2.42 makes of it: accepted means no repair and both series active; rejected means the repair
 * message naming the type, and series B gone once the repaired WAL is replayed again.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { ByteWriter } from '../../src/util/bytes.ts';
import type { Histogram } from '../../src/storage/histogram.ts';
import {
  RecordType,
  encodeCustomBucketsFloatHistogramSamples,
  encodeCustomBucketsHistogramSamples,
  encodeExemplars,
  encodeFloatHistogramSamples,
  encodeHistogramSamples,
  encodeMetadata,
  encodeSamples,
  encodeSeries,
  encodeTombstones,
} from '../../src/wal/records.ts';
import { WalWriter } from '../../src/wal/segment-writer.ts';
import { prometheus2OrSkip } from '../helpers/compliance.ts';
import { freePort, httpOk, startProc, tmpDir, waitUntil } from '../helpers/procs.ts';

const NOW = Date.now();

const INT: Histogram = {
  counterResetHint: 0,
  schema: 1,
  zeroThreshold: 0.001,
  zeroCount: 1,
  count: 4,
  sum: 2.5,
  positiveSpans: [{ offset: 0, length: 2 }],
  negativeSpans: [],
  positiveBuckets: [1, 1],
  negativeBuckets: [],
};
const FLOAT: Histogram = { ...INT, zeroCount: 1.5, count: 4.5, positiveBuckets: [1, 2] };
const NHCB: Histogram = {
  counterResetHint: 0,
  schema: -53,
  zeroThreshold: 0,
  zeroCount: 0,
  count: 3,
  sum: 1,
  positiveSpans: [{ offset: 0, length: 2 }],
  negativeSpans: [],
  positiveBuckets: [1, 1],
  negativeBuckets: [],
  customValues: [0.5],
};

interface Case {
  type: number;
  name: string;
  accepted: boolean;
  write(w: ByteWriter): void;
}

const A = 1;
const one = (h: Histogram) => [{ ref: A, t: NOW, h }];

const CASES: Case[] = [
  { type: RecordType.Samples, name: 'samples', accepted: true, write: (w) => samples(w, A, NOW - 1) },
  {
    type: RecordType.Tombstones,
    name: 'tombstones',
    accepted: true,
    write: (w) => encodeTombstones(w, [{ ref: A, mint: 0, maxt: 1 }]),
  },
  {
    type: RecordType.Exemplars,
    name: 'exemplars',
    accepted: true,
    write: (w) => encodeExemplars(w, [{ ref: A, t: NOW, v: 1, labels: ['trace_id', 'x'] }]),
  },
  {
    type: RecordType.HistogramSamples,
    name: 'histograms',
    accepted: true,
    write: (w) => encodeHistogramSamples(w, one(INT)),
  },
  {
    type: RecordType.FloatHistogramSamples,
    name: 'float histograms',
    accepted: true,
    write: (w) => encodeFloatHistogramSamples(w, one(FLOAT)),
  },
  {
    type: RecordType.Metadata,
    name: 'metadata',
    accepted: false,
    write: (w) => encodeMetadata(w, [{ ref: A, type: 1, unit: '', help: 'h' }]),
  },
  {
    type: RecordType.CustomBucketsHistogramSamples,
    name: 'custom-bucket histograms',
    accepted: false,
    write: (w) => encodeCustomBucketsHistogramSamples(w, one(NHCB)),
  },
  {
    type: RecordType.CustomBucketsFloatHistogramSamples,
    name: 'custom-bucket float histograms',
    accepted: false,
    write: (w) => encodeCustomBucketsFloatHistogramSamples(w, one({ ...NHCB, positiveBuckets: [1, 2] })),
  },
];

function samples(w: ByteWriter, ref: number, t: number): void {
  encodeSamples(w, new Float64Array([ref]), new Float64Array([t]), new Float64Array([1]), new Uint8Array(1), 1);
}

async function writeWal(dir: string, c: Case): Promise<void> {
  const wal = await WalWriter.open(path.join(dir, 'wal'), { segmentSize: 32768 * 4 });
  const w = new ByteWriter(1024);
  const log = () => wal.append(w.view());
  encodeSeries(w, [A], [['__name__', 'series_a']], 1);
  log();
  samples(w, A, NOW - 2);
  log();
  c.write(w);
  t0Check(w, c.type);
  log();
  encodeSeries(w, [2], [['__name__', 'series_b']], 1);
  log();
  samples(w, 2, NOW);
  log();
  await wal.close();
}

/** The record under test really has the type the case names. */
function t0Check(w: ByteWriter, type: number): void {
  if (w.view()[0] !== type) throw new Error(`record type ${w.view()[0]}, expected ${type}`);
}

async function metric(url: string, name: string): Promise<number | undefined> {
  const body = await (await fetch(url)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

for (const c of CASES) {
  test(`e2e: Prometheus 2.42 agent ${c.accepted ? 'replays' : 'rejects'} record type ${c.type} (${c.name})`, async (t) => {
    const bin = prometheus2OrSkip(t);
    if (bin === null) return;
    const dir = await tmpDir('outpost-rectype-');
    t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
    await writeWal(dir, c);
    const first = await replay(bin, dir);
    if (c.accepted) {
      t.is(first.active, 2, first.output);
      t.notRegex(first.output, /attempting repair|invalid record type/, 'no repair');
      return;
    }
    // 2.42 names the type as its decoder knows it: "metadata" (6), else "unknown" (9, 10).
    const shown = c.type === RecordType.Metadata ? 'metadata' : 'unknown';
    t.regex(first.output, new RegExp(`encountered WAL read error, attempting repair.*invalid record type ${shown}`));
    // Its replay reads on past the bad record, so series B is still active this time; but the repair cut
    // the segment at the record, so the next start has lost everything from there on.
    const second = await replay(bin, dir);
    t.notRegex(second.output, /attempting repair/, 'the repaired WAL replays cleanly');
    t.is(second.active, 1, 'series B, written after the rejected record, is gone after the repair');
  });
}

/** Starts the 2.42 agent on dir, waits for ready, reads its active series and stops it. */
async function replay(bin: string, dir: string): Promise<{ active: number | undefined; output: string }> {
  const cfg = path.join(dir, 'prom.yml');
  await fs.writeFile(cfg, 'global:\n  scrape_interval: 1m\n');
  const port = await freePort();
  const prom = startProc(bin, [
    '--enable-feature=agent,native-histograms',
    `--config.file=${cfg}`,
    `--storage.agent.path=${dir}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  try {
    await waitUntil(
      () => httpOk(`http://127.0.0.1:${port}/-/ready`),
      30_000,
      () => `prometheus ready\n${prom.output()}`,
    );
    return {
      active: await metric(`http://127.0.0.1:${port}/metrics`, 'prometheus_agent_active_series'),
      output: prom.output(),
    };
  } finally {
    await prom.stop('SIGTERM');
  }
}

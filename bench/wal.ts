/**
 * WAL append throughput: for 1k, 10k and 100k series, one series record then one samples record per
 * scrape (snappy on, as the agent default), written to a temp dir. Reports the encode step and the
 * full encode + append (compress, CRC, framing) + flush path.
 *
 *   node bench/wal.ts            (npm run bench:wal)
 *   WAL_BENCH_SAMPLES=5000000 node bench/wal.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ByteWriter } from '../src/util/bytes.ts';
import type { Labels } from '../src/util/labels.ts';
import { crc32c } from '../src/wal/crc32c.ts';
import { SampleBatch, decodeSamples, encodeSamples, encodeSeries } from '../src/wal/records.ts';
import { Scratch, snappyCompressInto } from '../src/util/snappy.ts';
import { replayWal } from '../src/wal/reader.ts';
import { WalWriter } from '../src/wal/segment-writer.ts';

const TOTAL = Number(process.env.WAL_BENCH_SAMPLES ?? 3_000_000);
const MB = 1024 * 1024;

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

/** A scrape's worth of columns: counters that grow, gauges that wander, constants. */
function scrapeData(nSeries: number) {
  const refs = new Float64Array(nSeries);
  const ts = new Float64Array(nSeries);
  const vals = new Float64Array(nSeries);
  const stale = new Uint8Array(nSeries);
  for (let i = 0; i < nSeries; i++) refs[i] = i + 1;
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const fill = (scrape: number): void => {
    const t = 1_700_000_000_000 + scrape * 15_000;
    for (let i = 0; i < nSeries; i++) {
      ts[i] = t + (i & 3); // a few targets with slightly different timestamps
      const kind = i % 10;
      vals[i] = kind < 5 ? i * 10 + scrape * (kind + 1) : kind < 8 ? rnd() * 1000 : kind & 1;
    }
  };
  return { refs, ts, vals, stale, fill };
}

async function run(nSeries: number): Promise<void> {
  const scrapes = Math.max(3, Math.round(TOTAL / nSeries));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-walbench-'));
  try {
    const labels: Labels[] = [];
    const refsArr: number[] = [];
    for (let i = 0; i < nSeries; i++) {
      refsArr.push(i + 1);
      labels.push([
        '__name__',
        `metric_${i % 200}`,
        'instance',
        `host-${i % 50}:9100`,
        'job',
        'node',
        'series',
        String(i),
      ]);
    }
    const d = scrapeData(nSeries);
    const w = new ByteWriter(1 << 20);

    // Encode only.
    let encBytes = 0;
    let t0 = performance.now();
    for (let s = 0; s < scrapes; s++) {
      d.fill(s);
      encodeSamples(w, d.refs, d.ts, d.vals, d.stale, nSeries);
      encBytes += w.pos;
    }
    const encMs = performance.now() - t0;

    // CRC and snappy alone over the same volume (the last record, repeated).
    const view = w.copy();
    t0 = performance.now();
    let x = 0;
    for (let s = 0; s < scrapes; s++) x ^= crc32c(view);
    const crcMs = performance.now() - t0;
    const sc = new Scratch();
    t0 = performance.now();
    for (let s = 0; s < scrapes; s++) x ^= snappyCompressInto(view, sc);
    const snappyMs = performance.now() - t0;

    // Full path.
    const wal = await WalWriter.open(dir);
    t0 = performance.now();
    encodeSeries(w, refsArr, labels, nSeries);
    wal.append(w.view());
    let recBytes = w.pos;
    let fillMs = 0;
    for (let s = 0; s < scrapes; s++) {
      const f0 = performance.now();
      d.fill(s);
      fillMs += performance.now() - f0;
      encodeSamples(w, d.refs, d.ts, d.vals, d.stale, nSeries);
      recBytes += w.pos;
      wal.append(w.view());
      await wal.flush();
    }
    await wal.close();
    const fullMs = performance.now() - t0 - fillMs;
    const samples = scrapes * nSeries;

    // Replay (read + decompress + decode) of what was written.
    const batch = new SampleBatch(nSeries);
    t0 = performance.now();
    let decoded = 0;
    await replayWal(dir, (rec) => {
      if (rec[0] !== 2) return;
      batch.reset();
      decodeSamples(rec, batch);
      decoded += batch.n;
    });
    const replayMs = performance.now() - t0;
    if (decoded !== samples) throw new Error(`replay decoded ${decoded} samples, wrote ${samples}`);

    const st = wal.stats;
    const mbs = (bytes: number, ms: number): string => `${((bytes / MB / ms) * 1000).toFixed(0)} MB/s`;
    console.log(
      `${fmt(nSeries).padStart(6)} series x ${String(scrapes).padStart(4)} scrapes\n` +
        `  append+flush  ${fmt((samples / fullMs) * 1000).padStart(7)} samples/s  ${mbs(recBytes, fullMs)} records in, ` +
        `${mbs(st.bytesWritten, fullMs)} to disk (snappy ratio ${(recBytes / st.bytesWritten).toFixed(2)}, ${(recBytes / samples).toFixed(1)} B/sample raw)\n` +
        `  parts         encode ${fmt((samples / encMs) * 1000)} samples/s (${mbs(encBytes, encMs)}), ` +
        `snappy ${mbs(encBytes, snappyMs)}, crc32c ${mbs(encBytes, crcMs)}${x === 0.5 ? '' : ''}\n` +
        `  replay        ${fmt((samples / replayMs) * 1000).padStart(7)} samples/s (read, decompress, decode)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`WAL append benchmark (node ${process.version}, ${TOTAL / 1e6}M samples per size, snappy on)`);
for (const n of [1_000, 10_000, 100_000]) await run(n);

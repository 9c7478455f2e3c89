/**
 * Remote-write encode (+ snappy) throughput: the hand-rolled builders against protobufjs, on
 * batches of 2000 samples with ~8 labels each (Prometheus head's default max_samples_per_send).
 * Run: `npx node bench/rw-encode.ts [seconds-per-case]` (Node 26 runs the .ts directly).
 */
import { encodeLabelsBlock, WriteRequestBuilder, WriteRequestV2Builder } from '../src/remote/encoder.ts';
import { rw1, rw2 } from '../test/helpers/rw-proto.ts';
import { SnappyBlockCompressor } from '../src/remote/snappy.ts';
import type { Labels } from '../src/util/labels.ts';
import { nodeLikeLabels } from './node-like-labels.ts';
import { at } from '../test/helpers/defined.ts';

const BATCH = 2000;
const SERIES = 5000;
const secondsPerCase = Number(process.argv[2] ?? '1.5');

// A node_exporter-like population: shared job/instance, a few varying labels.
const labelSets: Labels[] = [];
for (let i = 0; i < SERIES; i++) {
  labelSets.push(nodeLikeLabels(i));
}
const blocks = labelSets.map(encodeLabelsBlock);
const pbLabels = labelSets.map((ls) => {
  const out: { name: string; value: string }[] = [];
  for (let j = 0; j < ls.length; j += 2) out.push({ name: at(ls, j, 'labels'), value: at(ls, j + 1, 'labels') });
  return out;
});

const values = new Float64Array(BATCH * 8);
const timestamps = new Float64Array(BATCH * 8);
for (let i = 0; i < values.length; i++) {
  values[i] = i % 10 === 0 ? 0 : Math.round(Math.sin(i) * 1e6) / 1000;
  timestamps[i] = 1_700_000_000_000 + i * 15;
}

let cursor = 0;
function nextBatchStart(): number {
  cursor = (cursor + BATCH) % (values.length - BATCH);
  return cursor;
}

const snappy = new SnappyBlockCompressor();
const v1 = new WriteRequestBuilder();
const v2 = new WriteRequestV2Builder();

type Case = { name: string; run: (compress: boolean) => { raw: number; wire: number } };

const cases: Case[] = [
  {
    name: 'RW1 hand-rolled',
    run(compress) {
      const s = nextBatchStart();
      v1.reset();
      for (let i = 0; i < BATCH; i++) {
        const k = s + i;
        const block = blocks[k % SERIES];
        const value = values[k];
        const ts = timestamps[k];
        if (block === undefined || value === undefined || ts === undefined) throw new RangeError(`no sample ${k}`);
        v1.addSample(block, value, false, ts);
      }
      const body = v1.finish();
      return { raw: body.length, wire: compress ? snappy.compress(body).length : body.length };
    },
  },
  {
    name: 'RW1 protobufjs',
    run(compress) {
      const s = nextBatchStart();
      const timeseries = new Array(BATCH);
      for (let i = 0; i < BATCH; i++) {
        const k = s + i;
        const labels = pbLabels[k % SERIES];
        const value = values[k];
        const timestamp = timestamps[k];
        if (labels === undefined || value === undefined || timestamp === undefined) {
          throw new RangeError(`no sample ${k}`);
        }
        timeseries[i] = { labels, samples: [{ value, timestamp }] };
      }
      const body = rw1.WriteRequest.encode({ timeseries }).finish();
      return { raw: body.length, wire: compress ? snappy.compress(body).length : body.length };
    },
  },
  {
    name: 'RW2 hand-rolled',
    run(compress) {
      const s = nextBatchStart();
      v2.reset();
      for (let i = 0; i < BATCH; i++) {
        const k = s + i;
        const ls = labelSets[k % SERIES];
        const value = values[k];
        const ts = timestamps[k];
        if (ls === undefined || value === undefined || ts === undefined) throw new RangeError(`no sample ${k}`);
        v2.addSample(ls, value, false, ts);
      }
      const body = v2.finish();
      return { raw: body.length, wire: compress ? snappy.compress(body).length : body.length };
    },
  },
  {
    name: 'RW2 protobufjs',
    run(compress) {
      const s = nextBatchStart();
      const symbols = [''];
      const index = new Map<string, number>([['', 0]]);
      const ref = (x: string): number => {
        let r = index.get(x);
        if (r === undefined) {
          r = symbols.length;
          symbols.push(x);
          index.set(x, r);
        }
        return r;
      };
      const timeseries = new Array(BATCH);
      for (let i = 0; i < BATCH; i++) {
        const k = s + i;
        const ls = labelSets[k % SERIES];
        const value = values[k];
        const timestamp = timestamps[k];
        if (ls === undefined || value === undefined || timestamp === undefined) throw new RangeError(`no sample ${k}`);
        const labelsRefs = ls.map(ref);
        timeseries[i] = { labelsRefs, samples: [{ value, timestamp }], metadata: {} };
      }
      const body = rw2.Request.encode({ symbols, timeseries }).finish();
      return { raw: body.length, wire: compress ? snappy.compress(body).length : body.length };
    },
  },
];

function measure(c: Case, compress: boolean): { rate: number; raw: number; wire: number } {
  // Warm up so the JIT has settled before timing.
  for (let i = 0; i < 30; i++) c.run(compress);
  let batches = 0;
  let raw = 0;
  let wire = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(secondsPerCase * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    const r = c.run(compress);
    raw = r.raw;
    wire = r.wire;
    batches++;
    if ((batches & 7) === 0) elapsed = process.hrtime.bigint() - start;
  }
  elapsed = process.hrtime.bigint() - start;
  const seconds = Number(elapsed) / 1e9;
  return { rate: (batches * BATCH) / seconds, raw, wire };
}

function fmtRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(0)} k/s`;
}

console.log(
  `remote-write encode, ${BATCH} samples/batch, ~8 labels/sample, ${secondsPerCase}s per case, node ${process.version}`,
);
const rows: string[][] = [['encoder', 'encode only', 'encode+snappy', 'raw bytes/batch', 'snappy bytes/batch']];
for (const c of cases) {
  const enc = measure(c, false);
  const both = measure(c, true);
  rows.push([c.name, fmtRate(enc.rate), fmtRate(both.rate), String(enc.raw), String(both.wire)]);
}
const widths: number[] = [];
for (const r of rows) for (const [i, cell] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
for (const [i, r] of rows.entries()) {
  console.log(r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j] ?? 0) : cell.padStart(widths[j] ?? 0))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}

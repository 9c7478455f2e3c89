/**
 * Steady-state lookups in the scrape cache: every series of a 2,000-series target found again in
 * exposition order, as each scrape after the first does. Prints ns per lookup.
 *   node bench/series-cache.ts [series=2000] [rounds=2000]
 */
import { SeriesCache } from '../src/scrape/series-cache.ts';
import { at } from '../test/helpers/defined.ts';

const series = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 2000);
const lines: string[] = [];
for (let i = 0; i < series; i++) {
  lines.push(
    `bench_metric_${i % 50}_total{instance="127.0.0.1:20000",job="bench",path="/api/v1/items/${i}",method="GET",code="200"}`,
  );
}
const text = Buffer.from(lines.join('\n'));
const starts = new Uint32Array(series);
const ends = new Uint32Array(series);
const cache = new SeriesCache();
let offset = 0;
for (const [i, line] of lines.entries()) {
  const end = offset + Buffer.byteLength(line);
  starts[i] = offset;
  ends[i] = end;
  cache.insert(text, offset, end, i + 1);
  offset = end + 1;
}

function round(): number {
  let sum = 0;
  for (let i = 0; i < series; i++) {
    const start = starts[i];
    const end = ends[i];
    if (start === undefined || end === undefined) throw new RangeError(`no series ${i} of ${series}`);
    sum += cache.ref(cache.find(text, start, end));
  }
  return sum;
}
for (let i = 0; i < 200; i++) round();
const best: number[] = [];
for (let rep = 0; rep < 5; rep++) {
  const c0 = process.cpuUsage();
  let check = 0;
  for (let r = 0; r < rounds; r++) check += round();
  const c = process.cpuUsage(c0);
  if (check !== (rounds * (series * (series + 1))) / 2) throw new Error('cache returned wrong refs');
  best.push(((c.user + c.system) * 1000) / (rounds * series));
}
best.sort((a, b) => a - b);
console.log(
  `series-cache find: ${at(best, 0, 'rounds').toFixed(1)} ns/lookup (median ${at(best, 2, 'rounds').toFixed(1)}), ${series} series, key ~${Math.round(text.length / series)} B`,
);

/**
 * Steady-state lookups in the scrape cache: every series of a 2,000-series target found again in
 * exposition order, as each scrape after the first does. Prints ns per lookup.
 *   node bench/series-cache.ts [series=2000] [rounds=2000]
 */
import { SeriesCache } from '../src/scrape/series-cache.ts';

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
let at = 0;
for (let i = 0; i < series; i++) {
  starts[i] = at;
  ends[i] = at + Buffer.byteLength(lines[i]);
  at = ends[i] + 1;
}
const cache = new SeriesCache();
for (let i = 0; i < series; i++) cache.insert(text, starts[i], ends[i], i + 1);

function round(): number {
  let sum = 0;
  for (let i = 0; i < series; i++) sum += cache.ref(cache.find(text, starts[i], ends[i]));
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
  `series-cache find: ${best[0].toFixed(1)} ns/lookup (median ${best[2].toFixed(1)}), ${series} series, key ~${Math.round(text.length / series)} B`,
);

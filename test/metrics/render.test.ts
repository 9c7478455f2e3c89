import test from 'ava';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { renderText } from '../../src/metrics/render.ts';
import { createRegistry } from '../../src/metrics/registry.ts';

/** A registry with every kind of family and the awkward values: escapes, NaN and infinities, no labels. */
function awkwardRegistry(): Registry {
  const reg = new Registry();
  const c = new Counter({
    name: 'c_total',
    help: 'a counter\nwith a "newline" and a \\',
    labelNames: ['a', 'b'],
    registers: [reg],
  });
  c.inc({ a: 'x', b: 'y' }, 3);
  c.inc({ a: 'quote " back \\ nl \n', b: 'é ünïcode' }, 1.5);
  c.inc({ b: 'only-b' });
  const g = new Gauge({ name: 'g', help: 'gauge', labelNames: ['k'], registers: [reg] });
  g.set({ k: 'nan' }, Number.NaN);
  g.set({ k: 'inf' }, Number.POSITIVE_INFINITY);
  g.set({ k: 'ninf' }, Number.NEGATIVE_INFINITY);
  g.set({ k: 'small' }, 1e-7);
  g.set({ k: 'big' }, 123456789012345680000);
  new Gauge({ name: 'g_empty', help: 'no series', registers: [reg] });
  new Gauge({
    name: 'g_collected',
    help: 'set by collect()',
    registers: [reg],
    collect() {
      this.set(42);
    },
  });
  const h = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['q'], buckets: [0.1, 1, 10], registers: [reg] });
  h.observe({ q: 'a' }, 0.05);
  h.observe({ q: 'a' }, 5);
  h.observe({ q: 'b"\\' }, 50);
  new Histogram({ name: 'h_unlabelled', help: 'h2', buckets: [1], registers: [reg] }).observe(2);
  const s = new Summary({ name: 's', help: 's', labelNames: ['x'], percentiles: [0.5, 0.9], registers: [reg] });
  for (let i = 0; i < 10; i++) s.observe({ x: '1' }, i);
  return reg;
}

test("renderText writes prom-client's text byte for byte on every kind of family", async (t) => {
  const reg = awkwardRegistry();
  const theirs = await reg.metrics();
  const ours = await renderText(reg);
  t.is(ours, theirs);
  // The registry really had the awkward cases (not an empty comparison).
  t.regex(ours, /c_total\{a="quote \\" back \\\\ nl \\n",b="é ünïcode"\} 1\.5/);
  t.regex(ours, /^g\{k="nan"\} Nan$/m);
  t.regex(ours, /^h_seconds_bucket\{le="\+Inf",q="b\\"\\\\"\} 1$/m);
  t.regex(ours, /^g_collected 42$/m);
});

test("renderText matches prom-client on the agent's own registry", async (t) => {
  const reg = createRegistry();
  const ours = await renderText(reg);
  const theirs = await reg.metrics();
  // Runtime figures (CPU, memory, event loop) move between the two renders: compare the lines' names.
  const shape = (text: string): string => text.replace(/ [^ \n]+$/gm, ' V');
  t.is(shape(ours), shape(theirs));
  t.regex(ours, /^# TYPE process_cpu_seconds_total counter$/m);
});

test('renderText of an empty registry is one newline, as prom-client writes', async (t) => {
  const reg = new Registry();
  t.is(await renderText(reg), await reg.metrics());
  t.is(await renderText(reg), '\n');
});

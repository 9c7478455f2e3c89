import test from 'ava';
import { RecordingAppender } from '../helpers/recording-appender.ts';
import { metricsServer, newLoop, TEXT_FORMAT } from '../helpers/scrape-loop.ts';
import { defined } from '../helpers/defined.ts';

const T = 1_700_000_000_000;

/** Every value names its series, so a sample attributed to the wrong series shows. */
function body(names: string[], scrape: number): string {
  return names.map((n) => `${n} ${Number(n.replace(/\D/g, '')) * 1000 + scrape}`).join('\n') + '\n';
}

test('samples stay with their series when exposition order changes, series come and go, and names prefix each other', async (t) => {
  const srv = await metricsServer(t);
  const app = new RecordingAppender();
  const loop = newLoop(srv.url, { appender: app });
  // Bodies chosen against the expected-next shortcut: a bare name that prefixes a labelled series,
  // reordering, an insertion in the middle, a removal, and a duplicate line.
  const scrapes = [
    ['m1', 'm1{a="2"}', 'm3{b="3"}', 'm4'],
    ['m1', 'm1{a="2"}', 'm3{b="3"}', 'm4'],
    ['m4', 'm3{b="3"}', 'm1{a="2"}', 'm1'],
    ['m1', 'm5{c="5"}', 'm1{a="2"}', 'm3{b="3"}', 'm4'],
    ['m1', 'm1{a="2"}', 'm4'],
    ['m1', 'm1', 'm1{a="2"}', 'm4'],
  ];
  for (const [i, names] of scrapes.entries()) {
    srv.set(200, body(names, i), TEXT_FORMAT);
    await loop.scrape(T + i * 1000);
  }
  for (const s of app.committed) {
    if (s.stale || !/^m\d$/.test(defined(s.labels.__name__, 'metric name'))) continue;
    const id = (s.labels.__name__ + (s.labels.a ?? s.labels.b ?? s.labels.c ?? '')).replace(/\D/g, '');
    t.is(Math.floor(s.v / 1000), Number(id), `${JSON.stringify(s.labels)} got ${s.v}`);
    t.is(s.v % 1000, (s.t - T) / 1000, 'value from the scrape at its timestamp');
  }
  // Every series line of every scrape was appended once (the duplicate m1 in the last one is not).
  const expected = scrapes.reduce((n, names) => n + new Set(names).size, 0);
  t.is(
    app.committed.filter((s) => !s.stale && /^m\d$/.test(defined(s.labels.__name__, 'metric name'))).length,
    expected,
  );
});

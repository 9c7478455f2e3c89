import test from 'ava';
import { SeriesTable } from '../../src/agent/series-table.ts';
import { parseConfig } from '../../src/config/load.ts';
import { WriteRequestBuilder } from '../../src/remote/encoder.ts';
import { SeriesCache } from '../../src/remote/series-cache.ts';
import type { Labels } from '../../src/util/labels.ts';
import { at, firstN } from '../helpers/defined.ts';
import { decodeWriteRequest } from '../helpers/rw-proto.ts';
import { intHistogram, T0 } from './wal-fixture.ts';

const SETS: Labels[] = [
  ['__name__', 'up', 'instance', 'localhost:9100', 'job', 'node'],
  ['__name__', 'http_requests_total', 'code', '200', 'handler', '/api/v1/query', 'job', 'api'],
  ['__name__', 'unicode', 'city', 'Zürich', 'emoji', '📦', 'cjk', '東京'],
  ['__name__', 'long', 'v', 'x'.repeat(300), 'w'.repeat(130), 'y'],
  // Remote write omits empty fields, the table does not: this one is copied, never shared.
  ['__name__', 'empty_value', 'a', ''],
];

function tableWith(sets: readonly Labels[]): { table: SeriesTable; refs: number[] } {
  const table = new SeriesTable();
  return { table, refs: sets.map((l) => table.getOrCreate(l).ref) };
}

/** A queue's cache for config `global` (YAML) and the endpoint's extra YAML, reading from table if given. */
function cache(global: string, table?: SeriesTable, opts: { endpoint?: string; keepIds?: boolean } = {}): SeriesCache {
  const yaml = `${global}remote_write:\n  - url: http://127.0.0.1:1/w\n${opts.endpoint ?? ''}`;
  const cfg = parseConfig(yaml, 'test.yml');
  return new SeriesCache({
    externalLabels: cfg.global.externalLabels,
    relabel: at(cfg.remoteWrite, 0, 'remote_write').writeRelabelConfigs,
    keepIds: opts.keepIds ?? false,
    shared: table,
  });
}

/** Stores sets[i] as refs[i] in each cache, as the watcher does from series records. */
function storeAll(caches: readonly SeriesCache[], refs: readonly number[], sets: readonly Labels[]): void {
  for (const [i, ref] of refs.entries()) for (const c of caches) c.store(ref, at(sets, i, 'sets'));
}

/** One request with a sample, a stale marker, an exemplar and a histogram of each ref. */
function request(c: SeriesCache, refs: readonly number[]): Buffer {
  const b = new WriteRequestBuilder(1024);
  for (const [i, ref] of refs.entries()) {
    c.addSampleTo(b, ref, i + 0.5, false, T0 + i);
    c.addSampleTo(b, ref, 0, true, T0 + i + 1);
    c.addExemplarTo(b, ref, ['trace_id', `t${i}`], i, T0 + i);
    c.addHistogramTo(b, ref, intHistogram(), false, T0 + i);
  }
  return Buffer.from(b.finish());
}

function labelsSent(body: Buffer): Labels[] {
  return decodeWriteRequest(body).timeseries.map((ts) => ts.labels.flatMap((l) => [l.name, l.value]));
}

test('shared series give the same request bytes as copied ones', (t) => {
  const { table, refs } = tableWith(SETS);
  const shared = cache('', table);
  const copied = cache('');
  storeAll([shared, copied], refs, SETS);
  t.deepEqual(
    refs.map((r) => shared.shares(r)),
    [true, true, true, true, false],
  );
  t.false(refs.some((r) => copied.shares(r)));
  t.true(refs.every((r) => shared.state(r) > 0));
  const body = request(shared, refs);
  t.deepEqual(body, request(copied, refs));
  const sent = labelsSent(body);
  t.is(sent.length, SETS.length * 4);
  t.deepEqual(sent[0], SETS[0]);
  t.deepEqual(sent[12], SETS[3]);
});

test('a series the table removes while the queue still holds it is copied first and sent the same', (t) => {
  const sets = Array.from({ length: 3000 }, (_, i): Labels => ['__name__', `m${i % 7}`, 'i', `instance-${i}`]);
  const { table, refs } = tableWith(sets);
  const shared = cache('', table);
  const copied = cache('');
  storeAll([shared, copied], refs, sets);
  for (const ref of refs) table.lastTs[ref] = ref % 4 === 0 ? 10 : 0;
  const removed = table.gc(5);
  t.is(removed.length, 2250);
  // The gc compacted the table's arena; new series take the space behind the survivors.
  for (let i = 0; i < 3000; i++) table.getOrCreate(['__name__', 'new', 'i', `${i}`]);
  t.true(refs.every((r) => shared.shares(r) === (r % 4 === 0)));
  t.deepEqual(request(shared, refs), request(copied, refs));
  t.deepEqual(labelsSent(request(shared, [at(removed, 0, 'removed')]))[0], at(sets, 0, 'sets'));
});

test('external labels and relabeling share only the series they leave as they were', (t) => {
  const sets: Labels[] = [
    ['__name__', 'a', 'job', 'node'],
    ['__name__', 'b', 'job', 'node', 'site', 'edge1'],
    ['__name__', 'c', 'instance', 'h:1', 'job', 'node'],
  ];
  const { table, refs } = tableWith(sets);
  const site = 'global:\n  external_labels:\n    site: edge1\n';
  const ext = cache(site, table);
  const extCopy = cache(site);
  const endpoint = '    write_relabel_configs:\n      - regex: instance\n        action: labeldrop\n';
  const relabeled = cache('', table, { endpoint });
  const relabeledCopy = cache('', undefined, { endpoint });
  storeAll([ext, extCopy, relabeled, relabeledCopy], refs, sets);
  t.deepEqual(
    refs.map((r) => ext.shares(r)),
    [false, true, false],
    'only the series that has site=edge1 already',
  );
  t.deepEqual(
    refs.map((r) => relabeled.shares(r)),
    [true, true, false],
    'only the series without an instance label',
  );
  t.deepEqual(request(ext, refs), request(extCopy, refs));
  t.deepEqual(request(relabeled, refs), request(relabeledCopy, refs));
  t.deepEqual(labelsSent(request(ext, refs))[0], ['__name__', 'a', 'job', 'node', 'site', 'edge1']);
  t.deepEqual(labelsSent(request(relabeled, refs))[8], ['__name__', 'c', 'job', 'node']);
});

test('drop() forgets shared series, and a later removal from the table copies nothing for them', (t) => {
  const { table, refs } = tableWith(SETS.slice(0, 4));
  const c = cache('', table);
  storeAll([c], refs, SETS);
  const [r1, r2, r3, r4] = firstN(refs, 4, 'refs');
  c.drop([r1, r2]);
  t.is(c.state(r1), 0);
  t.false(c.shares(r1));
  for (const ref of refs) table.lastTs[ref] = 0;
  t.is(table.gc(1).length, 4);
  t.is(c.state(r1), 0, 'not brought back by the removal');
  t.is(c.state(r2), 0);
  t.false(c.shares(r3), 'copied when the table removed it');
  t.true(c.state(r3) > 0);
  const sent = labelsSent(request(c, [r3, r4]));
  t.deepEqual(sent, [...Array(4).fill(SETS[2]), ...Array(4).fill(SETS[3])]);
});

test('after close() the cache no longer follows the table', (t) => {
  const { table, refs } = tableWith(SETS.slice(0, 1));
  const c = cache('', table);
  const ref = at(refs, 0, 'refs');
  c.store(ref, at(SETS, 0, 'SETS'));
  c.close();
  table.lastTs[ref] = 0;
  table.gc(1);
  t.true(c.shares(ref), 'the removal was not seen');
});

test('a replayed duplicate ref is copied; its canonical ref is shared', (t) => {
  const table = new SeriesTable();
  const l = at(SETS, 1, 'SETS');
  t.is(table.insertReplayed(5, l), 5);
  t.is(table.insertReplayed(9, l), 5);
  const c = cache('', table);
  c.store(9, l);
  c.store(5, l);
  t.false(c.shares(9));
  t.true(c.shares(5));
  t.deepEqual(request(c, [9]), request(c, [5]));
});

test('RW2 queues keep their interned ids for shared series', (t) => {
  const { table, refs } = tableWith(SETS.slice(0, 2));
  const c = cache('', table, { keepIds: true });
  storeAll([c], refs, SETS);
  t.true(c.shares(at(refs, 0, 'refs')));
  for (const [i, ref] of refs.entries()) {
    t.deepEqual(
      [...c.idsOf(ref)].map((id) => c.interner.strings[id]),
      SETS[i],
    );
  }
});

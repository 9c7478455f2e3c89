/**
 * A segment written by Prometheus 2.42 in agent mode (4 demo series + 5 report series, 8 scrapes at
 * 1 s, snappy on, clean shutdown) must read back exactly, and our encoders and writer must
 * reproduce it byte for byte.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ByteWriter } from '../../src/util/bytes.ts';
import type { Labels } from '../../src/util/labels.ts';
import { SegmentRecordReader, replayWal } from '../../src/wal/reader.ts';
import {
  RecordType,
  SampleBatch,
  decodeSamples,
  decodeSeries,
  encodeSamples,
  encodeSeries,
  recordType,
} from '../../src/wal/records.ts';
import { WalWriter } from '../../src/wal/segment-writer.ts';
import { fragments, tmpDir } from './helpers.ts';
import { at, firstN } from '../helpers/defined.ts';

const WAL = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'prometheus-2.42-agent', 'wal');

test('Prometheus-written segment: layout, records and values', async (t) => {
  const seg = await readFile(path.join(WAL, '00000000'));
  t.is(seg.length, 32768, 'closed segment is padded to a page');
  const frags = fragments(seg);
  t.true(
    frags.every((f) => f.type === 0x09),
    'every record is one snappy full fragment',
  );
  t.is(seg.subarray(0, 3).toString('hex'), '0900f8');

  const series: [number, Labels][] = [];
  const batch = new SampleBatch();
  const types: number[] = [];
  const res = await replayWal(WAL, (rec) => {
    const ty = recordType(rec);
    types.push(ty);
    if (ty === RecordType.Series) decodeSeries(rec, (ref, ls) => series.push([ref, ls]));
    else decodeSamples(rec, batch);
  });
  t.deepEqual(res, { first: 0, last: 0, checkpoint: -1, repaired: null });
  t.deepEqual(types, [1, 2, 2, 2, 2, 2, 2, 2, 2]);
  t.deepEqual(
    series.map(([ref, ls]) => [ref, ls[1], ls.length]),
    [
      [1, 'demo_gauge', 8],
      [2, 'demo_gauge', 8],
      [3, 'demo_gauge', 8],
      [4, 'demo_counter_total', 6],
      [5, 'up', 6],
      [6, 'scrape_duration_seconds', 6],
      [7, 'scrape_samples_scraped', 6],
      [8, 'scrape_samples_post_metric_relabeling', 6],
      [9, 'scrape_series_added', 6],
    ],
  );
  const [[, gauge]] = firstN(series, 1, 'series');
  t.deepEqual(gauge, ['__name__', 'demo_gauge', 'instance', '127.0.0.1:19191', 'job', 'demo', 'kind', 'a']);
  t.is(batch.n, 72);
  for (let s = 0; s < 8; s++) {
    const i = s * 9;
    t.deepEqual([...batch.refs.subarray(i, i + 9)], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    t.is(batch.values[i], 1.5);
    t.is(batch.values[i + 1], -2);
    t.true(Number.isNaN(batch.values[i + 2]) && batch.stale[i + 2] === 0, 'scraped NaN is not stale');
    t.is(batch.values[i + 3], 42);
    t.is(batch.values[i + 4], 1, 'up');
    if (s > 0) t.is(at(batch.ts, i, 'batch.ts') - at(batch.ts, i - 9, 'batch.ts'), 1000);
  }
});

test('our encoders reproduce Prometheus record bytes exactly', async (t) => {
  const r = new SegmentRecordReader(await readFile(path.join(WAL, '00000000')), 0);
  const w = new ByteWriter();
  let n = 0;
  for (let rec = r.next(); rec; rec = r.next()) {
    const original = Buffer.from(rec);
    if (recordType(rec) === RecordType.Series) {
      const refs: number[] = [];
      const labels: Labels[] = [];
      decodeSeries(rec, (ref, ls) => {
        refs.push(ref);
        labels.push(ls);
      });
      encodeSeries(w, refs, labels, refs.length);
    } else {
      const b = new SampleBatch();
      decodeSamples(rec, b);
      encodeSamples(w, b.refs, b.ts, b.values, b.stale, b.n);
      // Go's math.NaN() bits, which is what a scraped NaN becomes.
      t.true(original.toString('hex').includes('7ff8000000000001'));
    }
    t.is(w.view().toString('hex'), original.toString('hex'));
    n++;
  }
  t.is(n, 9);
});

const FIXTURES = ['prometheus-2.42-agent', 'prometheus-2.42-agent-4k-series'];

for (const name of FIXTURES) {
  test(`${name}: rewriting its records with our writer reproduces the segment byte for byte`, async (t) => {
    const file = path.join(path.dirname(WAL), '..', name, 'wal', '00000000');
    const original = await readFile(file);
    const dir = await tmpDir(t);
    const w = await WalWriter.open(dir);
    const r = new SegmentRecordReader(original, 0);
    let n = 0;
    for (let rec = r.next(); rec; rec = r.next()) {
      w.append(rec);
      await w.flush();
      n++;
    }
    await w.close();
    t.true(n > 1);
    const mine = await readFile(path.join(dir, '00000000'));
    t.is(mine.length, original.length);
    t.true(mine.equals(original), 'snappy payloads, CRCs, fragment headers and padding all identical');
  });
}

test('4k-series fixture: multi-page compressed records decode to 4000 series and 4 scrapes', async (t) => {
  const file = path.join(path.dirname(WAL), '..', 'prometheus-2.42-agent-4k-series', 'wal', '00000000');
  const seg = await readFile(file);
  const kinds = fragments(seg).map((f) => f.type);
  t.deepEqual(kinds.slice(0, 4), [0x0a, 0x0b, 0x0b, 0x0c], 'series record: snappy first, middle, middle, last');
  let series = 0;
  const perRecord: number[] = [];
  const b = new SampleBatch();
  const r = new SegmentRecordReader(seg, 0);
  for (let rec = r.next(); rec; rec = r.next()) {
    if (recordType(rec) === RecordType.Series) decodeSeries(rec, () => series++);
    else {
      b.reset();
      decodeSamples(rec, b);
      perRecord.push(b.n);
    }
  }
  t.is(series, 4005);
  t.deepEqual(perRecord, [4005, 4005, 4005, 4005]);
});

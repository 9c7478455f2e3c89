import test from 'ava';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ByteWriter } from '../../src/util/bytes.ts';
import type { Labels } from '../../src/util/labels.ts';
import { checkpoint, deleteCheckpoints, truncateSegments } from '../../src/wal/checkpoint.ts';
import { CorruptionError, SegmentsError } from '../../src/wal/errors.ts';
import { replayWal } from '../../src/wal/reader.ts';
import {
  RecordType,
  SampleBatch,
  decodeMetadata,
  decodeSamples,
  decodeSeries,
  encodeMetadata,
  encodeSamples,
  encodeSeries,
  recordType,
  type RefMetadata,
} from '../../src/wal/records.ts';
import { WalWriter } from '../../src/wal/segment-writer.ts';
import { segmentName } from '../../src/wal/segments.ts';
import { tmpDir } from './helpers.ts';
import { at } from '../helpers/defined.ts';

interface Seen {
  series: number[];
  samples: [number, number][];
  meta: RefMetadata[];
  types: number[];
  fromCheckpoint: boolean[];
}

async function replayAll(dir: string): Promise<Seen> {
  const s: Seen = { series: [], samples: [], meta: [], types: [], fromCheckpoint: [] };
  const b = new SampleBatch();
  await replayWal(dir, (rec, _seg, _off, cp) => {
    s.types.push(recordType(rec));
    s.fromCheckpoint.push(cp);
    if (recordType(rec) === RecordType.Series) decodeSeries(rec, (ref) => s.series.push(ref));
    else if (recordType(rec) === RecordType.Samples) {
      b.reset();
      decodeSamples(rec, b);
      for (let i = 0; i < b.n; i++) s.samples.push([at(b.refs, i, 'b.refs'), at(b.ts, i, 'b.ts')]);
    } else if (recordType(rec) === RecordType.Metadata) decodeMetadata(rec, s.meta);
  });
  return s;
}

/** seg0: series 1-4, samples at t=100 and 200; seg1: series 5, samples at 300, metadata; seg2: more metadata; seg3: samples at 400. */
async function buildWal(dir: string): Promise<void> {
  const w = await WalWriter.open(dir);
  const enc = new ByteWriter();
  const series = (refs: number[]): void => {
    const labels: Labels[] = refs.map((r) => ['__name__', `m${r}`]);
    encodeSeries(enc, refs, labels, refs.length);
    w.append(enc.view());
  };
  const samples = (refs: number[], t: number): void => {
    encodeSamples(
      enc,
      Float64Array.from(refs),
      Float64Array.from(refs, () => t),
      Float64Array.from(refs),
      new Uint8Array(refs.length),
      refs.length,
    );
    w.append(enc.view());
  };
  series([1, 2, 3, 4]);
  samples([1, 2, 3, 4], 100);
  samples([1, 2, 3, 4], 200);
  await w.nextSegment();
  series([5]);
  samples([1, 2, 5], 300);
  encodeMetadata(enc, [
    { ref: 1, type: 1, unit: '', help: 'old' },
    { ref: 2, type: 2, unit: '', help: 'dropped with its series' },
  ]);
  w.append(enc.view());
  await w.nextSegment();
  encodeMetadata(enc, [{ ref: 1, type: 1, unit: 's', help: 'new' }]);
  w.append(enc.view());
  w.append(Buffer.from([0x2a, 1, 2, 3])); // unknown record type: not carried over
  await w.nextSegment();
  samples([1, 5], 400);
  await w.close();
}

test('checkpoint keeps live series and recent samples, latest metadata last; replay starts from it', async (t) => {
  const dir = await tmpDir(t);
  await buildWal(dir);
  const res = await checkpoint(dir, 0, 2, { keep: (ref) => ref !== 2, mint: 200 });
  t.is(res.index, 2);
  t.is(res.dir, path.join(dir, 'checkpoint.00000002'));
  t.deepEqual(res.stats, {
    droppedSeries: 1,
    droppedSamples: 4, // only by time: like Prometheus, samples are not filtered by keep()
    droppedTombstones: 0,
    droppedExemplars: 0,
    droppedMetadata: 2,
    totalSeries: 5,
    totalSamples: 11,
    totalTombstones: 0,
    totalExemplars: 0,
    totalMetadata: 3,
  });
  t.deepEqual(await readdir(res.dir), ['00000000']);

  // Segments <= 2 still exist; replay must ignore them in favour of the checkpoint.
  const seen = await replayAll(dir);
  t.deepEqual(seen.series, [1, 3, 4, 5]);
  t.deepEqual(seen.samples, [
    [1, 200],
    [2, 200],
    [3, 200],
    [4, 200],
    [1, 300],
    [2, 300],
    [5, 300],
    [1, 400],
    [5, 400],
  ]);
  t.deepEqual(seen.meta, [{ ref: 1, type: 1, unit: 's', help: 'new' }]);
  t.deepEqual(seen.types, [1, 2, 1, 2, 6, 2]);
  t.deepEqual(seen.fromCheckpoint, [true, true, true, true, true, false]);

  t.deepEqual(await truncateSegments(dir, 3), [0, 1, 2]);
  t.deepEqual(await replayAll(dir), seen, 'replay is the same once folded segments are gone');
});

test('a second checkpoint folds the first; older checkpoints can be deleted; gaps are refused', async (t) => {
  const dir = await tmpDir(t);
  await buildWal(dir);
  await checkpoint(dir, 0, 2, { keep: () => true, mint: 0 });
  await truncateSegments(dir, 3);
  const res = await checkpoint(dir, 0, 3, { keep: (ref) => ref === 5, mint: 400 });
  t.deepEqual(res.stats.totalSeries, 5);
  t.deepEqual(await deleteCheckpoints(dir, 3), [2]);
  await truncateSegments(dir, 4);
  const seen = await replayAll(dir);
  t.deepEqual(seen.series, [5]);
  t.deepEqual(seen.samples, [
    [1, 400],
    [5, 400],
  ]);
  await t.throwsAsync(checkpoint(dir, 6, 7, { keep: () => true, mint: 0 }), {
    instanceOf: SegmentsError,
    message: /gap/,
  });
});

test('corruption aborts the checkpoint and leaves nothing behind', async (t) => {
  const dir = await tmpDir(t);
  await buildWal(dir);
  const { open } = await import('node:fs/promises');
  const fh = await open(path.join(dir, segmentName(1)), 'r+');
  await fh.write(Buffer.from([0xff, 0xff, 0xff]), 0, 3, 10);
  await fh.close();
  await t.throwsAsync(checkpoint(dir, 0, 2, { keep: () => true, mint: 0 }), {
    instanceOf: CorruptionError,
    message: /checkpoint aborted/,
  });
  t.false((await readdir(dir)).some((n) => n.startsWith('checkpoint')));
});

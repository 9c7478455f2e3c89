import test from 'ava';
import type { SendResult, WireProtocol, WriteClient } from '../../src/remote/client.ts';
import { snappyUncompress } from '../../src/remote/snappy.ts';
import { labelsFromRecord, type Labels } from '../../src/util/labels.ts';
import type { WalPosition } from '../../src/wal/segments.ts';
import { at } from '../helpers/defined.ts';
import { sharedTableQueue } from '../helpers/shared-queue.ts';
import { decodeRequestV2, decodeWriteRequest } from '../helpers/rw-proto.ts';
import { runFor } from '../helpers/virtual-time.ts';

const T0 = 1_700_000_000_000;

/** Answers 503 while `down`, otherwise takes the request and keeps each series' labels (as name=value text) and timestamp. */
class SwitchClient implements WriteClient {
  down = false;
  got: { labels: string; t: number }[] = [];
  async send(body: Uint8Array, _attempt: number, protocol: WireProtocol): Promise<SendResult> {
    if (this.down) return { kind: 'retry', error: 'HTTP 503', status: 503, retryAfterMs: 0 };
    const raw = snappyUncompress(body);
    const series =
      protocol === 'v2'
        ? decodeRequestV2(raw).timeseries.map((ts) => ({
            labels: ts.labels,
            t: at(ts.samples, 0, 'samples').timestamp,
          }))
        : decodeWriteRequest(raw).timeseries.map((ts) => ({
            labels: ts.labels,
            t: at(ts.samples, 0, 'samples').timestamp,
          }));
    for (const s of series) this.got.push({ labels: s.labels.map((l) => `${l.name}=${l.value}`).join(','), t: s.t });
    return { kind: 'ok', written: { samples: series.length, histograms: 0, exemplars: 0 } };
  }
  close(): void {}
}

/**
 * A queue reading labels from a series table, with the agent's side played by the test: series created in
 * the table and stored in the queue as the watcher would, samples handed over in chunks at WAL positions,
 * and gc() told where the WAL writer stands first, as AgentStorage.gcSeries does.
 */
function rig(global = '', endpoint = '') {
  const client = new SwitchClient();
  const yaml =
    `${global}remote_write:\n  - url: http://127.0.0.1:1/w\n${endpoint}    queue_config:\n` +
    '      batch_send_deadline: 10ms\n      min_backoff: 10ms\n      max_backoff: 20ms\n';
  const { table, clock, q, acked } = sharedTableQueue(yaml, client, T0);
  return {
    table,
    clock,
    client,
    q,
    acked,
    /** Creates series in the table and stores them in the queue; returns their refs. */
    create(sets: readonly Labels[]): number[] {
      const refs = sets.map((l) => table.getOrCreate(l).ref);
      for (const [i, ref] of refs.entries()) q.storeSeries(ref, at(sets, i, 'sets'));
      return refs;
    },
    /** One chunk ending at pos with a sample of each ref at t. */
    write(refs: readonly number[], t: number, pos: WalPosition): void {
      const chunk = q.beginChunk(pos);
      for (const ref of refs) if (!q.enqueue(ref, t, 1, false, chunk)) throw new Error('shards full');
      q.endChunk();
    },
    /** Removes the series without a sample at or after cutoff, the WAL writer standing at pos. */
    gc(cutoff: number, pos: WalPosition): number[] {
      table.setRemovedBefore(pos);
      return table.gc(cutoff);
    },
    /** Marks refs as sampled at t in the table, so a gc with an older cut-off keeps them. */
    touch(refs: readonly number[], t: number): void {
      for (const ref of refs) table.lastTs[ref] = t;
    },
    async drain(): Promise<void> {
      for (let i = 0; i < 500 && q.pending() > 0; i++) await runFor(clock, 10);
      await runFor(clock, 20);
      if (q.pending() > 0) throw new Error(`${q.pending()} samples still pending`);
    },
  };
}

function pods(prefix: string, n: number): Labels[] {
  return Array.from({ length: n }, (_, i) => labelsFromRecord({ __name__: 'churn', pod: `${prefix}-${i}` }));
}

test('a removed series is sent with its own labels until the endpoint acknowledged past its removal, then forgotten', async (t) => {
  const r = rig();
  const old = r.create(pods('old', 20));
  const kept = r.create(pods('kept', 5));
  t.true([...old, ...kept].every((ref) => r.q.series.shares(ref)));
  r.client.down = true;
  r.write([...old, ...kept], T0, { segment: 3, offset: 100 });
  await runFor(r.clock, 100);
  r.touch(kept, T0 + 1);
  t.is(r.gc(T0 + 1, { segment: 3, offset: 100 }).length, 20);
  // The endpoint has not taken the samples yet: the queue keeps the labels, now in its own arena.
  t.true(old.every((ref) => r.q.series.state(ref) > 0 && !r.q.series.shares(ref)));
  // New series take the table's space behind the survivors (the gc compacted nothing this small, but a
  // new block must not change what the removed refs send either).
  const fresh = r.create(pods('fresh', 20));
  r.write([...fresh, ...kept], T0 + 1, { segment: 3, offset: 200 });
  t.is(r.q.series.liveCount, 45);
  r.client.down = false;
  await r.drain();
  const sent = new Set(r.client.got.map((s) => `${s.labels}@${s.t - T0}`));
  for (let i = 0; i < 20; i++) {
    t.true(sent.has(`__name__=churn,pod=old-${i}@0`), `old-${i}`);
    t.true(sent.has(`__name__=churn,pod=fresh-${i}@1`), `fresh-${i}`);
  }
  t.is(r.client.got.length, 20 + 5 + 20 + 5);
  t.deepEqual(r.acked.at(-1), { segment: 3, offset: 200 });
  t.true(
    old.every((ref) => r.q.series.state(ref) === 0),
    'forgotten once acknowledged',
  );
  t.true([...kept, ...fresh].every((ref) => r.q.series.state(ref) > 0 && r.q.series.shares(ref)));
  t.is(r.q.series.liveCount, 25);
  await r.q.stop(1000);
});

test('an acknowledgement before the removal position keeps the removed series', async (t) => {
  const r = rig();
  const old = r.create(pods('old', 4));
  r.write(old, T0, { segment: 1, offset: 100 });
  await r.drain();
  // The WAL writer went on past the acknowledged chunk before the gc (records of other series).
  t.is(r.gc(T0 + 1, { segment: 1, offset: 500 }).length, 4);
  const other = r.create(pods('other', 1));
  r.write(other, T0 + 1, { segment: 1, offset: 400 });
  await r.drain();
  t.deepEqual(r.acked.at(-1), { segment: 1, offset: 400 });
  t.true(old.every((ref) => r.q.series.state(ref) > 0));
  r.write(other, T0 + 2, { segment: 2, offset: 0 });
  await r.drain();
  t.true(old.every((ref) => r.q.series.state(ref) === 0));
  await r.q.stop(1000);
});

test('a lagging endpoint that reads a series record after the removal sends it, then forgets it after the ack', async (t) => {
  const r = rig();
  const sets = pods('lag', 10);
  const refs = sets.map((l) => r.table.getOrCreate(l).ref);
  // Removed before this endpoint's watcher got to the series records.
  t.is(r.gc(T0, { segment: 5, offset: 300 }).length, 10);
  const live = r.table.getOrCreate(labelsFromRecord({ __name__: 'live' })).ref;
  r.touch([live], T0 + 10);
  // A ref the table has not handed out yet is not a removed one (refs only grow).
  const ahead = r.table.nextRef + 5;
  for (const [i, ref] of refs.entries()) r.q.storeSeries(ref, at(sets, i, 'sets'));
  r.q.storeSeries(live, labelsFromRecord({ __name__: 'live' }));
  r.q.storeSeries(ahead, labelsFromRecord({ __name__: 'ahead' }));
  t.true(refs.every((ref) => r.q.series.state(ref) > 0 && !r.q.series.shares(ref)));
  r.write(refs, T0, { segment: 5, offset: 100 });
  await r.drain();
  t.deepEqual(
    r.client.got.map((s) => s.labels),
    sets.map((l) => `__name__=churn,pod=${l[3]}`),
  );
  t.true(
    refs.every((ref) => r.q.series.state(ref) > 0),
    'not acknowledged up to the removal yet',
  );
  r.write([live, ahead], T0 + 1, { segment: 5, offset: 400 });
  await r.drain();
  t.true(refs.every((ref) => r.q.series.state(ref) === 0));
  t.true(r.q.series.state(live) > 0);
  t.true(r.q.series.state(ahead) > 0);
  t.deepEqual(
    r.client.got.slice(10).map((s) => s.labels),
    ['__name__=live', '__name__=ahead'],
  );
  await r.q.stop(1000);
});

/** Runs `rounds` rounds of `perRound` new series each, the previous round removed by every round's gc. */
async function churn(r: ReturnType<typeof rig>, rounds: number, perRound: number) {
  const figures: { live: number; arena: number; interner: number }[] = [];
  for (let k = 0; k < rounds; k++) {
    const refs = r.create(pods(`r${k}`, perRound));
    const pos = { segment: k, offset: 1000 };
    r.write(refs, T0 + k, pos);
    r.touch(refs, T0 + k);
    r.gc(T0 + k, pos);
    await r.drain();
    figures.push({ live: r.q.series.liveCount, arena: r.q.series.arenaBytes, interner: r.q.series.interner.size });
  }
  return figures;
}

for (const [name, global, endpoint] of [
  ['RW1, labels shared with the table', '', ''],
  [
    'RW2 with external labels, labels in the queue',
    'global:\n  external_labels:\n    site: edge1\n',
    '    protobuf_message: io.prometheus.write.v2.Request\n',
  ],
] as const) {
  test(`series churn keeps the queue's series cache bounded (${name})`, async (t) => {
    const r = rig(global, endpoint);
    const perRound = 3000;
    const rounds = 30;
    const figures = await churn(r, rounds, perRound);
    const first = at(figures, 1, 'figures');
    const last = at(figures, rounds - 1, 'figures');
    t.log(`round 2: ${JSON.stringify(first)}; round ${rounds}: ${JSON.stringify(last)}`);
    // Each round the previous one was removed and acknowledged: only the current round is left.
    t.is(last.live, perRound);
    for (const f of figures) t.true(f.live <= 2 * perRound, `${f.live} live`);
    t.true(last.arena <= 2 * Math.max(first.arena, 1 << 17), `${last.arena} arena bytes`);
    if (endpoint !== '') t.true(last.interner < 3 * (perRound + 10), `${last.interner} interned strings`);
    // The last round still sends its own labels.
    t.is(r.client.got.length, rounds * perRound);
    t.is(
      r.client.got.at(-1)?.labels,
      `__name__=churn,pod=r${rounds - 1}-${perRound - 1}${global ? ',site=edge1' : ''}`,
    );
    await r.q.stop(1000);
  });
}

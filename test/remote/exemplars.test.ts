import test from 'ava';
import type { DecodedRequestV2, DecodedTimeSeries, DecodedWriteRequest } from '../helpers/rw-proto.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { rwYaml, startWalRemote, T0 } from './wal-fixture.ts';
import { at } from '../helpers/defined.ts';

const P = 'prometheus_remote_storage_';
const EXEMPLARS = '    send_exemplars: true\n';

function rw1Series(rx: RwReceiver): DecodedTimeSeries[] {
  return rx.requests.filter((r) => r.protocol === 'rw1').flatMap((r) => (r.decoded as DecodedWriteRequest).timeseries);
}

async function setup(t: import('ava').ExecutionContext, extra: string, queue = '') {
  const rx = await RwReceiver.start();
  const w = await startWalRemote(rwYaml(rx.url, extra, queue));
  t.teardown(async () => {
    await w.stop();
    await rx.close();
  });
  return { rx, w };
}

test('RW1: each exemplar of a WAL exemplar record becomes its own TimeSeries with the series labels', async (t) => {
  const { rx, w } = await setup(t, EXEMPLARS);
  w.series(1, { __name__: 'req_total', job: 'api' });
  w.samples({ ref: 1, t: T0, v: 5 });
  w.exemplars(
    { ref: 1, t: T0, v: 5, labels: { trace_id: 'abc' } },
    { ref: 1, t: T0 + 1, v: 0, labels: { span_id: '1', trace_id: 'def' } },
  );
  await w.flush();
  await rx.waitFor(() => rw1Series(rx).length === 3, 10_000);
  const series = rw1Series(rx);
  const wantLabels = [
    { name: '__name__', value: 'req_total' },
    { name: 'job', value: 'api' },
    { name: 'site', value: 'edge1' },
  ];
  for (const s of series) t.deepEqual(s.labels, wantLabels);
  t.deepEqual(at(series, 0, 'series').samples, [{ value: 5, timestamp: T0, stale: false }]);
  t.deepEqual(at(series, 0, 'series').exemplars, []);
  t.deepEqual(
    series.slice(1).map((s) => ({ samples: s.samples, exemplars: s.exemplars })),
    [
      { samples: [], exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 5, timestamp: T0 }] },
      // A zero value is omitted on the wire (proto3) and reads back as 0.
      {
        samples: [],
        exemplars: [
          {
            labels: [
              { name: 'span_id', value: '1' },
              { name: 'trace_id', value: 'def' },
            ],
            value: 0,
            timestamp: T0 + 1,
          },
        ],
      },
    ],
  );
  t.is(await w.settled(P + 'exemplars_total', 2), 2);
  t.is(await w.settled(P + 'samples_total', 1), 1);
  t.is(await w.metric(P + 'exemplars_failed_total'), 0);
});

test('send_exemplars off (the default): exemplar records are not forwarded', async (t) => {
  const { rx, w } = await setup(t, '');
  w.series(1, { __name__: 'req_total' });
  w.exemplars({ ref: 1, t: T0, v: 5, labels: { trace_id: 'abc' } });
  w.samples({ ref: 1, t: T0, v: 5 });
  await w.flush();
  await rx.waitFor((r) => r.samples().length === 1, 10_000);
  t.is(await w.settled(P + 'samples_total', 1), 1);
  t.deepEqual(
    rw1Series(rx).flatMap((s) => s.exemplars),
    [],
  );
  t.is(await w.metric(P + 'exemplars_total'), 0);
});

test('exemplars of unknown and relabel-dropped series are counted as dropped with the reason', async (t) => {
  const relabel = `${EXEMPLARS}    write_relabel_configs:\n      - source_labels: [__name__]\n        regex: secret\n        action: drop\n`;
  const { rx, w } = await setup(t, relabel);
  w.series(1, { __name__: 'secret' });
  w.series(2, { __name__: 'public' });
  w.exemplars(
    { ref: 1, t: T0, v: 1, labels: { trace_id: 'a' } },
    { ref: 99, t: T0, v: 1, labels: { trace_id: 'b' } },
    { ref: 2, t: T0, v: 1, labels: { trace_id: 'c' } },
  );
  await w.flush();
  await rx.waitFor(() => rw1Series(rx).length === 1, 10_000);
  t.deepEqual(at(at(rw1Series(rx), 0, 'rw1Series(rx)').exemplars, 0, 'rw1Series(rx)[0].exemplars').labels, [
    { name: 'trace_id', value: 'c' },
  ]);
  t.is(await w.metric(P + 'exemplars_dropped_total', { reason: 'dropped_series' }), 1);
  t.is(await w.metric(P + 'exemplars_dropped_total', { reason: 'unintentionally_dropped_series' }), 1);
  t.is(await w.metric(P + 'samples_dropped_total'), 0, 'exemplar drops are not sample drops');
});

test('exemplars count towards max_samples_per_send, as in Prometheus', async (t) => {
  const { rx, w } = await setup(t, EXEMPLARS, '      max_samples_per_send: 10\n');
  w.series(1, { __name__: 'm' });
  for (let i = 0; i < 3; i++) {
    w.samples(...Array.from({ length: 10 }, (_, k) => ({ ref: 1, t: T0 + i * 100 + k, v: k })));
    w.exemplars(
      ...Array.from({ length: 10 }, (_, k) => ({
        ref: 1,
        t: T0 + i * 100 + k,
        v: k,
        labels: { trace_id: `t${i}-${k}` },
      })),
    );
  }
  await w.flush();
  await rx.waitFor(() => rw1Series(rx).length === 60, 10_000);
  for (const r of rx.requests) t.true((r.decoded as DecodedWriteRequest).timeseries.length <= 10);
  // Per-series order survives: samples and exemplars interleave as written.
  const order = rw1Series(rx).map((s) =>
    s.samples.length > 0
      ? `s${at(s.samples, 0, 's.samples').timestamp - T0}`
      : `e${at(s.exemplars, 0, 's.exemplars').timestamp - T0}`,
  );
  const want: string[] = [];
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < 10; k++) want.push(`s${i * 100 + k}`);
    for (let k = 0; k < 10; k++) want.push(`e${i * 100 + k}`);
  }
  t.deepEqual(order, want);
  t.is(await w.settled(P + 'exemplars_total', 30), 30);
});

test('exemplar retries and non-recoverable failures are counted per kind', async (t) => {
  const { rx, w } = await setup(t, EXEMPLARS);
  rx.plan({ status: 503 }, { status: 204 }, { status: 400 });
  w.series(1, { __name__: 'm' });
  w.samples({ ref: 1, t: T0, v: 1 });
  w.exemplars({ ref: 1, t: T0, v: 1, labels: { trace_id: 'a' } }, { ref: 1, t: T0, v: 1, labels: { trace_id: 'b' } });
  await w.flush();
  await rx.waitFor((r) => r.attempts.length === 2, 10_000);
  t.is(await w.settled(P + 'exemplars_retried_total', 2), 2);
  t.is(await w.settled(P + 'exemplars_total', 4), 4, 'counted per attempt, as Prometheus does');
  t.is(await w.metric(P + 'samples_retried_total'), 1);
  // The next batch meets the planned 400 and is dropped.
  w.exemplars({ ref: 1, t: T0 + 1, v: 1, labels: { trace_id: 'c' } });
  await w.flush();
  await rx.waitFor((r) => r.attempts.length === 3, 10_000);
  t.is(await w.settled(P + 'exemplars_failed_total', 1), 1);
  t.is(await w.metric(P + 'samples_failed_total'), 0);
});

test('RW2: exemplar label refs resolve, series labels take their symbols first, no symbol twice', async (t) => {
  const { rx, w } = await setup(t, `${EXEMPLARS}    protobuf_message: io.prometheus.write.v2.Request\n`);
  w.series(1, { __name__: 'req_total', job: 'api' });
  w.samples({ ref: 1, t: T0, v: 5 });
  // "api" is both a series label value and an exemplar label value: one symbol.
  w.exemplars({ ref: 1, t: T0, v: 5, labels: { service: 'api', trace_id: 'abc' } });
  await w.flush();
  await rx.waitFor(
    (r) =>
      r.requests.length > 0 && (at(r.requests, 0, 'r.requests').decoded as DecodedRequestV2).timeseries.length === 2,
    10_000,
  );
  const req = at(rx.requests, 0, 'rx.requests').decoded as DecodedRequestV2;
  t.deepEqual(req.symbols, ['', '__name__', 'req_total', 'job', 'api', 'site', 'edge1', 'service', 'trace_id', 'abc']);
  t.deepEqual(at(req.timeseries, 1, 'req.timeseries').samples, []);
  t.deepEqual(at(req.timeseries, 1, 'req.timeseries').exemplars, [
    {
      labelsRefs: [7, 4, 8, 9],
      labels: [
        { name: 'service', value: 'api' },
        { name: 'trace_id', value: 'abc' },
      ],
      value: 5,
      timestamp: T0,
    },
  ]);
  t.is(await w.settled(P + 'exemplars_total', 1), 1);
});

test('an exemplar record that does not decode is skipped with a warning; the samples after it still go out', async (t) => {
  const { rx, w } = await setup(t, EXEMPLARS);
  w.series(1, { __name__: 'm' });
  // Type 4, a base ref and time, then a truncated exemplar.
  w.raw(Uint8Array.from([4, ...new Array<number>(16).fill(0), 0x02]));
  w.samples({ ref: 1, t: T0, v: 1 });
  await w.flush();
  await rx.waitFor((r) => r.samples().length === 1, 10_000);
  t.true(w.log.lines.some((l) => l.includes('Skipping a WAL exemplars record that does not decode')));
  t.is(await w.metric(P + 'exemplars_total'), 0);
});

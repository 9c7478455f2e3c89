import test from 'ava';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../../src/agent/metrics.ts';
import { AgentStorage } from '../../src/agent/storage.ts';
import { ExemplarStatus, type ExemplarStatusCode } from '../../src/storage/appender.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { compileRelabelConfigs } from '../../src/relabel/relabel.ts';
import { RELABEL_DEFAULTS, type RelabelConfig } from '../../src/relabel/types.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { labelsFromRecord, type Labels } from '../../src/util/labels.ts';
import { replayWal } from '../../src/wal/reader.ts';
import {
  RecordType,
  SampleBatch,
  decodeExemplars,
  decodeSamples,
  decodeSeries,
  recordType,
  type RefExemplar,
} from '../../src/wal/records.ts';
import { rmrf, tmpDir } from '../helpers/agent-parts.ts';
import { metricsServer, newLoop, TEXT_FORMAT } from '../helpers/scrape-loop.ts';
import { at } from '../helpers/defined.ts';

interface Opened {
  storage: AgentStorage;
  registry: Registry;
  dir: string;
}

async function open(t: { teardown(fn: () => Promise<void>): void }): Promise<Opened> {
  const dir = await tmpDir('outpost-exemplar-');
  const registry = new Registry();
  const storage = new AgentStorage({
    dataDir: dir,
    wal: { segmentSize: 32768 * 4 },
    log: memoryLogger('error'),
    metrics: new AgentMetrics(registry),
  });
  await storage.open();
  t.teardown(async () => {
    await storage.close();
    await rmrf(dir);
  });
  return { storage, registry, dir };
}

interface WalContents {
  /** Record types in WAL order. */
  types: number[];
  series: Map<number, Labels>;
  exemplars: RefExemplar[];
  samples: { ref: number; t: number; v: number }[];
}

async function readWal(walDir: string): Promise<WalContents> {
  const out: WalContents = { types: [], series: new Map(), exemplars: [], samples: [] };
  const batch = new SampleBatch();
  await replayWal(walDir, (rec) => {
    const type = recordType(rec);
    out.types.push(type);
    if (type === RecordType.Series) decodeSeries(rec, (ref, ls) => out.series.set(ref, ls));
    else if (type === RecordType.Exemplars) decodeExemplars(rec, out.exemplars);
    else if (type === RecordType.Samples) {
      batch.reset();
      decodeSamples(rec, batch);
      for (let i = 0; i < batch.n; i++)
        out.samples.push({
          ref: at(batch.refs, i, 'batch.refs'),
          t: at(batch.ts, i, 'batch.ts'),
          v: at(batch.values, i, 'batch.values'),
        });
    }
  });
  return out;
}

async function counter(reg: Registry, name: string): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values[0]?.value as number | undefined) ?? NaN;
}

const series = (name: string) => labelsFromRecord({ __name__: name, job: 'test' });

test('an exemplar is written after its samples, labels sorted and empty ones dropped, and reads back', async (t) => {
  const { storage, registry } = await open(t);
  const app = storage.appender();
  const ref = app.ref(series('req_total'));
  t.true(app.append(ref, 1000, 5));
  t.is(
    app.appendExemplar(ref, 990, 0.25, true, ['trace_id', 'abc', 'empty', '', 'span_id', 'def']),
    ExemplarStatus.appended,
  );
  await app.commit();
  await storage.close();
  const wal = await readWal(storage.walDir);
  t.deepEqual(wal.types, [RecordType.Series, RecordType.Samples, RecordType.Exemplars]);
  t.deepEqual(wal.exemplars, [{ ref, t: 990, v: 0.25, labels: ['span_id', 'def', 'trace_id', 'abc'] }]);
  t.deepEqual(wal.series.get(ref), series('req_total'));
  t.is(await counter(registry, 'prometheus_agent_exemplars_appended_total'), 1);
  t.is(
    await counter(registry, 'prometheus_remote_storage_exemplars_in_total'),
    1,
    'counted in at commit, for the remote-write mixin',
  );
  t.is(await counter(registry, 'prometheus_remote_storage_histograms_in_total'), 0);
  t.is(storage.exemplarsAppended, 1);
});

test("de-duplication against the series' latest exemplar follows Prometheus' Exemplar.Equals", async (t) => {
  const { storage, registry } = await open(t);
  const app = storage.appender();
  const a = app.ref(series('a_total'));
  const b = app.ref(series('b_total'));
  const ex = (ref: number, t0: number, v: number, hasTs: boolean, labels: string[]) =>
    app.appendExemplar(ref, t0, v, hasTs, labels);
  const cases: [string, number, number, number, boolean, string[], ExemplarStatusCode][] = [
    ['first', a, 1000, 1, false, ['trace_id', 'x'], ExemplarStatus.appended],
    [
      'same, no timestamps: the scrape time differs but it is the same exemplar',
      a,
      2000,
      1,
      false,
      ['trace_id', 'x'],
      ExemplarStatus.duplicate,
    ],
    ['other series, same exemplar', b, 2000, 1, false, ['trace_id', 'x'], ExemplarStatus.appended],
    ['new value', a, 3000, 2, false, ['trace_id', 'x'], ExemplarStatus.appended],
    ['new labels', a, 3000, 2, false, ['trace_id', 'y'], ExemplarStatus.appended],
    ['an own timestamp makes the times count', a, 3000, 2, true, ['trace_id', 'y'], ExemplarStatus.duplicate],
    ['own timestamp, same', a, 3000, 2, true, ['trace_id', 'y'], ExemplarStatus.duplicate],
    ['own timestamp, later', a, 4000, 2, true, ['trace_id', 'y'], ExemplarStatus.appended],
    [
      'empty labels are not part of the identity',
      a,
      4000,
      2,
      true,
      ['trace_id', 'y', 'x', ''],
      ExemplarStatus.duplicate,
    ],
    ['label order is not part of the identity', a, 5000, 3, true, ['b', '1', 'a', '2'], ExemplarStatus.appended],
    ['same, other order', a, 5000, 3, true, ['a', '2', 'b', '1'], ExemplarStatus.duplicate],
    ['NaN never equals NaN', a, 5000, NaN, true, ['a', '2'], ExemplarStatus.appended],
    ['NaN again', a, 5000, NaN, true, ['a', '2'], ExemplarStatus.appended],
  ];
  let appended = 0;
  for (const [name, ref, t0, v, hasTs, labels, want] of cases) {
    t.is(ex(ref, t0, v, hasTs, labels), want, name);
    if (want === ExemplarStatus.appended) appended++;
  }
  await app.commit();
  await storage.close();
  const wal = await readWal(storage.walDir);
  t.is(wal.exemplars.length, appended);
  t.is(await counter(registry, 'prometheus_agent_exemplars_appended_total'), appended);
});

test('limits: unknown series, duplicate label names, more than 128 code points', async (t) => {
  const { storage } = await open(t);
  const app = storage.appender();
  const ref = app.ref(series('c_total'));
  t.is(app.appendExemplar(ref + 100, 0, 1, false, ['a', 'b']), ExemplarStatus.unknownSeries);
  t.is(app.appendExemplar(ref, 0, 1, false, ['a', 'b', 'z', '1', 'a', 'c']), ExemplarStatus.duplicateLabel);
  // A duplicate with an empty value is no duplicate: empty labels go first.
  t.is(app.appendExemplar(ref, 0, 1, false, ['a', 'b', 'a', '']), ExemplarStatus.appended);
  // 128 code points in names and values together is the most allowed; they are counted as
  // characters, not bytes (each é is two bytes, each 𝄞 two UTF-16 units and four bytes).
  const name = 'trace_id';
  const at128 = 'é'.repeat(100) + '𝄞'.repeat(128 - name.length - 100);
  t.is(app.appendExemplar(ref, 1, 2, false, [name, at128]), ExemplarStatus.appended);
  t.is(app.appendExemplar(ref, 1, 3, false, [name, at128 + 'x']), ExemplarStatus.labelLength);
  t.is(
    app.appendExemplar(ref, 1, 3, false, ['span', 'x'.repeat(60), 'trace', 'y'.repeat(60)]),
    ExemplarStatus.labelLength,
    'the limit is over all labels together',
  );
  await app.commit();
  await storage.close();
  const wal = await readWal(storage.walDir);
  t.deepEqual(
    wal.exemplars.map((e) => e.v),
    [1, 2],
  );
  t.is(at(wal.exemplars, 1, 'wal.exemplars').labels[1], at128);
});

test('rollback drops pending exemplars but, as in Prometheus 2.42, the latest-exemplar state stays', async (t) => {
  const { storage } = await open(t);
  const app = storage.appender();
  const ref = app.ref(series('d_total'));
  await app.commit();
  t.is(app.appendExemplar(ref, 10, 1, false, ['id', '1']), ExemplarStatus.appended);
  app.rollback();
  t.is(app.appendExemplar(ref, 20, 1, false, ['id', '1']), ExemplarStatus.duplicate);
  t.is(app.appendExemplar(ref, 20, 2, false, ['id', '1']), ExemplarStatus.appended);
  // No sample in this commit: the exemplar record is written on its own.
  await app.commit();
  await storage.close();
  const wal = await readWal(storage.walDir);
  t.deepEqual(
    wal.exemplars.map((e) => [e.t, e.v]),
    [[20, 2]],
  );
  t.deepEqual(wal.types, [RecordType.Series, RecordType.Exemplars]);
});

test('series GC forgets the latest exemplar; replay skips exemplar records', async (t) => {
  const { storage, dir } = await open(t);
  const app = storage.appender();
  const ref = app.ref(series('e_total'));
  app.append(ref, 1000, 1);
  app.appendExemplar(ref, 1000, 1, false, ['id', '1']);
  await app.commit();
  t.true(storage.latestExemplars.has(ref));
  t.deepEqual(storage.gcSeries(2000), [ref]);
  t.false(storage.latestExemplars.has(ref));
  await storage.close();
  const again = new AgentStorage({
    dataDir: dir,
    log: memoryLogger('error'),
    metrics: new AgentMetrics(new Registry()),
  });
  await again.open();
  t.is(again.series.size, 1, 'the series record replays; the exemplar record is skipped without error');
  t.is(again.latestExemplars.size, 0, 'de-dup state is not restored (Prometheus does not either)');
  await again.close();
});

const OM = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

test("scrape loop: exemplars go to the WAL with their own or their sample's timestamp, once", async (t) => {
  const { storage, registry } = await open(t);
  const tg = await metricsServer(t);
  const clock = new FakeClock(1_700_000_000_000);
  const dropRule: RelabelConfig = {
    sourceLabels: ['__name__'],
    separator: RELABEL_DEFAULTS.separator,
    regex: 'dropped_total',
    modulus: 0,
    targetLabel: '',
    replacement: RELABEL_DEFAULTS.replacement,
    action: 'drop',
    explicit: new Set(),
  };
  const options = {
    headers: { Accept: 'application/openmetrics-text' },
    metricRelabel: compileRelabelConfigs([dropRule]),
  };
  const loop = newLoop(tg.url, { options, appender: storage.appender(), clock, log: memoryLogger('error') });
  const body = (v: number) =>
    [
      '# TYPE req counter',
      `req_total{code="200"} ${v} # {trace_id="t${v}"} 0.5`,
      `req_total{code="500"} 1 # {trace_id="own"} 0.75 1699999999.5`,
      'explicit_total 3 1699999990.000 # {trace_id="e"} 1',
      'dropped_total 1 # {trace_id="d"} 1',
      '# TYPE lat histogram',
      'lat_bucket{le="1"} 1 # {trace_id="bad",trace_id="dup"} 0.1',
      'lat_bucket{le="+Inf"} 1',
      'lat_count 1',
      'lat_sum 0.1',
      '# EOF',
      '',
    ].join('\n');
  const t1 = clock.now();
  tg.set(200, body(1), OM);
  await loop.scrape(t1);
  t.is(loop.state.health, 'up', loop.state.lastError);
  tg.set(200, body(1));
  await loop.scrape(t1 + 1000);
  tg.set(200, body(2));
  await loop.scrape(t1 + 2000);
  await storage.close();

  const wal = await readWal(storage.walDir);
  const named = (e: RefExemplar) =>
    (wal.series.get(e.ref) ?? [])
      .filter((_, i) => i % 2 === 0)
      .map((n, i) => `${n}=${(wal.series.get(e.ref) ?? [])[2 * i + 1]}`)
      .join(',');
  t.deepEqual(
    wal.exemplars.map((e) => [named(e), e.t, e.v, e.labels.join('=')]),
    [
      ['__name__=req_total,code=200,instance=host:1,job=job1', t1, 0.5, 'trace_id=t1'],
      ['__name__=req_total,code=500,instance=host:1,job=job1', 1699999999500, 0.75, 'trace_id=own'],
      ['__name__=explicit_total,instance=host:1,job=job1', 1699999990000, 1, 'trace_id=e'],
      // Scrape 2 repeats every exemplar: nothing new. Scrape 3 changes one.
      ['__name__=req_total,code=200,instance=host:1,job=job1', t1 + 2000, 0.5, 'trace_id=t2'],
    ],
  );
  t.is(await counter(registry, 'prometheus_agent_exemplars_appended_total'), 4);
  // Exemplar records follow the samples of their commit.
  const firstEx = wal.types.indexOf(RecordType.Exemplars);
  t.true(firstEx > wal.types.indexOf(RecordType.Samples));
});

test('scrape loop: the text format carries no exemplars and writes no exemplar record', async (t) => {
  const { storage } = await open(t);
  const tg = await metricsServer(t);
  const clock = new FakeClock(1_700_000_000_000);
  const loop = newLoop(tg.url, {
    options: { headers: { Accept: 'application/openmetrics-text' } },
    appender: storage.appender(),
    clock,
    log: memoryLogger('error'),
  });
  tg.set(200, '# TYPE a counter\na_total 1\n', TEXT_FORMAT);
  await loop.scrape(clock.now());
  await storage.close();
  const wal = await readWal(storage.walDir);
  t.true(wal.samples.length > 0);
  t.false(wal.types.includes(RecordType.Exemplars));
});

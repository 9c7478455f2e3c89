import test from 'ava';
import { METADATA_RETENTION_SCRAPES, MetadataCache, type MetadataLine } from '../../src/scrape/metadata.ts';
import type { MetricMetadataEntry } from '../../src/storage/metadata.ts';
import { createParser, Entry, ParseError, type TextParser } from '../../src/textparse/parser.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { metricsServer, newLoop, scrapeManager, TEXT_FORMAT as TEXT } from '../helpers/scrape-loop.ts';
import { at } from '../helpers/defined.ts';

const TEXT1 = 'text/plain; version=1.0.0';
const OM = 'application/openmetrics-text; version=1.0.0';

/**
 * Presents a parser to the cache while counting how often the decoded name and text are read:
 * those reads are the string decodes an unchanged metadata line must not cost.
 */
class CountingLine implements MetadataLine {
  readonly p: TextParser;
  familyReads = 0;
  textReads = 0;
  constructor(p: TextParser) {
    this.p = p;
  }
  get nameStart(): number {
    return this.p.nameStart;
  }
  get nameEnd(): number {
    return this.p.nameEnd;
  }
  get textStart(): number {
    return this.p.textStart;
  }
  get textEnd(): number {
    return this.p.textEnd;
  }
  get metricType(): number {
    return this.p.metricType;
  }
  get family(): string {
    this.familyReads++;
    return this.p.family;
  }
  get text(): string {
    this.textReads++;
    return this.p.text;
  }
}

/** Feeds one body through a parser into the cache, as the scrape loop does, then ends the scrape. */
function scrape(cache: MetadataCache, body: string, contentType = TEXT, success = true): CountingLine {
  const p = createParser(contentType);
  const buf = Buffer.from(body);
  p.reset(buf, buf.length);
  const line = new CountingLine(p);
  let ok = success;
  try {
    for (let k = p.next(); k !== Entry.EOF; k = p.next())
      if (k !== Entry.Series && k !== Entry.Comment) cache.observe(k, line, buf);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    ok = false;
  }
  cache.iterDone(ok);
  return line;
}

const byName = (list: MetricMetadataEntry[]) =>
  Object.fromEntries(list.map((m) => [m.metric, { type: m.type, help: m.help, unit: m.unit }]));

test('text format: TYPE and HELP per family, untyped is unknown, HELP alone makes an unknown entry', (t) => {
  const c = new MetadataCache();
  scrape(
    c,
    [
      '# HELP a_total Requests.',
      '# TYPE a_total counter',
      'a_total 1',
      '# TYPE b untyped',
      'b 1',
      '# HELP c Only help with \\\\ and \\n escapes.',
      'c 1',
      '# TYPE d summary',
      '# TYPE e histogram',
      '# a plain comment',
      '# HELP g',
      '',
    ].join('\n'),
  );
  t.deepEqual(c.list(), [
    { metric: 'a_total', type: 'counter', help: 'Requests.', unit: '' },
    { metric: 'b', type: 'unknown', help: '', unit: '' },
    { metric: 'c', type: 'unknown', help: 'Only help with \\ and \n escapes.', unit: '' },
    { metric: 'd', type: 'summary', help: '', unit: '' },
    { metric: 'e', type: 'histogram', help: '', unit: '' },
    { metric: 'g', type: 'unknown', help: '', unit: '' },
  ]);
});

test('OpenMetrics: every type, UNIT, HELP unescaped with the OpenMetrics rules', (t) => {
  const c = new MetadataCache();
  scrape(
    c,
    [
      '# TYPE x_bytes counter',
      '# UNIT x_bytes bytes',
      '# HELP x_bytes Say \\"hi\\".',
      'x_bytes_total 1',
      '# TYPE i info',
      '# TYPE s stateset',
      '# TYPE gh gaugehistogram',
      '# TYPE u unknown',
      '# TYPE g gauge',
      '# EOF',
      '',
    ].join('\n'),
    OM,
  );
  t.deepEqual(byName(c.list()), {
    x_bytes: { type: 'counter', help: 'Say "hi".', unit: 'bytes' },
    i: { type: 'info', help: '', unit: '' },
    s: { type: 'stateset', help: '', unit: '' },
    gh: { type: 'gaugehistogram', help: '', unit: '' },
    u: { type: 'unknown', help: '', unit: '' },
    g: { type: 'gauge', help: '', unit: '' },
  });
});

test('quoted UTF-8 family names are one family with their unquoted spelling', (t) => {
  const c = new MetadataCache();
  scrape(
    c,
    '# HELP "my.metric" Dotted.\n# TYPE "my.metric" gauge\n{"my.metric"} 1\n# TYPE plain gauge\n# HELP "plain" Same family.\n',
    TEXT1,
  );
  t.deepEqual(c.list(), [
    { metric: 'my.metric', type: 'gauge', help: 'Dotted.', unit: '' },
    { metric: 'plain', type: 'gauge', help: 'Same family.', unit: '' },
  ]);
});

test('an unchanged metadata line decodes nothing; a changed HELP, TYPE or UNIT is picked up', (t) => {
  const c = new MetadataCache();
  const body = (help: string, type: string, unit: string) =>
    `# HELP m_seconds ${help}\n# TYPE m_seconds ${type}\n# UNIT m_seconds ${unit}\nm_seconds 1\n# EOF\n`;
  const first = scrape(c, body('Latency.', 'gauge', 'seconds'), OM);
  t.is(first.familyReads, 1, 'the name is decoded once, when the family is new');
  t.is(first.textReads, 2, 'HELP and UNIT decoded once');
  const before = c.list()[0];
  for (let i = 0; i < 5; i++) {
    const again = scrape(c, body('Latency.', 'gauge', 'seconds'), OM);
    t.is(again.familyReads + again.textReads, 0, `scrape ${i + 2}: no string decoded`);
  }
  t.is(c.list()[0], before, 'unchanged metadata keeps the same entry object');

  const helpChanged = scrape(c, body('Latency in seconds.', 'gauge', 'seconds'), OM);
  t.is(helpChanged.textReads, 1, 'only the changed HELP is decoded');
  t.is(helpChanged.familyReads, 0);
  t.deepEqual(c.list(), [{ metric: 'm_seconds', type: 'gauge', help: 'Latency in seconds.', unit: 'seconds' }]);

  // Same length, different bytes: a length check alone would miss it.
  scrape(c, body('Latency in SECONDS.', 'gauge', 'seconds'), OM);
  t.is(at(c.list(), 0, 'c.list()').help, 'Latency in SECONDS.');
  const typeChanged = scrape(c, body('Latency in SECONDS.', 'counter', 'seconds'), OM);
  t.is(typeChanged.familyReads + typeChanged.textReads, 0, 'a TYPE change needs no string');
  t.is(at(c.list(), 0, 'c.list()').type, 'counter');
  scrape(c, '# UNIT m_seconds \nm_seconds 1\n# EOF\n', OM);
  t.deepEqual(
    c.list(),
    [{ metric: 'm_seconds', type: 'counter', help: 'Latency in SECONDS.', unit: '' }],
    'an emptied UNIT is updated, the rest kept',
  );
});

test(`a family missing from more than ${METADATA_RETENTION_SCRAPES} successful scrapes is dropped; failed scrapes do not count`, (t) => {
  const c = new MetadataCache();
  scrape(c, '# TYPE gone gauge\n# HELP gone Bye.\n# TYPE stays counter\n');
  const only = '# TYPE stays counter\n';
  for (let i = 0; i < 25; i++) scrape(c, only, TEXT, false);
  t.deepEqual(
    c.list().map((m) => m.metric),
    ['gone', 'stays'],
    'failed scrapes keep everything',
  );
  for (let i = 1; i <= METADATA_RETENTION_SCRAPES; i++) {
    scrape(c, only);
    t.deepEqual(
      c.list().map((m) => m.metric),
      ['gone', 'stays'],
      `still kept after ${i} successful scrapes without it`,
    );
  }
  scrape(c, only);
  t.deepEqual(c.list(), [{ metric: 'stays', type: 'counter', help: '', unit: '' }], 'dropped after the next one');
  t.is(c.size, 1);
  // Coming back, it is a new entry again.
  const back = scrape(c, '# TYPE gone gauge\n# TYPE stays counter\n');
  t.is(back.familyReads, 1);
  t.deepEqual(
    c.list().map((m) => m.metric),
    ['stays', 'gone'],
  );
});

test('metadata seen in a scrape that fails later is kept (as Prometheus sets it while parsing)', (t) => {
  const c = new MetadataCache();
  scrape(c, '# TYPE half gauge\nhalf 1\nbroken{ 1\n# TYPE never gauge\n');
  t.deepEqual(c.list(), [{ metric: 'half', type: 'gauge', help: '', unit: '' }]);
});

test('failing scrapes with ever new families force a flush once the cache doubled past its last good size + 1000', (t) => {
  const c = new MetadataCache();
  scrape(c, '# TYPE base gauge\n');
  let body = '';
  for (let i = 0; i < 1100; i++) body += `# TYPE churn_${i} gauge\n`;
  // 1101 entries > 1 * 2 + 1000: the failed scrape flushes, but nothing is old enough to go yet.
  scrape(c, body, TEXT, false);
  t.is(c.size, 1101);
  for (let i = 0; i < METADATA_RETENTION_SCRAPES; i++) scrape(c, body, TEXT, false);
  t.is(c.size, 1100, 'base, missing from 11 forced flushes, is gone');
});

test('thousands of families, churn and help rewrites: lookups stay right through growth, compaction and drops', (t) => {
  const c = new MetadataCache();
  const body = (round: number, from: number, to: number) => {
    let s = '';
    for (let i = from; i < to; i++)
      s += `# HELP fam_${i} Help text of family number ${i}, revision ${round % 3}, padded to be long enough to churn the arena.\n# TYPE fam_${i} ${i % 2 ? 'gauge' : 'counter'}\nfam_${i} 1\n`;
    return s;
  };
  for (let round = 0; round < 6; round++) scrape(c, body(round, 0, 3000));
  t.is(c.size, 3000);
  const list = c.list();
  t.is(at(list, 1234, 'list').metric, 'fam_1234');
  t.is(
    at(list, 1234, 'list').help,
    'Help text of family number 1234, revision 2, padded to be long enough to churn the arena.',
  );
  t.is(at(list, 1235, 'list').type, 'gauge');
  // The first half disappears.
  for (let round = 0; round <= METADATA_RETENTION_SCRAPES; round++) scrape(c, body(round, 1500, 3000));
  t.is(c.size, 1500);
  const rest = c.list();
  t.is(at(rest, 0, 'rest').metric, 'fam_1500', 'survivors keep their order');
  t.is(at(rest, 1499, 'rest').metric, 'fam_2999');
  t.is(
    at(rest, 1499, 'rest').help,
    `Help text of family number 2999, revision ${METADATA_RETENTION_SCRAPES % 3}, padded to be long enough to churn the arena.`,
  );
  // Known families are found again after the rebuild (no new entry, no decode).
  const again = scrape(c, body(METADATA_RETENTION_SCRAPES, 1500, 3000));
  t.is(again.familyReads, 0);
  t.is(c.size, 1500);
});

test('list() hands out a fresh array each call', (t) => {
  const c = new MetadataCache();
  scrape(c, '# TYPE a gauge\n');
  const a = c.list();
  a.length = 0;
  t.is(c.list().length, 1);
  t.true(Object.isFrozen(at(c.list(), 0, 'metadata list')));
});

test('scrape loop: metadata from scrapes, kept through a failed scrape, updated when HELP changes', async (t) => {
  const tg = await metricsServer(t);
  const clock = new FakeClock(1_700_000_000_000);
  const loop = newLoop(tg.url, { clock });
  tg.set(200, '# HELP req_total Requests.\n# TYPE req_total counter\nreq_total 1\n');
  await loop.scrape(clock.now());
  t.deepEqual(loop.listMetadata(), [{ metric: 'req_total', type: 'counter', help: 'Requests.', unit: '' }]);
  tg.set(500, 'oops');
  await loop.scrape(clock.now() + 1000);
  t.is(loop.state.health, 'down');
  t.deepEqual(
    loop.listMetadata(),
    [{ metric: 'req_total', type: 'counter', help: 'Requests.', unit: '' }],
    'a failed scrape keeps the metadata',
  );
  tg.set(200, '# TYPE parsed_first gauge\nparsed_first 1\nbroken{ 1\n');
  await loop.scrape(clock.now() + 1500);
  t.is(loop.state.health, 'down');
  t.deepEqual(
    loop.listMetadata().map((m) => m.metric),
    ['req_total', 'parsed_first'],
    'what was parsed before the error is kept',
  );
  tg.set(200, '# HELP req_total All requests.\n# TYPE req_total counter\nreq_total 2\n');
  await loop.scrape(clock.now() + 2000);
  t.deepEqual(loop.listMetadata(), [
    { metric: 'req_total', type: 'counter', help: 'All requests.', unit: '' },
    { metric: 'parsed_first', type: 'gauge', help: '', unit: '' },
  ]);
  tg.set(200, 'other 1\n');
  for (let i = 0; i <= METADATA_RETENTION_SCRAPES; i++) await loop.scrape(clock.now() + 3000 + i * 1000);
  t.deepEqual(loop.listMetadata(), []);
});

test('scrape manager: metadataSnapshot per target with shared target labels, allMetadata without dedup', async (t) => {
  const a = await metricsServer(t);
  const b = await metricsServer(t);
  a.set(200, '# HELP up_time Uptime.\n# TYPE up_time gauge\nup_time 1\n# TYPE only_a counter\nonly_a_total 1\n');
  b.set(200, '# HELP up_time Uptime.\n# TYPE up_time gauge\nup_time 2\n');
  const { mgr, scrapeAll } = await scrapeManager(
    t,
    [
      '  - job_name: zeta',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${b.port}']`,
      '  - job_name: alpha',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${a.port}']`,
    ].join('\n'),
  );
  t.deepEqual(mgr.metadataSnapshot(), [], 'nothing before the first scrape');
  await scrapeAll();
  const snap = mgr.metadataSnapshot();
  t.deepEqual(JSON.parse(JSON.stringify(snap)), [
    {
      target: { instance: `127.0.0.1:${a.port}`, job: 'alpha' },
      metric: 'up_time',
      type: 'gauge',
      help: 'Uptime.',
      unit: '',
    },
    {
      target: { instance: `127.0.0.1:${a.port}`, job: 'alpha' },
      metric: 'only_a',
      type: 'counter',
      help: '',
      unit: '',
    },
    {
      target: { instance: `127.0.0.1:${b.port}`, job: 'zeta' },
      metric: 'up_time',
      type: 'gauge',
      help: 'Uptime.',
      unit: '',
    },
  ]);
  t.is(at(snap, 0, 'snap').target, at(snap, 1, 'snap').target, 'one target object per target');
  t.not(at(snap, 1, 'snap').target, at(snap, 2, 'snap').target);
  const all = mgr.allMetadata();
  t.is(all.length, 3, 'the same family on two targets is listed twice');
  t.deepEqual(all.map((m) => m.metric).sort(), ['only_a', 'up_time', 'up_time']);
});

test('a family new after drops and HELP churn compacts the arena without copying a dropped entry', (t) => {
  // Found in review: insert() reused a slot whose spans still named text of a dropped family, and the
  // compaction store() may run walked that slot too, reading past the arena.
  const c = new MetadataCache();
  const keep = Array.from({ length: 10 }, (_, i) => `k_${i}`);
  const help = new Map(keep.map((k) => [k, 'x']));
  const body = () => keep.map((k) => `# HELP ${k} ${help.get(k)}\n`).join('');
  const first = [
    ...Array.from({ length: 10 }, (_, i) => `# HELP a_${i} ${'y'.repeat(40)}\n`),
    body(),
    ...Array.from({ length: 500 }, (_, i) => `# HELP ${`f_${i}`.padEnd(20, 'f')} ${'z'.repeat(40)}\n`),
  ];
  scrape(c, first.join(''));
  for (const k of keep) help.set(k, 'w'.repeat(30));
  for (let i = 0; i < METADATA_RETENTION_SCRAPES + 3; i++) scrape(c, body());
  t.is(c.size, keep.length, 'the families gone for longer than the retention were dropped');
  for (const ch of 'bcdefg') {
    help.set('k_0', ch.repeat(1000));
    scrape(c, body());
  }
  const fresh = 'new_family'.padEnd(2500, 'n');
  scrape(c, `${body()}# HELP ${fresh} help\n`);
  const got = byName(c.list());
  t.is(Object.keys(got).length, keep.length + 1);
  t.is(got[fresh]?.help, 'help');
  for (const k of keep) t.is(got[k]?.help, help.get(k), k);
});

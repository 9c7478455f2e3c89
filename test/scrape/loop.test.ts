import test from 'ava';
import { compileRelabelConfigs } from '../../src/relabel/relabel.ts';
import { RELABEL_DEFAULTS, type RelabelConfig } from '../../src/relabel/types.ts';
import { AuthSource } from '../../src/net/auth.ts';
import type { LoopOptions } from '../../src/scrape/loop.ts';
import { startServer } from '../helpers/http.ts';
import type { Teardown } from '../helpers/procs.ts';
import { RecordingAppender } from '../helpers/recording-appender.ts';
import { loopCounters, metricsServer, newLoop } from '../helpers/scrape-loop.ts';
import { at } from '../helpers/defined.ts';

function rule(r: Partial<RelabelConfig>): RelabelConfig {
  return {
    sourceLabels: [],
    separator: RELABEL_DEFAULTS.separator,
    regex: RELABEL_DEFAULTS.regex,
    modulus: 0,
    targetLabel: '',
    replacement: RELABEL_DEFAULTS.replacement,
    action: 'replace',
    explicit: new Set(),
    ...r,
  };
}

async function setup(t: Teardown, options: Partial<LoopOptions> = {}) {
  const tg = await metricsServer(t);
  const app = new RecordingAppender();
  const c = loopCounters();
  const loop = newLoop(tg.url, { options, appender: app, counters: c });
  return { tg, app, loop, c };
}

const T = 1_700_000_000_000;

test('attaches job and instance, reports the five report series with the scrape timestamp', async (t) => {
  const { tg, app, loop } = await setup(t);
  tg.set(200, '# TYPE a gauge\na{x="1"} 5\nb 2.5\n');
  await loop.scrape(T);
  t.deepEqual(app.named('a'), [
    { labels: { __name__: 'a', instance: 'host:1', job: 'job1', x: '1' }, t: T, v: 5, stale: false },
  ]);
  t.is(at(app.named('b'), 0, "app.named('b')").v, 2.5);
  const rep = (n: string) => app.named(n, T)[0]?.v;
  t.is(rep('up'), 1);
  t.is(rep('scrape_samples_scraped'), 2);
  t.is(rep('scrape_samples_post_metric_relabeling'), 2);
  t.is(rep('scrape_series_added'), 2);
  t.true((rep('scrape_duration_seconds') ?? -1) >= 0);
  t.deepEqual(at(app.named('up'), 0, "app.named('up')").labels, { __name__: 'up', instance: 'host:1', job: 'job1' });
  // Second scrape: nothing new, series_added 0.
  await loop.scrape(T + 1000);
  t.is(at(app.named('scrape_series_added', T + 1000), 0, 'app.named(...)').v, 0);
  t.is(app.named('a').length, 2);
});

test('a series that disappears gets a stale marker; a failed scrape marks all and reports up=0', async (t) => {
  const { tg, app, loop } = await setup(t);
  tg.set(200, 'a 1\nb 1\n');
  await loop.scrape(T);
  tg.set(200, 'a 2\n');
  await loop.scrape(T + 1000);
  t.deepEqual(
    app.named('b', T + 1000).map((s) => s.stale),
    [true],
  );
  t.is(at(app.named('a', T + 1000), 0, "app.named('a', T + 1000)").v, 2);
  tg.set(500, 'boom');
  await loop.scrape(T + 2000);
  t.deepEqual(
    app.named('a', T + 2000).map((s) => s.stale),
    [true],
  );
  t.is(app.named('b', T + 2000).length, 0, 'b was already marked stale');
  t.is(at(app.named('up', T + 2000), 0, "app.named('up', T + 2000)").v, 0);
  t.regex(loop.state.lastError, /HTTP status 500/);
  // A second failure writes no further markers.
  await loop.scrape(T + 3000);
  t.is(app.at(T + 3000).filter((s) => s.stale).length, 0);
});

test('a body that does not parse fails the whole scrape: nothing of it is ingested', async (t) => {
  const { tg, app, loop } = await setup(t);
  tg.set(200, 'good 1\n1234notvali}{ 444\n');
  await loop.scrape(T);
  t.is(app.named('good').length, 0);
  t.is(at(app.named('up', T), 0, "app.named('up', T)").v, 0);
  t.true(app.rollbacks >= 1);
});

test('duplicate label names fail the scrape (RepeatedLabels)', async (t) => {
  const { tg, app, loop } = await setup(t);
  tg.set(200, 'test{a="1",a="1"} 1\n');
  await loop.scrape(T);
  t.is(app.named('test').length, 0);
  t.is(at(app.named('up', T), 0, "app.named('up', T)").v, 0);
});

test('honor_labels=false moves clashing labels to exported_*; honor_labels=true keeps them', async (t) => {
  const a = await setup(t);
  a.tg.set(200, 'm{job="orig",instance="foo",exported_job="x"} 1\n');
  await a.loop.scrape(T);
  // exported_job is taken by the scraped series itself, so the clashing job goes one level further.
  t.deepEqual(at(a.app.named('m'), 0, "a.app.named('m')").labels, {
    __name__: 'm',
    exported_exported_job: 'orig',
    exported_instance: 'foo',
    exported_job: 'x',
    instance: 'host:1',
    job: 'job1',
  });
  const b = await setup(t, { honorLabels: true });
  b.tg.set(200, 'm{job="orig"} 1\n');
  await b.loop.scrape(T);
  t.deepEqual(at(b.app.named('m'), 0, "b.app.named('m')").labels, { __name__: 'm', instance: 'host:1', job: 'orig' });
});

test('the same series twice in one scrape: first kept, rest counted', async (t) => {
  const { tg, app, loop, c } = await setup(t);
  tg.set(200, 'd 1\nd 2\n');
  await loop.scrape(T);
  t.deepEqual(
    app.named('d').map((s) => s.v),
    [1],
  );
  t.is(c.duplicates, 1);
});

test('metric_relabel_configs drop series once (cached), report series are exempt', async (t) => {
  const { tg, app, loop } = await setup(t, {
    metricRelabel: compileRelabelConfigs([rule({ sourceLabels: ['__name__'], regex: 'drop_.*|up', action: 'drop' })]),
  });
  tg.set(200, 'drop_me 1\nkeep_me 1\n');
  await loop.scrape(T);
  t.is(app.named('drop_me').length, 0);
  t.is(app.named('keep_me').length, 1);
  t.is(app.named('up').length, 1, 'report series skip metric relabeling');
  t.is(at(app.named('scrape_samples_post_metric_relabeling', T), 0, 'app.named(...)').v, 1);
});

test('explicit timestamps are honoured and excluded from staleness', async (t) => {
  const { tg, app, loop } = await setup(t);
  tg.set(200, 'e 1 1600000000000\nf 1\n');
  await loop.scrape(T);
  t.is(at(app.named('e'), 0, "app.named('e')").t, 1600000000000);
  tg.set(200, '');
  await loop.scrape(T + 1000);
  t.is(app.named('e').filter((s) => s.stale).length, 0);
  t.is(app.named('f').filter((s) => s.stale).length, 1);
});

test('sample_limit fails the scrape but scrape_samples_scraped counts every sample', async (t) => {
  const { tg, app, loop, c } = await setup(t, { sampleLimit: 2 });
  tg.set(200, 'a 1\nb 1\nc 1\n');
  await loop.scrape(T);
  t.is(app.named('a').length, 0);
  t.is(at(app.named('up', T), 0, "app.named('up', T)").v, 0);
  t.is(at(app.named('scrape_samples_scraped', T), 0, 'app.named(...)').v, 3);
  t.is(c.sampleLimitHit, 1);
});

test('body_size_limit is enforced while streaming', async (t) => {
  const { tg, app, loop, c } = await setup(t, { bodySizeLimit: 1000 });
  tg.set(200, 'x 1\n'.repeat(10_000));
  await loop.scrape(T);
  t.is(app.named('x').length, 0);
  t.is(at(app.named('up', T), 0, "app.named('up', T)").v, 0);
  t.is(c.bodyLimitHit, 1);
});

test('sends the scrape timeout header and handles gzip bodies', async (t) => {
  const { tg, app, loop } = await setup(t);
  const zlib = await import('node:zlib');
  const gz = zlib.gzipSync('g 7\n');
  tg.set(200, gz, 'text/plain', { 'Content-Encoding': 'gzip' });
  await loop.scrape(T);
  t.is(tg.lastHeaders()['x-prometheus-scrape-timeout-seconds'], '1');
  t.is(app.named('g')[0]?.v, 7, loop.state.lastError);
});

test('follows redirects unless follow_redirects is false', async (t) => {
  const srv = await startServer(
    (req, res) => {
      if (req.url === '/metrics') {
        res.writeHead(302, { Location: '/real' });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('redirected 1\n');
      }
    },
    { t },
  );
  for (const follow of [true, false]) {
    const app = new RecordingAppender();
    const loop = newLoop(`${srv.url}/metrics`, { options: { followRedirects: follow }, appender: app });
    await loop.scrape(T);
    t.is(app.named('redirected').length, follow ? 1 : 0);
    t.is(at(app.named('up', T), 0, "app.named('up', T)").v, follow ? 1 : 0);
  }
});

test('credentials in files are re-read, so a rotated token is used without a reload', async (t) => {
  const fs = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-auth-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'token');
  await fs.writeFile(file, 'one\n');
  const { tg, app } = await setup(t);
  tg.set(200, 'a 1\n');
  const auth = new AuthSource(
    {
      authorization: { type: 'Bearer', credentialsFile: file },
      tlsConfig: { insecureSkipVerify: false },
      followRedirects: true,
      enableHttp2: false,
      proxyFromEnvironment: false,
    },
    0,
  );
  const loop = newLoop(tg.url, { options: { auth }, appender: app });
  await loop.scrape(T);
  t.is(tg.lastHeaders().authorization, 'Bearer one');
  await fs.writeFile(file, 'two\n');
  await loop.scrape(T + 1000);
  t.is(tg.lastHeaders().authorization, 'Bearer two');
});

test('a forced error (target_limit) fails the scrape without a request and marks series stale', async (t) => {
  const { tg, app, loop } = await setup(t);
  tg.set(200, 'a 1\n');
  await loop.scrape(T);
  const hits = tg.hits();
  loop.forceError('target_limit exceeded (number of targets: 3, limit: 2)');
  await loop.scrape(T + 1000);
  t.is(tg.hits(), hits, 'no HTTP request');
  t.is(at(app.named('up', T + 1000), 0, "app.named('up', T + 1000)").v, 0);
  t.true(at(app.named('a', T + 1000), 0, "app.named('a', T + 1000)").stale);
  t.regex(loop.state.lastError, /target_limit exceeded/);
});

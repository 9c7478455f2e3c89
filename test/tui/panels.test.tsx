import test from 'ava';
import { render } from 'ink-testing-library';
import { RemotePanel } from '../../tui/components/RemotePanel.tsx';
import { RateHistory } from '../../tui/history.ts';
import { makeRemote, makeSnapshot, makeTarget, NOW, stripAnsi, tick } from './fixtures.ts';
import { mount } from './helpers.tsx';

test('header: version, uptime, phase, config file, data dir, reload state', async (t) => {
  const m = await mount();
  const [l1, l2] = m.frame().split('\n');
  t.regex(l1!, /Outpost 0\.1\.0 +● running +up 1h02m +listen 0\.0\.0\.0:9090/);
  // Ages on the header are coarse (formatAge): they are on screen while the agent idles.
  t.regex(l2!, /config \/etc\/outpost\/agent\.yml +data \/var\/lib\/outpost +reload ok 1m ago/);
  m.store.update({ reload: { ok: false, at: NOW - 2000, error: 'agent.yml:12: bad\nduration' } });
  // The newline in the error became a space: the header stays two lines.
  await m.until('reload FAILED just now: agent.yml:12: bad dur');
  m.store.update({ phase: 'replaying' });
  await m.until('● replaying WAL');
  m.unmount();
});

test('targets: one row per target with pool, instance, health, last scrape, duration, samples, series, histograms, error', async (t) => {
  const m = await mount({
    snapshot: makeSnapshot({
      targets: [
        makeTarget({
          pool: 'node',
          instance: 'node-1:9100',
          lastScrape: NOW - 7000,
          lastDurationMs: 1234,
          samples: 15_000,
          series: 14_900,
          histograms: 12,
          histogramSeries: 12,
        }),
        makeTarget({
          pool: 'node',
          instance: 'node-2:9100',
          health: 'down',
          lastError: 'context deadline exceeded',
          samples: 0,
          series: 0,
        }),
        makeTarget({ pool: 'blackbox', instance: 'probe:9115', health: 'unknown', lastScrape: 0, lastDurationMs: 0 }),
      ],
    }),
  });
  const f = m.frame();
  t.regex(f, /Targets +3 \(1 up\) +sort: pool ↑/);
  t.regex(f, /POOL +INSTANCE +HEALTH +LAST +DUR +SAMPLES +SERIES +HIST +LAST ERROR/);
  // LAST is coarse (ten-second steps): it is on screen all the time on any agent that scrapes something.
  t.regex(f, /node +node-1:9100 +up +<10s +1\.23s +15\.0k +14\.9k +12 /);
  t.regex(f, /node +node-2:9100 +down +<10s +42ms +0 +0 +- +context dead/);
  t.regex(f, /blackbox +probe:9115 +unk +never +- /);
  // Default sort is by pool: blackbox first, and the selection marker is on it.
  t.regex(f, /› blackbox/);
  m.unmount();
});

test('targets: the list scrolls to keep the selection visible', async (t) => {
  const targets = Array.from({ length: 40 }, (_, i) =>
    makeTarget({ instance: `host-${String(i).padStart(2, '0')}:9100` }),
  );
  const m = await mount({ snapshot: makeSnapshot({ targets }), columns: 80, rows: 24 });
  t.true(m.frame().includes('host-00'));
  t.false(m.frame().includes('host-30'));
  await m.press('G');
  await m.until('host-39');
  t.regex(m.frame(), /› node +host-39/);
  t.false(m.frame().includes('host-00'));
  await m.press('g');
  await m.until('host-00');
  t.regex(m.frame(), /› node +host-00/);
  m.unmount();
});

test('series: active, created, removed and appended samples, native histograms among them', async (t) => {
  const m = await mount({
    snapshot: makeSnapshot({
      series: { active: 12_345, created: 20_000, removed: 7655, samplesAppended: 99, histogramsAppended: 0 },
    }),
  });
  t.regex(m.frame(), /active +12\.3k/);
  t.regex(m.frame(), /created +20\.0k/);
  t.regex(m.frame(), /removed +7655/);
  t.regex(m.frame(), /samples appended +99\s/);
  m.store.update({
    series: { active: 12_345, created: 20_000, removed: 7655, samplesAppended: 120, histogramsAppended: 21 },
  });
  await m.until('(21 histograms)');
  t.regex(m.frame(), /samples appended +120 \(21 histograms\)/);
  m.unmount();
});

test('WAL: bytes against the cap, segments, oldest data age', async (t) => {
  const m = await mount();
  t.regex(m.frame(), /on disk +48 MiB \/ 512 MiB \(9%\)/);
  t.regex(m.frame(), /segments +3 \(7…9\)/);
  t.regex(m.frame(), /oldest data +2h00m/);
  m.store.update({ wal: { ...makeSnapshot().wal, capBytes: 0 } });
  await m.until('48 MiB (no cap)');
  m.unmount();
});

test('WAL: a replay progress bar while starting, gone once replay is done', async (t) => {
  const wal = { ...makeSnapshot().wal, replay: { done: false, current: 3, max: 12 } };
  const m = await mount({ snapshot: makeSnapshot({ phase: 'replaying', wal }), columns: 80, rows: 24 });
  t.regex(m.frame(), /replay █████░+ 3\/12 segments 25%/);
  m.store.update({ phase: 'running', wal: { ...wal, replay: { done: true, current: 12, max: 12 } } });
  await m.until('replay', true);
  m.unmount();
});

test('WAL: a failing WAL says so loudly, with the dropped count', async (t) => {
  const m = await mount();
  t.notRegex(m.frame(), /WRITE FAILED/);
  m.store.update({
    wal: { ...makeSnapshot().wal, writeError: 'ENOSPC: no space left on device', samplesDropped: 4000 },
  });
  await m.until('WRITE FAILED');
  // The panel is narrow: the reason itself may be cut; the count must show.
  t.regex(m.frame(), /WRITE FAILED, dropping samples \(4000 so far\)/);
  m.unmount();
});

test('remote write: health, lag, pending, backlog, rate, retries/drops and last error per endpoint', async (t) => {
  const m = await mount();
  const f = m.frame();
  t.regex(f, /Remote write +2 endpoints \(1 up\)/);
  t.regex(f, /primary +up +1\.5s +250 +64 KiB +2500\/s +█? *12\/0/);
  t.regex(f, /backup +down +5m40s +250 +64 KiB +2500\/s +█? *12\/7/);
  m.unmount();
});

test('remote write: the send-rate sparkline is built from successive snapshots', async (t) => {
  const m = await mount({ snapshot: makeSnapshot({ remote: [makeRemote({ sendRate: 50 })] }) });
  for (const [i, rate] of [100, 200, 400, 800].entries()) {
    m.store.update({ at: NOW + (i + 1) * 1000, remote: [makeRemote({ sendRate: rate })] });
    await m.until(`${rate}/s`);
  }
  t.regex(m.frame(), /primary .* ▁▂▃▅█ /);
  m.unmount();
});

test('remote panel on its own: a multi-line error is shown on one line', (t) => {
  const history = new RateHistory();
  const r = render(
    <RemotePanel
      remotes={[makeRemote({ lastError: 'HTTP 503:\nbad' })]}
      selected={0}
      history={history}
      focused={false}
      compact
      width={100}
      rows={1}
      now={NOW}
    />,
  );
  t.regex(stripAnsi(r.lastFrame() ?? ''), /HTTP 503: bad/);
  r.unmount();
});

test('empty states say what is missing', async (t) => {
  const m = await mount({ snapshot: makeSnapshot({ targets: [], remote: [] }) });
  t.true(m.frame().includes('no targets yet'));
  t.true(m.frame().includes('no remote_write endpoints configured'));
  await tick(1);
  m.unmount();
});

test('remote write: the last error shows its age and is no longer red once the endpoint is up; the column says it counts samples', (t) => {
  const history = new RateHistory();
  const panel = (health: 'up' | 'down') =>
    render(
      <RemotePanel
        remotes={[makeRemote({ health, lastError: 'refused', lastErrorAt: NOW - 25 * 60_000 })]}
        selected={0}
        history={history}
        focused={false}
        compact
        width={100}
        rows={1}
        now={NOW}
      />,
    );
  // At 100 columns the error cell is narrow: check its start, the age.
  const down = panel('down');
  t.regex(stripAnsi(down.lastFrame() ?? ''), /SAMPLES RETRY\/DROP/);
  t.regex(stripAnsi(down.lastFrame() ?? ''), /25m ago: r/);
  const red = /\u001b\[31m[^\u001b]*25m ago/;
  down.unmount();
  const up = panel('up');
  t.regex(stripAnsi(up.lastFrame() ?? ''), /25m ago: r/);
  t.notRegex(up.lastFrame() ?? '', red);
  up.unmount();
});

test('OTLP receiver: one line with points/s, received, rejected, the busiest resources and the last error', async (t) => {
  const m = await mount();
  t.notRegex(m.frame(), /OTLP/, 'no line while the receiver is off');
  m.store.update({
    otlp: {
      requests: 12,
      requestsFailed: 1,
      pointsReceived: 15_000,
      pointsRejected: 3,
      samplesAppended: 40_000,
      pointsPerSecond: 250,
      lastError: '3 of 10 data points rejected:\nduplicate',
      lastErrorAt: NOW - 1000,
      lastRequestAt: NOW - 1000,
      topResources: [
        { job: 'shop/api', instance: 'i-1', points: 12_000, lastSeen: NOW },
        { job: 'cron', instance: '', points: 3000, lastSeen: NOW },
      ],
    },
  });
  await m.until('OTLP');
  const line =
    m
      .frame()
      .split('\n')
      .find((l) => l.includes('OTLP')) ?? '';
  t.regex(line, /OTLP +points 250\/s +received 15\.0k +rejected 3 +top shop\/api i-1 12\.0k, cron 3000/);
  // The frame stays within the terminal: the line costs one target row.
  t.true(m.frame().split('\n').length < 30);
  m.unmount();
});

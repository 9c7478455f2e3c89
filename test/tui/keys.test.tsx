import test from 'ava';
import { KEYS, makeRemote, makeSnapshot, makeTarget, waitFor } from './fixtures.ts';
import { mount, type Mounted } from './helpers.tsx';

/** The focused panel's title carries the ▸ marker (and inverse video, which the test terminal cannot show). */
function focused(m: Mounted): string {
  const hits = [...m.frame().matchAll(/▸(Targets|Series|WAL|Remote write) /g)].map((h) => h[1]);
  return hits.join(',');
}

function selectedRow(m: Mounted): string {
  return (
    m
      .frame()
      .split('\n')
      .find((l) => /^[│ ]*› /.test(l)) ?? ''
  );
}

test('Tab and Shift-Tab move the focus between panels', async (t) => {
  const m = await mount();
  t.is(focused(m), 'Targets');
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    await m.press(KEYS.tab);
    seen.push(focused(m));
  }
  t.deepEqual(seen, ['Series', 'WAL', 'Remote write', 'Targets']);
  await m.press(KEYS.shiftTab);
  t.is(focused(m), 'Remote write');
  m.unmount();
});

test('↓/j and ↑/k move the selection; PgDn jumps a page', async (t) => {
  const m = await mount();
  t.regex(selectedRow(m), /node-1:9100/);
  await m.press(KEYS.down);
  t.regex(selectedRow(m), /node-2:9100/);
  await m.press('j');
  t.regex(selectedRow(m), /localhost:9090/);
  await m.press('j');
  t.regex(selectedRow(m), /localhost:9090/, 'stops at the end');
  await m.press('k', KEYS.up);
  t.regex(selectedRow(m), /node-1:9100/);
  await m.press(KEYS.pageDown);
  t.regex(selectedRow(m), /localhost:9090/);
  m.unmount();
});

test('the selection follows the target when the list reorders', async (t) => {
  const m = await mount();
  await m.press('j');
  t.regex(selectedRow(m), /node-2:9100/);
  const s = makeSnapshot();
  m.store.update({ targets: [makeTarget({ pool: 'aaa', instance: 'new:1' }), ...s.targets] });
  await m.until('new:1');
  t.regex(selectedRow(m), /node-2:9100/);
  m.unmount();
});

test('Enter shows the target detail: URL, last error, floats and histograms, target and discovered labels; Esc goes back', async (t) => {
  const m = await mount();
  await m.press('j', KEYS.enter);
  await m.until('Discovered labels');
  const f = m.frame();
  t.regex(f, /url +http:\/\/node-2:9100\/metrics/);
  t.regex(f, /last error +connection refused/);
  t.regex(f, /health +down/);
  t.regex(f, /samples +[\d.k]+ floats, 0 native histograms; [\d.k]+ float series, 0 histogram series/);
  t.regex(f, /Target labels[\s│]*instance="node-2:9100"[\s│]*job="node"/);
  t.regex(f, /__address__="node-2:9100"/);
  t.regex(f, /__scheme__="http"/);
  await m.press(KEYS.escape);
  await m.until('Discovered labels', true);
  t.true(m.frame().includes('Remote write'));
  m.unmount();
});

test('Enter on the remote write panel shows the endpoint detail', async (t) => {
  const m = await mount();
  await m.press(KEYS.shiftTab, 'j', KEYS.enter);
  await m.until('http://10.0.0.5:9201/write');
  t.regex(m.frame(), /last error +HTTP 503: upstream unavailable/);
  t.regex(m.frame(), /samples +sent 1\.00M, retried 12, dropped 7, failed 0/);
  m.unmount();
});

test('r calls actions.reload once, shows it pending, then the result', async (t) => {
  const m = await mount();
  await m.press('r');
  await m.until('reloading configuration…');
  await m.press('r');
  t.deepEqual(m.actions.calls, ['reload'], 'no second reload while one is pending');
  m.actions.resolveReload({ ok: false, error: 'agent.yml:3: unknown field "scrape_intervl"' });
  await m.until('reload failed: agent.yml:3: unknown field "scrape_intervl"');
  await m.press('r');
  m.actions.resolveReload({ ok: true });
  await m.until('reload ok  ');
  t.deepEqual(m.actions.calls, ['reload', 'reload']);
  m.unmount();
});

test('? toggles the help', async (t) => {
  const m = await mount();
  await m.press('?');
  await m.until('reload the configuration file');
  await m.press('?');
  await m.until('reload the configuration file', true);
  await m.press('?', KEYS.escape);
  await m.until('reload the configuration file', true);
  t.pass();
  m.unmount();
});

test('q asks the agent to quit and shows flushing… while it stops, then the UI exits', async (t) => {
  const m = await mount();
  await m.press('q');
  t.deepEqual(m.actions.calls, ['quit']);
  await m.until('quitting…');
  m.store.update({ phase: 'stopping' });
  await m.until('flushing…');
  t.regex(m.frame(), /● stopping: flushing…/);
  m.store.update({ phase: 'stopped' });
  // The stopped frame is drawn, then the app exits on its own (Ink's last write is the empty unmount frame).
  await waitFor(() => m.frames.some((f) => f.includes('● stopped')) && m.frame().trim() === '', m.frame);
  t.pass();
  m.unmount();
});

test('while remote write drains on the way out, the footer counts down and offers to quit now; q again asks again', async (t) => {
  const m = await mount({ columns: 80, rows: 24 });
  await m.press('q');
  const at = m.store.getSnapshot().at;
  const draining = makeRemote({ pendingSamples: 1234, flush: { state: 'draining', deadlineAt: at + 59_500 } });
  m.store.update({ phase: 'stopping', remote: [draining] });
  await m.until('press q again to quit now');
  t.regex(
    m.frame(),
    /draining, 1m00s left · press q again to quit now \(unsent data stays in WAL\)/,
    'the whole line at 80 columns',
  );
  m.store.update({ at: at + 30_000 });
  await m.until('30s left');
  await m.press('q');
  t.deepEqual(m.actions.calls, ['quit', 'quit'], 'the second q reaches the agent (main exits at once then)');
  // Once every endpoint is done (or gave up), the plain flushing line is back.
  m.store.update({ remote: [{ ...draining, flush: { state: 'gave_up', deadlineAt: at + 59_500 } }] });
  await m.until('press q again', true);
  t.regex(m.frame(), /flushing…/);
  m.unmount();
});

test('Ctrl-C quits too, even while typing a filter', async (t) => {
  const m = await mount();
  await m.press('/', 'a', KEYS.ctrlC);
  t.deepEqual(m.actions.calls, ['quit']);
  await m.until('quitting…');
  m.unmount();
});

test('/ filters the targets as you type; Enter keeps it, Esc clears it', async (t) => {
  const m = await mount();
  await m.press('/', 'd', 'o', 'w', 'n');
  await m.until('filter: down');
  t.false(m.frame().includes('node-1:9100'));
  t.true(m.frame().includes('node-2:9100'));
  t.regex(m.frame(), /Targets +1\/3/);
  // While editing, letters are text, not commands.
  t.deepEqual(m.actions.calls, []);
  await m.press(KEYS.enter);
  await m.press('q');
  t.deepEqual(m.actions.calls, ['quit'], 'after Enter, keys are commands again');
  m.unmount();
});

test('/ then Esc restores the previous filter; Backspace edits', async (t) => {
  const m = await mount();
  await m.press('/', 'o', 'u', 't', KEYS.enter);
  await m.until('filter: out');
  await m.press('/', 'x', KEYS.backspace, 'z');
  await m.until('filter: outz');
  t.true(m.frame().includes('no target matches the filter'));
  await m.press(KEYS.escape);
  await m.until('filter: outz', true);
  t.regex(m.frame(), /filter: out\b/);
  await m.press(KEYS.escape);
  await m.until('filter:', true);
  t.true(m.frame().includes('node-1:9100'));
  m.unmount();
});

test('s cycles the sort column and S reverses it', async (t) => {
  const m = await mount();
  await m.press('s');
  await m.until('sort: instance ↑');
  t.regex(selectedRow(m), /localhost:9090/);
  await m.press('s');
  await m.until('sort: health ↑');
  t.regex(selectedRow(m), /node-2:9100/, 'down targets first');
  await m.press('S');
  await m.until('sort: health ↓');
  m.unmount();
});

test('keys that arrive in one read (fast typing, tmux send-keys) each count', async (t) => {
  const m = await mount();
  await m.press('jj');
  t.regex(selectedRow(m), /localhost:9090/);
  await m.press('/dow');
  await m.until('filter: dow');
  await m.press('n');
  await m.until('filter: down');
  t.deepEqual(m.actions.calls, []);
  m.unmount();
});

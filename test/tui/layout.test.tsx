import test from 'ava';
import { render } from 'ink';
import { App } from '../../tui/App.tsx';
import {
  FakeInput,
  FakeStore,
  FakeTerminal,
  makeSnapshot,
  makeTarget,
  recordingActions,
  stripAnsi,
  waitFor,
} from './fixtures.ts';
import { mount } from './helpers.tsx';

const many = makeSnapshot({
  targets: Array.from({ length: 60 }, (_, i) =>
    makeTarget({
      instance: `host-${i}.example.internal:9100`,
      lastError: i % 7 === 0 ? 'server returned HTTP status 500 Internal Server Error' : '',
    }),
  ),
});

function dims(frame: string): { lines: number; width: number } {
  const lines = frame.replace(/\n$/, '').split('\n');
  return { lines: lines.length, width: Math.max(...lines.map((l) => Array.from(l).length)) };
}

test('80×24: compact layout fits the terminal with a spare line', async (t) => {
  const m = await mount({ snapshot: many, columns: 80, rows: 24 });
  const { lines, width } = dims(m.frame());
  t.true(lines <= 23, `lines=${lines}`);
  t.true(width <= 80, `width=${width}`);
  t.false(m.frame().includes('╭'), 'no borders in compact mode');
  for (const panel of ['Targets', 'Series', 'WAL', 'Remote write']) t.true(m.frame().includes(panel), panel);
  // Narrow: the least important columns go first.
  t.false(m.frame().includes('SERIES'));
  t.true(m.frame().includes('HEALTH'));
  m.unmount();
});

test('80×24: help and detail views fit too', async (t) => {
  const m = await mount({ snapshot: many, columns: 80, rows: 24 });
  await m.press('?');
  await m.until('this help');
  t.true(dims(m.frame()).lines <= 23);
  await m.press('?', '\r');
  await m.until('Discovered labels');
  t.true(dims(m.frame()).lines <= 23);
  t.true(dims(m.frame()).width <= 80);
  m.unmount();
});

// ink-testing-library's terminal is 100 columns wide; wider terminals are covered by the resize test below.
for (const [columns, rows] of [
  [100, 30],
  [100, 50],
  [90, 40],
  [60, 20],
  [40, 12],
] as const) {
  test(`${columns}×${rows}: the frame never exceeds the terminal`, async (t) => {
    const m = await mount({ snapshot: many, columns, rows });
    const d = dims(m.frame());
    t.true(d.lines < rows, `lines=${d.lines}`);
    t.true(d.width <= columns, `width=${d.width}`);
    m.unmount();
  });
}

test('follows terminal resizes: roomy with borders when large, compact when small', async (t) => {
  const out = new FakeTerminal(140, 45);
  const inst = render(<App store={new FakeStore(many)} actions={recordingActions()} maxFps={100} color={false} />, {
    stdout: out as unknown as NodeJS.WriteStream,
    stdin: new FakeInput() as unknown as NodeJS.ReadStream,
    debug: true,
    patchConsole: false,
  });
  const frame = () => stripAnsi(out.lastFrame());
  await waitFor(() => frame().includes('╭'), frame);
  t.true(dims(frame()).width <= 140);
  t.true(frame().includes('SERIES'), 'wide: every column');
  t.true(dims(frame()).lines < 45);
  out.resize(80, 24);
  await waitFor(() => frame().includes('Targets') && !frame().includes('╭'), frame);
  t.true(dims(frame()).lines < 24);
  inst.unmount();
});

test('80×24: the footer keeps "q quit", also beside a long reload error; help shows where the logs go', async (t) => {
  const m = await mount({ snapshot: many, columns: 80, rows: 24, logFile: '/var/lib/outpost/outpost.log' });
  const lastLine = () => m.frame().replace(/\n$/, '').split('\n').at(-1) ?? '';
  t.regex(lastLine(), /q quit$/, lastLine());
  await m.press('r');
  m.actions.resolveReload({
    ok: false,
    error:
      'agent.yml:12:5: scrape_configs[3].relabel_configs[0].regex: error parsing regexp: missing closing ): `(a|b`',
  });
  await m.until('reload failed');
  t.regex(lastLine(), /^reload failed: .*q quit$/, lastLine());
  t.true(dims(m.frame()).width <= 80);
  await m.press('?');
  await m.until('this help');
  t.regex(m.frame(), /logs +\/var\/lib\/outpost\/outpost\.log/);
  t.regex(lastLine(), /q quit$/);
  m.unmount();
});

test('header: uptime reads right from the first second', async (t) => {
  const s = makeSnapshot();
  const m = await mount({ snapshot: { ...s, startedAt: s.at - 3000 } });
  t.regex(m.frame(), /up <10s/);
  m.unmount();
});

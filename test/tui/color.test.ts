import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasColor, stripAnsi } from './fixtures.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const child = fileURLToPath(new URL('./run-child.tsx', import.meta.url));

function renderInChild(env: Record<string, string>): Promise<string> {
  const base = { ...process.env };
  delete base.NO_COLOR;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import=tsx', '--no-warnings', child],
      { cwd: root, env: { ...base, FORCE_COLOR: '1', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as string);
      },
    );
  });
}

test('with colour available the dashboard uses colour', async (t) => {
  const out = await renderInChild({});
  t.true(stripAnsi(out).includes('Outpost'));
  t.true(hasColor(out));
});

test('NO_COLOR=1 removes every colour code but keeps bold/inverse, even when colour is forced', async (t) => {
  const out = await renderInChild({ NO_COLOR: '1' });
  t.true(stripAnsi(out).includes('Outpost'));
  t.false(hasColor(out), JSON.stringify(out.slice(0, 400)));
  t.true(out.includes('\u001B[7m'), 'focus is still shown by inverse video');
});

test('an empty NO_COLOR does not disable colour (no-color.org)', async (t) => {
  t.true(hasColor(await renderInChild({ NO_COLOR: '' })));
});

import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ROOT, tmpDir } from '../helpers/procs.ts';
import { at } from '../helpers/defined.ts';

const UNIT = path.join(ROOT, 'config/outpost.service');

function directives(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const x = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (x) m.set(at(x, 1, 'x'), [...(m.get(at(x, 1, 'x')) ?? []), at(x, 2, 'x')]);
  }
  return m;
}

test('systemd unit: never gives up restarting, reports readiness, documents itself and its exposure', async (t) => {
  const text = await fs.readFile(UNIT, 'utf8');
  const d = directives(text);
  t.deepEqual(d.get('Restart'), ['always']);
  t.deepEqual(d.get('StartLimitIntervalSec'), ['0'], 'no start-limit lockout');
  t.falsy(d.get('StartLimitBurst'));
  t.deepEqual(d.get('Type'), ['notify']);
  t.deepEqual(d.get('NotifyAccess'), ['all'], 'systemd-notify is a child process');
  t.true(
    (d.get('Documentation') ?? []).some((u) => /outpost/i.test(u)),
    'Documentation= points to Outpost',
  );
  t.regex(text, /ALL interfaces, WITHOUT\s*\n?#?\s*authentication/);
  t.regex(text, /--web\.listen-address=127\.0\.0\.1:9090/);
});

test('systemd unit: systemd-analyze verify finds nothing wrong', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  // The binary is not installed here: point ExecStart at one that exists, the rest as shipped.
  const text = (await fs.readFile(UNIT, 'utf8')).replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`);
  const copy = path.join(dir, 'outpost.service');
  await fs.writeFile(copy, text);
  const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  t.is(r.error, undefined, 'systemd-analyze runs (.ci/run installs systemd)');
  t.is(`${r.stdout}${r.stderr}`.trim(), '');
});

/**
 * The built agent (dist/outpost.mjs) in a real terminal: tmux gives it a pty of 120×35, keys go in with
 * `send-keys`, and what the user would see comes back from `capture-pane -p` (text only, no attributes).
 * Ink prints no live frames when CI=true, so the child runs with CI unset.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { ROOT, freePort, tmpDir } from '../helpers/procs.ts';

const run = promisify(execFile);
const BUNDLE = path.join(ROOT, 'dist/outpost.mjs');
const HAS_TMUX = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
const { version } = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

async function ensureBundle(t: ExecutionContext): Promise<void> {
  if (await exists(BUNDLE)) return;
  t.log('dist/outpost.mjs is missing: running npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

/** One tmux server per test (its own -L socket) with one session running the agent. */
class Term {
  readonly socket: string;
  panePid = 0;
  socketPath = '';
  constructor(socket: string) {
    this.socket = socket;
  }

  async tmux(...args: string[]): Promise<string> {
    // -f /dev/null: the user's ~/.tmux.conf must not change size, keys or escape timing.
    const { stdout } = await run('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    return stdout;
  }

  async start(cmd: readonly string[]): Promise<void> {
    const out = await this.tmux(
      'new-session',
      '-d',
      '-x',
      '120',
      '-y',
      '35',
      '-s',
      'outpost',
      '-P',
      '-F',
      '#{pane_pid}',
      ...cmd,
    );
    this.panePid = Number(out.trim());
    this.socketPath = (await this.tmux('display-message', '-p', '#{socket_path}')).trim();
  }

  async screen(): Promise<string> {
    try {
      return await this.tmux('capture-pane', '-p', '-t', 'outpost');
    } catch {
      return ''; // the session is gone once the agent exited
    }
  }

  /** Keys by tmux name (Tab, Enter, Escape, j, ...); several in one call reach the pty in one write. */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'outpost', ...keys);
  }

  async text(s: string): Promise<void> {
    await this.tmux('send-keys', '-t', 'outpost', '-l', s);
  }

  async waitFor(what: string, pred: (screen: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = await this.screen();
      if (pred(last)) return last;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILLs whatever still runs in the pane (the agent), then the server. */
  async destroy(): Promise<void> {
    if (this.panePid > 0) {
      const children = await fs.readFile(`/proc/${this.panePid}/task/${this.panePid}/children`, 'utf8').catch(() => '');
      for (const pid of children.split(/\s+/).filter((p) => p !== '')) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await this.tmux('kill-server').catch(() => undefined);
    // A server that exits leaves its socket file behind in /tmp/tmux-<uid>/.
    if (this.socketPath !== '') await fs.rm(this.socketPath, { force: true });
  }
}

function focused(screen: string): string {
  return [...screen.matchAll(/▸(Targets|Series|WAL|Remote write|Target|Keys)\b/g)].map((m) => m[1]).join(',');
}

function selectedRow(screen: string): string {
  return screen.split('\n').find((l) => /^[│ ]*› /.test(l) && !/ENDPOINT|rx-tmux/.test(l)) ?? '';
}

const row = (pool: string, health: string) => new RegExp(`${pool}\\s+127\\.0\\.0\\.1:\\d+\\s+${health}\\b`);

test('e2e tui: the built agent in tmux shows the dashboard, follows keys, and q flushes and exits 0', async (t) => {
  if (!HAS_TMUX) {
    t.log('SKIPPED: tmux is not installed (CI installs it; apt-get install tmux to run this test)');
    t.pass();
    return;
  }
  t.timeout(120_000);
  await ensureBundle(t);

  let served = 0;
  const target = http.createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(
      `# TYPE tmux_probe_scrapes_total counter\ntmux_probe_scrapes_total ${served}\ntmux_probe_info{kind="tui"} 1\n`,
    );
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const up = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  // Nothing listens here: the second target is down and carries an error to show in its detail view.
  const down = `127.0.0.1:${await freePort()}`;
  const rx = await RwReceiver.start();
  // Slow acknowledgements keep a send in flight at all times, so the shutdown after q always has something
  // to drain and its flushing… state stays on screen long enough to be captured.
  rx.setDefault({ status: 204, delayMs: 1000 });
  const dir = await tmpDir('outpost-tmux-');
  const cfg = path.join(dir, 'agent.yml');
  const data = path.join(dir, 'data');
  const exitFile = path.join(dir, 'exit-code');
  await fs.writeFile(
    cfg,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 500ms',
      'scrape_configs:',
      '  - job_name: alpha',
      '    static_configs:',
      `      - targets: ['${up}']`,
      '  - job_name: beta',
      '    static_configs:',
      `      - targets: ['${down}']`,
      'remote_write:',
      `  - url: ${rx.url}`,
      '    name: rx-tmux',
      '    queue_config:',
      '      batch_send_deadline: 1s',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const term = new Term(`outpost-test-${process.pid}-${Date.now()}`);
  t.teardown(async () => {
    await term.destroy();
    await rx.close();
    target.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const agent = [
    process.execPath,
    BUNDLE,
    `--config.file=${cfg}`,
    `--storage.agent.path=${data}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ];
  // The pane runs sh, which records the agent's exit code once it ends.
  await term.start([
    'env',
    '-u',
    'CI',
    `OUTPOST_TEST_EXIT=${exitFile}`,
    'sh',
    '-c',
    '"$@"; echo $? > "$OUTPOST_TEST_EXIT"',
    'sh',
    ...agent,
  ]);

  // Dashboard: header, both targets settled, WAL panel, remote write up.
  let s = await term.waitFor(
    'the dashboard with alpha up, beta down and the endpoint up',
    (x) => row('alpha', 'up').test(x) && row('beta', 'down').test(x) && /rx-tmux\s+up\b/.test(x),
    20_000,
  );
  t.regex(
    s,
    new RegExp(
      `^Outpost ${version.replace(/\./g, '\\.')}\\s+● running\\s+up (<10s|\\d+s)\\s+listen 127\\.0\\.0\\.1:${port}`,
      'm',
    ),
  );
  t.true(s.includes(`config ${cfg}`) && s.includes(`data ${data}`), s);
  t.regex(s, /Targets\s+2 \(1 up\)\s+sort: pool ↑/);
  t.regex(s, /│\s+WAL\s+│/);
  t.regex(s, /on disk\s+\d[\d.]* [KMGT]?i?B \(no cap\)/);
  t.regex(s, /segments\s+1 \(0…0\)/);
  t.regex(s, /replay\s+done/);
  t.regex(s, /Remote write\s+1 endpoint \(1 up\)/);
  t.regex(s, /Tab panel .* q quit/);
  t.is(focused(s), 'Targets');
  t.regex(selectedRow(s), row('alpha', 'up'), 'first row selected');
  t.true(s.split('\n').length >= 34 && s.split('\n').every((l) => [...l].length <= 120), 'drawn within 120×35');

  // Tab moves the focus; three Tabs in one write still count three times.
  await term.keys('Tab');
  s = await term.waitFor('focus on Series', (x) => focused(x) === 'Series');
  await term.keys('Tab', 'Tab', 'Tab');
  s = await term.waitFor('focus back on Targets after three Tabs in one write', (x) => focused(x) === 'Targets');
  t.regex(selectedRow(s), row('alpha', 'up'));

  // j moves to beta; Enter opens its detail with the scrape error; Esc goes back.
  await term.keys('j');
  s = await term.waitFor('beta selected', (x) => row('beta', 'down').test(selectedRow(x)));
  await term.keys('Enter');
  s = await term.waitFor('the beta target detail', (x) => /Target\s+beta \/ 127\.0\.0\.1:\d+\s+\(Esc back\)/.test(x));
  t.regex(s, /health\s+down/);
  t.regex(s, /last error\s+\S.*(refused|ECONNREFUSED)/i);
  t.true(s.includes(`url           http://${down}/metrics`), s);
  t.regex(s, /job="beta"/);
  t.regex(s, /Esc back\s+r reload\s+q quit/);
  await term.keys('Escape');
  s = await term.waitFor('the dashboard again', (x) => /Targets\s+2 \(1 up\)/.test(x) && !x.includes('(Esc back)'));
  t.regex(selectedRow(s), row('beta', 'down'), 'selection kept');

  // k and Enter in one write (fast typing): the alpha detail.
  await term.keys('k', 'Enter');
  s = await term.waitFor('the alpha target detail', (x) => /Target\s+alpha \/ /.test(x));
  t.regex(s, /health\s+up/);
  t.regex(s, /last error\s+-/);
  t.regex(s, /samples\s+2 floats, 0 native histograms; 2 float series, 0 histogram series/);
  t.regex(s, new RegExp(`instance="${up.replace(/\./g, '\\.')}"`));
  await term.keys('Escape');
  await term.waitFor('the dashboard again', (x) => /Targets\s+2 \(1 up\)/.test(x));

  // / filters as you type; Enter keeps the filter; Esc clears it.
  await term.keys('/');
  await term.waitFor('the filter prompt', (x) => /Enter keep\s+Esc cancel/.test(x));
  await term.text('alp');
  s = await term.waitFor('filtered to alpha', (x) => /Targets\s+1\/2 \(1 up\).*filter: alp▏/.test(x));
  t.regex(s, row('alpha', 'up'));
  t.notRegex(s, row('beta', '\\w+'));
  await term.keys('Enter');
  s = await term.waitFor('the filter kept, prompt closed', (x) => /filter: alp\s/.test(x) && !x.includes('Enter keep'));
  t.notRegex(s, row('beta', '\\w+'));
  await term.keys('Escape');
  s = await term.waitFor('the filter cleared', (x) => /Targets\s+2 \(1 up\)/.test(x) && !x.includes('filter:'));
  t.regex(s, row('beta', 'down'));

  // ? shows the key help; ? again closes it.
  await term.keys('?');
  s = await term.waitFor('the help', (x) => x.includes('Keys  (? or Esc to close)'));
  t.regex(s, /Tab \/ Shift-Tab\s+next \/ previous panel/);
  t.regex(s, /q {2}Ctrl-C\s+quit: stop scraping, flush the WAL, drain remote write/);
  await term.keys('?');
  await term.waitFor('the help closed', (x) => !x.includes('Keys  (? or Esc to close)') && /Targets\s+2/.test(x));

  // q: stop scraping, flush the WAL, drain remote write (the send in flight), exit 0.
  await term.keys('q');
  let sawFlushing = false;
  let sawQuitting = false;
  let code = '';
  const end = Date.now() + 90_000;
  while (code === '' && Date.now() < end) {
    const x = await term.screen();
    if (/flushing…/.test(x)) sawFlushing = true;
    if (/quitting…/.test(x)) sawQuitting = true;
    code = (await fs.readFile(exitFile, 'utf8').catch(() => '')).trim();
    if (code === '') await new Promise((r) => setTimeout(r, 25));
  }
  const log = await fs.readFile(path.join(data, 'outpost.log'), 'utf8').catch(() => '(no outpost.log)');
  t.is(code, '0', `agent exit code; outpost.log:\n${log}`);
  t.log(`seen after q: quitting… ${sawQuitting}, flushing… ${sawFlushing}`);
  t.true(sawFlushing || sawQuitting, `a quitting/flushing state was shown before exit\n${log}`);
  // Under the dashboard logs go to the data directory, not the screen.
  t.regex(log, /Received termination request.*signal=tui/);
  t.regex(log, /See you next time!/);
  t.notRegex(log, /level=error/);
  // What was scraped before q was delivered (a scrape cut short by the stop may be lost).
  const got = rx.series('tmux_probe_scrapes_total').filter((x) => !x.stale);
  const max = Math.max(...got.map((x) => x.value));
  t.true(max >= served - 1, `delivered up to ${max} of ${served} scrapes`);
});

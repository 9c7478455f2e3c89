import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseFlags } from '../../src/cli/flags.ts';
import { ROOT, tmpDir } from '../helpers/procs.ts';

function run(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'src/main.ts'), ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('flags keep Prometheus\' dotted names and defaults', (t) => {
  const f = parseFlags(['--config.file=x.yml', '--storage.agent.path', 'd', '--web.listen-address=127.0.0.1:0', '--enable-feature=agent', '--no-tui']);
  if ('exit' in f) return t.fail('unexpected exit');
  t.is(f.configFile, 'x.yml');
  t.is(f.dataDir, 'd');
  t.is(f.listenAddress, '127.0.0.1:0');
  t.false(f.tui);
  t.is(f.logLevel, 'info');
  t.is(f.flushDeadline, 60_000);
  t.is(f.retentionMaxTime, 4 * 3600_000);
});

test('a bad flag value names the flag', (t) => {
  t.throws(() => parseFlags(['--storage.agent.retention.max-time=forever']), { message: /--storage\.agent\.retention\.max-time/ });
  t.throws(() => parseFlags(['--enable-feature=warp-drive']), { message: /unknown feature "warp-drive"/ });
  t.throws(() => parseFlags(['--storage.agent.wal-segment-size=1MiB']), { message: /wal-segment-size/ });
});

test('outpost check config: valid file succeeds, an invalid one fails with file:line', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const good = path.join(dir, 'good.yml');
  const bad = path.join(dir, 'bad.yml');
  await fs.writeFile(good, 'scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ["127.0.0.1:1"]\n');
  await fs.writeFile(bad, 'scrape_configs:\n  - job_name: a\n    scrape_interval: 5x\n');
  const ok = run(['check', 'config', good]);
  t.is(ok.code, 0, ok.out);
  t.regex(ok.out, /SUCCESS/);
  const ko = run(['check', 'config', bad]);
  t.is(ko.code, 1, ko.out);
  t.regex(ko.out, /bad\.yml:3:\d+: scrape_configs\[0\]\.scrape_interval/);
});

test('--version prints the version; a config error exits 1 naming the file', async (t) => {
  const v = run(['--version']);
  t.is(v.code, 0);
  t.regex(v.out, /outpost, version \d+\.\d+\.\d+/);
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'agent.yml');
  await fs.writeFile(cfg, 'rule_files: [a.yml]\n');
  const r = run([`--config.file=${cfg}`, `--storage.agent.path=${dir}/data`, '--no-tui']);
  t.is(r.code, 1);
  t.regex(r.out, /agent\.yml:1:\d+.*rule_files is not allowed in agent mode/);
});

test('a single-value flag given twice is refused as Prometheus refuses it; list flags may repeat', (t) => {
  t.throws(() => parseFlags(['--storage.agent.path=/a', '--storage.agent.path=/b']), { message: "flag 'storage.agent.path' cannot be repeated" });
  t.throws(() => parseFlags(['--config.file', 'a', '--config.file=b']), { message: "flag 'config.file' cannot be repeated" });
  t.throws(() => parseFlags(['--tui', '--no-tui']), { message: "flag 'tui' cannot be repeated" });
  const f = parseFlags(['--enable-feature=agent', '--enable-feature=native-histograms']);
  if ('exit' in f) return t.fail('unexpected exit');
  t.deepEqual(f.enableFeatures, ['agent', 'native-histograms']);
  const r = run(['--storage.agent.path=/a', '--storage.agent.path=/b', '--no-tui']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /flag 'storage\.agent\.path' cannot be repeated/);
});

test('-h works as --help; a mistyped flag gets the nearest known one', (t) => {
  const h = run(['-h']);
  t.is(h.code, 0, h.out);
  t.regex(h.out, /--storage\.agent\.path/);
  t.throws(() => parseFlags(['--web.listen-adress=:9090']), { message: "unknown long flag '--web.listen-adress', did you mean '--web.listen-address'?" });
  t.throws(() => parseFlags(['--completely-unrelated']), { message: "unknown long flag '--completely-unrelated'" });
  const r = run(['--storage.agent.paht=/tmp/x']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /did you mean '--storage\.agent\.path'\?/);
});

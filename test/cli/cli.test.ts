import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseFlags, type Flags } from '../../src/cli/flags.ts';
import net from 'node:net';
import { systemErrorText } from '../../src/util/errors.ts';
import { fdLimits } from '../../src/build-info.ts';
import { ROOT, tmpDir } from '../helpers/procs.ts';

function run(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'src/main.ts'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

test("flags keep Prometheus' dotted names and defaults", (t) => {
  const f = parseFlags([
    '--config.file=x.yml',
    '--storage.agent.path',
    'd',
    '--web.listen-address=127.0.0.1:0',
    '--enable-feature=agent',
    '--no-tui',
  ]);
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
  t.throws(() => parseFlags(['--storage.agent.retention.max-time=forever']), {
    message: /--storage\.agent\.retention\.max-time/,
  });
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
  t.throws(() => parseFlags(['--storage.agent.path=/a', '--storage.agent.path=/b']), {
    message: "flag 'storage.agent.path' cannot be repeated",
  });
  t.throws(() => parseFlags(['--config.file', 'a', '--config.file=b']), {
    message: "flag 'config.file' cannot be repeated",
  });
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
  t.throws(() => parseFlags(['--web.listen-adress=:9090']), {
    message: "unknown long flag '--web.listen-adress', did you mean '--web.listen-address'?",
  });
  t.throws(() => parseFlags(['--completely-unrelated']), { message: "unknown long flag '--completely-unrelated'" });
  const r = run(['--storage.agent.paht=/tmp/x']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /did you mean '--storage\.agent\.path'\?/);
});

test("start-up errors name what failed in the agent's terms, and a failed start is no clean stop", async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'agent.yml');
  await fs.writeFile(cfg, 'scrape_configs: []\n');
  const file = path.join(dir, 'a-file');
  await fs.writeFile(file, '');
  const asFile = run([
    `--config.file=${cfg}`,
    `--storage.agent.path=${file}`,
    '--web.listen-address=127.0.0.1:0',
    '--no-tui',
  ]);
  t.is(asFile.code, 1, asFile.out);
  t.true(asFile.out.includes(`opening storage failed: ${file} is not a directory`), asFile.out);
  t.notRegex(asFile.out, /EEXIST|See you next time|Stopping/);
  const under = run([
    `--config.file=${cfg}`,
    `--storage.agent.path=${file}/data`,
    '--web.listen-address=127.0.0.1:0',
    '--no-tui',
  ]);
  t.is(under.code, 1, under.out);
  t.true(under.out.includes(`opening storage failed: mkdir ${file}/data: not a directory`), under.out);

  const port = run([
    `--config.file=${cfg}`,
    `--storage.agent.path=${dir}/d1`,
    '--web.listen-address=127.0.0.1:99999',
    '--no-tui',
  ]);
  t.is(port.code, 2, port.out);
  t.regex(port.out, /--web\.listen-address: "127\.0\.0\.1:99999": invalid port/);

  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const taken = (busy.address() as net.AddressInfo).port;
  const inUse = run([
    `--config.file=${cfg}`,
    `--storage.agent.path=${dir}/d2`,
    `--web.listen-address=127.0.0.1:${taken}`,
    '--no-tui',
  ]);
  t.is(inUse.code, 1, inUse.out);
  t.true(
    inUse.out.includes(`unable to start web listener: listen 127.0.0.1:${taken}: address already in use`),
    inUse.out,
  );
  t.notRegex(inUse.out, /See you next time/);
});

test('system errors read as Prometheus words them', (t) => {
  const sys = (message: string, props: Record<string, unknown>) => Object.assign(new Error(message), props);
  t.is(
    systemErrorText(
      sys("EACCES: permission denied, mkdir '/var/lib/x'", { code: 'EACCES', syscall: 'mkdir', path: '/var/lib/x' }),
    ),
    'mkdir /var/lib/x: permission denied',
  );
  t.is(
    systemErrorText(
      sys('listen EACCES: permission denied 0.0.0.0:80', {
        code: 'EACCES',
        syscall: 'listen',
        address: '0.0.0.0',
        port: 80,
      }),
    ),
    'listen 0.0.0.0:80: permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)',
  );
  t.is(
    systemErrorText(sys('x', { code: 'EADDRINUSE', syscall: 'listen', address: '::1', port: 9090 })),
    'listen [::1]:9090: address already in use',
  );
  t.is(systemErrorText(new Error('plain')), 'plain');
});

test('check config checks what the config points to: file_sd files and credential/TLS files', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => fs.writeFile(path.join(dir, name), text);
  await fs.mkdir(path.join(dir, 'dir.json'));
  await write('bad.json', '{bad');
  await write('bad.yml', '- targets: "notalist"\n');
  await write('good.json', '[{"targets": ["127.0.0.1:9100"]}]');
  await write('token', 'secret');
  const job = (name: string, extra: string) => `  - job_name: ${name}\n${extra}`;

  await write(
    'missing-sd.yml',
    'scrape_configs:\n' + job('a', '    file_sd_configs:\n      - files: [missing.json, good.json]\n'),
  );
  const warn = run(['check', 'config', path.join(dir, 'missing-sd.yml')]);
  t.is(warn.code, 0, warn.out);
  t.true(
    warn.out.includes(`WARNING: file "${path.join(dir, 'missing.json')}" for file_sd in scrape job "a" does not exist`),
    warn.out,
  );
  t.regex(warn.out, /SUCCESS/);

  await write(
    'bad-sd.yml',
    'scrape_configs:\n' + job('a', '    file_sd_configs:\n      - files: [bad.json, bad.yml, dir.json]\n'),
  );
  const bad = run(['check', 'config', path.join(dir, 'bad-sd.yml')]);
  t.is(bad.code, 1, bad.out);
  t.regex(bad.out, /FAILED: checking SD file ".*bad\.json" \(scrape job "a"\): invalid JSON/);
  t.regex(bad.out, /FAILED: checking SD file ".*bad\.yml" \(scrape job "a"\): .*targets/);
  t.regex(bad.out, /FAILED: checking SD file ".*dir\.json" \(scrape job "a"\): .*is a directory/);
  t.notRegex(bad.out, /SUCCESS/);

  await write(
    'creds.yml',
    [
      'scrape_configs:',
      job('a', '    bearer_token_file: nope-token\n    static_configs: [{targets: ["127.0.0.1:1"]}]'),
      job(
        'b',
        '    basic_auth: {username: u, password_file: nope-pass}\n    tls_config: {cert_file: nope.crt, key_file: nope.key}\n    static_configs: [{targets: ["127.0.0.1:1"]}]',
      ),
      job('c', '    authorization: {credentials_file: token}\n    static_configs: [{targets: ["127.0.0.1:1"]}]'),
      'remote_write:',
      '  - url: http://127.0.0.1:9/api/v1/write',
      '    name: rw',
      '    tls_config: {ca_file: .}',
      '',
    ].join('\n'),
  );
  const creds = run(['check', 'config', path.join(dir, 'creds.yml')]);
  t.is(creds.code, 1, creds.out);
  t.true(
    creds.out.includes(
      `FAILED: scrape job "a": authorization.credentials_file "${path.join(dir, 'nope-token')}": open ${path.join(dir, 'nope-token')}: no such file or directory`,
    ),
    creds.out,
  );
  t.regex(
    creds.out,
    /FAILED: scrape job "b": basic_auth\.password_file ".*nope-pass": open .*: no such file or directory/,
  );
  t.regex(creds.out, /FAILED: scrape job "b": tls_config\.cert_file/);
  t.regex(creds.out, /FAILED: scrape job "b": tls_config\.key_file/);
  t.regex(creds.out, /FAILED: remote_write "rw": tls_config\.ca_file ".*": is a directory/);
  t.notRegex(creds.out, /scrape job "c"/, 'a readable file passes');
});

test('the start-up line gives version, revision and the open-files limit', (t) => {
  t.is(
    fdLimits(
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n',
    ),
    '(soft=1024, hard=524288)',
  );
  t.is(fdLimits('nothing here'), 'unknown');
});

test('OTLP: --web.enable-otlp-receiver and the 3.x delta features, which need no warning here', (t) => {
  const off = parseFlags([]) as Flags;
  t.false(off.enableOtlpReceiver, 'off by default');
  t.true((parseFlags(['--web.enable-otlp-receiver']) as Flags).enableOtlpReceiver);
  const d = parseFlags(['--enable-feature=otlp-deltatocumulative']) as Flags;
  t.deepEqual([d.otlpDeltaToCumulative, d.otlpNativeDelta], [true, false]);
  t.deepEqual(d.warnings, [], 'implemented, so not logged as unimplemented');
  t.true((parseFlags(['--enable-feature=otlp-native-delta-ingestion']) as Flags).otlpNativeDelta);
  t.throws(() => parseFlags(['--enable-feature=otlp-deltatocumulative,otlp-native-delta-ingestion']), {
    message: /cannot enable otlp-deltatocumulative and otlp-native-delta-ingestion features at the same time/,
  });
});

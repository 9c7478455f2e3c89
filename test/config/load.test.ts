import test from 'ava';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, formatIssue, loadConfigFile, parseConfig, redactedConfigYaml } from '../../src/config/load.ts';
import { expandEnv } from '../../src/config/global.ts';
import type { Config } from '../../src/config/types.ts';
import { at, firstN } from '../helpers/defined.ts';

async function tmpdir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'outpost-config-'));
}

async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), text);
  }
}

test('scrape_config_files: globbed relative to the main file, sorted, inheriting global, paths relative to each file', async (t) => {
  const dir = await tmpdir();
  await write(dir, {
    'agent.yml':
      'global:\n  scrape_interval: 7s\nscrape_config_files: [jobs/*.yml, missing/*.yml, one.yaml]\nscrape_configs:\n  - job_name: main\n',
    'jobs/b.yml': 'scrape_configs:\n  - job_name: b\n    file_sd_configs: [{files: [targets/*.json]}]\n',
    'jobs/a.yml': 'scrape_configs:\n  - job_name: a1\n  - job_name: a2\n    scrape_interval: 1m\n',
    // Go's filepath.Glob lets `*` match a leading dot; Prometheus picks such files up too.
    'jobs/.hidden.yml': 'scrape_configs: [{job_name: hidden}]\n',
    'jobs/ignored.txt': 'not yaml: [',
    'one.yaml': 'scrape_configs: []\n',
  });
  const cfg = await loadConfigFile(path.join(dir, 'agent.yml'));
  t.deepEqual(
    cfg.scrapeConfigs.map((s) => s.jobName),
    ['main', 'hidden', 'a1', 'a2', 'b'],
  );
  t.deepEqual(
    cfg.scrapeConfigs.map((s) => s.scrapeInterval),
    [7000, 7000, 7000, 60_000, 7000],
  );
  t.deepEqual(cfg.scrapeConfigFiles, [
    path.join(dir, 'jobs/*.yml'),
    path.join(dir, 'missing/*.yml'),
    path.join(dir, 'one.yaml'),
  ]);
  const b = at(cfg.scrapeConfigs, 4, 'cfg.scrapeConfigs');
  t.is(b.sourceFile, path.join(dir, 'jobs/b.yml'));
  t.deepEqual(at(b.fileSdConfigs, 0, 'b.fileSdConfigs').files, [path.join(dir, 'jobs/targets/*.json')]);
});

test('scrape_config_files: duplicate job names and errors name the included file and position', async (t) => {
  const dir = await tmpdir();
  const main = path.join(dir, 'agent.yml');
  await write(dir, {
    'agent.yml': 'scrape_config_files: [jobs/*.yml]\nscrape_configs:\n  - job_name: node\n',
    'jobs/a.yml': 'scrape_configs:\n  - job_name: node\n  - job_name: x\n    scrape_timeout: 2m\n',
    'jobs/b.yml': 'global: {}\n',
  });
  const err = (await t.throwsAsync(loadConfigFile(main), { instanceOf: ConfigError })) as ConfigError;
  const a = path.join(dir, 'jobs/a.yml');
  const b = path.join(dir, 'jobs/b.yml');
  t.deepEqual(err.message.split('\n'), [
    `${a}:2:15: scrape_configs[0].job_name: found multiple scrape configs with job name "node", first found in ${JSON.stringify(main)}`,
    `${a}:4:21: scrape_configs[1].scrape_timeout: scrape timeout greater than scrape interval for scrape config with job name "x" (2m > 1m)`,
    `${b}:1:1: global: unknown field "global"`,
  ]);
  t.is(err.file, a);
});

test('loadConfigFile: an unreadable file is a ConfigError without a position', async (t) => {
  const file = path.join(await tmpdir(), 'nope.yml');
  const err = (await t.throwsAsync(loadConfigFile(file), { instanceOf: ConfigError })) as ConfigError;
  t.is(err.line, 0);
  t.regex(
    err.message,
    new RegExp(
      `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot read config file: open ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no such file or directory$`,
    ),
  );
});

test('ConfigError: constructor fields and formatting', (t) => {
  const e = new ConfigError(
    'config/agent.yml',
    12,
    5,
    'scrape_configs[0].scrape_timeout',
    '"5x" is not a valid duration',
  );
  t.is(e.message, 'config/agent.yml:12:5: scrape_configs[0].scrape_timeout: "5x" is not a valid duration');
  t.deepEqual(
    [e.file, e.line, e.column, e.path, e.code, e.name],
    ['config/agent.yml', 12, 5, 'scrape_configs[0].scrape_timeout', 'OUTPOST_CONFIG_INVALID', 'ConfigError'],
  );
  t.is(e.issues.length, 1);
  t.is(formatIssue({ file: 'f.yml', line: 0, column: 0, path: '', message: 'gone' }), 'f.yml: gone');
});

test('the loaded config is deeply frozen', (t) => {
  const cfg = parseConfig(
    'scrape_configs: [{job_name: a, static_configs: [{targets: ["h:1"]}], relabel_configs: [{target_label: x}]}]\nremote_write: [{url: "http://h/w"}]\n',
    'c.yml',
  );
  t.true(Object.isFrozen(cfg));
  t.true(Object.isFrozen(cfg.global.externalLabels));
  const [sc] = firstN(cfg.scrapeConfigs, 1, 'scrape configs');
  t.true(Object.isFrozen(at(sc.staticConfigs, 0, 'static configs').targets));
  t.true(Object.isFrozen(at(sc.relabelConfigs, 0, 'relabel configs')));
  t.true(Object.isFrozen(at(cfg.remoteWrite, 0, 'cfg.remoteWrite').queueConfig));
  t.throws(
    () => {
      (cfg.scrapeConfigs[0] as { jobName: string }).jobName = 'b';
    },
    { instanceOf: TypeError },
  );
});

test('remote write identity: secrets do not change the hash, settings do; explicit names are kept', (t) => {
  const rw = (extra: string): Config['remoteWrite'][number] =>
    at(
      parseConfig(`remote_write:\n  - url: http://rw.local/push\n${extra}`, 'c.yml').remoteWrite,
      0,
      'parseConfig(...).remoteWrite',
    );
  const base = rw('');
  t.is(rw('').hash, base.hash, 'deterministic');
  t.is(
    rw('    basic_auth: {username: u, password: a}\n').hash,
    rw('    basic_auth: {username: u, password: b}\n').hash,
  );
  t.not(rw('    queue_config: {max_shards: 3}\n').hash, base.hash);
  t.not(rw('    headers: {X-Scope-OrgID: a}\n').hash, rw('    headers: {X-Scope-OrgID: b}\n').hash);
  const named = rw('    name: eu\n');
  t.is(named.name, 'eu');
  t.true(named.nameExplicit);
  t.regex(named.hash, /^[0-9a-f]{32}$/);
});

test('external labels: $VAR and ${VAR} expand, unset ones warn and expand to nothing', (t) => {
  const cfg = parseConfig(
    'global:\n  external_labels:\n    a: ${HOST}-x\n    b: $MISSING\n    c: pre-$HOST\n',
    'c.yml',
    { env: { HOST: 'box' } },
  );
  t.deepEqual(cfg.global.externalLabels, ['a', 'box-x', 'c', 'pre-box']);
  t.deepEqual(
    cfg.warnings.map((w) => `${w.line}:${w.column} ${w.message}`),
    ['4:8 environment variable MISSING is empty or unset; it expands to ""'],
  );
});

test('expandEnv follows Go os.Expand with Prometheus mapping', (t) => {
  const env: Record<string, string> = { A: 'x', AB: 'y', '1': 'one', '-': 'dash' };
  const cases: [string, string][] = [
    ['$A', 'x'],
    ['${A}', 'x'],
    ['${A}B', 'xB'],
    ['$AB', 'y'],
    ['$$', '$'],
    ['cost$$center', 'cost$center'],
    ['a$', 'a$'],
    ['x$ y', 'x$ y'],
    ['$1', 'one'],
    ['$-', 'dash'],
    ['${}', ''],
    ['${A', 'A'],
    ['$NOPE!', '!'],
    ['plain', 'plain'],
  ];
  for (const [input, want] of cases)
    t.is(
      expandEnv(input, (n) => env[n]),
      want,
      input,
    );
});

test('relabel: an empty regex/replacement is "" (Go zero value), not the default', (t) => {
  const cfg = parseConfig(
    'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [x]\n        regex:\n        target_label: y\n        replacement:\n',
    'c.yml',
  );
  const rc = at(at(cfg.scrapeConfigs, 0, 'scrape configs').relabelConfigs, 0, 'relabel configs');
  t.is(rc.regex, '');
  t.is(rc.replacement, '');
  t.true(rc.explicit.has('regex'));
  t.false(rc.explicit.has('separator'));
});

test('static targets are only checked when there is no target relabeling (blackbox style)', (t) => {
  const yaml = (relabel: string): string =>
    `scrape_configs:\n  - job_name: blackbox\n    static_configs: [{targets: ["https://example.com/health"]}]\n${relabel}`;
  t.throws(() => parseConfig(yaml(''), 'c.yml'), { instanceOf: ConfigError });
  const cfg = parseConfig(
    yaml('    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n'),
    'c.yml',
  );
  t.deepEqual(at(at(cfg.scrapeConfigs, 0, 'scrape configs').staticConfigs, 0, 'static configs').targets, [
    'https://example.com/health',
  ]);
  // A bare host is fine (Prometheus 3 adds no default port).
  t.notThrows(() =>
    parseConfig('scrape_configs: [{job_name: a, static_configs: [{targets: [example.com]}]}]', 'c.yml'),
  );
});

test('scrape protocols: global list is inherited; without one, native histograms put protobuf first', (t) => {
  const a = parseConfig('global: {scrape_protocols: [PrometheusText0.0.4]}\nscrape_configs: [{job_name: a}]', 'c.yml');
  t.deepEqual(at(a.scrapeConfigs, 0, 'a.scrapeConfigs').scrapeProtocols, ['PrometheusText0.0.4']);
  const b = parseConfig('scrape_configs: [{job_name: a, scrape_native_histograms: true}, {job_name: b}]', 'c.yml');
  t.is(at(b.scrapeConfigs, 0, 'b.scrapeConfigs').scrapeProtocols[0], 'PrometheusProto');
  t.is(at(b.scrapeConfigs, 1, 'b.scrapeConfigs').scrapeProtocols[0], 'OpenMetricsText1.0.0');
});

test('the redacted YAML parses back into the same config (secret values aside)', (t) => {
  const dir = path.join(import.meta.dirname, '../fixtures/config');
  // The YAML spells out every default, so which relabel fields were "explicit" differs by design.
  const dropExplicit = (v: unknown): unknown =>
    JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'explicit' ? undefined : x)));
  // External labels are shown expanded (as Prometheus shows them), so a `$` in a value would be
  // expanded again on re-parse; they are compared on the YAML text instead.
  const normalise = (c: Config): unknown =>
    dropExplicit({
      ...c,
      sourceText: '',
      sourceFile: '',
      warnings: [],
      global: { ...c.global, externalLabels: [] },
      scrapeConfigs: c.scrapeConfigs.map((s) => ({ ...s, sourceFile: '' })),
      remoteWrite: c.remoteWrite.map(({ name: _n, nameExplicit: _e, hash: _h, headers: _hd, ...rw }) => rw),
    });
  for (const f of ['minimal', 'inherit', 'yaml-features', 'full', 'agent-allowed', 'bearer']) {
    const file = path.join(dir, `${f}.good.yml`);
    const orig = parseConfig(readFileSync(file, 'utf8'), file, { env: { OUTPOST_TEST_BOX: 'b' } });
    const yaml = redactedConfigYaml(orig);
    t.notThrows(() => parseYaml(yaml));
    const again = parseConfig(yaml, file, { env: {} });
    t.deepEqual(normalise(again), normalise(orig), f);
    if (f === 'full') t.regex(yaml, /\n {4}literal: cost\$center\n/);
  }
});

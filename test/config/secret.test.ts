import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { parseConfig, redactedConfigYaml } from '../../src/config/load.ts';
import { Secret } from '../../src/config/secret.ts';
import { at, defined, firstN } from '../helpers/defined.ts';

test('Secret never prints its value', (t) => {
  const s = new Secret('hunter2');
  t.is(s.reveal(), 'hunter2');
  const renderings = [
    String(s),
    `${s}`,
    s.toString(),
    JSON.stringify(s),
    JSON.stringify({ nested: { s } }),
    util.inspect(s),
    util.inspect({ a: [s] }, { depth: Infinity, showHidden: true }),
    util.format('%s %o %O %j', s, s, s, s),
    Object.keys(s).join(','),
    String(Object.entries(s)),
  ];
  for (const r of renderings) t.false(r.includes('hunter2'), r);
  t.is(String(s), '<secret>');
  t.is(JSON.stringify({ s }), '{"s":"<secret>"}');
  t.is(util.inspect(s), '<secret>');
  t.true(Object.isFrozen(s));
});

test('Secret.equals compares values without revealing them', (t) => {
  t.true(new Secret('a').equals(new Secret('a')));
  t.false(new Secret('a').equals(new Secret('b')));
  t.false(new Secret('a').equals(undefined));
});

const SECRETS = [
  's3cr3t-basic',
  's3cr3t-sd',
  's3cr3t-rw-token',
  's3cr3t-bearer',
  's3cr3t-oauth',
  's3cr3t-key',
  's3cr3t-proxy',
  's3cr3t-header',
  's3cr3t-urlpw',
  's3cr3t-rwheader',
];

const EXTRA = `
scrape_configs:
  - job_name: oauth
    oauth2:
      client_id: id
      client_secret: s3cr3t-oauth
      token_url: https://auth.example.com/token
      tls_config:
        cert: "-----BEGIN CERTIFICATE-----"
        key: s3cr3t-key
    proxy_url: http://proxy.local:3128
    proxy_connect_header:
      Proxy-Token: [s3cr3t-proxy]
    http_headers:
      X-Api-Key:
        secrets: [s3cr3t-header]
        values: [visible-value]
remote_write:
  - url: https://user:s3cr3t-urlpw@rw.example.com/push
    headers:
      X-Api-Key: s3cr3t-rwheader
`;

test('no secret of a loaded config appears in JSON, inspect or the redacted YAML', (t) => {
  const dir = path.join(import.meta.dirname, '../fixtures/config');
  const configs = [
    parseConfig(fs.readFileSync(path.join(dir, 'full.good.yml'), 'utf8'), 'full.yml', { env: {} }),
    parseConfig(fs.readFileSync(path.join(dir, 'bearer.good.yml'), 'utf8'), 'bearer.yml'),
    parseConfig(EXTRA, 'extra.yml'),
  ];
  let yamlAll = '';
  for (const c of configs) {
    const { sourceText: _raw, ...rest } = c;
    const json = JSON.stringify(rest);
    const inspected = util.inspect(rest, { depth: Infinity });
    const yaml = redactedConfigYaml(c);
    yamlAll += yaml;
    for (const s of SECRETS) {
      t.false(yaml.includes(s), `${s} in YAML`);
      // URL userinfo is plain text in the typed config (the HTTP client needs it); everything else must be hidden.
      if (s !== 's3cr3t-urlpw' && s !== 's3cr3t-rwheader') {
        t.false(json.includes(s), `${s} in JSON`);
        t.false(inspected.includes(s), `${s} in inspect`);
      }
    }
  }
  t.true(yamlAll.includes('https://user:xxxxx@rw.example.com/push'));
  t.true(yamlAll.includes('visible-value'));
  t.true(yamlAll.includes('<secret>'));
  // The values are still there for the code that needs them.
  const extra = at(configs, 2, 'configs');
  const [sc] = firstN(extra.scrapeConfigs, 1, 'scrape configs');
  t.is(sc.oauth2?.clientSecret?.reveal(), 's3cr3t-oauth');
  t.is(sc.oauth2?.tlsConfig.key?.reveal(), 's3cr3t-key');
  const proxyToken = defined(sc.proxyConnectHeader?.['Proxy-Token'], 'proxy_connect_header Proxy-Token');
  t.is(at(proxyToken, 0, 'Proxy-Token values').reveal(), 's3cr3t-proxy');
  const apiKey = defined(sc.httpHeaders?.['X-Api-Key'], 'http_headers X-Api-Key');
  t.is(at(apiKey.secrets, 0, 'X-Api-Key secrets').reveal(), 's3cr3t-header');
  t.deepEqual(apiKey.values, ['visible-value']);
  t.is(at(extra.remoteWrite, 0, 'extra.remoteWrite').headers['X-Api-Key'], 's3cr3t-rwheader');
});

test('an error about a secret field does not quote the secret', (t) => {
  const err = t.throws(() =>
    parseConfig('scrape_configs:\n  - job_name: a\n    basic_auth:\n      password: [hunter2]\n', 'c.yml'),
  );
  t.false(err?.message.includes('hunter2'));
  t.is(err?.message, 'c.yml:4:17: scrape_configs[0].basic_auth.password: expected a string, got a list');
});

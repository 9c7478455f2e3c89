import test from 'ava';
import type { DnsSdConfig } from '../../src/config/types.ts';
import {
  DnsDiscoverer,
  joinHostPort,
  nameList,
  parseResolvConf,
  type DnsResolverOptions,
} from '../../src/discovery/dns.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import {
  metricValue,
  newMetrics,
  plain,
  Run,
  scrapeConfigs,
  startDnsServer,
  waitFor,
  type DnsServer,
} from './helpers.ts';
import { at, firstN } from '../helpers/defined.ts';

function dnsConfig(names: string[], type: string, port?: number): DnsSdConfig {
  const [cfg] = firstN(
    scrapeConfigs(
      `scrape_configs:\n  - job_name: j\n    dns_sd_configs:\n      - names: ${JSON.stringify(names)}\n        type: ${type}\n${port ? `        port: ${port}\n` : ''}`,
    ),
    1,
    'scrapeConfigs(...)',
  );
  return at(cfg.dnsSdConfigs, 0, 'cfg.dnsSdConfigs');
}

/** Only ever asks the loopback responder; search list fixed so the host's resolv.conf plays no part. */
function start(srv: DnsServer, config: DnsSdConfig, resolver: Partial<DnsResolverOptions> = {}) {
  const { reg, metrics } = newMetrics();
  const clock = new FakeClock();
  const log = memoryLogger();
  const d = new DnsDiscoverer({
    config,
    log,
    metrics,
    clock,
    resolver: { servers: [srv.address], search: [], ndots: 1, timeoutMs: 500, tries: 1, ...resolver },
  });
  return { run: new Run(d), reg, clock, log };
}

test('SRV: target:port addresses, trailing dot trimmed, meta labels per record', async (t) => {
  const srv = await startDnsServer({
    '_node._tcp.edge.test': {
      SRV: [
        { target: 'n2.edge.test.', port: 9200 },
        { target: 'n1.edge.test.', port: 9100 },
      ],
    },
  });
  const { run, reg } = start(srv, dnsConfig(['_node._tcp.edge.test'], 'SRV'));
  try {
    const groups = await run.emitted(1);
    const name = '_node._tcp.edge.test';
    t.deepEqual(plain(groups), [
      {
        source: `${name}/n1.edge.test:9100`,
        targets: ['n1.edge.test:9100'],
        labels: [
          '__meta_dns_name',
          name,
          '__meta_dns_srv_record_port',
          '9100',
          '__meta_dns_srv_record_target',
          'n1.edge.test.',
        ],
      },
      {
        source: `${name}/n2.edge.test:9200`,
        targets: ['n2.edge.test:9200'],
        labels: [
          '__meta_dns_name',
          name,
          '__meta_dns_srv_record_port',
          '9200',
          '__meta_dns_srv_record_target',
          'n2.edge.test.',
        ],
      },
    ]);
    t.deepEqual(srv.queries, [`${name} SRV`]);
    t.is(await metricValue(reg, 'prometheus_sd_dns_lookups_total'), 1);
  } finally {
    await run.stop();
    await srv.close();
  }
});

const addressCases: { type: string; zone: Record<string, string[]>; want: string[] }[] = [
  { type: 'A', zone: { A: ['10.0.0.2', '10.0.0.1'] }, want: ['10.0.0.1:9100', '10.0.0.2:9100'] },
  { type: 'AAAA', zone: { AAAA: ['2001:db8::1', 'fe80::1:2'] }, want: ['[2001:db8::1]:9100', '[fe80::1:2]:9100'] },
];

for (const c of addressCases) {
  test(`${c.type}: one group of ip:port targets with __meta_dns_name`, async (t) => {
    const srv = await startDnsServer({ 'web.edge.test': c.zone });
    const { run } = start(srv, dnsConfig(['web.edge.test'], c.type, 9100));
    try {
      t.deepEqual(plain(await run.emitted(1)), [
        { source: 'web.edge.test', targets: c.want, labels: ['__meta_dns_name', 'web.edge.test'] },
      ]);
      t.deepEqual(srv.queries, [`web.edge.test ${c.type}`]);
    } finally {
      await run.stop();
      await srv.close();
    }
  });
}

test('MX and NS: host:port with their meta labels', async (t) => {
  const srv = await startDnsServer({ 'edge.test': { MX: [{ exchange: 'mail.edge.test' }], NS: ['ns1.edge.test'] } });
  const mx = start(srv, dnsConfig(['edge.test'], 'MX', 25));
  const ns = start(srv, dnsConfig(['edge.test'], 'NS', 53));
  try {
    t.deepEqual(plain(await mx.run.emitted(1)), [
      {
        source: 'edge.test/mail.edge.test:25',
        targets: ['mail.edge.test:25'],
        labels: ['__meta_dns_mx_record_target', 'mail.edge.test.', '__meta_dns_name', 'edge.test'],
      },
    ]);
    t.deepEqual(plain(await ns.run.emitted(1)), [
      {
        source: 'edge.test/ns1.edge.test:53',
        targets: ['ns1.edge.test:53'],
        labels: ['__meta_dns_name', 'edge.test', '__meta_dns_ns_record_target', 'ns1.edge.test.'],
      },
    ]);
  } finally {
    await mx.run.stop();
    await ns.run.stop();
    await srv.close();
  }
});

test('NXDOMAIN and empty answers give no targets; a failing name keeps its last targets', async (t) => {
  const srv = await startDnsServer({
    'web.edge.test': { A: ['10.0.0.1'] },
    'empty.edge.test': { AAAA: ['::1'] },
  });
  const { run, reg, clock, log } = start(
    srv,
    dnsConfig(['web.edge.test', 'gone.edge.test', 'empty.edge.test'], 'A', 80),
  );
  try {
    t.deepEqual(plain(await run.emitted(1)), [
      { source: 'web.edge.test', targets: ['10.0.0.1:80'], labels: ['__meta_dns_name', 'web.edge.test'] },
    ]);
    t.is(await metricValue(reg, 'prometheus_sd_dns_lookup_failures_total'), 0);

    // SERVFAIL: the name's targets stay, the failure is counted and logged.
    srv.zone.set('web.edge.test', { rcode: 2 });
    await waitFor(() => clock.pending > 0, 'discoverer waiting');
    clock.advance(30_000);
    const second = await run.emitted(2);
    t.deepEqual(
      second.flatMap((g) => g.targets),
      ['10.0.0.1:80'],
    );
    t.is(await metricValue(reg, 'prometheus_sd_dns_lookup_failures_total'), 1);
    t.true(log.lines.some((l) => l.includes('Error refreshing DNS targets') && l.includes('web.edge.test')));

    // The name is gone for good (NXDOMAIN): its targets go too.
    srv.zone.delete('web.edge.test');
    await waitFor(() => clock.pending > 0, 'discoverer waiting');
    clock.advance(30_000);
    t.deepEqual(await run.emitted(3), []);
    t.is(await metricValue(reg, 'prometheus_sd_dns_lookups_total'), 9);
  } finally {
    await run.stop();
    await srv.close();
  }
});

test('search list and ndots decide the names tried', async (t) => {
  const srv = await startDnsServer({ 'web.edge.test': { A: ['10.1.1.1'] } });
  const { run } = start(srv, dnsConfig(['web'], 'A', 80), { search: ['other.test', 'edge.test'], ndots: 1 });
  try {
    t.deepEqual(
      (await run.emitted(1)).flatMap((g) => g.targets),
      ['10.1.1.1:80'],
    );
    // The single-label name is tried under each search domain first; the first answer wins.
    t.deepEqual(srv.queries, ['web.other.test A', 'web.edge.test A']);
    // __meta_dns_name is the configured name.
    t.deepEqual([...at(run.last, 0, 'run.last').labels], ['__meta_dns_name', 'web']);
  } finally {
    await run.stop();
    await srv.close();
  }
});

test('nameList follows miekg/dns NameList', (t) => {
  const conf = { search: ['a.test', 'b.test.'], ndots: 1 };
  t.deepEqual(nameList('host', conf), ['host.a.test.', 'host.b.test.', 'host.']);
  t.deepEqual(nameList('host.x', conf), ['host.x.', 'host.x.a.test.', 'host.x.b.test.']);
  t.deepEqual(nameList('host.x.', conf), ['host.x.']);
  t.deepEqual(nameList('host.x', { search: ['a.test'], ndots: 2 }), ['host.x.a.test.', 'host.x.']);
});

test('parseResolvConf: search, domain, ndots, comments', (t) => {
  t.deepEqual(parseResolvConf('nameserver 10.0.0.1\nsearch a.test b.test # c\noptions ndots:3 timeout:1\n'), {
    search: ['a.test', 'b.test'],
    ndots: 3,
  });
  t.deepEqual(parseResolvConf('domain corp.test\n'), { search: ['corp.test'], ndots: 1 });
  t.deepEqual(parseResolvConf('search a.test\ndomain corp.test\n'), { search: ['corp.test'], ndots: 1 });
  t.deepEqual(parseResolvConf(''), { search: [], ndots: 1 });
});

test('joinHostPort brackets IPv6', (t) => {
  t.is(joinHostPort('::1', 80), '[::1]:80');
  t.is(joinHostPort('host', 80), 'host:80');
});

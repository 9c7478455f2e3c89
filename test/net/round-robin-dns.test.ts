import test from 'ava';
import http from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { roundRobinLookup, type LookupAll, type ResolvedAddress } from '../../src/net/round-robin-dns.ts';
import { HttpWriteClient } from '../../src/remote/client.ts';
import { seededRandom } from '../../src/util/random.ts';
import { rwConfig } from './helpers.ts';

/**
 * remote_write round_robin_dns, as Prometheus v3.14.0 storage/remote/dial_context.go (lines 45-61):
 * each dial looks the host up and connects to a random one of its addresses; a failed or empty
 * lookup falls back to the normal dial. client.go 185-187 turns it on per remote_write entry.
 */

const TWO: ResolvedAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

function fixed(addrs: ResolvedAddress[] | Error): LookupAll {
  return (_host, cb) => (addrs instanceof Error ? cb(addrs, []) : cb(null, addrs));
}

function lookupOnce(
  fn: LookupFunction,
  host: string,
  all: boolean,
): Promise<{ err: Error | null; addr: string | ResolvedAddress[] }> {
  return new Promise((resolve) =>
    fn(host, { all }, (err, addr) => resolve({ err, addr: addr as string | ResolvedAddress[] })),
  );
}

test('each lookup picks one of the addresses at random; a list-asking caller gets a list of one', async (t) => {
  const picks = new Set<string>();
  const fn = roundRobinLookup(fixed(TWO), seededRandom(7));
  for (let i = 0; i < 20; i++) picks.add(String((await lookupOnce(fn, 'rr.test', false)).addr));
  t.deepEqual([...picks].sort(), ['127.0.0.1', '::1']);
  const listed = await lookupOnce(
    roundRobinLookup(fixed(TWO), () => 0.99),
    'rr.test',
    true,
  );
  t.deepEqual(listed.addr, [{ address: '::1', family: 6 }]);
});

test('a failed or empty lookup falls back to the normal one', async (t) => {
  for (const broken of [fixed(new Error('SERVFAIL')), fixed([])]) {
    const r = await lookupOnce(roundRobinLookup(broken), '127.0.0.1', false);
    t.is(r.err, null);
    t.is(r.addr, '127.0.0.1');
  }
});

async function listenOn(host: string, port: number, hits: string[]): Promise<http.Server | null> {
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(host);
      // A new connection per request, so every request dials again.
      res.writeHead(204, { Connection: 'close' });
      res.end();
    });
  });
  return new Promise((resolve) => {
    srv.once('error', () => resolve(null));
    srv.listen(port, host, () => resolve(srv));
  });
}

test('remote write with round_robin_dns spreads new connections over every address of the host', async (t) => {
  const hits: string[] = [];
  const v4 = await listenOn('127.0.0.1', 0, hits);
  if (!v4) return t.fail('cannot listen on 127.0.0.1');
  t.teardown(() => void v4.close());
  const port = (v4.address() as AddressInfo).port;
  const v6 = await listenOn('::1', port, hits);
  if (!v6) {
    t.log('no IPv6 loopback here: the spread is checked by the lookup tests only');
    return t.pass();
  }
  t.teardown(() => void v6.close());
  const c = new HttpWriteClient(
    rwConfig(`url: http://rr.test:${port}/api/v1/write\n    round_robin_dns: true`),
    'Outpost/1',
    { lookupAll: fixed(TWO), random: seededRandom(3) },
  );
  t.teardown(() => c.close());
  for (let i = 0; i < 20; i++) t.is((await c.send(Buffer.from('x'), 0, 'v1')).kind, 'ok');
  t.is(hits.length, 20);
  t.true(hits.includes('127.0.0.1') && hits.includes('::1'), hits.join(' '));
});

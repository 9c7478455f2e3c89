/**
 * remote_write `round_robin_dns: true` (Prometheus 3.1+): every new connection resolves the host
 * and dials one of its addresses at random, so a name with several A/AAAA records spreads the
 * connections over them instead of following the system resolver's first answer (Prometheus
 * storage/remote/dial_context.go). When the lookup fails or returns nothing, the normal lookup
 * decides, as Go falls back to its default dialer. Connections are pooled as before: like
 * Prometheus, the choice is made per connection, not per request.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { systemRandom, type Random } from '../util/random.ts';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Every address of a host (v4 and v6, as Go's LookupHost). */
export type LookupAll = (host: string, cb: (err: Error | null, addrs: readonly ResolvedAddress[]) => void) => void;

const systemLookupAll: LookupAll = (host, cb) => dns.lookup(host, { all: true }, (err, addrs) => cb(err, addrs ?? []));

/** A `lookup` for net.connect / http.Agent that picks one of the host's addresses at random. */
export function roundRobinLookup(
  lookupAll: LookupAll = systemLookupAll,
  random: Random = systemRandom,
): LookupFunction {
  return (hostname, options, callback) => {
    lookupAll(hostname, (err, addrs) => {
      if (err || addrs.length === 0) {
        dns.lookup(hostname, options, callback);
        return;
      }
      const pick = addrs[Math.min(addrs.length - 1, Math.floor(random() * addrs.length))] as ResolvedAddress;
      // With autoSelectFamily (Node's default) the caller asks for a list: give it the one chosen.
      if (options.all) callback(null, [{ address: pick.address, family: pick.family }]);
      else callback(null, pick.address, pick.family);
    });
  };
}

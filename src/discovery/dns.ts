/**
 * dns_sd_configs, as Prometheus' discovery/dns: every refresh_interval each name is looked up
 * (concurrently) with the resolv.conf search list applied, as Go's miekg/dns NameList does.
 *
 * Per name, as Prometheus' lookupWithSearchPath decides it:
 *  - an answer (records, or NOERROR with none of the asked type) ⇒ that list;
 *  - every candidate name answered NXDOMAIN ⇒ no targets;
 *  - otherwise (timeouts, SERVFAIL, ...) ⇒ an error: the name keeps the targets it had, as
 *    Prometheus' discovery manager keeps a group whose source sent no update.
 *
 * Addresses: SRV `target:port` (target's trailing dot trimmed), MX/NS `host:<port>`, A/AAAA
 * `ip:<port>` (IPv6 bracketed). `__meta_dns_srv_record_target` / `_mx_` / `_ns_` keep the record's
 * rooted form with the trailing dot, as Prometheus copies them before trimming.
 *
 * Prometheus puts the per-record meta labels on each target of one group per name; Outpost's
 * TargetGroup carries group labels only, so records with different meta labels become separate
 * groups: A/AAAA give one group with source `<name>`, SRV/MX/NS one group per distinct record
 * with source `<name>/<host>:<port>`.
 */
import dns from 'node:dns';
import fsp from 'node:fs/promises';
import type { DnsSdConfig, TargetGroup } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../util/clock.ts';
import { compareStrings, LabelsBuilder } from '../util/labels.ts';
import { errorMessage } from '../util/errors.ts';
import { DiscoveryError, runRefreshLoop, type Discoverer } from './discoverer.ts';
import type { SdMetrics } from './metrics.ts';

const DNS_NAME_LABEL = '__meta_dns_name';
const DNS_SRV_TARGET_LABEL = '__meta_dns_srv_record_target';
const DNS_SRV_PORT_LABEL = '__meta_dns_srv_record_port';
const DNS_MX_TARGET_LABEL = '__meta_dns_mx_record_target';
const DNS_NS_TARGET_LABEL = '__meta_dns_ns_record_target';

export interface DnsResolverOptions {
  /** Name servers as node:dns setServers takes them (`ip` or `ip:port`); default: the system's. */
  readonly servers?: readonly string[];
  /** Search list; default: `search` / `domain` from resolvConf, read at every refresh. */
  readonly search?: readonly string[];
  /** Default: `options ndots:` from resolvConf, else 1. */
  readonly ndots?: number;
  readonly resolvConf?: string;
  /** Per-try timeout; Go's miekg/dns client waits 2s. */
  readonly timeoutMs?: number;
  readonly tries?: number;
}

export interface DnsDiscovererOptions {
  readonly config: DnsSdConfig;
  readonly log: Logger;
  readonly metrics: SdMetrics;
  readonly clock: Clock;
  readonly resolver?: DnsResolverOptions | undefined;
}

interface ResolvConf {
  search: readonly string[];
  ndots: number;
}

/** One record turned into a target: its address and its meta labels. */
interface DnsTarget {
  address: string;
  host: string;
  port: number;
  meta: readonly (readonly [string, string])[];
}

export class DnsDiscoverer implements Discoverer {
  private readonly o: DnsDiscovererOptions;
  /** Last successful groups per configured name. */
  private readonly last = new Map<string, TargetGroup[]>();

  constructor(o: DnsDiscovererOptions) {
    this.o = o;
  }

  async run(signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void> {
    const r = this.o.resolver ?? {};
    const resolver = new dns.promises.Resolver({ timeout: r.timeoutMs ?? 2000, tries: r.tries ?? 2 });
    if (r.servers) resolver.setServers([...r.servers]);
    const onAbort = (): void => resolver.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await runRefreshLoop(
        {
          mechanism: 'dns',
          intervalMs: this.o.config.refreshInterval,
          clock: this.o.clock,
          log: this.o.log,
          metrics: this.o.metrics,
          refresh: (sig) => this.refresh(resolver, sig),
        },
        signal,
        emit,
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async refresh(resolver: dns.promises.Resolver, signal: AbortSignal): Promise<TargetGroup[]> {
    const conf = await this.resolvConf();
    const { config, metrics, log } = this.o;
    await Promise.all(
      config.names.map(async (name) => {
        let targets: DnsTarget[];
        try {
          targets = await this.lookup(resolver, name, conf);
          metrics.dnsLookups.inc();
        } catch (err) {
          metrics.dnsLookups.inc();
          metrics.dnsLookupFailures.inc();
          if (!signal.aborted) log.error('Error refreshing DNS targets', { name, err: errorMessage(err) });
          return;
        }
        this.last.set(name, groupTargets(name, config.type, targets));
      }),
    );
    const out: TargetGroup[] = [];
    // Configured order, so the emitted list is stable whatever order lookups finished in.
    for (const name of config.names) out.push(...(this.last.get(name) ?? []));
    return out;
  }

  private async resolvConf(): Promise<ResolvConf> {
    const r = this.o.resolver ?? {};
    if (r.search && r.ndots !== undefined) return { search: r.search, ndots: r.ndots };
    let text = '';
    try {
      text = await fsp.readFile(r.resolvConf ?? '/etc/resolv.conf', 'utf8');
    } catch (err) {
      if (!r.search) throw new DiscoveryError(`could not load resolv.conf: ${errorMessage(err)}`);
    }
    const parsed = parseResolvConf(text);
    return { search: r.search ?? parsed.search, ndots: r.ndots ?? parsed.ndots };
  }

  /** Tries each candidate name in order; see the file comment for the outcomes. */
  private async lookup(resolver: dns.promises.Resolver, name: string, conf: ResolvConf): Promise<DnsTarget[]> {
    let allValid = true;
    for (const candidate of nameList(name, conf)) {
      try {
        return await this.query(resolver, candidate);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // NOERROR without records of the asked type: a valid, empty answer.
        if (code === dns.NODATA) return [];
        if (code !== dns.NOTFOUND) allValid = false;
      }
    }
    if (allValid) return [];
    throw new DiscoveryError(
      `could not resolve ${JSON.stringify(name)}: all servers responded with errors to at least one search domain`,
    );
  }

  private async query(resolver: dns.promises.Resolver, fqdn: string): Promise<DnsTarget[]> {
    // c-ares takes names without the root dot.
    const q = fqdn.endsWith('.') ? fqdn.slice(0, -1) : fqdn;
    const port = this.o.config.port;
    switch (this.o.config.type) {
      case 'SRV':
        return (await resolver.resolveSrv(q))
          .filter((r) => r.name !== '')
          .map((r) => ({
            address: joinHostPort(trimDot(r.name), r.port),
            host: trimDot(r.name),
            port: r.port,
            meta: [
              [DNS_SRV_TARGET_LABEL, rooted(r.name)],
              [DNS_SRV_PORT_LABEL, String(r.port)],
            ],
          }));
      case 'MX':
        return (await resolver.resolveMx(q))
          .filter((r) => r.exchange !== '')
          .map((r) => ({
            address: joinHostPort(trimDot(r.exchange), port),
            host: trimDot(r.exchange),
            port,
            meta: [[DNS_MX_TARGET_LABEL, rooted(r.exchange)]],
          }));
      case 'NS':
        return (await resolver.resolveNs(q))
          .filter((n) => n !== '')
          .map((n) => ({
            address: joinHostPort(trimDot(n), port),
            host: trimDot(n),
            port,
            meta: [[DNS_NS_TARGET_LABEL, rooted(n)]],
          }));
      case 'A':
        return (await resolver.resolve4(q)).map((a) => ({ address: joinHostPort(a, port), host: a, port, meta: [] }));
      case 'AAAA':
        return (await resolver.resolve6(q)).map((a) => ({ address: joinHostPort(a, port), host: a, port, meta: [] }));
    }
  }
}

function groupTargets(name: string, type: DnsSdConfig['type'], targets: readonly DnsTarget[]): TargetGroup[] {
  if (targets.length === 0) return [];
  if (type === 'A' || type === 'AAAA') {
    const addrs = [...new Set(targets.map((t) => t.address))].sort(compareStrings);
    return [{ targets: addrs, labels: [DNS_NAME_LABEL, name], source: name }];
  }
  const bySource = new Map<string, TargetGroup>();
  for (const t of targets) {
    const source = `${name}/${t.address}`;
    if (bySource.has(source)) continue;
    const b = new LabelsBuilder();
    b.set(DNS_NAME_LABEL, name);
    for (const [n, v] of t.meta) b.set(n, v);
    bySource.set(source, { targets: [t.address], labels: b.labels(), source });
  }
  return [...bySource.values()].sort((a, b) => compareStrings(a.source, b.source));
}

function trimDot(s: string): string {
  return s.replace(/\.+$/, '');
}

function rooted(s: string): string {
  return s.endsWith('.') ? s : s + '.';
}

/** Go's net.JoinHostPort: brackets around hosts that contain a colon. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parseResolvConf(text: string): ResolvConf {
  let search: string[] = [];
  let ndots = 1;
  for (const line of text.split('\n')) {
    const f = line
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (f[0] === 'search') search = f.slice(1).filter((s) => s !== '');
    else if (f[0] === 'domain' && f[1]) search = [f[1]];
    else if (f[0] === 'options') {
      for (const opt of f.slice(1)) {
        const m = /^ndots:(\d+)$/.exec(opt);
        // glibc caps ndots at 15.
        if (m) ndots = Math.min(Number(m[1]), 15);
      }
    }
  }
  return { search, ndots };
}

/** miekg/dns ClientConfig.NameList: the names to try for `name`, in order. */
export function nameList(name: string, conf: ResolvConf): string[] {
  if (name.endsWith('.')) return [name];
  const labels = name.split('.').filter((l) => l !== '').length;
  const hasNdots = labels > conf.ndots;
  const fqdn = name + '.';
  const out: string[] = [];
  if (hasNdots) out.push(fqdn);
  for (const s of conf.search) out.push(rooted(fqdn + trimDot(s.startsWith('.') ? s.slice(1) : s)));
  if (!hasNdots) out.push(fqdn);
  return out;
}

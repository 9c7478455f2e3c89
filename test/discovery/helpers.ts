import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.ts';
import type { ScrapeConfig, TargetGroup } from '../../src/config/types.ts';
import type { Discoverer } from '../../src/discovery/discoverer.ts';
import { SdMetrics } from '../../src/discovery/metrics.ts';
import { at } from '../helpers/defined.ts';

/** Scrape configs as the real loader produces them; `file` sets the base for relative paths. */
export function scrapeConfigs(yaml: string, file = '/etc/outpost/agent.yml'): readonly ScrapeConfig[] {
  return parseConfig(yaml, file).scrapeConfigs;
}

export function newMetrics(): { reg: Registry; metrics: SdMetrics } {
  const reg = new Registry();
  return { reg, metrics: new SdMetrics(reg) };
}

/** Value of an unlabelled counter/gauge or of the series matching `labels`. */
export async function metricValue(
  reg: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const m = reg.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const got = await m.get();
  const v = got.values.find(
    (x) =>
      Object.entries(labels).every(([k, val]) => String(x.labels[k]) === val) &&
      (x as { metricName?: string }).metricName === undefined,
  );
  return v?.value;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs a discoverer and records what it emits. */
export class Run {
  readonly emits: TargetGroup[][] = [];
  readonly done: Promise<void>;
  private readonly ac = new AbortController();

  constructor(d: Discoverer) {
    this.done = d.run(this.ac.signal, (g) => this.emits.push(g));
  }

  get last(): TargetGroup[] {
    const l = this.emits.at(-1);
    if (!l) throw new Error('nothing emitted yet');
    return l;
  }

  /** Waits for emit number `n` (1-based). */
  async emitted(n: number, what = `emit #${n}`, timeoutMs?: number): Promise<TargetGroup[]> {
    await waitFor(() => this.emits.length >= n, what, timeoutMs);
    return at(this.emits, n - 1, 'emits');
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.done;
  }
}

/** Groups as plain data, for deepEqual. */
export function plain(groups: readonly TargetGroup[]): { source: string; targets: string[]; labels: string[] }[] {
  return groups.map((g) => ({ source: g.source, targets: [...g.targets], labels: [...g.labels] }));
}

/** Replaces a file's content the way tools should (write aside, rename into place). */
export async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, file);
}

// ---------------------------------------------------------------------------------------------
// A tiny authoritative DNS responder on 127.0.0.1 (UDP), enough for A/AAAA/SRV/MX/NS lookups.

export interface ZoneEntry {
  A?: string[];
  AAAA?: string[];
  SRV?: { target: string; port: number; priority?: number; weight?: number }[];
  MX?: { exchange: string; preference?: number }[];
  NS?: string[];
  /** Answer every query for this name with this RCODE (2 = SERVFAIL, 5 = REFUSED). */
  rcode?: number;
  /** Record TTL; default 0 so nothing may be cached between refreshes. */
  ttl?: number;
}

const TYPES: Record<number, keyof ZoneEntry> = { 1: 'A', 28: 'AAAA', 33: 'SRV', 15: 'MX', 2: 'NS' };

export interface DnsServer {
  readonly address: string;
  /** Keys are lower-case names without the root dot. */
  readonly zone: Map<string, ZoneEntry>;
  /** Every question received, as `NAME TYPE` (name without the root dot). */
  readonly queries: string[];
  close(): Promise<void>;
}

export async function startDnsServer(zone: Record<string, ZoneEntry> = {}): Promise<DnsServer> {
  const sock = dgram.createSocket('udp4');
  const z = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase(), v]));
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    const res = answer(msg, z, queries);
    if (res) sock.send(res, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  return {
    address: `127.0.0.1:${port}`,
    zone: z,
    queries,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

function answer(msg: Buffer, zone: Map<string, ZoneEntry>, log: string[]): Buffer | null {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return null;
  let off = 12;
  const labels: string[] = [];
  let len = msg[off];
  while (len !== 0) {
    // A question cut short gets no answer, like the other malformed queries.
    if (len === undefined) return null;
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += len + 1;
    len = msg[off];
  }
  off++;
  const qtype = msg.readUInt16BE(off);
  const question = msg.subarray(12, off + 4);
  const name = labels.join('.').toLowerCase();
  const typeName = TYPES[qtype] ?? String(qtype);
  log.push(`${name} ${typeName}`);
  const entry = zone.get(name);
  let rcode = 0;
  const records: Buffer[] = [];
  if (!entry) rcode = 3;
  else if (entry.rcode !== undefined) rcode = entry.rcode;
  else {
    const key = TYPES[qtype];
    for (const rdata of rdataFor(entry, key)) {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(entry.ttl ?? 0, 6);
      rr.writeUInt16BE(rdata.length, 10);
      records.push(rr, rdata);
    }
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8000 | 0x0400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length / 2, 6);
  return Buffer.concat([header, question, ...records]);
}

function rdataFor(e: ZoneEntry, key: keyof ZoneEntry | undefined): Buffer[] {
  switch (key) {
    case 'A':
      return (e.A ?? []).map((a) => Buffer.from(a.split('.').map(Number)));
    case 'AAAA':
      return (e.AAAA ?? []).map(ipv6Bytes);
    case 'SRV':
      return (e.SRV ?? []).map((s) => {
        const b = Buffer.alloc(6);
        b.writeUInt16BE(s.priority ?? 10, 0);
        b.writeUInt16BE(s.weight ?? 10, 2);
        b.writeUInt16BE(s.port, 4);
        return Buffer.concat([b, encodeName(s.target)]);
      });
    case 'MX':
      return (e.MX ?? []).map((m) => {
        const b = Buffer.alloc(2);
        b.writeUInt16BE(m.preference ?? 10, 0);
        return Buffer.concat([b, encodeName(m.exchange)]);
      });
    case 'NS':
      return (e.NS ?? []).map(encodeName);
    default:
      return [];
  }
}

function encodeName(n: string): Buffer {
  const parts = n
    .replace(/\.$/, '')
    .split('.')
    .filter((p) => p !== '');
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])),
    Buffer.from([0]),
  ]);
}

function ipv6Bytes(a: string): Buffer {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) b.writeUInt16BE(parseInt(g, 16), i * 2);
  return b;
}

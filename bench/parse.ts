/**
 * Parser throughput: `node bench/parse.ts [--time=ms]`.
 *
 * Bodies: a node_exporter-like exposition (~1k series, HELP/TYPE on every family, histograms and
 * a summary) and a 10k-series application exposition, each in Prometheus text and OpenMetrics.
 * Loops:
 *   steady  next() + seriesStart/seriesEnd/value/timestamp only: what a scrape with a warm cache does
 *   +key    steady plus a latin1 string of the raw series bytes, the obvious Map key (allocates)
 *   cold    steady plus labels() on every series: a first scrape or a cache flush
 */
import { createParser, Entry, type TextParser } from '../src/textparse/parser.ts';

const argTime = process.argv.find((a) => a.startsWith('--time='));
const BUDGET_MS = argTime ? Number(argTime.slice('--time='.length)) : 1000;
const ROUNDS = 5;

interface Body {
  name: string;
  contentType: string;
  buf: Buffer;
  samples: number;
}

/** node_exporter-ish: per-CPU counters, filesystem and network gauges, a few histograms. */
function nodeExporterLike(om: boolean): string {
  const lines: string[] = [];
  const counter = (name: string, help: string): string => {
    lines.push(`# HELP ${name} ${help}`);
    lines.push(`# TYPE ${name} counter`);
    return `${name}_total`;
  };
  const family = (name: string, type: string, help: string): void => {
    lines.push(`# HELP ${name} ${help}`);
    lines.push(`# TYPE ${name} ${type}`);
  };
  const modes = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'];
  const cpuName = counter('node_cpu_seconds', 'Seconds the CPUs spent in each mode.');
  for (let cpu = 0; cpu < 16; cpu++) {
    for (const m of modes)
      lines.push(`${cpuName}{cpu="${cpu}",mode="${m}"} ${(cpu * 1000 + m.length * 37.25).toFixed(2)}`);
  }
  const devices = ['sda', 'sdb', 'nvme0n1', 'nvme1n1', 'dm-0', 'dm-1', 'loop0', 'loop1'];
  for (const f of [
    'reads_completed',
    'writes_completed',
    'read_bytes',
    'written_bytes',
    'io_time_seconds',
    'discards_completed',
  ]) {
    const n = counter(`node_disk_${f}`, `The total number of ${f.replace(/_/g, ' ')}.`);
    for (const d of devices) lines.push(`${n}{device="${d}"} ${d.length * 123456 + f.length}`);
  }
  const ifaces = ['eth0', 'eth1', 'lo', 'docker0', 'veth1a2b3c', 'wlan0'];
  for (const f of [
    'receive_bytes',
    'transmit_bytes',
    'receive_packets',
    'transmit_packets',
    'receive_errs',
    'transmit_errs',
    'receive_drop',
    'transmit_drop',
  ]) {
    const n = counter(`node_network_${f}`, `Network device statistic ${f}.`);
    for (const i of ifaces) lines.push(`${n}{device="${i}"} ${i.length * 98765 + f.length}`);
  }
  const mounts = ['/', '/boot', '/home', '/var', '/var/lib/docker', '/run', '/tmp', '/srv'];
  for (const f of ['avail_bytes', 'free_bytes', 'size_bytes', 'files', 'files_free', 'readonly']) {
    family(`node_filesystem_${f}`, 'gauge', `Filesystem ${f.replace(/_/g, ' ')}.`);
    for (const m of mounts)
      lines.push(`node_filesystem_${f}{device="/dev/sda1",fstype="ext4",mountpoint="${m}"} ${m.length * 1.5e9}`);
  }
  for (let k = 0; k < 120; k++) {
    family(`node_memory_stat_${k}_bytes`, 'gauge', `Memory information field ${k}.`);
    lines.push(`node_memory_stat_${k}_bytes ${k * 4096 * 1024}`);
  }
  const les = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
  for (const h of ['node_scrape_collector_duration', 'http_request_duration_seconds', 'rpc_latency_seconds']) {
    family(h, 'histogram', 'A histogram of latencies.');
    for (const handler of [
      '/metrics',
      '/api/v1/query',
      '/api/v1/series',
      '/-/healthy',
      '/federate',
      '/api/v1/labels',
    ]) {
      let c = 0;
      for (const le of les) {
        c += 17;
        lines.push(`${h}_bucket{handler="${handler}",le="${le}"} ${c}`);
      }
      lines.push(`${h}_sum{handler="${handler}"} ${c * 0.0123}`);
      lines.push(`${h}_count{handler="${handler}"} ${c}`);
    }
  }
  family('go_gc_duration_seconds', 'summary', 'A summary of the pause duration of garbage collection cycles.');
  for (const q of ['0', '0.25', '0.5', '0.75', '1']) lines.push(`go_gc_duration_seconds{quantile="${q}"} 3.2578e-05`);
  lines.push('go_gc_duration_seconds_sum 0.153401549');
  lines.push('go_gc_duration_seconds_count 2183');
  for (let k = lines.length; countSeries(lines) < 1000; k++) {
    family(`node_extra_gauge_${k}`, 'gauge', 'Padding gauge.');
    lines.push(`node_extra_gauge_${k}{collector="textfile"} ${k}`);
  }
  if (om) lines.push('# EOF');
  return lines.join('\n') + '\n';
}

/** An application with 10k series: request counters by handler/method/code and a latency histogram. */
function tenK(om: boolean): string {
  const lines: string[] = [];
  lines.push('# HELP app_requests Requests served.', '# TYPE app_requests counter');
  const methods = ['GET', 'POST', 'PUT', 'DELETE'];
  const codes = ['200', '201', '204', '301', '400', '401', '403', '404', '500', '503'];
  for (let h = 0; countSeries(lines) < 6000; h++) {
    for (const m of methods)
      for (const c of codes)
        lines.push(
          `app_requests_total{handler="/api/v2/resource_${h}",method="${m}",code="${c}"} ${h * 131 + c.length}`,
        );
  }
  lines.push('# HELP app_latency_seconds Request latency.', '# TYPE app_latency_seconds histogram');
  const les = ['0.001', '0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '+Inf'];
  for (let h = 0; countSeries(lines) < 10000; h++) {
    let c = 0;
    for (const le of les) {
      c += 3;
      lines.push(`app_latency_seconds_bucket{handler="/api/v2/resource_${h}",le="${le}"} ${c}`);
    }
    lines.push(`app_latency_seconds_sum{handler="/api/v2/resource_${h}"} ${(c * 0.042).toFixed(3)}`);
    lines.push(`app_latency_seconds_count{handler="/api/v2/resource_${h}"} ${c}`);
  }
  if (om) lines.push('# EOF');
  return lines.join('\n') + '\n';
}

function countSeries(lines: string[]): number {
  let n = 0;
  for (const l of lines) if (l[0] !== '#') n++;
  return n;
}

function makeBody(name: string, contentType: string, text: string): Body {
  const buf = Buffer.from(text);
  const p = createParser(contentType);
  p.reset(buf, buf.length);
  let samples = 0;
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) if (e === Entry.Series) samples++;
  return { name, contentType, buf, samples };
}

const TEXT = 'text/plain; version=0.0.4';
const OM = 'application/openmetrics-text; version=1.0.0';
const bodies: Body[] = [
  makeBody('node-like text', TEXT, nodeExporterLike(false)),
  makeBody('node-like om', OM, nodeExporterLike(true)),
  makeBody('10k text', TEXT, tenK(false)),
  makeBody('10k om', OM, tenK(true)),
];

type Loop = (p: TextParser, b: Body) => number;

// The sink keeps V8 from discarding reads whose results are otherwise unused.
let sink = 0;

const steady: Loop = (p, b) => {
  p.reset(b.buf, b.buf.length);
  let acc = 0;
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
    if (e !== Entry.Series) continue;
    acc += p.seriesEnd - p.seriesStart + p.value;
    if (p.hasTimestamp) acc += p.timestamp;
  }
  return acc;
};

const withKey: Loop = (p, b) => {
  p.reset(b.buf, b.buf.length);
  let acc = 0;
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
    if (e !== Entry.Series) continue;
    acc += b.buf.toString('latin1', p.seriesStart, p.seriesEnd).length + p.value;
    if (p.hasTimestamp) acc += p.timestamp;
  }
  return acc;
};

const cold: Loop = (p, b) => {
  p.reset(b.buf, b.buf.length);
  let acc = 0;
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
    if (e !== Entry.Series) continue;
    acc += p.labels().length + p.value;
    if (p.hasTimestamp) acc += p.timestamp;
  }
  return acc;
};

/**
 * Best of several rounds, timed in process CPU time: on a small shared box wall time mostly
 * measures the neighbours.
 */
function measure(loop: Loop, b: Body): { samplesPerSec: number; mbPerSec: number; nsPerSample: number } {
  const p = createParser(b.contentType);
  const warmEnd = performance.now() + BUDGET_MS / 4;
  while (performance.now() < warmEnd) sink += loop(p, b);
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    let iters = 0;
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    while (performance.now() - start < BUDGET_MS / ROUNDS) {
      sink += loop(p, b);
      iters++;
    }
    const cpu = process.cpuUsage(cpu0);
    best = Math.min(best, (cpu.user + cpu.system) / 1000 / iters);
  }
  const secsPerIter = best / 1000;
  return {
    samplesPerSec: b.samples / secsPerIter,
    mbPerSec: b.buf.length / secsPerIter / 1e6,
    nsPerSample: (secsPerIter * 1e9) / b.samples,
  };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

const rows: string[][] = [['body', 'series', 'KiB', 'loop', 'samples/s', 'MB/s', 'ns/sample']];
for (const b of bodies) {
  for (const [name, loop] of [
    ['steady', steady],
    ['+key', withKey],
    ['cold', cold],
  ] as const) {
    const r = measure(loop, b);
    rows.push([
      b.name,
      String(b.samples),
      (b.buf.length / 1024).toFixed(0),
      name,
      `${(r.samplesPerSec / 1e6).toFixed(2)}M`,
      r.mbPerSec.toFixed(0),
      r.nsPerSample.toFixed(0),
    ]);
  }
}
const widths: number[] = [];
for (const r of rows) for (const [c, cell] of r.entries()) widths[c] = Math.max(widths[c] ?? 0, cell.length);
for (const r of rows) console.log(r.map((cell, c) => pad(cell, widths[c] ?? 0, c >= 4)).join('  '));
console.log(
  `node ${process.version}; CPU time, best of ${ROUNDS} rounds in ${BUDGET_MS} ms per row${sink === 0.5 ? ' ' : ''}`,
);

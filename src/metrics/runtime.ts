import { readdir, readFile } from 'node:fs/promises';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The process_* series Prometheus' own client exports (same names and meaning) and a short list of
 * Node's runtime figures, read when /metrics is scraped and at no other time.
 *
 * prom-client's default set, which this replaces, kept a libuv timer sampling event-loop delay every
 * second (whose min/mean/percentiles at that resolution only repeated the timer's own period) and a
 * PerformanceObserver called on every garbage collection, and made 55 of a self-scraping agent's 313
 * series (one per heap space and figure, GC buckets, handles by type), each rendered, parsed, written
 * to the WAL and sent at every scrape.
 */
export function registerRuntimeMetrics(reg: Registry): void {
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  let cpu = process.cpuUsage();
  let mem = process.memoryUsage();
  let status = Promise.resolve<ProcStatus>({ vmSize: 0, vmData: 0 });
  let openFds = Promise.resolve(0);
  let maxFds: Promise<number> | null = null;

  // prom-client starts every metric's collect in registration order before it awaits any of them, so
  // this first one takes the figures the others read, and the files are read once per scrape.
  register(reg, [
    'gauge',
    'nodejs_eventloop_lag_seconds',
    'Lag of event loop in seconds.',
    () => {
      cpu = process.cpuUsage();
      mem = process.memoryUsage();
      status = procStatus();
      openFds = openFdCount();
      maxFds ??= maxFdCount();
      return eventLoopLag();
    },
  ]);
  const secs = (micros: number): number => micros / 1e6;
  const figures: readonly Figure[] = [
    ['counter', 'process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', () => secs(cpu.user)],
    ['counter', 'process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', () => secs(cpu.system)],
    [
      'counter',
      'process_cpu_seconds_total',
      'Total user and system CPU time spent in seconds.',
      () => secs(cpu.user + cpu.system),
    ],
    [
      'gauge',
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      () => startSeconds,
    ],
    ['gauge', 'process_resident_memory_bytes', 'Resident memory size in bytes.', () => mem.rss],
    ['gauge', 'process_virtual_memory_bytes', 'Virtual memory size in bytes.', async () => (await status).vmSize],
    ['gauge', 'process_heap_bytes', 'Process heap size in bytes.', async () => (await status).vmData],
    ['gauge', 'process_open_fds', 'Number of open file descriptors.', () => openFds],
    ['gauge', 'process_max_fds', 'Maximum number of open file descriptors.', () => maxFds ?? 0],
    ['gauge', 'nodejs_active_resources_total', 'Total number of active resources.', () => activeResources()],
    ['gauge', 'nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', () => mem.heapTotal],
    ['gauge', 'nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', () => mem.heapUsed],
    ['gauge', 'nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', () => mem.external],
  ];
  for (const f of figures) register(reg, f);
  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  new Gauge({
    name: 'nodejs_version_info',
    help: 'Node.js version info.',
    labelNames: ['version', 'major', 'minor', 'patch'],
    registers: [reg],
  }).set({ version: process.version, major, minor, patch }, 1);
}

/** Kind, name, HELP, and how to read the value at a scrape (possibly waiting for it). */
type Figure = readonly ['counter' | 'gauge', string, string, () => number | Promise<number>];

/** A counter or gauge set from its reading whenever the registry is collected. */
function register(reg: Registry, [kind, name, help, read]: Figure): void {
  if (kind === 'counter') {
    new Counter({
      name,
      help,
      registers: [reg],
      async collect(this: Counter) {
        const v = await read();
        this.reset();
        this.inc(v);
      },
    });
  } else {
    new Gauge({
      name,
      help,
      registers: [reg],
      async collect(this: Gauge) {
        this.set(await read());
      },
    });
  }
}

function activeResources(): number {
  return process.getActiveResourcesInfo().length;
}

interface ProcStatus {
  vmSize: number;
  vmData: number;
}

/** How long a callback queued now waits for the loop to come round: the loop's lag at this moment. */
function eventLoopLag(): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => setImmediate(() => resolve(Number(process.hrtime.bigint() - start) / 1e9)));
}

/** VmSize and VmData of /proc/self/status, in bytes; zeros where there is no procfs. */
async function procStatus(): Promise<ProcStatus> {
  let text: string;
  try {
    text = await readFile('/proc/self/status', 'latin1');
  } catch {
    return { vmSize: 0, vmData: 0 };
  }
  return { vmSize: statusKiB(text, 'VmSize:') * 1024, vmData: statusKiB(text, 'VmData:') * 1024 };
}

function statusKiB(text: string, key: string): number {
  const i = text.indexOf(key);
  if (i < 0) return 0;
  return Number.parseInt(text.slice(i + key.length).trimStart(), 10) || 0;
}

async function openFdCount(): Promise<number> {
  try {
    // readdir holds one descriptor of its own while it reads the directory.
    return (await readdir('/proc/self/fd')).length - 1;
  } catch {
    return 0;
  }
}

/** The soft limit on open files, from /proc/self/limits. */
async function maxFdCount(): Promise<number> {
  try {
    const text = await readFile('/proc/self/limits', 'latin1');
    const line = text.split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft === undefined ? 0 : Number(soft) || 0;
  } catch {
    return 0;
  }
}

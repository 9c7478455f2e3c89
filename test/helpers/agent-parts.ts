import fs from 'node:fs/promises';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../../src/agent/metrics.ts';
import { AgentStorage } from '../../src/agent/storage.ts';
import { WalStats } from '../../src/agent/wal-stats.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { RemoteStorage } from '../../src/remote/remote-storage.ts';
import { systemClock } from '../../src/util/clock.ts';
import { labelsFromRecord } from '../../src/util/labels.ts';
import { tmpDir } from './procs.ts';

/** Storage + remote write wired as the agent wires them, without scraping: tests append directly. */
export async function startPipeline(dataDir: string, yaml: string, opts: { segmentSize?: number; flushDeadlineMs?: number; compress?: boolean } = {}) {
  const log = memoryLogger('warn');
  const reg = new Registry();
  const config: Config = parseConfig(yaml, 'test.yml');
  const storage = new AgentStorage({ dataDir, wal: { segmentSize: opts.segmentSize ?? 32768 * 4, compress: opts.compress ?? true }, log, metrics: new AgentMetrics(reg) });
  await storage.open();
  const stats = new WalStats(storage.walDir);
  const remote = new RemoteStorage({
    dataDir,
    walDir: storage.walDir,
    clock: systemClock,
    log,
    registry: reg,
    userAgent: 'outpost-test',
    walHead: () => storage.head(),
    subscribe: (fn) => storage.onFlush((segment) => fn(segment)),
    highestAppended: () => storage.highestTimestamp,
    bytesAfter: (p) => stats.bytesAfter(p),
    flushDeadlineMs: opts.flushDeadlineMs ?? 5000,
  });
  await remote.applyConfig(config.remoteWrite, config.global.externalLabels);
  const app = storage.appender();
  return {
    storage,
    remote,
    log,
    registry: reg,
    /** Appends one sample per series name at t and commits. */
    async append(t: number, series: Record<string, number>) {
      for (const [name, v] of Object.entries(series)) {
        const ref = app.ref(labelsFromRecord({ __name__: name, job: 'test' }));
        app.append(ref, t, v);
      }
      await app.commit();
    },
    async stop() {
      await remote.stop();
      await storage.close();
    },
  };
}

export { tmpDir };
export async function rmrf(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

import fs from 'node:fs/promises';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../../src/agent/metrics.ts';
import { AgentStorage } from '../../src/agent/storage.ts';
import { WalStats } from '../../src/agent/wal-stats.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { memoryLogger, type Logger } from '../../src/log/logger.ts';
import { RemoteStorage, type RemoteStorageOptions } from '../../src/remote/remote-storage.ts';
import { systemClock } from '../../src/util/clock.ts';
import { labelsFromRecord } from '../../src/util/labels.ts';
import { tmpDir } from './procs.ts';
import { seededRandom } from '../../src/util/random.ts';

/**
 * Opens AgentStorage in dataDir and returns it with the RemoteStorage options that follow its WAL,
 * wired as src/app.ts wires them; the caller adds userAgent, flushDeadlineMs and whatever else.
 */
export async function openStorage(
  dataDir: string,
  wal: { segmentSize: number; compress: boolean },
  log: Logger,
  registry: Registry,
  opts: { tailBytes?: number | undefined } = {},
): Promise<{ storage: AgentStorage; remoteOptions: Omit<RemoteStorageOptions, 'userAgent' | 'flushDeadlineMs'> }> {
  const storage = new AgentStorage({
    dataDir,
    wal,
    log,
    metrics: new AgentMetrics(registry),
    tailBytes: opts.tailBytes,
  });
  await storage.open();
  const walStats = new WalStats(storage.walDir);
  const remoteOptions: Omit<RemoteStorageOptions, 'userAgent' | 'flushDeadlineMs'> = {
    dataDir,
    walDir: storage.walDir,
    clock: systemClock,
    log,
    registry,
    walHead: () => storage.head(),
    subscribe: (fn) => storage.onFlush((segment) => fn(segment)),
    tail: storage.tail,
    highestAppended: () => storage.highestTimestamp,
    bytesAfter: (pos) => walStats.bytesAfter(pos),
    sharedLabels: storage.series,
  };
  return { storage, remoteOptions };
}

/** Storage + remote write wired as the agent wires them, without scraping: tests append directly. */
export async function startPipeline(
  dataDir: string,
  yaml: string,
  opts: { segmentSize?: number; flushDeadlineMs?: number; compress?: boolean; tailBytes?: number } = {},
) {
  const log = memoryLogger('warn');
  const reg = new Registry();
  const config: Config = parseConfig(yaml, 'test.yml');
  const wal = { segmentSize: opts.segmentSize ?? 32768 * 4, compress: opts.compress ?? true };
  const { storage, remoteOptions } = await openStorage(dataDir, wal, log, reg, { tailBytes: opts.tailBytes });
  const remote = new RemoteStorage({
    ...remoteOptions,
    userAgent: 'outpost-test',
    flushDeadlineMs: opts.flushDeadlineMs ?? 5000,
    random: seededRandom(1),
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

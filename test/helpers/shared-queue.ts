import { Registry } from 'prom-client';
import { SeriesTable } from '../../src/agent/series-table.ts';
import { parseConfig } from '../../src/config/load.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import type { WriteClient } from '../../src/remote/client.ts';
import { RemoteMetrics } from '../../src/remote/metrics.ts';
import { QueueManager } from '../../src/remote/queue-manager.ts';
import { seededRandom } from '../../src/util/random.ts';
import type { WalPosition } from '../../src/wal/segments.ts';
import { at } from './defined.ts';
import { FakeClock } from './fake-clock.ts';

/**
 * A started queue for the first remote_write of `yaml`, reading labels from a fresh series table (as the
 * agent's queues do), on a fake clock at t0; `acked` collects the positions it acknowledges.
 */
export function sharedTableQueue(
  yaml: string,
  client: WriteClient,
  t0: number,
): { table: SeriesTable; clock: FakeClock; q: QueueManager; acked: WalPosition[] } {
  const table = new SeriesTable();
  const clock = new FakeClock(t0);
  const cfg = parseConfig(yaml, 't.yml');
  const acked: WalPosition[] = [];
  const q = new QueueManager(at(cfg.remoteWrite, 0, 'remote_write'), client, {
    clock,
    random: seededRandom(1),
    log: memoryLogger('error'),
    metrics: new RemoteMetrics(new Registry()),
    externalLabels: cfg.global.externalLabels,
    events: { onAcked: (p) => acked.push(p) },
    sharedLabels: table,
  });
  q.start();
  return { table, clock, q, acked };
}

import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../../src/agent/metrics.ts';
import { AgentStorage } from '../../src/agent/storage.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { replayWal } from '../../src/wal/reader.ts';
import { RecordType, SampleBatch, decodeSamples, decodeSeries, recordType } from '../../src/wal/records.ts';
import { rmrf, tmpDir } from '../helpers/agent-parts.ts';
import { ROOT } from '../helpers/procs.ts';
import { at } from '../helpers/defined.ts';

const CHILD = path.join(ROOT, 'test/fixtures/wal/crash-child.ts');
const SERIES = 200;

/** Runs the child until it committed at least once, kills it with SIGKILL after a random delay, returns the last commit it reported. */
function runAndKill(dir: string, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', CHILD, dir, String(SERIES)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let last = -1;
    let buf = '';
    let err = '';
    let armed = false;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^committed (\d+)$/.exec(l);
        if (m) last = Number(m[1]);
        if (!armed && m) {
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, sig) => {
      if (sig === 'SIGKILL') resolve(last);
      else reject(new Error(`child exited ${code} ${sig}: ${err}`));
    });
  });
}

test('SIGKILL at random moments: every reported commit survives, nothing duplicated or corrupt', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => rmrf(dir));
  // Deterministic "random" delays.
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let lastCommitted = -1;
  for (let round = 0; round < 12; round++) {
    const last = await runAndKill(dir, Math.floor(rnd() * 150));
    t.true(last >= 0, 'child committed before being killed');
    lastCommitted = Math.max(lastCommitted, last);
    // Replay exactly as the agent does on start (repairing a torn tail), then check the contents.
    const storage = new AgentStorage({
      dataDir: dir,
      wal: { segmentSize: 32768 * 8 },
      log: memoryLogger('error'),
      metrics: new AgentMetrics(new Registry()),
    });
    await storage.open();
    t.is(storage.series.size, SERIES, `round ${round}: all series replayed`);
    t.true(
      storage.highestTimestamp >= lastCommitted,
      `round ${round}: commit ${lastCommitted} reported before the kill survived (have ${storage.highestTimestamp})`,
    );
    await storage.close();
  }
  // Every (series, timestamp) exactly once, and per series the timestamps strictly increase.
  const lastTs = new Map<number, number>();
  const batch = new SampleBatch();
  let samples = 0;
  let violations = 0;
  await replayWal(path.join(dir, 'wal'), (rec) => {
    const type = recordType(rec);
    if (type === RecordType.Series) decodeSeries(rec, () => {});
    if (type !== RecordType.Samples) return;
    batch.reset();
    decodeSamples(rec, batch);
    for (let i = 0; i < batch.n; i++) {
      const prev = lastTs.get(at(batch.refs, i, 'batch.refs')) ?? -Infinity;
      if (at(batch.ts, i, 'batch.ts') <= prev) violations++;
      lastTs.set(at(batch.refs, i, 'batch.refs'), at(batch.ts, i, 'batch.ts'));
      samples++;
    }
  });
  t.is(violations, 0, 'no duplicate or out-of-order sample in the WAL');
  t.true(samples >= SERIES * 12, `samples survived (${samples})`);
});

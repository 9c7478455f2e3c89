import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../../src/agent/metrics.ts';
import { AgentStorage } from '../../src/agent/storage.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { rmrf, tmpDir } from '../helpers/agent-parts.ts';
import { at } from '../helpers/defined.ts';

function open(dir: string) {
  return new AgentStorage({
    dataDir: dir,
    wal: { segmentSize: 32768 * 2, compress: false },
    log: memoryLogger('warn'),
    metrics: new AgentMetrics(new Registry()),
  });
}

test('a corrupt segment in the middle is cut where it breaks; later segments are kept and replayed', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => rmrf(dir));
  const s1 = open(dir);
  await s1.open();
  const app = s1.appender();
  // Several segments, each generation of series in its own stretch of the WAL.
  for (let gen = 0; gen < 6; gen++) {
    for (let k = 0; k < 20; k++) {
      for (let i = 0; i < 200; i++)
        app.append(app.ref(['__name__', `gen${gen}`, 'i', String(i)]), 1_700_000_000_000 + gen * 100 + k, k);
      await app.commit();
    }
  }
  await s1.close();
  const names = (await fs.readdir(path.join(dir, 'wal'))).filter((n) => /^\d{8}$/.test(n)).sort();
  t.true(names.length >= 4, `segments written: ${names}`);
  // Damage a byte in the middle of the second segment.
  const victim = path.join(dir, 'wal', at(names, 1, 'names'));
  const fh = await fs.open(victim, 'r+');
  await fh.write(Buffer.from([0xff, 0xee, 0xdd]), 0, 3, 20_000);
  await fh.close();

  const s2 = open(dir);
  await s2.open();
  const after = (await fs.readdir(path.join(dir, 'wal'))).filter((n) => /^\d{8}$/.test(n)).sort();
  for (const n of names.slice(2)) t.true(after.includes(n), `segment ${n} after the damage is kept`);
  // The newest generation's series (written in the last segments) survived the repair.
  t.true(s2.series.lookup(['__name__', 'gen5', 'i', '0']) > 0, 'series from later segments replayed');
  t.is(
    at((await s2.metrics.corruptions.get()).values, 0, 's2.metrics.corruptions.get().values').value,
    1,
    'the corruption is counted',
  );
  await s2.close();
});

import test from 'ava';
import { freePort, httpOk, startAgent, startOutpost, waitUntil } from '../helpers/procs.ts';

// Invariant 5: one writer per data directory.
test('e2e: a second Outpost on the same data directory exits with an error naming the holder', async (t) => {
  const {
    agent: first,
    port: p1,
    cfgPath: cfg,
    dataDir: data,
  } = await startAgent(t, 'global:\n  scrape_interval: 15s\n');
  await waitUntil(
    () => httpOk(`http://127.0.0.1:${p1}/-/ready`),
    20_000,
    () => first.output(),
  );
  const second = await startOutpost([
    `--config.file=${cfg}`,
    `--storage.agent.path=${data}`,
    `--web.listen-address=127.0.0.1:${await freePort()}`,
  ]);
  const code = await second.exited;
  t.is(code, 1, second.output());
  t.regex(second.output(), /lock/i);
  t.regex(second.output(), new RegExp(`pid[ =:]*${first.child.pid}`), 'names the process holding the lock');
  // The first one is unaffected.
  t.true(await httpOk(`http://127.0.0.1:${p1}/-/healthy`));
});

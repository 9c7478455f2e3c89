import test from 'ava';
import { startAgent, startOutpost, waitUntil } from '../helpers/procs.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';

// Issue 14, defects 2 and 3, as an operator meets them: an endpoint down from the start shows a lag
// that grows (not 0), and stopping the agent does not wait out the flush deadline for it; what it
// did not take stays in the WAL and is delivered after the restart.

const FLUSH_DEADLINE_S = 30;

test('e2e: an endpoint down from the start reads a growing lag, and SIGTERM does not wait out the flush deadline for it', async (t) => {
  const rx = await RwReceiver.start();
  t.teardown(() => rx.close());
  rx.setDefault({ status: 503 });
  const config = (port: number): string[] => [
    'global:',
    '  scrape_interval: 1s',
    'scrape_configs:',
    '  - job_name: outpost',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${port}']`,
    'remote_write:',
    `  - url: ${rx.url}`,
    '    name: central',
    '    queue_config:',
    '      batch_send_deadline: 200ms',
    '      min_backoff: 100ms',
    '      max_backoff: 500ms',
    '',
  ];
  const { agent, port, cfgPath, dataDir } = await startAgent(t, config, [
    `--storage.remote.flush-deadline=${FLUSH_DEADLINE_S}s`,
  ]);
  const api = `http://127.0.0.1:${port}/api/v1/status/remote_write`;
  const lagOf = async (): Promise<number> => {
    const body = (await (await fetch(api)).json()) as { data: { endpoints: { lagSeconds: number }[] } };
    return body.data.endpoints[0]?.lagSeconds ?? -1;
  };
  await waitUntil(
    async () => rx.attempts.length >= 3 && (await lagOf()) > 2,
    30_000,
    () => `failed sends and a lag over 2 s\n${agent.output()}`,
  );
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.regex(
    metrics,
    /prometheus_remote_storage_queue_highest_sent_timestamp_seconds\{[^}]*\} 0\n/,
    'nothing was sent: 0',
  );
  t.regex(
    metrics,
    /prometheus_remote_storage_queue_highest_timestamp_seconds\{[^}]*\} 1\d{9}\n/,
    'the newest enqueued sample',
  );

  const stoppedAt = Date.now();
  const code = await agent.stop('SIGTERM', 60_000);
  const took = Date.now() - stoppedAt;
  t.is(code, 0);
  t.true(took < 10_000, `exited ${took} ms after SIGTERM (flush deadline ${FLUSH_DEADLINE_S} s)`);
  t.regex(agent.output(), /unsent data stays in the WAL and is sent after restart/);
  t.is(rx.samples().length, 0);

  // Back with a healthy endpoint: what was scraped before the stop arrives.
  rx.setDefault({ status: 204 });
  const again = await startOutpost([
    `--config.file=${cfgPath}`,
    `--storage.agent.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  t.teardown(() => again.stop('SIGKILL').then(() => undefined));
  await waitUntil(
    async () => rx.series('up').some((s) => s.timestamp < stoppedAt - 1000),
    30_000,
    () => `samples from before the stop\n${again.output()}`,
  );
  t.pass();
});

import test from 'ava';
import { startAgent, startPrometheusReceiver, waitUntil } from '../helpers/procs.ts';
import { at } from '../helpers/defined.ts';

// Dashboards and alerts written for Prometheus' agent must keep working: Outpost scrapes its own
// /metrics, ships them to a real Prometheus, and the remote-write mixin's expressions evaluate there.

test("e2e: the remote-write mixin lag and failure expressions evaluate on Outpost's self-metrics", async (t) => {
  const prom = await startPrometheusReceiver();
  t.teardown(() => prom.stop());
  const { agent } = await startAgent(t, (port) => [
    'global:',
    '  scrape_interval: 1s',
    'scrape_configs:',
    '  - job_name: outpost',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${port}']`,
    'remote_write:',
    `  - url: ${prom.writeUrl}`,
    '    name: central',
    '    queue_config:',
    '      batch_send_deadline: 500ms',
    '',
  ]);
  const lagExpr =
    'max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds{job="outpost"}[5m])' +
    ' - ignoring(remote_name, url) group_right' +
    ' max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{job="outpost"}[5m])';
  const lag = await waitUntil(
    async () => {
      const r = await prom.query(lagExpr);
      return r.length === 1 ? r : undefined;
    },
    30_000,
    () => `lag expression result\n${agent.output()}`,
  );
  t.is(at(lag, 0, 'lag').metric.remote_name, 'central');
  const v = Number(at(lag, 0, 'lag').value[1]);
  t.true(v >= 0 && v < 10, `lag is small and non-negative (${v})`);
  const failExpr =
    'rate(prometheus_remote_storage_samples_failed_total{job="outpost"}[1m]) / (rate(prometheus_remote_storage_samples_failed_total{job="outpost"}[1m]) + rate(prometheus_remote_storage_samples_total{job="outpost"}[1m]))';
  // rate() needs two scrapes of the counters.
  const failRatio = await waitUntil(
    async () => {
      const r = await prom.query(failExpr);
      return r.length === 1 ? r : undefined;
    },
    20_000,
    'failure ratio series',
  );
  t.is(Number(at(failRatio, 0, 'failRatio').value[1]), 0, 'nothing failed');
  t.is(
    (
      await prom.query(
        'prometheus_remote_storage_shards_desired{job="outpost"} > prometheus_remote_storage_shards_max{job="outpost"}',
      )
    ).length,
    0,
  );
  for (const name of [
    'prometheus_agent_active_series',
    'prometheus_tsdb_wal_segment_current',
    'prometheus_config_last_reload_successful',
    'prometheus_build_info',
    'process_resident_memory_bytes',
  ]) {
    t.is((await prom.query(`${name}{job="outpost"}`)).length, 1, `${name} arrived`);
  }
});

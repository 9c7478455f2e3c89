import test from 'ava';
import { Registry } from 'prom-client';
import { registerRuntimeMetrics } from '../../src/metrics/runtime.ts';

function value(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m?.[1]) throw new Error(`${name} missing from:\n${text}`);
  return Number(m[1]);
}

test('process_* figures are read at scrape time and match what the process reports', async (t) => {
  const reg = new Registry();
  registerRuntimeMetrics(reg);
  const before = process.cpuUsage();
  const text = await reg.metrics();
  const after = process.cpuUsage();
  const cpu = value(text, 'process_cpu_seconds_total');
  t.true(cpu >= (before.user + before.system) / 1e6 && cpu <= (after.user + after.system) / 1e6, `cpu ${cpu}`);
  t.is(
    Math.round((value(text, 'process_cpu_user_seconds_total') + value(text, 'process_cpu_system_seconds_total')) * 1e6),
    Math.round(cpu * 1e6),
  );
  const start = value(text, 'process_start_time_seconds');
  t.true(Math.abs(start - (Date.now() / 1000 - process.uptime())) < 2, `start ${start}`);
  const rss = value(text, 'process_resident_memory_bytes');
  t.true(rss > 1 << 20 && rss < 4 * process.memoryUsage.rss(), `rss ${rss}`);
  t.true(value(text, 'process_virtual_memory_bytes') >= rss);
  t.true(value(text, 'process_heap_bytes') > 0);
  t.true(value(text, 'process_open_fds') >= 3);
  t.true(value(text, 'process_max_fds') >= value(text, 'process_open_fds'));
  t.true(value(text, 'nodejs_heap_size_used_bytes') > 0);
  t.true(value(text, 'nodejs_heap_size_total_bytes') >= value(text, 'nodejs_heap_size_used_bytes'));
  t.regex(
    text,
    new RegExp(`^nodejs_version_info\\{version="${process.version}",major="\\d+",minor="\\d+",patch="\\d+"\\} 1$`, 'm'),
  );
});

test('the event-loop lag is the wait of a callback queued at the scrape, so a blocked loop shows', async (t) => {
  const reg = new Registry();
  registerRuntimeMetrics(reg);
  t.true(value(await reg.metrics(), 'nodejs_eventloop_lag_seconds') < 0.05);
  const pending = reg.metrics();
  const until = Date.now() + 80;
  while (Date.now() < until) {
    // The loop is blocked: the lag callback cannot run.
  }
  const lag = value(await pending, 'nodejs_eventloop_lag_seconds');
  t.true(lag >= 0.07, `lag ${lag}`);
});

test('no timer, observer or per-space series: an idle agent pays nothing until it is scraped', async (t) => {
  const resources = process.getActiveResourcesInfo().length;
  const reg = new Registry();
  registerRuntimeMetrics(reg);
  t.is(process.getActiveResourcesInfo().length, resources, 'nothing scheduled at registration');
  const text = await reg.metrics();
  for (const gone of ['nodejs_heap_space_size', 'nodejs_gc_duration_seconds', 'nodejs_eventloop_lag_p99'])
    t.false(text.includes(gone), gone);
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  t.true(series.length <= 16, `${series.length} series`);
});

import test from 'ava';
import { createLogger, debugEnabled, logDuration, memoryLogger, silentLogger } from '../../src/log/logger.ts';

test('durations in logs read as Prometheus writes them', (t) => {
  t.is(logDuration(60_000), '1m');
  t.is(logDuration(90_000), '1m30s');
  t.is(logDuration(2), '2ms');
  t.is(logDuration(12.345), '12.3ms');
  t.is(logDuration(0.523), '523µs');
  t.is(logDuration(1250), '1.25s');
  t.is(logDuration(3_600_000 + 1000), '1h1s');
  t.is(logDuration(0), '0s');
});

test('debugEnabled says whether debug lines are written, for children too', (t) => {
  const lines: string[] = [];
  const info = createLogger({ level: 'info', write: (l) => lines.push(l) });
  t.false(debugEnabled(info));
  t.false(debugEnabled(info.child('scrape')));
  t.false(debugEnabled(silentLogger));
  const debug = memoryLogger('debug');
  t.true(debugEnabled(debug));
  t.true(debugEnabled(debug.child('scrape')));
  debug.debug('written');
  info.debug('dropped');
  t.is(debug.lines.length, 1);
  t.deepEqual(lines, []);
});

import test from 'ava';
import { memoryLogger } from '../../src/log/logger.ts';
import type { SendResult, WriteClient } from '../../src/remote/client.ts';
import { loggingClient } from '../../src/remote/client-log.ts';
import { at } from '../helpers/defined.ts';

function scripted(results: SendResult[]): WriteClient {
  return { send: async () => results.shift() as SendResult, close: () => {} };
}

const OK: SendResult = { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } };
const REFUSED: SendResult = {
  kind: 'retry',
  error: 'Post "http://127.0.0.1:9/w": connect ECONNREFUSED',
  status: 0,
  retryAfterMs: 0,
  refused: true,
};
const UNAVAILABLE: SendResult = {
  kind: 'retry',
  error: 'server returned HTTP status 503',
  status: 503,
  retryAfterMs: 0,
};

test('every attempt is a debug line with status and duration; the return after failures is one info line', async (t) => {
  const log = memoryLogger('debug');
  let now = 1_000_000;
  const c = loggingClient(scripted([OK, REFUSED, UNAVAILABLE, OK, OK]), log, () => now);
  const body = new Uint8Array(100);
  await c.send(body, 0, 'v1');
  await c.send(body, 0, 'v1');
  now += 90_000;
  await c.send(body, 1, 'v1');
  await c.send(body, 2, 'v1');
  await c.send(body, 0, 'v1');
  const lines = log.lines;
  t.regex(
    at(lines, 0, 'lines'),
    /level=debug msg="Remote write request sent" status=2xx duration=\S+ bytes=100 attempt=0 protocol=v1/,
  );
  t.regex(
    at(lines, 1, 'lines'),
    /level=debug msg="Remote write request failed" status=none duration=\S+ bytes=100 attempt=0 protocol=v1 retry=true err=".*ECONNREFUSED"/,
  );
  t.regex(at(lines, 2, 'lines'), /status=503 .*attempt=1/);
  const recovered = lines.filter((l) => l.includes('recovered'));
  t.is(recovered.length, 1, lines.join('\n'));
  t.regex(
    at(recovered, 0, 'recovered'),
    /level=info msg="Remote write endpoint recovered" failed_attempts=2 failing_for=1m30s last_error="server returned HTTP status 503"/,
  );
  t.is(typeof c.probe, 'undefined', 'no probe invented for a client without one');
});

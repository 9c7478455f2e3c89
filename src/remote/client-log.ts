import { logDuration, type Logger } from '../log/logger.ts';
import type { SendResult, WireProtocol, WriteClient } from './client.ts';

/**
 * Wraps an endpoint's client so that every send attempt is logged at debug level (outcome, status,
 * duration, size) and the return of an endpoint after failures is logged once at info level.
 * Kept outside the queue manager so the retry and sharding logic stays free of logging concerns.
 */
export function loggingClient(inner: WriteClient, log: Logger, now: () => number = Date.now): WriteClient {
  let failingSince = 0;
  let failures = 0;
  let lastError = '';
  const client: WriteClient = {
    async send(body: Uint8Array, attempt: number, protocol: WireProtocol): Promise<SendResult> {
      const t0 = performance.now();
      const r = await inner.send(body, attempt, protocol);
      const duration = logDuration(performance.now() - t0);
      if (r.kind === 'ok') {
        log.debug('Remote write request sent', { status: '2xx', duration, bytes: body.length, attempt, protocol });
        if (failures > 0) {
          log.info('Remote write endpoint recovered', {
            failed_attempts: failures,
            failing_for: logDuration(now() - failingSince),
            last_error: lastError,
          });
          failures = 0;
        }
      } else {
        log.debug('Remote write request failed', {
          status: r.status === 0 ? 'none' : r.status,
          duration,
          bytes: body.length,
          attempt,
          protocol,
          retry: r.kind === 'retry',
          err: r.error,
        });
        if (failures === 0) failingSince = now();
        failures++;
        lastError = r.error;
      }
      return r;
    },
    close: () => inner.close(),
  };
  if (inner.probe) client.probe = () => (inner.probe as () => Promise<boolean>)();
  return client;
}

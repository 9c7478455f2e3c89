import test from 'ava';
import type { SendResult, WriteClient } from '../../src/remote/client.ts';
import { RetryingClient, type RetryHooks } from '../../src/remote/retry.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import { runUntil } from '../helpers/virtual-time.ts';
import { at } from '../helpers/defined.ts';

/** Answers from a script (then ok), noting the virtual time of each attempt. */
class ScriptedClient implements WriteClient {
  readonly at: number[] = [];
  private readonly clock: FakeClock;
  private readonly script: SendResult[];
  constructor(clock: FakeClock, script: SendResult[]) {
    this.clock = clock;
    this.script = [...script];
  }
  async send(): Promise<SendResult> {
    this.at.push(this.clock.now());
    return this.script.shift() ?? { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } };
  }
  close(): void {}
}

const retry = (retryAfterMs = 0): SendResult => ({
  kind: 'retry',
  error: 'server returned HTTP status 503',
  status: 503,
  retryAfterMs,
});

function hooks(): RetryHooks & { failed: RetryHooks['failed']; log: string[] } {
  const log: string[] = [];
  return {
    log,
    attempted: () => log.push('attempt'),
    failed: (_o, attempt, wait) => log.push(`failed#${attempt} wait ${wait}`),
    retrying: () => log.push('retry'),
  };
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((x, i) => x - at(times, i, 'retry times'));
}

test('backoff doubles from min_backoff to max_backoff with ±10% jitter, the same for the same seed', async (t) => {
  const run = async (): Promise<number[]> => {
    const clock = new FakeClock();
    const client = new ScriptedClient(clock, [retry(), retry(), retry(), retry(), retry()]);
    const r = new RetryingClient(client, { clock, random: seededRandom(7), minBackoffMs: 100, maxBackoffMs: 400 });
    const h = hooks();
    const out = await runUntil(clock, r.send(new Uint8Array(1), 'v1', new AbortController().signal, h), { stepMs: 1 });
    t.is(out?.kind, 'ok');
    const failed = h.log.filter((l) => l.startsWith('failed'));
    t.deepEqual(failed, [
      'failed#0 wait 100',
      'failed#1 wait 200',
      'failed#2 wait 400',
      'failed#3 wait 400',
      'failed#4 wait 400',
    ]);
    return gaps(client.at);
  };
  const first = await run();
  const nominal = [100, 200, 400, 400, 400];
  first.forEach((g, i) => {
    t.true(
      g >= at(nominal, i, 'nominal') * 0.9 && g <= at(nominal, i, 'nominal') * 1.1 + 1,
      `wait ${i}: ${g} ms around ${nominal[i]}`,
    );
  });
  t.false(
    first.every((g, i) => g === nominal[i]),
    'jittered',
  );
  t.deepEqual(await run(), first, 'deterministic with a seeded source');
});

test('Retry-After is a minimum: the wait is at least what the server asked, jittered only upward', async (t) => {
  const clock = new FakeClock();
  const client = new ScriptedClient(clock, [retry(5000), retry(5000)]);
  const r = new RetryingClient(client, { clock, random: seededRandom(1), minBackoffMs: 10, maxBackoffMs: 40 });
  await runUntil(clock, r.send(new Uint8Array(1), 'v1', new AbortController().signal, hooks()), { stepMs: 5 });
  for (const g of gaps(client.at)) t.true(g >= 5000 && g <= 5500 + 5, `waited ${g} ms`);
});

test('an aborted signal ends the backoff at once and returns null', async (t) => {
  const clock = new FakeClock();
  const client = new ScriptedClient(
    clock,
    Array.from({ length: 100 }, () => retry()),
  );
  const r = new RetryingClient(client, { clock, random: seededRandom(3), minBackoffMs: 60_000, maxBackoffMs: 60_000 });
  const ctl = new AbortController();
  const p = r.send(new Uint8Array(1), 'v1', ctl.signal, hooks());
  clock.setTimeout(() => ctl.abort(), 1000);
  t.is(await runUntil(clock, p, { stepMs: 100 }), null);
  t.is(client.at.length, 1);
  t.true(clock.now() - at(client.at, 0, 'client.at') < 2000, 'did not sit out the 60 s backoff');
});

test('a non-recoverable outcome is returned without retrying', async (t) => {
  const clock = new FakeClock();
  const client = new ScriptedClient(clock, [{ kind: 'fail', error: 'HTTP 400', status: 400 }]);
  const r = new RetryingClient(client, { clock, random: seededRandom(3), minBackoffMs: 10, maxBackoffMs: 10 });
  const out = await runUntil(clock, r.send(new Uint8Array(1), 'v1', new AbortController().signal, hooks()));
  t.deepEqual(out, { kind: 'fail', error: 'HTTP 400', status: 400 });
  t.is(client.at.length, 1);
});

/** Refuses connections until `upAt` (virtual ms); probes tell whether it listens. */
class RestartingReceiver implements WriteClient {
  readonly at: number[] = [];
  probes = 0;
  private readonly clock: FakeClock;
  private readonly upAt: number;
  private readonly status: number;
  constructor(clock: FakeClock, upAt: number, status = 0) {
    this.clock = clock;
    this.upAt = upAt;
    this.status = status;
  }
  async send(): Promise<SendResult> {
    this.at.push(this.clock.now());
    if (this.clock.now() >= this.upAt) return { kind: 'ok', written: { samples: -1, histograms: -1, exemplars: -1 } };
    return this.status === 0
      ? { kind: 'retry', error: 'connect ECONNREFUSED', status: 0, retryAfterMs: 0, refused: true }
      : { kind: 'retry', error: `HTTP ${this.status}`, status: this.status, retryAfterMs: 0 };
  }
  async probe(): Promise<boolean> {
    this.probes++;
    return this.clock.now() >= this.upAt;
  }
  close(): void {}
}

test('connection refused: a probe ends the backoff as soon as the receiver listens again', async (t) => {
  const clock = new FakeClock();
  const start = clock.now();
  const client = new RestartingReceiver(clock, start + 1000);
  const r = new RetryingClient(client, {
    clock,
    random: seededRandom(5),
    minBackoffMs: 30_000,
    maxBackoffMs: 30_000,
    probeIntervalMs: 250,
  });
  const out = await runUntil(clock, r.send(new Uint8Array(1), 'v1', new AbortController().signal, hooks()), {
    stepMs: 10,
  });
  t.is(out?.kind, 'ok');
  t.is(client.at.length, 2);
  t.true(
    at(client.at, 1, 'client.at') - start <= 1250 + 10,
    `retried ${at(client.at, 1, 'client.at') - start} ms after the failure, not after the 30 s backoff`,
  );
});

test('a receiver that answers 503 is not probed: the retry waits for the backoff', async (t) => {
  const clock = new FakeClock();
  const start = clock.now();
  const client = new RestartingReceiver(clock, start + 1000, 503);
  const r = new RetryingClient(client, { clock, random: seededRandom(5), minBackoffMs: 4000, maxBackoffMs: 8000 });
  await runUntil(clock, r.send(new Uint8Array(1), 'v1', new AbortController().signal, hooks()), { stepMs: 10 });
  t.is(client.probes, 0);
  t.is(client.at.length, 2);
  t.true(at(client.at, 1, 'client.at') - start >= 3600, 'waited the (jittered) 4 s backoff');
});

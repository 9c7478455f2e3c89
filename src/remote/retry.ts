import { elapsedSource, sleep, type Clock } from '../util/clock.ts';
import type { Random } from '../util/random.ts';
import type { SendResult, WireProtocol, WriteClient } from './client.ts';

/** A send's final outcome: ok or a non-recoverable failure. */
export type FinalResult = Exclude<SendResult, { kind: 'retry' }>;
/** A recoverable failure of one attempt. */
type RetryOutcome = Extract<SendResult, { kind: 'retry' }>;

/** What the caller learns about each attempt, for its metrics, health and shard calculation. */
export interface RetryHooks {
  /** An attempt (counting from 0) finished with `outcome` after `seconds`. */
  attempted(seconds: number, outcome: SendResult, attempt: number): void;
  /** An attempt failed recoverably; the next one follows after about waitMs (attempt counts from 0). */
  failed(outcome: RetryOutcome, attempt: number, waitMs: number): void;
  /** The wait is over and the request goes out again. */
  retrying(): void;
}

export interface RetryOptions {
  clock: Clock;
  /** Jitter source. */
  random: Random;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** While the receiver refuses connections, how often a TCP probe checks whether it is back. */
  probeIntervalMs?: number;
}

const PROBE_INTERVAL_MS = 250;

/**
 * Prometheus' retry policy around a WriteClient: recoverable outcomes are retried until success,
 * a non-recoverable outcome, or the caller's signal, with doubling backoff from min_backoff to
 * max_backoff and ±10% jitter, or the server's Retry-After (jittered only upward: it is a minimum).
 * After "connection refused" it also probes the port, so a receiver that comes back ends the wait.
 */
export class RetryingClient {
  private readonly client: WriteClient;
  private readonly opts: RetryOptions;
  private readonly elapsed: () => number;
  /** Senders sleeping in a backoff that a successful probe cuts short. */
  private probeWaiters = 0;
  private reachable: Promise<boolean> | null = null;

  constructor(client: WriteClient, opts: RetryOptions) {
    this.client = client;
    this.opts = opts;
    this.elapsed = elapsedSource(opts.clock);
  }

  /** The outcome once final; null when `signal` ended the retries first. */
  async send(
    body: Uint8Array,
    protocol: WireProtocol,
    signal: AbortSignal,
    hooks: RetryHooks,
  ): Promise<FinalResult | null> {
    const { clock, minBackoffMs, maxBackoffMs } = this.opts;
    let backoff = minBackoffMs;
    for (let attempt = 0; ; attempt++) {
      const started = this.elapsed();
      const outcome = await this.client.send(body, attempt, protocol);
      hooks.attempted((this.elapsed() - started) / 1000, outcome, attempt);
      if (outcome.kind !== 'retry') return outcome;
      const delay = outcome.retryAfterMs > 0 ? outcome.retryAfterMs : backoff;
      hooks.failed(outcome, attempt, delay);
      if (signal.aborted) return null;
      const wait = outcome.retryAfterMs > 0 ? Math.round(delay * (1 + this.opts.random() * 0.1)) : this.jitter(delay);
      if (outcome.refused && this.client.probe) await this.sleepUnlessReachable(wait, signal);
      else await sleep(clock, wait, signal);
      if (signal.aborted) return null;
      hooks.retrying();
      backoff = Math.min(delay * 2, maxBackoffMs);
    }
  }

  close(): void {
    this.client.close();
  }

  /** ±10% so many agents recovering together do not retry in lockstep. */
  private jitter(ms: number): number {
    return Math.round(ms * (0.9 + this.opts.random() * 0.2));
  }

  /**
   * Backoff after "connection refused" (the receiver's process is down, e.g. restarting): sleeps
   * as usual but wakes as soon as a TCP probe finds the port open again, so the backlog starts to
   * drain within a probe interval of the receiver's return rather than up to max_backoff later.
   * One probe loop serves every sender waiting here, and it ends with the last waiter.
   */
  private async sleepUnlessReachable(ms: number, signal: AbortSignal): Promise<void> {
    const wake = new AbortController();
    const stop = (): void => wake.abort();
    signal.addEventListener('abort', stop, { once: true });
    this.probeWaiters++;
    this.reachable ??= this.probeUntilReachable();
    const back = this.reachable.then((ok) => (ok ? undefined : new Promise<void>(() => undefined)));
    try {
      await Promise.race([sleep(this.opts.clock, ms, wake.signal), back]);
    } finally {
      this.probeWaiters--;
      signal.removeEventListener('abort', stop);
      wake.abort();
    }
  }

  /** True once a probe connected; false when the last waiter left first. */
  private async probeUntilReachable(): Promise<boolean> {
    const client = this.client;
    try {
      while (this.probeWaiters > 0) {
        await sleep(this.opts.clock, this.opts.probeIntervalMs ?? PROBE_INTERVAL_MS);
        if (this.probeWaiters > 0 && client.probe && (await client.probe())) return true;
      }
      return false;
    } finally {
      this.reachable = null;
    }
  }
}

/** How often the desired shard count is recomputed (Prometheus: 10 s). */
export const SHARD_UPDATE_MS = 10_000;
/** How often a saturated queue is checked for catch-up resharding. */
export const CATCH_UP_CHECK_MS = 1000;
const EWMA_ALPHA = 0.2;
/** Prometheus allows 30% too many or too few shards before it reshards. */
const SHARD_TOLERANCE = 0.3;
/** Prometheus does not shrink while the queue is more than this far behind. */
const MAX_DELAY_TO_SHRINK_SEC = 10;
/** Behind by more than this, catch-up quadruples the shards instead of doubling them. */
const FAR_BEHIND_SEC = 30;
/**
 * Catch-up doubles shards only while a send takes less than this: each step waits for the requests
 * in flight while the reader waits, so with a slow receiver (seconds per request) a step costs more
 * than it gains and the smoothed calculation alone decides.
 */
const CATCH_UP_MAX_SEND_SEC = CATCH_UP_CHECK_MS / 1000;

/** Exponentially weighted rate, updated once per shard-update tick (Prometheus' ewmaRate). */
class Ewma {
  private value = 0;
  private init = false;
  get rate(): number {
    return this.value;
  }
  update(instant: number): void {
    if (!this.init) {
      if (instant === 0) return;
      this.value = instant;
      this.init = true;
    } else this.value += EWMA_ALPHA * (instant - this.value);
  }
}

/**
 * Prometheus' shard calculation: enough shards to send what comes in, plus 5% of the backlog per
 * second. Null while nothing was sent (no basis for an estimate).
 */
export function desiredShards(r: {
  inRate: number;
  outRate: number;
  dropRate: number;
  sendSecondsRate: number;
  delaySeconds: number;
}): number | null {
  if (r.outRate <= 0) return null;
  const keptRatio = r.outRate / (r.dropRate + r.outRate);
  const timePerSample = r.sendSecondsRate / r.outRate;
  const pending = r.delaySeconds * r.inRate * keptRatio;
  return timePerSample * (r.inRate * keptRatio + 0.05 * pending);
}

/** What the queue tells the resharder at each decision. */
export interface QueueView {
  readonly shards: number;
  readonly minShards: number;
  readonly maxShards: number;
  /** The last send attempt failed (the endpoint is down or refusing). */
  readonly failing: boolean;
  /** Highest sample timestamp enqueued and acknowledged (ms). */
  readonly highestEnqueued: number;
  readonly highestSent: number;
  /** Newest sample appended to the WAL (ms): how far the reader itself is behind. */
  readonly highestAppended: number;
  /** Some shard is (nearly) full: the reader is waiting on the queue. */
  readonly saturated: boolean;
}

/**
 * Decides the shard count. Two paths:
 * - the regular one, every 10 s, is Prometheus': EWMA rates of samples in, out and dropped and of
 *   time spent sending give a smoothed desired count; it moves only outside ±30%, never down while
 *   more than 10 s behind, never while failing or frozen after a recoverable error, and only if a
 *   send completed since the last tick;
 * - catch-up, checked every second, is Outpost's own: while shards are full and sends are quick
 *   and succeeding, double (or quadruple when far behind) now rather than after several ticks, and
 *   return to the smoothed count once caught up.
 */
export class Resharder {
  private readonly samplesIn: () => number;
  private readonly inRate = new Ewma();
  private readonly outRate = new Ewma();
  private readonly dropRate = new Ewma();
  private readonly durRate = new Ewma();
  private lastIn = 0;
  private lastOut = 0;
  private lastDropped = 0;
  private lastSeconds = 0;
  private lastAt = 0;
  private highestInTs = 0;
  // Counters fed by the queue.
  private samplesOut = 0;
  private sendSeconds = 0;
  private dropped = 0;
  private lastSendAt = 0;
  /** Mean seconds per completed send, smoothed per send. */
  private sendLatency = 0;
  /** Until this time (ms) resharding is frozen after a recoverable error, as current Prometheus does. */
  private frozenUntil = 0;
  /** The last smoothed desired count (unrounded), 0 before the first estimate. */
  private lastDesired = 0;
  // Catch-up state.
  private catchUpFrom: number | null = null;
  private caughtUpChecks = 0;
  private lastCatchUpStep = 0;

  constructor(samplesIn: () => number) {
    this.samplesIn = samplesIn;
  }

  /** One send attempt took `seconds` (success or not): time spent sending. */
  recordAttempt(seconds: number): void {
    this.sendSeconds += seconds;
  }

  /** A batch of n items completed (sent or failed for good) at `now`; its last attempt took `seconds`. */
  recordSent(n: number, now: number, seconds: number): void {
    this.samplesOut += n;
    this.lastSendAt = now;
    this.sendLatency = this.sendLatency === 0 ? seconds : this.sendLatency + EWMA_ALPHA * (seconds - this.sendLatency);
  }

  recordDropped(n: number): void {
    this.dropped += n;
  }

  /** A recoverable error: no resharding until `until` (ms). */
  freeze(until: number): void {
    if (until > this.frozenUntil) this.frozenUntil = until;
  }

  /** The desired count (unrounded) of the last tick, for the shards_desired gauge; null before one. */
  get desired(): number | null {
    return this.lastDesired > 0 ? this.lastDesired : null;
  }

  /**
   * The regular tick: updates the rates and returns the shard count to move to, or null to stay.
   * `onDesired` receives the unrounded estimate whenever there is one.
   */
  tick(q: QueueView, now: number, onDesired: (d: number) => void): number | null {
    const desired = this.estimate(q, now);
    if (desired === null) return null;
    this.lastDesired = desired;
    onDesired(desired);
    const cur = q.shards;
    if (desired >= (1 - SHARD_TOLERANCE) * cur && desired <= (1 + SHARD_TOLERANCE) * cur) return null;
    let n = Math.ceil(desired);
    const delaySec = (this.highestInTs - q.highestSent) / 1000;
    if (n < cur && delaySec > MAX_DELAY_TO_SHRINK_SEC) return null;
    n = Math.min(q.maxShards, Math.max(q.minShards, n));
    if (n === cur) return null;
    if (q.failing || now < this.frozenUntil) return null;
    // Not able to send since the last tick: more shards would not help.
    if (now - this.lastSendAt > SHARD_UPDATE_MS) return null;
    return n;
  }

  /** Desired shards (unrounded) from the EWMA rates, or null until there is something to go by. */
  private estimate(q: QueueView, now: number): number | null {
    const dt = this.lastAt === 0 ? SHARD_UPDATE_MS / 1000 : (now - this.lastAt) / 1000;
    this.lastAt = now;
    if (dt <= 0) return null;
    const inTotal = this.samplesIn();
    this.inRate.update((inTotal - this.lastIn) / dt);
    this.outRate.update((this.samplesOut - this.lastOut) / dt);
    this.dropRate.update((this.dropped - this.lastDropped) / dt);
    this.durRate.update((this.sendSeconds - this.lastSeconds) / dt);
    this.lastIn = inTotal;
    this.lastOut = this.samplesOut;
    this.lastDropped = this.dropped;
    this.lastSeconds = this.sendSeconds;
    this.highestInTs = Math.max(this.highestInTs, q.highestEnqueued);
    return desiredShards({
      inRate: this.inRate.rate,
      outRate: this.outRate.rate,
      dropRate: this.dropRate.rate,
      sendSecondsRate: this.durRate.rate,
      delaySeconds: Math.max(0, (this.highestInTs - q.highestSent) / 1000),
    });
  }

  /**
   * The catch-up check (every second, and when an endpoint recovers): the shard count to move to,
   * or null. Catching up a backlog (after an outage, a restart): when the shards are full and quick
   * sends succeed, the endpoint's parallelism is the bottleneck and the reader is waiting, so grow
   * now. Never while failing.
   */
  /** True between a catch-up step and the return to the normal count. */
  get catchingUp(): boolean {
    return this.catchUpFrom !== null;
  }

  catchUp(q: QueueView, now: number): number | null {
    if (q.failing) return null;
    const n = q.shards;
    if (!q.saturated && this.catchUpFrom !== null && ++this.caughtUpChecks >= 2) {
      // Caught up: the reader kept up for two checks in a row. Extra shards would now each hold a
      // sliver of every scrape until batch_send_deadline, so go back at once, to the smoothed count
      // if that is higher than where we began.
      const back = Math.min(q.maxShards, Math.max(this.catchUpFrom, Math.ceil(this.lastDesired)));
      this.catchUpFrom = null;
      this.caughtUpChecks = 0;
      return back !== n ? back : null;
    }
    if (q.saturated) this.caughtUpChecks = 0;
    if (n >= q.maxShards || !q.saturated) return null;
    if (now - this.lastSendAt > CATCH_UP_CHECK_MS * 2) return null;
    if (this.sendLatency > CATCH_UP_MAX_SEND_SEC) return null;
    // A step needs time to show: right after one, the shards are still full of what was handed over.
    if (now - this.lastCatchUpStep < CATCH_UP_CHECK_MS * 1.5) return null;
    this.lastCatchUpStep = now;
    this.catchUpFrom ??= n;
    // Every reshard holds the reader up for the requests in flight, so a backlog of more than half a
    // minute (an outage, a restart) grows in fewer, bigger steps.
    const behindSec = (q.highestAppended - q.highestSent) / 1000;
    return Math.min(q.maxShards, n * (behindSec > FAR_BEHIND_SEC ? 4 : 2));
  }
}

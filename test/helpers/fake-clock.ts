import type { Clock, TimerHandle } from '../../src/util/clock.ts';

/** A manually advanced clock for tests: timers fire in order when advance() passes their due time. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: { id: number; due: number; fn: () => void }[] = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const h = { id: ++this.seq, due: this.t + Math.max(0, ms), fn };
    this.timers.push(h);
    return h;
  }

  clearTimeout(h: TimerHandle): void {
    this.timers = this.timers.filter((x) => x !== h);
  }

  /** Moves time forward, firing due timers in due order (timers set while firing are honoured). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: { id: number; due: number; fn: () => void } | undefined;
      for (const x of this.timers)
        if (x.due <= end && (!next || x.due < next.due || (x.due === next.due && x.id < next.id))) next = x;
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.due);
      next.fn();
    }
    this.t = end;
  }

  get pending(): number {
    return this.timers.length;
  }
}

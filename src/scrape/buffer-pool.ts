/**
 * Body buffers shared by all scrape loops. A body is needed only from the first byte received until
 * its samples are appended, and targets are spread over the interval, so a handful of buffers serve
 * any number of targets instead of one large buffer per target.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly maxPooled: number;
  private readonly maxBytes: number;

  /**
   * `maxBytes`: larger buffers are not kept. A buffer grown for one huge scrape would otherwise stay
   * allocated for good (a 300 MB body left 390 MB behind); a target that always sends such bodies
   * pays one allocation per scrape instead.
   */
  constructor(maxPooled = 4, maxBytes = 8 * 1024 * 1024) {
    this.maxPooled = maxPooled;
    this.maxBytes = maxBytes;
  }

  /** A buffer of at least `size` bytes (contents undefined). */
  get(size: number): Buffer {
    let best: Buffer | undefined;
    let at = -1;
    for (const [i, b] of this.free.entries()) {
      if (b.length >= size && (best === undefined || b.length < best.length)) {
        best = b;
        at = i;
      }
    }
    if (best !== undefined) {
      // Swap-remove: the last buffer takes the chosen one's place.
      const last = this.free.pop();
      if (last !== undefined && at < this.free.length) this.free[at] = last;
      return best;
    }
    return Buffer.allocUnsafe(Math.max(size, 64 * 1024));
  }

  /** Returns a buffer; the smallest is dropped when the pool is full. */
  put(buf: Buffer): void {
    if (buf.length > this.maxBytes) return;
    if (this.free.length < this.maxPooled) {
      this.free.push(buf);
      return;
    }
    let smallest: Buffer | undefined;
    let at = -1;
    for (const [i, b] of this.free.entries()) {
      if (smallest === undefined || b.length < smallest.length) {
        smallest = b;
        at = i;
      }
    }
    if (smallest !== undefined && smallest.length < buf.length) this.free[at] = buf;
  }

  get pooled(): number {
    return this.free.length;
  }
}

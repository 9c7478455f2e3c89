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
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i].length;
      if (len >= size && (best < 0 || len < this.free[best].length)) best = i;
    }
    if (best >= 0) {
      const b = this.free[best];
      this.free[best] = this.free[this.free.length - 1];
      this.free.pop();
      return b;
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
    let smallest = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i].length < this.free[smallest].length) smallest = i;
    if (this.free[smallest].length < buf.length) this.free[smallest] = buf;
  }

  get pooled(): number {
    return this.free.length;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The series text a scrape cache expects next (TextParser.expect): bytes [off, off + len) of buf, len < 0
 * for none. One class for every parser that takes hints, so the hit test reads the same fields everywhere.
 */
export class SeriesHint {
  buf: Uint8Array = EMPTY;
  /** A view of buf, for word-wide compares. */
  view: DataView = new DataView(EMPTY.buffer, EMPTY.byteOffset, 0);
  off = 0;
  len = -1;

  set(src: Uint8Array, off: number, len: number): void {
    // The hint comes from one scrape cache arena call after call: a new view only when it grew.
    if (src !== this.buf) {
      this.buf = src;
      this.view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    }
    this.off = off;
    this.len = len;
  }
}

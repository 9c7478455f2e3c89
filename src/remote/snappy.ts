/**
 * Snappy *block* format (what remote write uses; not the framed/stream format), via snappyjs.
 * snappyjs' public API allocates its output per call and has no way to hand it a buffer, so the
 * compressor is a thin wrapper; the class exists so the send path can switch to a buffer-reusing
 * implementation without touching its callers.
 */
import { compress, uncompress } from 'snappyjs';
import { OutpostError } from '../util/errors.ts';

export class SnappyError extends OutpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('snappy', message, options);
  }
}

/** Default cap on a decoded body: far above any sane remote-write request, low enough to refuse a bomb. */
export const DEFAULT_MAX_UNCOMPRESSED = 64 * 1024 * 1024;

export class SnappyBlockCompressor {
  /** Compressed bytes of src; the result is owned by the caller. */
  compress(src: Uint8Array): Uint8Array {
    // A Buffer input makes snappyjs return a Buffer view instead of copying into a fresh Uint8Array.
    const input = Buffer.isBuffer(src) ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);
    return compress(input);
  }
}

/**
 * Decodes a snappy block. Throws SnappyError for a corrupt stream or a declared length above
 * maxLength (checked before anything is allocated).
 */
export function snappyUncompress(src: Uint8Array, maxLength = DEFAULT_MAX_UNCOMPRESSED): Uint8Array {
  const input = Buffer.isBuffer(src) ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  try {
    return uncompress(input, maxLength);
  } catch (err) {
    throw new SnappyError(`snappy: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

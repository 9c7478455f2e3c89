import { OutpostError, codedError } from '../util/errors.ts';

/**
 * The WAL could not be read at (segment, offset). `offset` is the byte offset in the segment of the
 * first record that could not be read completely: every record before it is intact, so it is the
 * point where a repair cuts. `segment` is -1 when the bytes did not come from a numbered segment.
 */
export class CorruptionError extends OutpostError {
  readonly segment: number;
  readonly offset: number;
  readonly reason: string;
  constructor(segment: number, offset: number, reason: string, options?: { cause?: unknown; dir?: string }) {
    const name = segment < 0 ? String(segment) : String(segment).padStart(8, '0');
    const where = options?.dir ? `${options.dir}/${name}` : name;
    super('OUTPOST_WAL_CORRUPTION', `WAL corruption in segment ${where} at offset ${offset}: ${reason}`, options);
    this.segment = segment;
    this.offset = offset;
    this.reason = reason;
  }
}

/** A record's bytes do not follow its type's layout (truncated, unknown type, trailing bytes). */
export class InvalidRecordError extends codedError('OUTPOST_WAL_INVALID_RECORD') {}

/** The segment files of a WAL directory are not a contiguous run of numbers. */
export class SegmentsError extends OutpostError {
  readonly dir: string;
  constructor(dir: string, message: string) {
    super('OUTPOST_WAL_SEGMENTS', `${dir}: ${message}`);
    this.dir = dir;
  }
}

/** Writing, syncing or rotating a segment failed, or the writer was used after close(). */
export class WalWriteError extends codedError('OUTPOST_WAL_WRITE') {}

/** Another process holds the data directory. */
export class LockError extends OutpostError {
  readonly dir: string;
  readonly pid: number | null;
  constructor(dir: string, message: string, pid: number | null, options?: { cause?: unknown }) {
    super('OUTPOST_LOCKED', message, options);
    this.dir = dir;
    this.pid = pid;
  }
}

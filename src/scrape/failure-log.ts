/**
 * `scrape_failure_log_file` (global or per job): every failed scrape of the job appends one JSON line,
 * as Prometheus 3 does with its JSONFileLogger (util/logging/file.go, scrape/scrape.go v3.14.0 lines
 * 1420-1426): `{"time":…,"level":"ERROR","msg":<error>,"job_name":…,"target":<URL>}`. Only errors of
 * the HTTP exchange are logged (refused connection, timeout, status, body limit), not parse or limit
 * errors of the body, and not the forced errors of target_limit, again as in 3.x. Files are opened
 * in append mode (created 0666 before umask) and reopened on every reload, so rotation needs only a
 * reload; jobs naming the same file share it.
 */
import fs from 'node:fs';
import type { Logger } from '../log/logger.ts';
import { errorMessage } from '../util/errors.ts';

/** One log file; the object outlives reloads (loops keep it) while its descriptor is replaced. */
export class FailureLogFile {
  readonly path: string;
  private fd: number | null = null;
  private readonly log: Logger;
  private failed = false;

  constructor(path: string, log: Logger) {
    this.path = path;
    this.log = log;
  }

  /** (Re)opens the file; on failure the file stays closed and nothing is written until the next reload. */
  open(): void {
    this.close();
    try {
      this.fd = fs.openSync(this.path, 'a', 0o666);
      this.failed = false;
    } catch (err) {
      // 3.x refuses the reload here; Outpost has already validated and applies the rest of the config.
      this.log.error("can't create json log file", { file: this.path, err: errorMessage(err) });
    }
  }

  write(job: string, target: string, message: string, now: Date = new Date()): void {
    const fd = this.fd;
    if (fd === null) return;
    const line = JSON.stringify({ time: goSlogTime(now), level: 'ERROR', msg: message, job_name: job, target });
    try {
      // One small synchronous append per failed scrape, as Go's handler writes: no queue to drain or race
      // with a reopen.
      fs.writeSync(fd, `${line}\n`);
    } catch (err) {
      if (!this.failed)
        this.log.error('Writing the scrape failure log failed', { file: this.path, err: errorMessage(err) });
      this.failed = true;
    }
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fs.closeSync(fd);
    } catch {
      // Nothing was buffered: a failed close loses nothing.
    }
  }
}

/** The failure log files of the current config, one per distinct path. */
export class FailureLogs {
  private readonly files = new Map<string, FailureLogFile>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Reopens every named file (as 3.x promises on each reload) and closes those no longer named. */
  apply(paths: Iterable<string>): void {
    const want = new Set(paths);
    for (const [p, f] of this.files) {
      if (!want.has(p)) {
        f.close();
        this.files.delete(p);
      }
    }
    for (const p of want) {
      let f = this.files.get(p);
      if (f === undefined) {
        f = new FailureLogFile(p, this.log);
        this.files.set(p, f);
      }
      f.open();
    }
  }

  get(path: string | undefined): FailureLogFile | undefined {
    return path === undefined ? undefined : this.files.get(path);
  }

  closeAll(): void {
    for (const f of this.files.values()) f.close();
    this.files.clear();
  }
}

/** Go slog's JSON time: RFC 3339 with milliseconds, in local time. */
function goSlogTime(d: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:` +
    `${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${zone}`
  );
}

/**
 * Structured logger with Prometheus-style keys (ts, level, component, msg). Level filtering is decided
 * once at construction: disabled levels are no-op functions, so a debug call on a hot path costs nothing.
 * Values are printed via String(), so a Secret prints as <secret> and can never leak.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';
export type LogFields = Record<string, unknown>;

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(component: string): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  write?: ((line: string) => void) | undefined;
  now?: () => number;
}

const noop = (): void => {};

/**
 * A duration for a log field as Prometheus writes them: configured durations as `1m`, `30s`, `2ms`,
 * measured ones as Go prints a time.Duration (`523µs`, `12.3ms`, `1.25s`), never bare milliseconds.
 */
export function logDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return '-' + logDuration(-ms);
  if (ms === 0) return '0s';
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${Number(ms.toPrecision(3))}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toPrecision(3))}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return (h ? `${h}h` : '') + (m ? `${m}m` : '') + (sec ? `${sec}s` : '');
}

export function createLogger(opts: LoggerOptions = {}, component?: string): Logger {
  const level = LEVELS[opts.level ?? 'info'];
  const format = opts.format ?? 'logfmt';
  const write = opts.write ?? ((line: string) => void process.stderr.write(line + '\n'));
  const now = opts.now ?? Date.now;
  const emit = (lvl: LogLevel) => (msg: string, fields?: LogFields) => {
    const rec: LogFields = { ts: new Date(now()).toISOString(), level: lvl };
    if (component) rec.component = component;
    rec.msg = msg;
    if (fields) for (const k of Object.keys(fields)) rec[k] = fields[k];
    write(format === 'json' ? JSON.stringify(rec, jsonReplacer) : logfmt(rec));
  };
  return {
    debug: level <= 0 ? emit('debug') : noop,
    info: level <= 1 ? emit('info') : noop,
    warn: level <= 2 ? emit('warn') : noop,
    error: emit('error'),
    child: (c: string) => createLogger(opts, component ? `${component}/${c}` : c),
  };
}

function jsonReplacer(_k: string, v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === 'bigint') return v.toString();
  return v;
}

function logfmt(rec: LogFields): string {
  let out = '';
  for (const k of Object.keys(rec)) {
    const v = rec[k];
    if (v === undefined) continue;
    const s =
      v instanceof Error
        ? v.message
        : typeof v === 'object' && v !== null && !hasOwnToString(v)
          ? JSON.stringify(v)
          : String(v);
    out +=
      (out ? ' ' : '') + k + '=' + (s === '' || /[\s"=\\]/.test(s) || /[^\x21-\x7e]/.test(s) ? JSON.stringify(s) : s);
  }
  return out;
}

function hasOwnToString(v: object): boolean {
  return (
    typeof (v as { toString?: unknown }).toString === 'function' && (v as object).toString !== Object.prototype.toString
  );
}

/**
 * Whether log.debug() writes anything: lets a hot path skip building fields nobody reads (a scrape's
 * two debug lines formatted a duration on every scrape, ~1 % of the main thread at 100k series).
 */
export function debugEnabled(log: Logger): boolean {
  return log.debug !== noop;
}

/** A logger that drops everything, for components whose caller gave none. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger };

/** A logger that records lines, for tests. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l = createLogger({ level, format: 'logfmt', write: (s) => lines.push(s) });
  return Object.assign(l, { lines });
}

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

/** A logger that records lines, for tests. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l = createLogger({ level, format: 'logfmt', write: (s) => lines.push(s) });
  return Object.assign(l, { lines });
}

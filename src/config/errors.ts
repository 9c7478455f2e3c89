import { OutpostError } from '../util/errors.ts';
import type { ConfigIssue } from './types.ts';

/** `file:line:col: path: message` (position and path left out when unknown). */
export function formatIssue(i: ConfigIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.column}` : i.file;
  return i.path ? `${where}: ${i.path}: ${i.message}` : `${where}: ${i.message}`;
}

/**
 * An invalid configuration. The loader collects every problem it can find in one pass (up to a
 * cap) instead of stopping at the first, so one `--check-config` run shows them all. The
 * file/line/column/path fields describe the first problem; `issues` has all of them in file
 * order and the message lists each on its own line.
 */
export class ConfigError extends OutpostError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly issues: readonly ConfigIssue[];

  constructor(
    file: string,
    line: number,
    column: number,
    path: string,
    message: string,
    issues?: readonly ConfigIssue[],
  ) {
    const all = issues && issues.length > 0 ? issues : [{ file, line, column, path, message }];
    super('OUTPOST_CONFIG_INVALID', all.map(formatIssue).join('\n'));
    this.file = file;
    this.line = line;
    this.column = column;
    this.path = path;
    this.issues = Object.freeze([...all]);
  }

  static fromIssues(issues: readonly ConfigIssue[]): ConfigError {
    const [f] = issues;
    if (f === undefined) throw new RangeError('a ConfigError needs at least one issue');
    return new ConfigError(f.file, f.line, f.column, f.path, f.message, issues);
  }
}

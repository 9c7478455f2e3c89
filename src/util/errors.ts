/**
 * Base of every error Outpost raises on purpose. A stable `code` lets callers and tests branch on
 * the kind of failure without matching message text.
 */
export class OutpostError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A failure while starting the agent, worded in the agent's terms ("opening storage failed: ..."). */
export class StartError extends OutpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUTPOST_START_FAILED', message, options);
  }
}

/** What the C library says for the codes an operator meets at start-up (Node's own text adds the code and call). */
const PLAIN: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ELOOP: 'too many levels of symbolic links',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  ENOTFOUND: 'no such host',
};

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

/**
 * A system error as Go programs such as Prometheus word it ("mkdir /data: not a directory"), instead
 * of Node's "EEXIST: file already exists, mkdir '/data'"; other errors keep their message.
 */
export function systemErrorText(err: unknown): string {
  if (!(err instanceof Error) || err instanceof OutpostError) return errorMessage(err);
  const e = err as Error & SystemError;
  const code = typeof e.code === 'string' ? e.code : '';
  const syscall = typeof e.syscall === 'string' ? e.syscall : '';
  if (!code || !syscall) return err.message;
  const p = typeof e.path === 'string' ? e.path : '';
  // mkdir -p over a file: the data path itself (EEXIST) or one of its parents (ENOTDIR) is a file.
  if (syscall === 'mkdir' && code === 'EEXIST') return `${p} is not a directory`;
  let where = p;
  if (!where && typeof e.address === 'string') where = typeof e.port === 'number' ? `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}` : e.address;
  if (!where && typeof e.hostname === 'string') where = e.hostname;
  let text = `${syscall}${where ? ' ' + where : ''}: ${PLAIN[code] ?? code.toLowerCase()}`;
  if (syscall === 'listen' && code === 'EACCES') text += ' (ports below 1024 need CAP_NET_BIND_SERVICE)';
  return text;
}

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

/**
 * The shape every one-shot HTTP exchange here has (a scrape, an OAuth2 token request, a proxy
 * CONNECT): several events may report an outcome (response end, stream error, request error,
 * the deadline), and only the first counts. On an error or at the deadline the request is
 * destroyed, so its socket is neither left open nor handed back to a keep-alive pool.
 */

/** Reports the outcome; calls after the first are ignored. */
export type Settle<T> = (err: Error | null, value?: T) => void;

export interface Destroyable {
  destroy(): void;
}

/**
 * Runs start(settle, isSettled), which sends the request and returns it, and settles with the first
 * outcome reported through settle, or with timeoutError() after timeoutMs. isSettled() tells late
 * events to stay away from anything the caller may already have reused (a body buffer).
 */
export function requestOnce<T>(
  timeoutMs: number,
  timeoutError: () => Error,
  start: (settle: Settle<T>, isSettled: () => boolean) => Destroyable,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let failed = false;
    let req: Destroyable | null = null;
    const settle: Settle<T> = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        failed = true;
        req?.destroy();
        reject(err);
      } else resolve(value as T);
    };
    const timer = setTimeout(() => settle(timeoutError()), timeoutMs);
    try {
      req = start(settle, () => settled);
    } catch (e) {
      settle(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    // An error reported before start() returned had no request to destroy yet.
    if (failed) req.destroy();
  });
}

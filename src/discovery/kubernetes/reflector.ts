/**
 * List-then-watch of one resource into a local store, with client-go's reflector semantics:
 *  - LIST in pages (`limit`, `continue`), then WATCH from the list's `resourceVersion` with
 *    `allowWatchBookmarks=true` and a randomised `timeoutSeconds` (5–10 min, so many watchers do
 *    not reconnect at once);
 *  - every event and bookmark moves the resourceVersion on, so a watch the server ended (or a
 *    dropped connection) resumes where it stopped instead of listing again;
 *  - 410 Gone (the version left the apiserver's window, as a status or an ERROR event) lists again;
 *    the new list replaces the store and what disappeared meanwhile is reported deleted;
 *  - other failures wait an exponential backoff (800 ms doubling to 30 s, with jitter), reset after
 *    a list or a watch that worked.
 * The store holds projections (objects.ts), never whole objects.
 */
import type { Logger } from '../../log/logger.ts';
import { sleep, type Clock } from '../../util/clock.ts';
import { errorMessage } from '../../util/errors.ts';
import { KubeApiError, type KubeClient, type ListPage, type WatchEvent } from './client.ts';
import { objectKey, rawMeta } from './objects.ts';

const PAGE_SIZE = 500;
const MIN_WATCH_TIMEOUT_S = 300;
const BACKOFF_INITIAL_MS = 800;
const BACKOFF_MAX_MS = 30_000;
/** Deadline for the response headers of one LIST page. */
const LIST_TIMEOUT_MS = 60_000;

export type ChangeKind = 'add' | 'update' | 'delete';

export interface ReflectorOptions<T> {
  readonly client: KubeClient;
  /** e.g. `/api/v1/namespaces/default/pods` or `/apis/discovery.k8s.io/v1/endpointslices`. */
  readonly path: string;
  readonly labelSelector: string;
  readonly fieldSelector: string;
  readonly project: (raw: unknown) => T | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  /** Uniform in [0, 1): the watch timeout and backoff jitter. */
  readonly random: () => number;
  readonly onChange: (kind: ChangeKind, key: string, obj: T | undefined) => void;
  /** After each complete LIST (the first one makes the store usable). */
  readonly onSynced: () => void;
  /** Counts a failed list or watch (prometheus_sd_kubernetes_failures_total). */
  readonly onFailure: () => void;
  /** Test hook: a smaller watch timeout (seconds, before randomisation). */
  readonly minWatchTimeoutS?: number | undefined;
  readonly pageSize?: number | undefined;
}

export class Reflector<T> {
  readonly store = new Map<string, T>();
  private readonly o: ReflectorOptions<T>;
  private resourceVersion = '';
  private backoffMs = BACKOFF_INITIAL_MS;
  /** Lists and watches started; tests and the debug log read them. */
  lists = 0;
  watches = 0;

  constructor(o: ReflectorOptions<T>) {
    this.o = o;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if ((await this.attempt('list', signal)) !== 'done') continue;
      while (!signal.aborted) {
        if ((await this.attempt('watch', signal)) === 'relist') break;
      }
    }
  }

  /**
   * One list or watch. A failure is counted, logged and backed off before the caller tries again; a watch
   * whose resource version expired (410 Gone) asks for a new list instead, as client-go's reflector does.
   */
  private async attempt(what: 'list' | 'watch', signal: AbortSignal): Promise<'done' | 'failed' | 'relist'> {
    try {
      await (what === 'list' ? this.list(signal) : this.watch(signal));
      this.backoffMs = BACKOFF_INITIAL_MS;
      return 'done';
    } catch (err) {
      if (signal.aborted) return 'failed';
      if (what === 'watch' && err instanceof KubeApiError && err.gone) {
        this.o.log.debug('Watch resource version expired; listing again', { path: this.o.path, err: err.message });
        return 'relist';
      }
      this.failed(what, err);
      await this.backoff(signal);
      return 'failed';
    }
  }

  private failed(what: string, err: unknown): void {
    this.o.onFailure();
    this.o.log.warn(`Kubernetes ${what} failed`, { path: this.o.path, err: errorMessage(err) });
  }

  private async backoff(signal: AbortSignal): Promise<void> {
    const d = this.backoffMs * (1 + this.o.random());
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    await sleep(this.o.clock, d, signal);
  }

  private query(): URLSearchParams {
    const q = new URLSearchParams();
    if (this.o.labelSelector !== '') q.set('labelSelector', this.o.labelSelector);
    if (this.o.fieldSelector !== '') q.set('fieldSelector', this.o.fieldSelector);
    return q;
  }

  private async list(signal: AbortSignal): Promise<void> {
    this.lists++;
    const next = new Map<string, T>();
    let token = '';
    let rv = '';
    do {
      const q = this.query();
      q.set('limit', String(this.o.pageSize ?? PAGE_SIZE));
      if (token !== '') q.set('continue', token);
      let page: ListPage;
      try {
        page = await this.o.client.list(this.o.path, q, signal, LIST_TIMEOUT_MS);
      } catch (err) {
        // An expired continue token: the list starts over (client-go falls back to a full list).
        if (err instanceof KubeApiError && err.gone && token !== '') {
          next.clear();
          token = '';
          continue;
        }
        throw err;
      }
      for (const raw of page.items) {
        const m = rawMeta(raw);
        const obj = this.o.project(raw);
        if (obj !== undefined) next.set(objectKey(m.namespace, m.name), obj);
      }
      token = page.continueToken;
      rv = page.resourceVersion;
    } while (token !== '');
    // Replace: what vanished is deleted, everything else added or updated.
    for (const key of [...this.store.keys()]) {
      if (!next.has(key)) {
        this.store.delete(key);
        this.o.onChange('delete', key, undefined);
      }
    }
    for (const [key, obj] of next) {
      const had = this.store.has(key);
      this.store.set(key, obj);
      this.o.onChange(had ? 'update' : 'add', key, obj);
    }
    this.resourceVersion = rv;
    this.o.onSynced();
  }

  private async watch(signal: AbortSignal): Promise<void> {
    this.watches++;
    const q = this.query();
    q.set('watch', 'true');
    q.set('allowWatchBookmarks', 'true');
    if (this.resourceVersion !== '') q.set('resourceVersion', this.resourceVersion);
    const min = this.o.minWatchTimeoutS ?? MIN_WATCH_TIMEOUT_S;
    const timeoutS = Math.floor(min * (1 + this.o.random()));
    q.set('timeoutSeconds', String(timeoutS));
    // Bookmarks arrive about once a minute; allow the whole timeout plus slack before calling it dead.
    await this.o.client.watch(this.o.path, q, signal, (timeoutS + 30) * 1000, (e) => this.apply(e));
  }

  private apply(e: WatchEvent): void {
    const m = rawMeta(e.object);
    if (m.resourceVersion !== '') this.resourceVersion = m.resourceVersion;
    if (e.type === 'BOOKMARK') return;
    const key = objectKey(m.namespace, m.name);
    if (e.type === 'DELETED') {
      if (this.store.delete(key)) this.o.onChange('delete', key, undefined);
      return;
    }
    const obj = this.o.project(e.object);
    if (obj === undefined) return;
    const had = this.store.has(key);
    this.store.set(key, obj);
    this.o.onChange(had ? 'update' : 'add', key, obj);
  }
}

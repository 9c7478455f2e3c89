import { useCallback, useRef, useSyncExternalStore } from 'react';
import { share } from '../share.ts';
import type { SnapshotSource } from '../store.ts';

interface Memo<S, V> {
  readonly source: S;
  readonly select: (s: S) => V;
  readonly value: V;
}

/**
 * useSyncExternalStore over a value derived from the store's snapshot, structurally shared with the previous
 * one. A notification whose snapshot derives to an equal value hands React the very same object, and React then
 * skips the re-render altogether: no commit, so Ink neither lays out nor draws a frame. (A re-render that changes
 * nothing is not free under Ink: useInput's effect event alone marks the commit as a mutation, and every such
 * commit makes Ink redraw the whole screen.)
 *
 * `select` must be a pure function of the snapshot and of what it closes over; give it a new identity (useCallback)
 * whenever those inputs change.
 */
export function useSharedSelection<S, V>(store: SnapshotSource<S>, select: (s: S) => V): V {
  const memo = useRef<Memo<S, V> | null>(null);
  const get = useCallback((): V => {
    const source = store.getSnapshot();
    const m = memo.current;
    if (m !== null && m.source === source && m.select === select) return m.value;
    const next = select(source);
    // Idempotent for equal inputs, so React calling this more than once (or during a discarded render) is harmless.
    const value = m === null ? next : share(m.value, next);
    memo.current = { source, select, value };
    return value;
  }, [store, select]);
  return useSyncExternalStore(store.subscribe, get);
}

import type { RemoteStatus, TargetStatus } from '../src/status/types.ts';

export const SORT_KEYS = ['pool', 'instance', 'health', 'lastScrape', 'duration', 'samples', 'series'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface SortSpec {
  readonly key: SortKey;
  readonly desc: boolean;
}

export const SORT_LABELS: Readonly<Record<SortKey, string>> = {
  pool: 'pool',
  instance: 'instance',
  health: 'health',
  lastScrape: 'last scrape',
  duration: 'duration',
  samples: 'samples',
  series: 'series',
};

/** Stable identity of a target across snapshots: the same instance may appear in two pools. */
export function targetKey(t: TargetStatus): string {
  return `${t.pool}\u0000${t.url}`;
}

// Down first: with ascending health the broken targets are what you see without scrolling.
const HEALTH_ORDER = { down: 0, unknown: 1, up: 2 } as const;

function compareBy(key: SortKey, a: TargetStatus, b: TargetStatus): number {
  switch (key) {
    case 'pool':
      return cmpStr(a.pool, b.pool);
    case 'instance':
      return cmpStr(a.instance, b.instance);
    case 'health':
      return HEALTH_ORDER[a.health] - HEALTH_ORDER[b.health];
    case 'lastScrape':
      return a.lastScrape - b.lastScrape;
    case 'duration':
      return a.lastDurationMs - b.lastDurationMs;
    case 'samples':
      return a.samples - b.samples;
    case 'series':
      return a.series - b.series;
  }
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted copy; ties fall back to pool then instance so rows do not jump between frames. */
export function sortTargets(targets: readonly TargetStatus[], spec: SortSpec): TargetStatus[] {
  const sign = spec.desc ? -1 : 1;
  return targets.slice().sort((a, b) => {
    const c = compareBy(spec.key, a, b);
    if (c !== 0) return sign * c;
    return cmpStr(a.pool, b.pool) || cmpStr(a.instance, b.instance) || cmpStr(a.url, b.url);
  });
}

/**
 * Case-insensitive substring match on everything a user can see or would search for. Every whitespace-separated
 * term must match somewhere (so "node down" finds down node targets).
 */
export function matchesFilter(t: TargetStatus, filter: string): boolean {
  const terms = filter
    .toLowerCase()
    .split(/\s+/)
    .filter((s) => s !== '');
  if (terms.length === 0) return true;
  const hay = [
    t.pool,
    t.instance,
    t.url,
    t.health,
    t.lastError,
    ...Object.entries(t.labels).map(([k, v]) => `${k}=${v}`),
  ]
    .join('\n')
    .toLowerCase();
  return terms.every((term) => hay.includes(term));
}

export function visibleTargets(targets: readonly TargetStatus[], filter: string, sort: SortSpec): TargetStatus[] {
  return sortTargets(filter === '' ? targets : targets.filter((t) => matchesFilter(t, filter)), sort);
}

/** Index of the selected key in `keys`, or 0 if it vanished (target dropped or filtered out). */
export function selectedIndex(keys: readonly string[], selected: string | null): number {
  if (selected === null) return 0;
  const i = keys.indexOf(selected);
  return Math.max(i, 0);
}

export function remoteKey(r: RemoteStatus): string {
  return r.name;
}

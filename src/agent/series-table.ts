import { labelsKey, type Labels } from '../util/labels.ts';

/**
 * The agent's in-memory series: label set -> ref, and per ref its last timestamp. Each series keeps a
 * single string (its label key) shared by the map and the ref index, so memory per series is one
 * string plus a map slot and 8 bytes of timestamp.
 */
export class SeriesTable {
  private readonly byKey = new Map<string, number>();
  private keys: (string | undefined)[] = [undefined];
  /** lastTs[ref]; -Infinity = no sample yet. */
  lastTs = new Float64Array(1024).fill(-Infinity);
  private next = 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The next ref to be handed out; after replay it is past every ref seen in the WAL. */
  get nextRef(): number {
    return this.next;
  }

  lookup(labels: Labels): number {
    return this.byKey.get(labelsKey(labels)) ?? 0;
  }

  /** Returns the ref of labels and whether it was created now. */
  getOrCreate(labels: Labels): { ref: number; created: boolean } {
    const key = labelsKey(labels);
    const have = this.byKey.get(key);
    if (have !== undefined) return { ref: have, created: false };
    const ref = this.next++;
    this.insert(ref, key);
    return { ref, created: true };
  }

  /** Inserts a series read from the WAL under its original ref. Returns the canonical ref (first seen wins). */
  insertReplayed(ref: number, labels: Labels): number {
    const key = labelsKey(labels);
    const have = this.byKey.get(key);
    if (have !== undefined) return have;
    this.insert(ref, key);
    this.lastTs[ref] = 0;
    if (ref >= this.next) this.next = ref + 1;
    return ref;
  }

  labels(ref: number): Labels | undefined {
    const k = this.keys[ref];
    return k === undefined ? undefined : k === '' ? [] : k.split('\xff');
  }

  has(ref: number): boolean {
    return this.keys[ref] !== undefined;
  }

  /** Removes every series whose last sample is older than cutoff; returns the removed refs. */
  gc(cutoff: number): number[] {
    const removed: number[] = [];
    for (let ref = 1; ref < this.keys.length; ref++) {
      const k = this.keys[ref];
      if (k !== undefined && this.lastTs[ref] < cutoff) {
        this.byKey.delete(k);
        this.keys[ref] = undefined;
        this.count--;
        removed.push(ref);
      }
    }
    return removed;
  }

  forEach(fn: (ref: number, labels: Labels) => void): void {
    for (let ref = 1; ref < this.keys.length; ref++) {
      const k = this.keys[ref];
      if (k !== undefined) fn(ref, k === '' ? [] : k.split('\xff'));
    }
  }

  private insert(ref: number, key: string): void {
    this.byKey.set(key, ref);
    while (this.keys.length <= ref) this.keys.push(undefined);
    this.keys[ref] = key;
    if (ref >= this.lastTs.length) {
      let n = this.lastTs.length * 2;
      while (n <= ref) n *= 2;
      const grown = new Float64Array(n).fill(-Infinity);
      grown.set(this.lastTs);
      this.lastTs = grown;
    }
    this.lastTs[ref] = -Infinity;
    this.count++;
  }
}

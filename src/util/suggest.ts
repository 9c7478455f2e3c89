/** The candidate closest to `word` by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 4)) + 1;
  for (const k of candidates) {
    const d = editDistance(word, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  // One row of the Levenshtein table at a time: row[j] is the distance from a[0, i) to b[0, j).
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  let last = b.length;
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    let left = i;
    let diag = i - 1;
    for (const [j, up] of row.slice(1).entries()) {
      left = Math.min(up + 1, left + 1, diag + (a[i - 1] === b[j] ? 0 : 1));
      next.push(left);
      diag = up;
    }
    row = next;
    last = left;
  }
  return last;
}

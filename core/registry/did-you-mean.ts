/** Levenshtein edit distance (insert, delete, substitute; case-insensitive). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[t.length]!;
}

/**
 * The closest candidates to `input`: within an edit distance of max(2, 40 % of its length), or sharing a
 * dotted/dashed suffix or prefix ('bilinear' -> 'chimera.lowrank-bilinear'). Best first.
 */
export function didYouMean(input: string, candidates: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.floor(input.length * 0.4));
  const scored: { id: string; score: number }[] = [];
  const lower = input.toLowerCase();
  for (const id of candidates) {
    const d = editDistance(input, id);
    const idLower = id.toLowerCase();
    const partOf = lower.length >= 3 && (idLower.includes(lower) || lower.includes(idLower));
    if (d <= limit) scored.push({ id, score: d });
    else if (partOf) scored.push({ id, score: limit + 1 });
  }
  scored.sort((x, y) => x.score - y.score || x.id.localeCompare(y.id));
  return scored.slice(0, max).map((s) => s.id);
}

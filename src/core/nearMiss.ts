/** Letters only, lower case: `createdAt`, `Created-At` and `created_at` compare equal. */
function normalised(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The number of single-character insertions, deletions and substitutions that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}

/**
 * The known key that `key` most likely misspells (`protect` → `protected`, `retention_day` →
 * `retention_days`, `createdAt` → `created_at`), or undefined when none is close. Close means equal
 * but for case and separators, the known key cut short (at least 5 letters), or at most 2 edits away (1 for keys of
 * up to 5 letters, none for up to 3), so that a name of the user's own (`owner`) is not taken for a typo.
 */
export function likelyMeant(key: string, known: readonly string[]): string | undefined {
  const wanted = normalised(key);
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const target = normalised(candidate);
    if (wanted === target) return candidate;
    // A key cut short (`retention` for `retention_days`); not one made longer (`schema_version` is a name of its own).
    const prefix = wanted.length >= 5 && target.startsWith(wanted);
    const distance = prefix ? 1 : editDistance(wanted, target);
    const shorter = Math.min(wanted.length, target.length);
    const allowed = shorter <= 3 ? 0 : shorter <= 5 ? 1 : 2;
    if (distance <= allowed && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** "is not <what> (<known>), so it is ignored; did you mean <k>?" (or "check its spelling"). */
export function unknownKeyMessage(key: string, what: string, known: readonly string[]): string {
  const meant = likelyMeant(key, known);
  return `is not ${what} (${known.join(', ')}), so it is ignored; ${meant ? `did you mean ${meant}?` : 'check its spelling'}`;
}

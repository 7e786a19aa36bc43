/**
 * The first `shown` of `names`, and how many more there are: "a, b, c and 1,497 more". For messages that
 * name what they are about without growing with it (a profile may list thousands of files).
 */
export function namedFew(names: string[], shown = 3): string {
  const rest = names.length - shown;
  return `${names.slice(0, shown).join(', ')}${rest > 0 ? ` and ${rest.toLocaleString('en-US')} more` : ''}`;
}

/**
 * Why a number or true/false written in quotes ("30", "true") is refused, as a clause to add to the
 * field's error: the quotes make it text. The specification's template quotes most values ("DAILY",
 * "02:00"), so quoting these too is an easy slip, and "must be a whole number" alone reads as wrong.
 */
export function writtenAsText(value: unknown, wanted: 'number' | 'boolean'): string {
  if (typeof value !== 'string') return '';
  const bare = value.trim();
  const looksRight = wanted === 'number' ? /^\d+$/.test(bare) : /^(true|false)$/i.test(bare);
  return looksRight ? ` (it is written in quotes, "${value}", which makes it text: write ${bare.toLowerCase()} without them)` : '';
}

/**
 * Checks and display of values read from JSON this tool wrote but that may since be damaged or made by
 * hand (a backup's manifest, a catalog): each field is checked for its kind before it is used, since a
 * value of another kind failed later as "a bug" (a time that is not one, in a listing or a restore).
 */

/** The shape of a time as `Date.toISOString` writes it (a date alone, or a number, is not a backup's time). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A point in time as this tool writes one, and one that is a real date. */
export function isIsoTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

/** A date written as text that `Date.parse` reads (a profile's `created_at` may be written in any such form). */
export function isDateText(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

/** A SHA-256 as this tool writes one: 64 lowercase hexadecimal digits. */
export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

/** A size or count: a whole number, not negative. */
export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A list of texts. */
export function isTextList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** A value for a message: as JSON (text quoted), cut short, or "nothing" when missing. */
export function shownValue(value: unknown): string {
  return value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value)).slice(0, 80);
}

/** What a YAML value is, for "… but it holds <this>": "a list", "the text \"abc\"", "nothing". */
export function yamlValueInWords(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `the value ${String(value)}`;
}

/**
 * An argument as a POSIX shell reads it back: as it is when it needs no quoting, else in single quotes.
 * For the commands a message suggests: a path with a space or a quote, pasted as it was printed, named
 * another file (or several).
 */
export function shellArgument(text: string): string {
  return /^[\w./@:+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

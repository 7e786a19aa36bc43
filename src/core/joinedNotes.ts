/** Notes as one line, for a message or JSON field that has room for one (undefined when none). */
export function joinedNotes(notes: readonly string[]): string | undefined {
  return notes.length > 0 ? notes.join('; ') : undefined;
}

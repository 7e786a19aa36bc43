/** `text` cut to about `length` characters (a message stays one readable line). */
export function shortened(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}

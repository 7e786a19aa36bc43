/** A count with its noun in the right number: "1 backup", "2 backups" (before, "1 backup(s)"). */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

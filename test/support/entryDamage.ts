/**
 * A copy of a ZIP archive with one bit flipped inside the stored data of the entry `name` (not in a
 * header, where a flip may go unnoticed by every check of the entries): a damage verify must find.
 */
export function withEntryDamaged(archive: Buffer, name: string, into = 100): Buffer {
  // The first occurrence of the name is in the entry's local header (the central directory comes last).
  const at = archive.indexOf(Buffer.from(name, 'utf8'));
  const header = at - 30;
  if (at < 0 || archive.readUInt32LE(header) !== 0x04034b50) throw new Error(`no local header for ${name} in the archive`);
  const data = header + 30 + archive.readUInt16LE(header + 26) + archive.readUInt16LE(header + 28);
  const damaged = Buffer.from(archive);
  damaged[data + into] ^= 0x10;
  return damaged;
}

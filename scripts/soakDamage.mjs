// The soak's damage (SOAK_DAMAGE=1): one bit flipped inside the stored data of a random entry of an
// archive, as a failing disk would, never in a ZIP header (where no check of the entries looks).
import { createRequire } from 'node:module';
import * as fs from 'node:fs';

const yauzl = createRequire(import.meta.url)('yauzl');

/** Every entry of a ZIP archive with data: its name, where its local header is and how much data it has. */
function entriesOf(archive) {
  return new Promise((resolve, reject) => {
    yauzl.open(archive, { lazyEntries: true, autoClose: true }, (error, zip) => {
      if (error) return reject(error);
      const found = [];
      zip.on('entry', (entry) => {
        if (entry.compressedSize > 0) found.push({ name: entry.fileName, header: entry.relativeOffsetOfLocalHeader, size: entry.compressedSize });
        zip.readEntry();
      });
      zip.on('end', () => resolve(found));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Flips one bit inside a random entry's data of `archive`, in place; returns that entry's name. */
export async function damageRandomEntry(archive) {
  const entries = await entriesOf(archive);
  const entry = entries[Math.floor(Math.random() * entries.length)];
  const fd = fs.openSync(archive, 'r+');
  try {
    const header = Buffer.alloc(30);
    fs.readSync(fd, header, 0, 30, entry.header);
    const data = entry.header + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const at = data + Math.floor(Math.random() * entry.size);
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, at);
    byte[0] ^= 1 << Math.floor(Math.random() * 8);
    fs.writeSync(fd, byte, 0, 1, at);
  } finally {
    fs.closeSync(fd);
  }
  return entry.name;
}

import * as fs from 'node:fs';

// What a file at a database path is, when its header is not SQLite's: the user is told what they have in
// hand rather than only "its header is missing or wrong", which reads as damage.

/** Compressed formats, by the bytes they begin with: a compressed copy of a database put in its place. */
const COMPRESSED: readonly { name: string; magic: readonly number[] }[] = [
  { name: 'gzip', magic: [0x1f, 0x8b] },
  { name: 'ZIP', magic: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'Zstandard', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68] },
  { name: '7-Zip', magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
];

/** Bytes looked at: one page of the smallest size SQLCipher writes by default. */
const SAMPLE_BYTES = 4096;

/**
 * Bits per byte above which a sample is taken for random. Random bytes measure 7.95 or more over 4 KiB
 * (7.6 over 512); text, a damaged SQLite file or zeros measure far less.
 */
const RANDOM_ENTROPY = 7.2;

/**
 * Why a file whose header is not SQLite's is no database to back up, as the words after its path:
 * compressed (by its format's signature), encrypted (SQLCipher and SQLite's SEE encrypt the header too,
 * so every page looks random and the size is a whole number of pages), or else missing or wrong.
 */
export function notSqliteDatabaseText(file: string): string {
  const sample = readStart(file);
  const compressed = COMPRESSED.find(({ magic }) => magic.every((byte, i) => sample[i] === byte));
  if (compressed) return `is not a SQLite 3 database: it is a ${compressed.name}-compressed file (a compressed copy of a database? Decompress it first)`;
  if (sample.length >= 512 && fs.statSync(file).size % 512 === 0 && entropyOf(sample) >= RANDOM_ENTROPY) {
    return 'is not a SQLite 3 database that can be read: its bytes look random, as those of an encrypted database do (SQLCipher, SQLite\'s SEE), and Environment Profiles cannot open encrypted databases';
  }
  return 'is not a SQLite 3 database (its header is missing or wrong)';
}

function readStart(file: string): Buffer {
  const buffer = Buffer.alloc(SAMPLE_BYTES);
  const fd = fs.openSync(file, 'r');
  try {
    return buffer.subarray(0, fs.readSync(fd, buffer, 0, SAMPLE_BYTES, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/** Shannon entropy of the bytes, in bits per byte (8 for a uniform spread). */
function entropyOf(bytes: Buffer): number {
  const counts = new Array<number>(256).fill(0);
  for (const byte of bytes) counts[byte]++;
  let bits = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / bytes.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

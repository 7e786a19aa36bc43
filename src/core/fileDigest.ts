import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/** The SHA-256 of a file, read as a stream (memory stays flat however large the file). */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

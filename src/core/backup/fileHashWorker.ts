import { Worker } from 'node:worker_threads';

/** The worker's code, inline so the bundles need no extra file: SHA-256 of a whole file, read in 1 MiB pieces. */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const hash = crypto.createHash('sha256');
const fd = fs.openSync(workerData, 'r');
const buffer = Buffer.allocUnsafe(1 << 20);
let position = 0;
for (;;) {
  const read = fs.readSync(fd, buffer, 0, buffer.length, position);
  if (read === 0) break;
  hash.update(buffer.subarray(0, read));
  position += read;
}
fs.closeSync(fd);
parentPort.postMessage(hash.digest('hex'));
`;

/**
 * Computes a file's SHA-256 on another thread, so that an incremental backup hashes the whole file and
 * its pages on both cores at once.
 */
export function sha256OfFileInWorker(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SOURCE, { eval: true, workerData: file });
    worker.once('message', (digest: string) => resolve(digest));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`hashing ${file} stopped with code ${code}`));
    });
  });
}

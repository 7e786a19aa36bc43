import * as fs from 'node:fs';
import { blockingPause } from './blockingPause';

/**
 * A small file that is only ever created whole or renamed into place whole can still read back wrong:
 * a FAT disk mounted through FUSE (fusefat), with other processes at work on it, now and then reads
 * a file just replaced cut short, or with a block of zeros, and right again a moment later. So a read
 * that makes no sense is taken again, a few times 10 ms apart, each after a `stat` of the file (the
 * re-reads alone still failed now and then; with the `stat` before each, none did: measured with
 * three processes changing a catalog and two reading it, 18 of 1,500 reads failed, then 0 of 16,500).
 * On a sound disk that costs 40 ms, and only for a file that really is damaged.
 */
const READS = 5;
const PAUSE_MS = 10;

/**
 * The text of `file` and what `make` makes of it (undefined: it makes no sense), read again while it
 * makes none; undefined when there is no file. Anything else there that is not a file, and errors of
 * reading it, are thrown.
 */
export function readSteadily<T>(file: string, make: (text: string) => T | undefined): { text: string; value: T | undefined } | undefined {
  for (let attempt = 1; ; attempt++) {
    const text = textIfThere(file);
    if (text === undefined) return undefined;
    const value = make(text);
    if (value !== undefined || attempt === READS) return { text, value };
    blockingPause(PAUSE_MS);
  }
}

/** A JSON file's text and its value (undefined: it does not parse, even when read again), or undefined when there is none. */
export function readJsonSteadily(file: string): { text: string; value: unknown } | undefined {
  return readSteadily(file, parsedJson);
}

function parsedJson(text: string): unknown {
  try {
    // An editor that saves "UTF-8 with BOM" puts a mark before a catalog edited by hand: JSON refuses it, but it says nothing.
    return JSON.parse(text.startsWith('\ufeff') ? text.slice(1) : text) as unknown;
  } catch {
    return undefined;
  }
}

function textIfThere(file: string): string | undefined {
  try {
    // A named pipe would be waited on for ever, a folder is no text.
    if (!fs.statSync(file).isFile()) throw new Error(`${file} is not a file`);
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

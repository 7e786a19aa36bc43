/**
 * A reader that stops early (`envprofiles backups --json | head`) closes the pipe, and Node then
 * raised an unhandled EPIPE with a stack trace. The rest of the output has nowhere to go, which is no
 * failure of the command: it runs to its end (a backup is finished, not cut off) and exits with its own
 * code. Any other failure to write (a full disk under `> file`) is said on stderr, and the exit code is 1.
 */
export function tolerateClosedOutput(): void {
  let reported = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED' || reported) return;
      reported = true;
      if (!process.exitCode) process.exitCode = 1;
      if (stream === process.stdout) process.stderr.write(`error[OUTPUT_FAILED]: The output could not be written (${error.code ?? error.message}). What the command did is done and not affected by it; to see its output, send it somewhere that can take it.\n`);
    });
  }
}

/**
 * Mounting a tmpfs, making files of another user and running the CLI as that user, or giving a file to
 * another owner need root on Linux (the test machine and CI run as root). Elsewhere there is no real
 * full or read-only disk, or other user, to make, and a simulated one would test nothing: the suite is
 * skipped, and says why.
 */
export function needsRoot(what: string): (this: Mocha.Context) => void {
  return function (this: Mocha.Context): void {
    if (process.platform === 'linux' && process.getuid?.() === 0) return;
    console.log(`    skipped: ${what} needs root on Linux (this is ${process.platform}, uid ${process.getuid?.() ?? 'unknown'})`);
    this.skip();
  };
}

import { percentDone } from '../core/progressMeter';
import { terminalSafe } from './textFormat';

/**
 * Progress on a terminal's stderr: one line per step, which the share done of a long step rewrites in
 * place ("… Archiving market_data 42 %"). A step's line stays open until the next step; `end` closes
 * it before anything else is written (a warning, a prompt, the result, an error).
 */
export class TerminalProgress {
  private open = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  readonly report = (step: string, share?: number): void => {
    const message = terminalSafe(step);
    if (share === undefined) {
      this.end();
      this.stream.write(`… ${message}`);
      this.open = true;
      return;
    }
    // \r and "erase to the end of the line": the step's line is rewritten, not repeated.
    this.stream.write(`\r… ${message} ${percentDone(share)}\x1b[K`);
    this.open = true;
  };

  end(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }
}

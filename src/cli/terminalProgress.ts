import { percentDone } from '../core/progressMeter';
import { terminalSafe } from './textFormat';
import { fittedToWidth } from './displayWidth';

/**
 * Progress on a terminal's stderr: one line per step, which the share done of a long step rewrites in
 * place ("… Archiving market_data 42 %"). A step's line stays open until the next step; `end` closes
 * it before anything else is written (a warning, a prompt, the result, an error).
 */
export class TerminalProgress {
  private open = false;
  /** The open step's message and the share last shown on its line, when a share was shown. */
  private shown: { message: string; share: number } | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  readonly report = (step: string, share?: number): void => {
    const message = this.fitted(terminalSafe(step));
    if (share === undefined) {
      // A new step means the one before it finished.
      this.end({ finished: true });
      this.stream.write(`… ${message}`);
      this.open = true;
      return;
    }
    this.rewrite(message, share);
  };

  /**
   * Closes the open step's line. A step that `finished` shows 100 % (its last report came before its
   * last bytes, so its line would stay at "87 %"); otherwise, before an error, a prompt or a warning, the
   * line keeps the share it reached, which says where the step stopped.
   */
  end(options: { finished?: boolean } = {}): void {
    if (options.finished && this.shown && this.shown.share < 1) this.rewrite(this.shown.message, 1);
    if (this.open) this.stream.write('\n');
    this.open = false;
    this.shown = undefined;
  }

  /**
   * The step's text cut to leave its line room for "… " and " 100 %" within the terminal's width (less
   * one column, where terminals wrap): a line longer than the terminal wraps, and the \r of the next
   * rewrite goes back only to the start of its last row, so every rewrite left a row behind.
   */
  private fitted(message: string): string {
    const columns = this.stream.columns;
    return columns ? fittedToWidth(message, Math.max(10, columns - 1 - '… '.length - ' 100 %'.length)) : message;
  }

  private rewrite(message: string, share: number): void {
    // \r and "erase to the end of the line": the step's line is rewritten, not repeated.
    this.stream.write(`\r… ${message} ${percentDone(share)}\x1b[K`);
    this.open = true;
    this.shown = { message, share };
  }
}

// Answers for the user in the host tests: nothing can click a picker or a modal here.
import * as vscode from 'vscode';

/** What a command asked in a warning (a modal's message, detail and buttons). */
export interface Asked {
  message: string;
  detail?: string;
  buttons: string[];
}

/**
 * Runs `run` while the test answers for the user (nothing can click a picker or a modal here): a quick
 * pick takes what `pick` chooses (it is not stubbed without one), and every warning is recorded and
 * answered with the button `answer` chooses (Cancel without it). Returns what was asked.
 */
export async function answeringAsTheUser<Item extends vscode.QuickPickItem>(pick: ((items: readonly Item[]) => Item | undefined) | undefined, run: (asked: Asked[]) => Promise<void>, answer?: (asked: Asked) => string | undefined): Promise<Asked[]> {
  const window = vscode.window as { showQuickPick: unknown; showWarningMessage: unknown };
  const { showQuickPick, showWarningMessage } = window;
  const asked: Asked[] = [];
  if (pick) window.showQuickPick = async (items: readonly Item[] | Thenable<readonly Item[]>) => pick(await items);
  window.showWarningMessage = async (message: string, options: vscode.MessageOptions, ...buttons: string[]) => {
    const question = { message, detail: options.detail, buttons };
    asked.push(question);
    return answer?.(question);
  };
  try {
    await run(asked);
  } finally {
    window.showQuickPick = showQuickPick;
    window.showWarningMessage = showWarningMessage;
  }
  return asked;
}

/**
 * Runs `run` with the lines the extension logs collected (a child process's stderr is logged as info),
 * so that a failing assertion can show why (the log is otherwise only in the Output panel of a host
 * nobody sees).
 */
export async function collectingLogLines<T>(log: vscode.LogOutputChannel, run: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  type Level = 'info' | 'warn' | 'error';
  const channel = log as unknown as Record<Level, (message: string | Error) => void>;
  const levels: Level[] = ['info', 'warn', 'error'];
  const originals = levels.map((level) => channel[level]);
  const lines: string[] = [];
  levels.forEach((level, i) => {
    channel[level] = (message) => {
      lines.push(`${level}: ${String(message)}`);
      originals[i].call(log, message);
    };
  });
  try {
    return { value: await run(), lines };
  } finally {
    levels.forEach((level, i) => (channel[level] = originals[i]));
  }
}

/** Runs `run` with the messages of every progress notification shown meanwhile collected. */
export async function collectingProgress<T>(run: () => Promise<T>): Promise<{ value: T; messages: string[] }> {
  const window = vscode.window as { withProgress: typeof vscode.window.withProgress };
  const { withProgress } = window;
  const messages: string[] = [];
  window.withProgress = (options, task) =>
    withProgress(options, (progress, token) =>
      task({ report: (value) => {
        if (value.message) messages.push(value.message);
        progress.report(value);
      } }, token));
  try {
    return { value: await run(), messages };
  } finally {
    window.withProgress = withProgress;
  }
}

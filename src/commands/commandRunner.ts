import * as vscode from 'vscode';
import { isEnvProfilesError } from '../core/errors';
import { percentDone } from '../core/progressMeter';
import { typedSystemError } from '../core/systemErrors';
import type { WorkspaceContext } from '../core/workspaceContext';
import type { FolderModel } from '../folderModel';
import { UserCancelled, type CommandServices } from './commandServices';
import { errorFileAction } from './errorFileAction';
import { nextStepAction } from './nextStepActions';

/** Wraps a handler: logs, ignores user cancellation, shows errors with a "Show Log" button (and one for the next step an error names, or one that opens the file it names). */
export function guarded(services: CommandServices, id: string, handler: (...args: unknown[]) => Promise<unknown>): (...args: unknown[]) => Promise<unknown> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (error) {
      if (error instanceof UserCancelled) return undefined;
      if (isEnvProfilesError(error) && error.code === 'CANCELLED') {
        services.log.info(`${id}: cancelled`);
        void vscode.window.showInformationMessage(error.message);
        return undefined;
      }
      const known = isEnvProfilesError(error) ? error : typedSystemError(error);
      const message = known ? `${known.message}${known.hint ? ` ${known.hint}` : ''}` : (error as Error).message;
      services.log.error(`${id}: ${known ? `[${known.code}] ` : ''}${message}`);
      if (!known && (error as Error).stack) services.log.debug((error as Error).stack as string);
      services.lastError = message;
      // The fix the error names, as a button (its hint says it as a command line); else the file it names, to edit.
      const step = known?.nextStep ? nextStepAction(known.nextStep) : undefined;
      const file = known && !step ? errorFileAction(known, services.model.all()) : undefined;
      const buttons = [...(step ? [step.label] : []), ...(file ? [file.label] : []), 'Show Log'];
      void vscode.window.showErrorMessage(message, ...buttons).then((choice) => {
        if (choice === 'Show Log') services.log.show();
        else if (step && choice === step.label) void vscode.commands.executeCommand(step.command, step.args);
        else if (file && choice === file.label) void file.open();
      });
      return undefined;
    }
  };
}

/** Commands that change files refuse to run in an untrusted workspace (the views stay readable). */
export function requireTrust(action: string): void {
  if (!vscode.workspace.isTrusted) {
    throw new Error(`This workspace is not trusted, so Environment Profiles is read-only here: ${action} was not run. Trust the workspace to enable it.`);
  }
}

/**
 * How long an operation started here waits for another one that holds the workspace (a CLI job, a
 * verification between two backups), under its cancellable notification, before it is refused.
 */
export const LOCK_WAIT_MINUTES = 30;

/**
 * Runs a core operation under a cancellable progress notification, one message per step, and
 * refreshes the folder at once afterwards so the tree and the status bar show the result. Cancelling
 * stops the operation at its next safe point (the core cleans up; a switch or a swap is never cut).
 * Another operation holding the workspace is waited for (the notification says so).
 */
export async function withOperationProgress<T>(folder: FolderModel, title: string, operation: (context: WorkspaceContext) => Promise<T>): Promise<T> {
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      const report = (message: string, share?: number): void => progress.report({ message: share === undefined ? message : `${message} (${percentDone(share)})` });
      return operation({ ...folder.context, progress: report, signal: controller.signal, lockWaitMs: LOCK_WAIT_MINUTES * 60_000 });
    });
  } finally {
    folder.refresh();
  }
}

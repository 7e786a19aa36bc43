import type * as vscode from 'vscode';
import type { Logger } from './core/workspaceContext';

/** The core's logger, written to the extension's LogOutputChannel. */
export function channelLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  };
}

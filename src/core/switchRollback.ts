import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeTemporaryFiles, replaceSymlinkAtomic, writeFileAtomic } from './atomicFile';
import { removeJournal, type SwitchJournal } from './operationJournal';
import type { OutputSnapshot } from './switchOutputs';
import type { WorkspaceContext } from './workspaceContext';

export const SWITCH_JOURNAL = 'switch';

function restoreOutput(target: string, before: OutputSnapshot): void {
  if (before.kind === 'absent') fs.rmSync(target, { force: true });
  else if (before.kind === 'symlink') replaceSymlinkAtomic(target, before.target);
  else writeFileAtomic(target, Buffer.from(before.contentBase64, 'base64'), before.mode);
}

/** Puts every output back as it was before the switch, then removes leftovers and the journal. */
export function rollBackSwitch(context: WorkspaceContext, journal: SwitchJournal): void {
  for (const output of [...journal.outputs].reverse()) restoreOutput(output.path, output.before);
  for (const dir of new Set(journal.outputs.map((o) => path.dirname(o.path)))) removeTemporaryFiles(dir);
  removeJournal(context.layout, SWITCH_JOURNAL);
}

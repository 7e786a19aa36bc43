import * as vscode from 'vscode';
import { ArchiveReader } from './core/backup/archiveReader';

/** The scheme of the read-only documents that show a backup archive's manifest. */
export const MANIFEST_SCHEME = 'envprofiles-manifest';

/** The document of the manifest of the backup `backupId`, whose archive is `archive` (an absolute path). */
export function manifestUri(archive: string, backupId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: MANIFEST_SCHEME, path: `/${backupId}.manifest.json`, query: archive });
}

/**
 * Serves manifest.json out of a backup archive, read-only (nothing to save by mistake), formatted. The
 * archive is opened as for a restore, so a damaged or hostile one is refused with the reader's error.
 */
export class BackupManifestProvider implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const reader = await ArchiveReader.open(uri.query);
    try {
      return `${JSON.stringify(reader.manifest, null, 2)}\n`;
    } finally {
      reader.close();
    }
  }
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { catalogDisagreements, missingArchives, readCatalog, type CatalogEntry } from './core/backup/backupCatalog';
import { deletedProfilesWithBackups } from './core/backup/deletedProfiles';
import { backupsElsewhere, type BackupsElsewhere } from './core/backup/backupsElsewhere';
import { backupsOfEarlierProfile } from './core/backup/earlierProfile';
import { BackupLayout } from './core/backup/backupLayout';
import { chainFault } from './core/backup/verifiedArchives';
import { quickValidateProfile, type ValidationReport } from './core/databaseValidation';
import { sharedDatabasesAmong, type SharedDatabase } from './core/pathOwners';
import { isInside } from './core/pathSafety';
import type { Profile } from './core/profileModel';
import { readAllProfileFiles, validProfilesOf, type ProfileFileResult } from './core/profileStore';
import type { SqliteEngine } from './core/sqlite/sqliteEngine';
import { workspaceConfigFor } from './core/workspaceConfig';
import { createWorkspaceContext, type Logger, type WorkspaceContext } from './core/workspaceContext';
import { recoverIfIdle } from './core/workspaceSession';
import { workspaceStatus, type WorkspaceStatus } from './core/workspaceStatus';
import { applySettings, readSettings } from './extensionSettings';

/** What the views show of one workspace folder, read from disk by the core. */
export interface FolderSnapshot {
  initialised: boolean;
  profiles: ProfileFileResult[];
  status?: WorkspaceStatus;
  /** Set when config.yaml cannot be read. */
  configError?: string;
}

/** How often a folder checks that its files are still what its last refresh read (see refreshIfStale). */
const STALE_CHECK_MS = 3000;

/**
 * One workspace folder: its core context, a snapshot of its profiles and status, and caches of backups
 * and validation results. It re-reads everything when `.envprofiles/` changes on disk (the CLI in a
 * terminal, a text editor, a git checkout) and fires `onDidChange`.
 */
export class FolderModel implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  readonly context: WorkspaceContext;
  private snapshot: FolderSnapshot = { initialised: false, profiles: [] };
  private readonly validations = new Map<string, ValidationReport>();
  private sharedDatabaseCache: Map<string, SharedDatabase[]> | undefined;
  /** Catalogs read since the last refresh: the tree and the status bar ask for them often. */
  private readonly catalogs = new Map<string, CatalogEntry[]>();
  /** Why a catalog read since the last refresh may not list every backup (undefined: it does). */
  private readonly catalogProblems = new Map<string, string | undefined>();
  private readonly missing = new Map<string, Map<string, string[]>>();
  private readonly catalogsById = new Map<string, Map<string, CatalogEntry>>();
  /** The backups folder as config.yaml and the settings put it at the last refresh (none while config.yaml does not load). */
  private backupLayout: BackupLayout | undefined;
  /** deletedProfilesWithBackups since the last refresh. */
  private deletedProfiles: string[] | undefined;
  private elsewhere: BackupsElsewhere[] | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private pending: NodeJS.Timeout | undefined;
  /** A watcher on the backups folder when config.yaml puts it outside `.envprofiles/` (another disk). */
  private backupsWatcher: { root: string; watcher: vscode.FileSystemWatcher } | undefined;

  constructor(readonly folder: vscode.WorkspaceFolder, engine: SqliteEngine, logger: Logger) {
    this.context = createWorkspaceContext(folder.uri.fsPath, engine, { actor: 'vscode', logger, configOverrides: (config) => applySettings(readSettings(folder.uri))(config) });
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '.envprofiles/**'));
    const envWatcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '{.env,data/*.sqlite3}'));
    for (const w of [watcher, envWatcher]) {
      this.disposables.push(w, w.onDidChange(() => this.scheduleRefresh()), w.onDidCreate(() => this.scheduleRefresh()), w.onDidDelete(() => this.scheduleRefresh()));
    }
    this.disposables.push(this.changed);
    this.refresh();
    // A safety net under the watchers: after .envprofiles was deleted and made again (a restore of the
    // folder, a checkout), VS Code's watcher can miss the events of a subfolder made with it, and the
    // tree and the status bar then kept an old state (a profile file moved away stayed listed).
    const staleCheck = setInterval(() => this.refreshIfStale(), STALE_CHECK_MS);
    staleCheck.unref?.();
    this.disposables.push({ dispose: () => clearInterval(staleCheck) });
  }

  /** What the last refresh read, in short (fingerprint()); refreshIfStale compares it with the disk. */
  private readFingerprint = '';

  /**
   * The store's folder and the files a snapshot comes from (config.yaml, state.json, each profile
   * file, each catalog), by inode, size and time: cheap (a listing and a stat each), and different
   * whenever one of them was replaced, edited, added or removed.
   */
  private fingerprint(): string {
    const { layout } = this.context;
    const stamp = (file: string): string => {
      try {
        const stat = fs.statSync(file);
        return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      } catch {
        return '-';
      }
    };
    let names: string[] = [];
    try {
      names = fs.readdirSync(layout.profilesDir).sort();
    } catch {
      // No profiles folder (yet): its absence is the fingerprint.
    }
    const backupsRoot = this.backupLayout?.root;
    const ids = names.filter((name) => name.endsWith('.yaml')).map((name) => name.slice(0, -'.yaml'.length));
    const catalogs = backupsRoot ? ids.map((id) => stamp(path.join(backupsRoot, id, 'catalog.json'))) : [];
    return [stamp(layout.storeDir), stamp(layout.profilesDir), stamp(layout.configFile), stamp(layout.stateFile), ...names.map((name) => `${name}=${stamp(path.join(layout.profilesDir, name))}`), ...catalogs].join('|');
  }

  /** Refreshes when the files differ from what the last refresh read (a file event the watcher missed). */
  refreshIfStale(): void {
    if (this.pending) return;
    if (this.fingerprint() !== this.readFingerprint) this.refresh();
  }

  get data(): FolderSnapshot {
    return this.snapshot;
  }

  get name(): string {
    return this.folder.name;
  }

  /** Coalesces bursts of file events (a switch writes several files) into one refresh. */
  scheduleRefresh(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.refresh();
    }, 100);
  }

  /** Re-reads profiles and status from disk (finishing an interrupted operation first, if one is left). */
  refresh(): void {
    const { layout } = this.context;
    const initialised = fs.existsSync(layout.storeDir);
    const next: FolderSnapshot = { initialised, profiles: [] };
    this.backupLayout = undefined;
    if (initialised) {
      try {
        if (vscode.workspace.isTrusted) recoverIfIdle(this.context);
        const config = workspaceConfigFor(this.context);
        this.backupLayout = new BackupLayout(layout, config);
        this.watchBackupsFolder(this.backupLayout.root);
        next.profiles = readAllProfileFiles(layout, config);
        next.status = workspaceStatus(this.context);
      } catch (error) {
        next.configError = (error as Error).message;
      }
    }
    this.snapshot = next;
    this.validations.clear();
    this.sharedDatabaseCache = undefined;
    this.catalogs.clear();
    this.catalogProblems.clear();
    this.missing.clear();
    this.catalogsById.clear();
    this.deletedProfiles = undefined;
    this.elsewhere = undefined;
    this.readFingerprint = this.fingerprint();
    this.changed.fire();
  }

  private watchBackupsFolder(root: string): void {
    const inside = isInside(this.context.layout.storeDir, root);
    if (this.backupsWatcher?.root === root || (inside && !this.backupsWatcher)) return;
    this.backupsWatcher?.watcher.dispose();
    this.backupsWatcher = undefined;
    if (inside) return;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '*/catalog.json'));
    watcher.onDidChange(() => this.scheduleRefresh());
    watcher.onDidCreate(() => this.scheduleRefresh());
    watcher.onDidDelete(() => this.scheduleRefresh());
    this.backupsWatcher = { root, watcher };
  }

  validProfiles(): Profile[] {
    return validProfilesOf(this.snapshot.profiles);
  }

  profile(id: string): Profile | undefined {
    return this.validProfiles().find((p) => p.id === id);
  }

  activeProfile(): Profile | undefined {
    const active = this.snapshot.status?.active;
    return active ? this.profile(active) : undefined;
  }

  /** Why state.json, which says which profile is active, cannot be read (damaged), if it cannot. */
  stateUnreadable(): string | undefined {
    return this.snapshot.status?.stateUnreadable;
  }

  /**
   * Profiles whose file is gone but whose backups this workspace made are still listed (delete keeps
   * backups): their ids, so that those backups can be seen and restored.
   */
  deletedProfilesWithBackups(): string[] {
    if (!this.snapshot.initialised) return [];
    // Read once per refresh: the tree asks for its roots often.
    this.deletedProfiles ??= deletedProfilesWithBackups(this.context.layout, new BackupLayout(this.context.layout, workspaceConfigFor(this.context)), (id) => this.backups(id));
    return this.deletedProfiles;
  }

  /** Backups in a folder this workspace used before its backups folder was changed (see backupsElsewhere); read once per refresh. */
  backupsElsewhere(): BackupsElsewhere[] {
    if (!this.snapshot.initialised) return [];
    this.elsewhere ??= backupsElsewhere(new BackupLayout(this.context.layout, workspaceConfigFor(this.context)));
    return this.elsewhere;
  }

  /** Where a listed backup's archive is (or was), without reading config.yaml again: the tree asks for every row. */
  archiveFileOf(entry: CatalogEntry): string | undefined {
    return this.backupLayout?.archiveFile(entry.profileId, entry.id);
  }

  /** Whether a backup was made of an earlier profile whose id the current profile took (see earlierProfile). */
  isOfEarlierProfile(entry: CatalogEntry): boolean {
    const profile = this.profile(entry.profileId);
    return profile !== undefined && backupsOfEarlierProfile([entry], profile, this.context.now()).length > 0;
  }

  /** The backups of a profile, newest first. */
  backups(profileId: string): CatalogEntry[] {
    let entries = this.catalogs.get(profileId);
    if (!entries) {
      try {
        entries = readCatalog(new BackupLayout(this.context.layout, workspaceConfigFor(this.context)), profileId).reverse();
      } catch (error) {
        entries = [];
        this.catalogProblems.set(profileId, (error as Error).message);
      }
      this.catalogs.set(profileId, entries);
    }
    return entries;
  }

  /**
   * Why the backups folder cannot be listed or written to: config.yaml puts it outside the workspace
   * and it does not exist, or it lost the mark this workspace left there (a disk that is not mounted,
   * in both cases). Backups are refused then (BACKUPS_FOLDER_MISSING), and the list is empty.
   */
  backupsFolderProblem(): string | undefined {
    const backups = new BackupLayout(this.context.layout, workspaceConfigFor(this.context));
    const kind = backups.absenceKind();
    if (kind === 'missing') return `The backups folder ${backups.root} does not exist: mount its disk (or create it)`;
    return kind === 'unmarked' ? `The backups folder ${backups.root} is not the one this workspace backed up into (this workspace's mark is not there): mount its disk` : undefined;
  }

  /**
   * Why the backups listed for a profile may not be all there are: its catalog cannot be read, or
   * disagrees with the archives in its folder. Checked when the list is opened, not for every row.
   */
  catalogProblem(profileId: string): string | undefined {
    const entries = this.backups(profileId);
    if (!this.catalogProblems.has(profileId)) {
      let problem: string | undefined;
      try {
        const problems = catalogDisagreements(new BackupLayout(this.context.layout, workspaceConfigFor(this.context)), profileId, entries);
        if (problems.length > 0) problem = `the catalog disagrees with its folder: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`;
      } catch (error) {
        problem = (error as Error).message;
      }
      this.catalogProblems.set(profileId, problem);
    }
    return this.catalogProblems.get(profileId);
  }

  /**
   * The archives a listed backup needs that are gone from the folder (its own, or its chain's): it
   * cannot be restored now. Empty when all are there. One folder listing per profile, until the next change.
   */
  missingArchivesOf(entry: CatalogEntry): string[] {
    let forProfile = this.missing.get(entry.profileId);
    if (!forProfile) {
      try {
        forProfile = missingArchives(new BackupLayout(this.context.layout, workspaceConfigFor(this.context)), entry.profileId, this.backups(entry.profileId));
      } catch {
        forProfile = new Map();
      }
      this.missing.set(entry.profileId, forProfile);
    }
    return forProfile.get(entry.id) ?? [];
  }

  /**
   * The backup of `entry`'s chain whose archive failed verification (see chainFault), or undefined: with
   * its archive damaged, `entry` cannot be restored though its own verification passed.
   */
  failedInChainOf(entry: CatalogEntry): string | undefined {
    let byId = this.catalogsById.get(entry.profileId);
    if (!byId) {
      byId = new Map(this.backups(entry.profileId).map((e) => [e.id, e]));
      this.catalogsById.set(entry.profileId, byId);
    }
    const fault = chainFault(entry, byId);
    return fault?.kind === 'failed' ? fault.id : undefined;
  }

  /** Quick validation of a profile, cached until the next change on disk. */
  validation(profile: Profile): ValidationReport {
    let report = this.validations.get(profile.id);
    if (!report) {
      report = quickValidateProfile(this.context, workspaceConfigFor(this.context), profile, this.sharedDatabases().get(profile.id) ?? []);
      this.validations.set(profile.id, report);
    }
    return report;
  }

  /** Each profile's databases that other profiles use too, worked out once per snapshot (validation and the Problems panel ask). */
  sharedDatabases(): Map<string, SharedDatabase[]> {
    this.sharedDatabaseCache ??= sharedDatabasesAmong(this.context.layout, this.validProfiles());
    return this.sharedDatabaseCache;
  }

  rememberValidation(report: ValidationReport): void {
    this.validations.set(report.profile, report);
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.backupsWatcher?.watcher.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

import type { Document } from 'yaml';
import { checkProfilePath } from './pathSafety';
import { likelyMeant } from './nearMiss';
import { PROFILE_TYPES, type Profile, type ProfileType } from './profileModel';
import { isEnvironmentVariableName } from './safeNames';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceLayout } from './workspaceLayout';

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A profile file that does not validate, read for what can still be trusted: its name, type (or the one
 * a typo likely meant), protection and `created_at`, and the entries of its `databases:` with a name
 * that can be a variable and a path inside the workspace (or an allowed folder). A file with a YAML
 * error is read as far as the parser got (a database listed after the error may be missing), and is
 * always taken as protected: its type may be what the error swallowed. Undefined when no `profile:`
 * mapping can be read. The emergency backup saves such a profile's databases by it; a restore of that
 * backup keeps its protection by it.
 */
export function salvagedProfile(id: string, document: Document, layout: WorkspaceLayout, config: WorkspaceConfig): Profile | undefined {
  let raw: unknown;
  try {
    raw = (document.toJS({ maxAliasCount: 100 }) as { profile?: unknown } | null)?.profile;
  } catch {
    return undefined;
  }
  if (!isMapping(raw)) return undefined;
  const unparsed = document.errors.length > 0;
  const databases: Record<string, string> = {};
  for (const [logical, written] of Object.entries(isMapping(raw.databases) ? raw.databases : {})) {
    if (isEnvironmentVariableName(logical) && typeof written === 'string' && checkProfilePath(layout.root, written, config.allowedDirectories).ok) databases[logical] = written;
  }
  const written = String(raw.type).toUpperCase();
  const exact = PROFILE_TYPES.find((t) => t === written);
  const type = exact ?? (likelyMeant(written, PROFILE_TYPES) as ProfileType | undefined) ?? 'BACKUP';
  const createdAt = typeof raw.created_at === 'string' && !Number.isNaN(Date.parse(raw.created_at)) ? raw.created_at : undefined;
  // A type that cannot be read for sure could be PRODUCTION's: such a profile is taken as protected.
  const isProtected = unparsed || type === 'PRODUCTION' || raw.protected === true || exact === undefined;
  return { id, name: typeof raw.name === 'string' ? raw.name : id, type, ...(createdAt ? { createdAt } : {}), protected: isProtected, databases, configurations: {}, files: [], requiredTables: {} };
}

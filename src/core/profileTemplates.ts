import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { EnvProfilesError } from './errors';
import { PROFILE_TYPES, type ConfigValue, type ProfileType } from './profileModel';
import type { WorkspaceLayout } from './workspaceLayout';

/** What a template gives a new profile; `${id}` in text values is replaced by the new profile's id. */
export interface ProfileTemplate {
  name: string;
  source: 'built-in' | string;
  type: ProfileType;
  profileName?: string;
  description?: string;
  protected: boolean;
  databases: Record<string, string>;
  configurations: Record<string, ConfigValue>;
  backupSchedule?: Record<string, unknown>;
}

const BUILT_IN: ProfileTemplate[] = [
  {
    name: 'development', source: 'built-in', type: 'DEVELOPMENT', protected: false, description: 'Development environment',
    databases: {}, configurations: { api_mode: 'sandbox', log_level: 'DEBUG', auto_backup: true },
    backupSchedule: { frequency: 'DAILY', time: '02:00', retention_days: 7 },
  },
  {
    name: 'testing', source: 'built-in', type: 'TESTING', protected: false, description: 'Testing environment',
    databases: {}, configurations: { api_mode: 'sandbox', log_level: 'INFO', auto_backup: true },
    backupSchedule: { frequency: 'DAILY', time: '03:00', retention_days: 14 },
  },
  {
    name: 'production', source: 'built-in', type: 'PRODUCTION', protected: true, description: 'Production environment (protected)',
    databases: {}, configurations: { api_mode: 'live', log_level: 'INFO', auto_backup: true },
    backupSchedule: { frequency: 'DAILY', time: '02:00', retention_days: 30 },
  },
  {
    name: 'backup', source: 'built-in', type: 'BACKUP', protected: false, description: 'Backup environment (restored copies)',
    databases: {}, configurations: { api_mode: 'disabled', log_level: 'WARNING', auto_backup: false },
    backupSchedule: { frequency: 'WEEKLY', time: '04:00', retention_days: 90 },
  },
];

/** The built-in template for a type. */
export function builtInTemplateFor(type: ProfileType): ProfileTemplate {
  return BUILT_IN.find((t) => t.type === type) as ProfileTemplate;
}

/** Every template: the four built-in ones, then the workspace's own from `.envprofiles/templates/`. */
export function listTemplates(layout: WorkspaceLayout): ProfileTemplate[] {
  const user: ProfileTemplate[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(layout.templatesDir).filter((n) => n.endsWith('.yaml')).sort();
  } catch {
    // No user templates.
  }
  for (const file of names) user.push(readUserTemplate(layout, file.slice(0, -'.yaml'.length)));
  return [...BUILT_IN, ...user];
}

/** Finds a template by name; user templates shadow built-in ones of the same name. */
export function findTemplate(layout: WorkspaceLayout, name: string): ProfileTemplate {
  const userFile = path.join(layout.templatesDir, `${name}.yaml`);
  if (/^[A-Za-z0-9._-]+$/.test(name) && fs.existsSync(userFile)) return readUserTemplate(layout, name);
  const builtIn = BUILT_IN.find((t) => t.name === name.toLowerCase());
  if (builtIn) return builtIn;
  const known = listTemplates(layout).map((t) => t.name);
  throw new EnvProfilesError('TEMPLATE_NOT_FOUND', `No template "${name}".`, { kind: 'usage', hint: `Templates: ${known.join(', ')}.` });
}

function readUserTemplate(layout: WorkspaceLayout, name: string): ProfileTemplate {
  const file = path.join(layout.templatesDir, `${name}.yaml`);
  const label = layout.relative(file);
  let raw: unknown;
  try {
    raw = parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EnvProfilesError('YAML_SYNTAX', `${label}: ${(error as Error).message.split('\n')[0]}`, { file: label, hint: 'Fix the template file.' });
  }
  const body = (raw as { profile?: Record<string, unknown> } | null)?.profile;
  if (!body || typeof body !== 'object') {
    throw new EnvProfilesError('PROFILE_INVALID', `${label} must contain a "profile:" mapping like a profile file.`, { file: label, field: 'profile' });
  }
  const typeText = String(body.type ?? 'DEVELOPMENT').toUpperCase();
  const type = PROFILE_TYPES.find((t) => t === typeText);
  if (!type) throw new EnvProfilesError('PROFILE_INVALID', `${label} profile.type: "${typeText}" is not a profile type.`, { file: label, field: 'profile.type' });
  return {
    name,
    source: label,
    type,
    profileName: typeof body.name === 'string' ? body.name : undefined,
    description: typeof body.description === 'string' ? body.description : undefined,
    protected: body.protected === true || type === 'PRODUCTION',
    databases: (body.databases ?? {}) as Record<string, string>,
    configurations: (body.configurations ?? {}) as Record<string, ConfigValue>,
    backupSchedule: body.backup_schedule as Record<string, unknown> | undefined,
  };
}

/** Replaces `${id}` in a template's text with the new profile id. */
export function fillPlaceholders(text: string, id: string): string {
  return text.split('${id}').join(id);
}

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EnvProfilesError } from '../src/core/errors';
import { likelyMeant } from '../src/core/nearMiss';
import { loadProfile, parseProfileText } from '../src/core/profileStore';
import { DEFAULT_CONFIG_TEXT, defaultConfig, loadWorkspaceConfig, workspaceConfigWarnings } from '../src/core/workspaceConfig';
import { WorkspaceLayout } from '../src/core/workspaceLayout';
import { SPEC_TEMPLATE } from '../src/demo/demoWorkspace';
import { tempDir } from './support/workspaces';

/** PRODUCT.md's template, read from the brief itself when it is beside the repository. */
function specTemplateFromBrief(): string {
  const brief = path.resolve(__dirname, '..', '..', '..', 'shared', 'PRODUCT.md');
  if (!fs.existsSync(brief)) return SPEC_TEMPLATE;
  const text = fs.readFileSync(brief, 'utf8');
  const match = /```yaml\n([\s\S]*?)```/.exec(text);
  assert.ok(match, 'PRODUCT.md holds a yaml block');
  return match[1];
}

function parse(text: string, root = tempDir(), expectedId?: string) {
  const layout = new WorkspaceLayout(root);
  return parseProfileText(text, 'p.yaml', layout, defaultConfig(), expectedId);
}

/** The template with one line replaced, for error cases. */
function variant(from: string, to: string): string {
  assert.ok(SPEC_TEMPLATE.includes(from), `template contains ${from}`);
  return SPEC_TEMPLATE.replace(from, to);
}

function issueFor(text: string, field: string, root?: string) {
  const { profile, issues } = parse(text, root);
  assert.equal(profile, undefined, 'the profile must be refused');
  const issue = issues.find((i) => i.field === field);
  assert.ok(issue, `expected an issue on ${field}, got ${JSON.stringify(issues)}`);
  return issue;
}

describe('profile format', () => {
  it('loads the specification template exactly as written, Korean name included', () => {
    const text = specTemplateFromBrief();
    assert.equal(text, SPEC_TEMPLATE, 'the demo carries the template verbatim');
    const { profile, issues } = parse(text);
    assert.deepEqual(issues, []);
    assert.ok(profile);
    assert.equal(profile.id, 'dev_environment_001');
    assert.equal(profile.name, '개발 환경');
    assert.equal(profile.type, 'DEVELOPMENT');
    assert.equal(profile.createdAt, '2025-08-08T20:00:00Z');
    assert.deepEqual(profile.databases, { settings: 'data/dev/settings.sqlite3', strategies: 'data/dev/strategies.sqlite3', market_data: 'data/dev/market_data.sqlite3' });
    assert.deepEqual(profile.configurations, { api_mode: 'sandbox', log_level: 'DEBUG', auto_backup: true });
    assert.deepEqual(profile.backupSchedule, { frequency: 'DAILY', time: '02:00', retention_days: 30 });
    assert.equal(profile.protected, false);
  });

  it('accepts types case-insensitively and protects PRODUCTION', () => {
    assert.equal(parse(variant('type: "DEVELOPMENT"', 'type: "testing"')).profile?.type, 'TESTING');
    const prod = parse(variant('type: "DEVELOPMENT"', 'type: Production')).profile;
    assert.equal(prod?.type, 'PRODUCTION');
    assert.equal(prod?.protected, true);
    assert.equal(parse(variant('type: "DEVELOPMENT"', 'type: BACKUP\n  protected: true')).profile?.protected, true);
  });

  it('refuses an unknown type and names the field and line', () => {
    const issue = issueFor(variant('type: "DEVELOPMENT"', 'type: "STAGING"'), 'profile.type');
    assert.match(issue.message, /STAGING.*DEVELOPMENT, TESTING, PRODUCTION, BACKUP/);
    assert.equal(issue.line, 5);
    assert.equal(issue.file, 'p.yaml');
  });

  const badIds: [string, RegExp][] = [
    ['ab', /at least 3 characters/],
    ['../etc', /path separator/],
    ['a/b/c', /path separator/],
    ['a\\\\bc', /path separator/],
    ['abc..def', /"\.\."/],
    ['con', /reserved/],
    ['LPT1.txt', /reserved/],
    ['-dash', /start with a letter or digit/],
    ['has space', /letters, digits/],
  ];
  for (const [id, message] of badIds) {
    it(`refuses the profile id "${id}"`, () => {
      const issue = issueFor(variant('id: "dev_environment_001"', `id: "${id}"`), 'profile.id');
      assert.match(issue.message, message);
      assert.equal(issue.line, 3);
    });
  }

  it('refuses an id that does not match the file name', () => {
    const { issues } = parse(SPEC_TEMPLATE, tempDir(), 'other_name');
    assert.match(issues[0].message, /does not match the file name \(other_name\.yaml\)/);
  });

  it('refuses missing required fields, naming each', () => {
    const { issues } = parse('profile:\n  id: "abc"\n');
    assert.deepEqual(issues.map((i) => i.field).sort(), ['profile.databases', 'profile.name', 'profile.type']);
    assert.ok(issues.every((i) => /missing/.test(i.message)));
  });

  it('refuses a file without a profile mapping', () => {
    assert.match(parse('- just\n- a list\n').issues[0].message, /"profile:" mapping/);
    // What the file holds instead is said (before: one sentence for a list, a lost "profile:" line and bytes of no text).
    const said = (text: string): string => parse(text).issues[0].message;
    assert.equal(said('- just\n- a list\n'), 'the file must contain a "profile:" mapping (see the profile template), but it holds a list');
    assert.equal(said('\u0007garbage\n'), 'the file must contain a "profile:" mapping (see the profile template), but it holds the text "\\u0007garbage"');
    assert.equal(said('id: a\nname: b\n'), 'the file must contain a "profile:" mapping (see the profile template), but it has no "profile:" key (its keys: id, name)');
    assert.equal(said('profile: true\n'), 'the file must contain a "profile:" mapping (see the profile template), but "profile:" holds the value true');
    assert.equal(said('# only a comment\n'), 'the file must contain a "profile:" mapping (see the profile template), but it holds nothing');
  });

  it('reports YAML syntax errors with line and column', () => {
    const { issues } = parse(variant('  name: "개발 환경"', '  name: "개발 환경\n  oops: [unclosed'));
    assert.ok(issues.length > 0);
    assert.match(issues[0].message, /YAML syntax error/);
    // The position is the issue's (shown as file:line:column), not repeated at the end of the text.
    assert.doesNotMatch(issues[0].message, /at line \d+, column \d+|:$/);
    assert.equal(typeof issues[0].line, 'number');
    assert.equal(typeof issues[0].column, 'number');
  });

  it('says YAML syntax errors in the words of the file\'s author, not the parser\'s (before: "Unexpected map-value-ind token in YAML stream", "please use YAML.parseAllDocuments()")', () => {
    const said = (text: string): string[] => parse(text).issues.map((i) => `${i.line}:${i.column} ${i.message}`);
    assert.deepEqual(said(`${SPEC_TEMPLATE}---\nextra: 1\n`).slice(0, 1), ['19:1 YAML syntax error: the file holds more than one YAML document (a line "---" or "..." ends the first); keep one']);
    assert.deepEqual(said(' profile: x\nprofile:\n  id: "a"\n'), [
      '2:1 YAML syntax error: Unexpected value after a complete value',
      '2:8 YAML syntax error: Unexpected ":" here (check the indentation, and the ":" after each key)',
      '3:3 YAML syntax error: Unexpected value "id" here (check the indentation, and the ":" after each key)',
      '3:5 YAML syntax error: Unexpected ":" here (check the indentation, and the ":" after each key)',
      '3:7 YAML syntax error: Unexpected quoted value "a" here (check the indentation, and the ":" after each key)',
    ]);
    assert.deepEqual(said('profile:\n  id: "a\n  name: b\n'), ['2:7 YAML syntax error: the quoted value that opens here has no closing "']);
    assert.deepEqual(said("profile:\n  id: 'a''s \\\"\n  name: b\n"), ["2:7 YAML syntax error: the quoted value that opens here has no closing '"]);
    assert.deepEqual(said('"x" y\nprofile:\n  id: "a"\n'), ['1:5 YAML syntax error: Unexpected value here (check the indentation, and the ":" after each key)']);
    assert.deepEqual(said('profile:\n  id: "dev_environment_001" - x\n'), ['2:29 YAML syntax error: Unexpected "-" after a complete value', '2:31 YAML syntax error: Unexpected value after a complete value']);
    // Every message of the parser that names one of its tokens is said in other words.
    const tokenNames = /\b(map-value-ind|seq-item-ind|explicit-key-ind|flow-(?:map|seq)-(?:start|end)|doc-(?:start|end)|(?:double|single)-quoted-scalar|block-scalar|scalar|node end|YAML stream|parseAllDocuments)\b/;
    for (const text of [' profile: x\nprofile:\n  id: "a"\n', '"x" y\nprofile:\n', 'a: [1, 2\n', 'profile:\n  id: a\n---\nb: 1\n', 'profile:\n  a: 1 : 2\n  - x\n', '? x\n: y\n]\n', '{a: 1}}\n']) {
      for (const message of said(text)) assert.doesNotMatch(message, tokenNames, `${JSON.stringify(text)}: ${message}`);
    }
  });

  it('an alias to no anchor, or aliases nested past 100, is a YAML error at its position (before: "a bug", which stopped every command that lists profiles)', () => {
    const { issues } = parse(variant('    log_level: "DEBUG"', '    log_level: *level'));
    assert.deepEqual(issues.map((i) => [i.line, i.column, i.message]), [[13, 16, 'YAML error: the alias *level refers to no anchor &level before it; define the anchor first, or write the value itself']]);
    // A "billion laughs": each level doubles the one before.
    const laughs = ['a: &a0 [x, x]', ...Array.from({ length: 12 }, (_, i) => `b${i + 1}: &a${i + 1} [*a${i}, *a${i}]`)].join('\n');
    const bomb = parse(variant('    log_level: "DEBUG"', `    log_level: "DEBUG"\n  extra:\n${laughs.split('\n').map((l) => `    ${l}`).join('\n')}`));
    assert.match(bomb.issues[0].message, /^YAML error: .*alias.*; write the values themselves instead of aliases$/i);
    // An alias to an anchor before it is fine.
    assert.deepEqual(parse(variant('    log_level: "DEBUG"', '    log_level: &level "DEBUG"\n    other_level: *level')).issues, []);
  });

  it('reports a duplicate key as a syntax error at its line', () => {
    const { issues } = parse(variant('    log_level: "DEBUG"', '    log_level: "DEBUG"\n    log_level: "INFO"'));
    assert.match(issues[0].message, /unique/i);
    assert.equal(issues[0].line, 14);
    // The key is named (the parser's "Map keys must be unique" names none), as written.
    assert.equal(issues[0].message, 'YAML syntax error: the key "log_level" is written a second time here, in the same mapping; keep one of the two (YAML keys must be unique)');
    const said = (text: string): string[] => parse(text).issues.map((i) => `${i.line}:${i.column} ${i.message}`);
    assert.deepEqual(said('profile:\n  id: a\n  \'id\' : b\n'), ["3:3 YAML syntax error: the key 'id' is written a second time here, in the same mapping; keep one of the two (YAML keys must be unique)"]);
    assert.deepEqual(said('profile: {id: a, "i\\"d": b, "i\\"d": c}\n'), ['1:29 YAML syntax error: the key "i\\"d" is written a second time here, in the same mapping; keep one of the two (YAML keys must be unique)']);
  });

  it('refuses database paths that leave the workspace: "..", absolute, drive letters', () => {
    for (const bad of ['../outside.sqlite3', 'data/../../outside.sqlite3', '/etc/passwd', 'C:/data/x.sqlite3']) {
      const issue = issueFor(variant('settings: "data/dev/settings.sqlite3"', `settings: "${bad}"`), 'profile.databases.settings');
      assert.match(issue.message, /outside the workspace|Windows drive/);
      // allowed_directories is the way on for a path outside, not for a Windows drive on this system.
      if (!bad.startsWith('C:')) assert.match(issue.message, /allowed_directories/);
      assert.equal(issue.line, 8);
    }
  });

  it('refuses a path with a line break or another control character, or (but on Windows) a backslash, as a backup manifest may hold none (before: valid and backed up, and that backup then refused as hostile by every restore)', () => {
    const layout = new WorkspaceLayout(tempDir());
    const text = variant('settings: "data/dev/settings.sqlite3"', 'settings: "data/dev/a\\nb.sqlite3"').replace('strategies: "data/dev/strategies.sqlite3"', "strategies: 'data\\dev\\strategies.sqlite3'").replace('  configurations:', '  files:\n    - "config/\\tapp.yaml"\n  configurations:');
    const { profile, issues } = parseProfileText(text, 'p.yaml', layout, defaultConfig());
    assert.equal(profile, undefined);
    assert.deepEqual(issues.map((i) => `${i.field}: ${i.message}`), [
      'profile.databases.settings: "data/dev/a\\nb.sqlite3" (in JSON notation) holds a line break or another control character, which a backup cannot restore: rename the file',
      'profile.databases.strategies: "data\\dev\\strategies.sqlite3" holds a backslash: separate folders with "/" (Windows takes it too); a file whose name has one cannot be restored from a backup, so rename it',
      'profile.files.0: "config/\\tapp.yaml" (in JSON notation) holds a line break or another control character, which a backup cannot restore: rename the file',
    ]);
  });

  it('refuses a database or a file among the backups (the backups folder\'s top, or a profile\'s folder there), not elsewhere in a broad backups folder (before: files: could list a catalog.json, which a restore put back old)', () => {
    const layout = new WorkspaceLayout(tempDir());
    const backups = tempDir('envprofiles-backups-');
    fs.mkdirSync(path.join(backups, 'dev_environment_001'));
    fs.writeFileSync(path.join(backups, 'dev_environment_001/catalog.json'), '{"version":1,"backups":[]}');
    fs.mkdirSync(path.join(backups, 'other_workspace_profile'));
    fs.writeFileSync(path.join(backups, 'other_workspace_profile/catalog.json'), '{"version":1,"backups":[]}');
    fs.mkdirSync(path.join(backups, 'app/config'), { recursive: true });
    const config = { ...defaultConfig(), allowedDirectories: [backups], backups: { ...defaultConfig().backups, directory: backups } };
    const text = variant('settings: "data/dev/settings.sqlite3"', `settings: "${backups}/settings.sqlite3"`)
      .replace('  configurations:', `  files:\n    - ${backups}/dev_environment_001/catalog.json\n    - ${backups}/other_workspace_profile/catalog.json\n    - ${backups}/app/config/app.ini\n  configurations:`);
    const { issues } = parseProfileText(text, 'p.yaml', layout, config);
    assert.deepEqual(issues.map((i) => `${i.field}: ${i.message}`), [
      `profile.databases.settings: "${backups}/settings.sqlite3" is in the backups folder (${backups}, backups.directory in .envprofiles/config.yaml), where this tool keeps the archives and their catalogs: a restore would put an old copy back over the one in use; keep it elsewhere`,
      `profile.files.0: "${backups}/dev_environment_001/catalog.json" is in ${backups}/dev_environment_001, the folder where the backups of dev_environment_001 go (backups.directory in .envprofiles/config.yaml, then a folder per profile id), where this tool keeps the archives and their catalogs: a restore would put an old copy back over the one in use; keep it elsewhere`,
      `profile.files.1: "${backups}/other_workspace_profile/catalog.json" is in ${backups}/other_workspace_profile, a profile's folder of backups (backups.directory in .envprofiles/config.yaml, then a folder per profile id), where this tool keeps the archives and their catalogs: a restore would put an old copy back over the one in use; keep it elsewhere`,
    ]);
  });

  it('refuses a name with a line break or another control character, which split the row of list in two; a description may have several lines', () => {
    for (const [written, shown] of [['"개발\\n환경"', '"개발\\n환경"'], ['"a\\tb"', '"a\\tb"'], ['"a\\u2028b"', '"a\\u2028b"'], ['|-\n    two\n    lines', '"two\\nlines"']]) {
      const issue = issueFor(variant('name: "개발 환경"', `name: ${written}`), 'profile.name');
      assert.equal(issue.message, `${shown} (in JSON notation) holds a line break or another control character: a name is shown on one line (lists, the status bar); write it on one line (a description may have several)`);
    }
    const described = parse(variant('name: "개발 환경"', 'name: "개발 환경"\n  description: |\n    first line\n    second line'));
    assert.deepEqual(described.issues, []);
    assert.equal(described.profile?.description, 'first line\nsecond line\n');
  });

  it('refuses a database in the folder where a profile\'s backups will go before its first backup, its own or another profile\'s of the workspace (before: valid until the first backup wrote a catalog there, then invalid for good: a clone with backups.directory "data" backed up once and could not be backed up again)', () => {
    const root = tempDir();
    const layout = new WorkspaceLayout(root);
    fs.mkdirSync(path.join(root, 'data/dev_environment_001'), { recursive: true });
    fs.mkdirSync(path.join(root, 'data/test_environment_001'), { recursive: true });
    const config = { ...defaultConfig(), backups: { ...defaultConfig().backups, directory: 'data' } };
    const own = variant('settings: "data/dev/settings.sqlite3"', 'settings: "data/dev_environment_001/settings.sqlite3"');
    assert.deepEqual(parseProfileText(own, 'p.yaml', layout, config, undefined, []).issues.map((i) => `${i.field}: ${i.message}`), [
      `profile.databases.settings: "data/dev_environment_001/settings.sqlite3" is in ${root}/data/dev_environment_001, the folder where the backups of dev_environment_001 go (backups.directory in .envprofiles/config.yaml, then a folder per profile id), where this tool keeps the archives and their catalogs: a restore would put an old copy back over the one in use; keep it elsewhere`,
    ]);
    const another = variant('settings: "data/dev/settings.sqlite3"', 'settings: "data/test_environment_001/settings.sqlite3"');
    assert.equal(parseProfileText(another, 'p.yaml', layout, config, undefined, []).issues.length, 0, 'a folder named like no profile of the workspace is the data\'s');
    assert.match(parseProfileText(another, 'p.yaml', layout, config, undefined, ['test_environment_001']).issues[0]?.message ?? '', /the folder where the backups of test_environment_001 go/);
    // The same folders under the default backups folder are only data.
    assert.equal(parseProfileText(own, 'p.yaml', layout, defaultConfig(), undefined, ['test_environment_001']).issues.length, 0);
  });

  it('files: may not list the -wal, -shm or -journal of a SQLite database, the profile\'s or another (before: valid; copied as plain files, and a restore put old frames beside the newer database); a database itself there is warned about', () => {
    const root = tempDir();
    const layout = new WorkspaceLayout(root);
    fs.mkdirSync(path.join(root, 'data/other'), { recursive: true });
    // A SQLite header as SQLite writes one: the magic text, then a page size of 4096.
    fs.writeFileSync(path.join(root, 'data/other/app.db'), Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.from([0x10, 0x00]), Buffer.alloc(82)]));
    fs.writeFileSync(path.join(root, 'data/other/notes.txt-journal'), 'not a database\'s');
    const text = variant('  configurations:', '  files:\n    - data/dev/settings.sqlite3-wal\n    - data/other/app.db-shm\n    - data/other/notes.txt-journal\n  configurations:');
    const { issues } = parseProfileText(text, 'p.yaml', layout, defaultConfig());
    assert.deepEqual(issues.map((i) => `${i.field}: ${i.message}`), [
      'profile.files.0: "data/dev/settings.sqlite3-wal" is the -wal file of the SQLite database data/dev/settings.sqlite3, which SQLite manages (a backup takes its committed data with the database; put back by a restore, it would damage the database); remove it from files:',
      'profile.files.1: "data/other/app.db-shm" is the -shm file of the SQLite database data/other/app.db, which SQLite manages (a backup takes its committed data with the database; put back by a restore, it would damage the database); remove it from files:',
    ]);
    // A database itself in files: is copied, not snapshotted: said, but allowed (a read-only reference database).
    const listed = parseProfileText(variant('  configurations:', '  files:\n    - data/other/app.db\n  configurations:'), 'p.yaml', layout, defaultConfig());
    assert.deepEqual(listed.issues, []);
    assert.deepEqual(listed.warnings?.map((w) => `${w.field}: ${w.message}`), ['profile.files.0: "data/other/app.db" is a SQLite database: as a file it is copied byte for byte, which is a consistent copy only while nothing writes it; list it under databases: to have it snapshotted as one committed state']);
  });

  it('files: lists each file once, and none that is backed up or written otherwise: a database of the profile, the env file, a link (before: such a backup failed its own verify, "appears twice")', () => {
    const layout = new WorkspaceLayout(tempDir());
    const config = { ...defaultConfig(), links: { 'data/settings.sqlite3': 'settings' } };
    const text = variant('  configurations:', '  files:\n    - config/app.yaml\n    - ./config/app.yaml\n    - data/dev/settings.sqlite3\n    - .env\n    - data/settings.sqlite3\n  configurations:');
    const { profile, issues } = parseProfileText(text, 'p.yaml', layout, config);
    assert.equal(profile, undefined);
    assert.deepEqual(issues.map((i) => `${i.field}: ${i.message}`), [
      'profile.files.1: "./config/app.yaml" is listed already (files[0] is the same file); list each file once',
      'profile.files.2: "data/dev/settings.sqlite3" is the database "settings" of this profile, which is backed up as a consistent SQLite snapshot; remove it from files:',
      'profile.files.3: ".env" is written by this tool on every switch (outputs.env_file in .envprofiles/config.yaml), and backed up with the profile it was generated for; remove it from files:',
      'profile.files.4: "data/settings.sqlite3" is written by this tool on every switch (outputs.links in .envprofiles/config.yaml); remove it from files:',
    ]);
    // Without an env file in config.yaml, .env is a file like any other.
    assert.deepEqual(parseProfileText(variant('  configurations:', '  files:\n    - .env\n  configurations:'), 'p.yaml', layout, { ...defaultConfig(), envFile: undefined }).issues, []);
  });

  it('a profile lists at most as many databases and files as a backup archive may hold (an archive over 100,000 entries is refused as hostile)', () => {
    const layout = new WorkspaceLayout(tempDir());
    const files = Array.from({ length: 20_001 }, (_, i) => `    - config/f${i}.yaml`).join('\n');
    // The profile has settings and strategies besides these.
    const databases = Array.from({ length: 998 }, (_, i) => `    db_${i}: "data/db_${i}.sqlite3"`).join('\n');
    const withFiles = variant('  configurations:', `  files:\n${files}\n  configurations:`);
    assert.deepEqual(parseProfileText(withFiles, 'p.yaml', layout, defaultConfig()).issues.map((i) => `${i.field}: ${i.message}`), ['profile.files: lists 20001 files, more than a backup may hold (at most 20000); list the configuration files the environment needs, not whole folders of data']);
    const atMost = variant('    market_data: "data/dev/market_data.sqlite3"', databases);
    assert.deepEqual(parseProfileText(atMost, 'p.yaml', layout, defaultConfig()).issues, [], 'a thousand databases are fine');
    const over = variant('    market_data: "data/dev/market_data.sqlite3"', `${databases}\n    db_extra: "data/db_extra.sqlite3"`);
    assert.deepEqual(parseProfileText(over, 'p.yaml', layout, defaultConfig()).issues.map((i) => `${i.field}: ${i.message}`), ['profile.databases: lists 1001 databases, more than a backup may hold (at most 1000); split them over several profiles']);
  });

  it('one file under two names, through a folder that is a symbolic link, is refused: as two databases, as a file listed twice, as a file that is a database (before: valid, and a restore then replaced that file twice)', () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'data', 'dev'), { recursive: true });
    fs.mkdirSync(path.join(root, 'config'));
    fs.symlinkSync('dev', path.join(root, 'data', 'devlink'));
    fs.symlinkSync('config', path.join(root, 'conf'));
    const layout = new WorkspaceLayout(root);
    const text = variant('strategies: "data/dev/strategies.sqlite3"', 'strategies: "data/devlink/settings.sqlite3"').replace('  configurations:', '  files:\n    - config/app.yaml\n    - conf/app.yaml\n    - data/devlink/market_data.sqlite3\n  configurations:');
    const { issues } = parseProfileText(text, 'p.yaml', layout, defaultConfig());
    assert.deepEqual(issues.map((i) => `${i.field}: ${i.message}`), [
      `profile.databases.strategies: uses the same file as "settings" (it leads to ${path.join(fs.realpathSync(root), 'data/dev/settings.sqlite3')} through a symbolic link)`,
      'profile.files.1: "conf/app.yaml" is listed already (files[0] is the same file); list each file once',
      'profile.files.2: "data/devlink/market_data.sqlite3" is the database "market_data" of this profile, which is backed up as a consistent SQLite snapshot; remove it from files:',
    ]);
  });

  it('refuses a database or a file inside .envprofiles, where this tool keeps its own files (a restore would replace them: state, config, another profile)', () => {
    for (const bad of ['.envprofiles/state.json', '.envprofiles/profiles/prod_environment_001.yaml', './.envprofiles']) {
      const issue = issueFor(variant('settings: "data/dev/settings.sqlite3"', `settings: "${bad}"`), 'profile.databases.settings');
      assert.equal(issue.message, `"${bad}" is inside .envprofiles, where this tool keeps its own files`);
    }
    const file = issueFor(variant('  configurations:', '  files:\n    - .envprofiles/config.yaml\n  configurations:'), 'profile.files.0');
    assert.equal(file.message, '".envprofiles/config.yaml" is inside .envprofiles, where this tool keeps its own files');
  });

  it('refuses a database path that escapes through a symbolic link', () => {
    const root = tempDir();
    const outside = tempDir();
    fs.mkdirSync(path.join(root, 'data'));
    fs.symlinkSync(outside, path.join(root, 'data', 'dev'));
    const issue = issueFor(SPEC_TEMPLATE, 'profile.databases.settings', root);
    assert.match(issue.message, /through a symbolic link/);
  });

  it('refuses a database path through a symbolic link to a folder that does not exist yet, outside (before: read as a folder inside)', () => {
    const root = tempDir();
    const outside = path.join(tempDir(), 'not-yet');
    fs.mkdirSync(path.join(root, 'data'));
    fs.symlinkSync(outside, path.join(root, 'data', 'dev'));
    const issue = issueFor(SPEC_TEMPLATE, 'profile.databases.settings', root);
    assert.equal(issue.message, `"data/dev/settings.sqlite3" leads outside the workspace folder through a symbolic link (to ${path.join(outside, 'settings.sqlite3')}); keep databases inside the workspace or allow the directory under "allowed_directories" in .envprofiles/config.yaml`);
    // A link that leads to itself is not followed for ever: it is a name inside the workspace.
    fs.rmSync(path.join(root, 'data', 'dev'));
    fs.symlinkSync('dev', path.join(root, 'data', 'dev'));
    assert.equal(parse(SPEC_TEMPLATE, root).issues.find((i) => i.field === 'profile.databases.settings'), undefined);
  });

  it('accepts a path outside the workspace when config.yaml allows that directory', () => {
    const root = tempDir();
    const outside = tempDir();
    const layout = new WorkspaceLayout(root);
    fs.mkdirSync(layout.storeDir);
    fs.writeFileSync(layout.configFile, `allowed_directories:\n  - ${outside}\n`);
    const config = loadWorkspaceConfig(layout);
    const text = variant('settings: "data/dev/settings.sqlite3"', `settings: "${outside}/settings.sqlite3"`);
    assert.ok(parseProfileText(text, 'p.yaml', layout, config).profile);
    const elsewhere = variant('settings: "data/dev/settings.sqlite3"', 'settings: "/var/other.sqlite3"');
    assert.equal(parseProfileText(elsewhere, 'p.yaml', layout, config).profile, undefined);
  });

  it('refuses configuration keys that cannot be environment variables, and case collisions', () => {
    assert.match(issueFor(variant('    log_level: "DEBUG"', '    log-level: "DEBUG"'), 'profile.configurations.log-level').message, /environment variable name/);
    assert.match(issueFor(variant('    log_level: "DEBUG"', '    9lives: "x"'), 'profile.configurations.9lives').message, /environment variable name/);
    assert.match(issueFor(variant('    log_level: "DEBUG"', '    LOG_LEVEL: "x"\n    log_level: "y"'), 'profile.configurations.log_level').message, /both become LOG_LEVEL/);
    assert.match(issueFor(variant('    log_level: "DEBUG"', '    envprofile_id: "x"'), 'profile.configurations.envprofile_id').message, /reserved prefix/);
    assert.match(issueFor(variant('    log_level: "DEBUG"', '    log_level: [a, b]'), 'profile.configurations.log_level').message, /text, number or true\/false/);
  });

  it('refuses database names that cannot become variable names and two names for one file', () => {
    assert.match(issueFor(variant('    settings: "data/dev/settings.sqlite3"', '    my-db: "data/dev/settings.sqlite3"'), 'profile.databases.my-db').message, /not a usable database name/);
    assert.match(issueFor(variant('    strategies: "data/dev/strategies.sqlite3"', '    strategies: "data/dev/settings.sqlite3"'), 'profile.databases.strategies').message, /same file/);
  });

  it('refuses database names every JavaScript object already has (before: "__proto__" validated, and every backup left it out without a word; "toString" failed a switch with an internal error)', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
      const issue = issueFor(variant('    settings: "data/dev/settings.sqlite3"', `    ${name}: "data/dev/settings.sqlite3"`), `profile.databases.${name}`);
      assert.equal(issue.message, `"${name}" is a name every JavaScript object already has, so it cannot name a database: choose another (the file keeps its name; only the profile's key changes)`);
    }
  });

  it('validates backup_schedule fields', () => {
    assert.match(issueFor(variant('frequency: "DAILY"', 'frequency: "SOMETIMES"'), 'profile.backup_schedule.frequency').message, /DAILY/);
    assert.match(issueFor(variant('time: "02:00"', 'time: "25:00"'), 'profile.backup_schedule.time').message, /HH:MM/);
    assert.match(issueFor(variant('retention_days: 30', 'retention_days: 0'), 'profile.backup_schedule.retention_days').message, /at least 1/);
    // A misspelt keep rule is named with the rule it most likely means.
    assert.equal(issueFor(variant('retention_days: 30', 'keep: {dayly: 7}'), 'profile.backup_schedule.keep.dayly').message, 'is not a keep rule; did you mean daily? The rules are last, hourly, daily, weekly, monthly, yearly');
    assert.equal(issueFor(variant('retention_days: 30', 'keep: {newest: 7}'), 'profile.backup_schedule.keep.newest').message, 'is not a keep rule; use last, hourly, daily, weekly, monthly, yearly');
  });

  it('a number or true/false written in quotes, as the template writes most values, is refused with why: the quotes make it text (before: "must be a whole number" alone, for "30")', () => {
    const quoted = variant('retention_days: 30', 'retention_days: "30"\n    before_switch: "True"\n    keep: {daily: "7", weekly: "x"}').replace('  type: "DEVELOPMENT"', '  type: "DEVELOPMENT"\n  protected: "false"');
    const { issues } = parse(quoted);
    const message = (field: string): string | undefined => issues.find((i) => i.field === field)?.message;
    assert.equal(message('profile.backup_schedule.retention_days'), 'must be a whole number of days, at least 1 (it is written in quotes, "30", which makes it text: write 30 without them)');
    assert.equal(message('profile.backup_schedule.before_switch'), 'must be true or false (it is written in quotes, "True", which makes it text: write true without them)');
    assert.equal(message('profile.backup_schedule.keep.daily'), 'must be a whole number, 0 or more (it is written in quotes, "7", which makes it text: write 7 without them)');
    assert.equal(message('profile.backup_schedule.keep.weekly'), 'must be a whole number, 0 or more', 'text that is no number gets no such advice');
    assert.equal(message('profile.protected'), 'must be true or false (it is written in quotes, "false", which makes it text: write false without them)');
    const layout = new WorkspaceLayout(tempDir());
    fs.mkdirSync(layout.storeDir);
    fs.writeFileSync(layout.configFile, 'backups:\n  max_chain: "7"\n  before_switch: "yes"\n');
    assert.throws(() => loadWorkspaceConfig(layout), (error: unknown) => error instanceof EnvProfilesError
      && /backups\.max_chain: must be a whole number from 0 to \d+ \(it is written in quotes, "7", which makes it text: write 7 without them\)/.test(error.message)
      && error.issues.find((i) => i.field === 'backups.before_switch')?.message === 'must be true or false');
  });

  it('warns about a backup_schedule key it does not know, at its line, and keeps the profile usable', () => {
    const misspelt = parse(SPEC_TEMPLATE.replace('retention_days: 30', 'retention_day: 30'));
    assert.ok(misspelt.profile, 'still a valid profile');
    assert.deepEqual(misspelt.issues, []);
    assert.equal(misspelt.warnings?.length, 1);
    const [warning] = misspelt.warnings ?? [];
    assert.equal(warning.field, 'profile.backup_schedule.retention_day');
    assert.equal(warning.line, SPEC_TEMPLATE.split('\n').findIndex((line) => line.includes('retention_days: 30')) + 1);
    assert.match(warning.message, /is not a backup_schedule key \(frequency, time, retention_days, keep, before_switch\), so it is ignored; did you mean retention_days\?/);
    const cron = parse(SPEC_TEMPLATE.replace('retention_days: 30', 'retention_days: 30\n    cron: "0 2 * * *"'));
    assert.match(cron.warnings?.[0].message ?? '', /scheduled backups \(cron, interval\) are not in this version yet, so "cron" is ignored/);
    assert.deepEqual(parse(SPEC_TEMPLATE).warnings, [], 'the template has none');
  });

  it('warns about a profile key that looks misspelt (protect: true protects nothing), and not about a key of the user\'s own', () => {
    const text = SPEC_TEMPLATE.replace('  type: "DEVELOPMENT"\n', '  type: "DEVELOPMENT"\n  protect: true\n  createdAt: "2025-08-08T20:00:00Z"\n  owner: "ops team"\n  ticket: "OPS-12"\n');
    const { profile, issues, warnings } = parse(text);
    assert.deepEqual(issues, []);
    assert.equal(profile?.protected, false, 'as written, the profile is not protected');
    const line = (key: string): number => text.split('\n').findIndex((l) => l.startsWith(`  ${key}:`)) + 1;
    assert.deepEqual(warnings?.map((w) => [w.field, w.line, w.message]), [
      ['profile.protect', line('protect'), 'is not a profile key, so it is ignored (and kept in the file); did you mean protected?'],
      ['profile.createdAt', line('createdAt'), 'is not a profile key, so it is ignored (and kept in the file); did you mean created_at?'],
    ]);
  });

  it('likelyMeant finds the key a typo meant, and leaves names of the user\'s own alone', () => {
    const known = ['id', 'name', 'type', 'files', 'protected', 'retention_days', 'lock_file'];
    for (const [typo, meant] of [['protect', 'protected'], ['Protected', 'protected'], ['file', 'files'], ['retention', 'retention_days'], ['lockfile', 'lock_file'], ['nmae', undefined], ['ip', undefined], ['owner', undefined], ['notes', undefined], ['retension_days', 'retention_days'], ['protected_since', undefined], ['files_extra', undefined]] as const) {
      assert.equal(likelyMeant(typo, known), meant, typo);
    }
  });

  it('refuses required tables for a database the profile does not have', () => {
    const text = SPEC_TEMPLATE.replace('  backup_schedule:', '  schema:\n    required_tables:\n      ledger: [entries]\n  backup_schedule:');
    assert.match(issueFor(text, 'profile.schema.required_tables.ledger').message, /not one of this profile's databases/);
  });

  it('a database whose path is refused is still one of the profile\'s: its required tables raise no second, wrong problem', () => {
    const text = variant('settings: "data/dev/settings.sqlite3"', 'settings: "../settings.sqlite3"').replace('  backup_schedule:', '  schema:\n    required_tables:\n      settings: [tv_trading_variables]\n  backup_schedule:');
    const { profile, issues } = parse(text);
    assert.equal(profile, undefined);
    assert.deepEqual(issues.map((issue) => issue.field), ['profile.databases.settings']);
  });

  it('loadProfile throws a typed error naming file, field and position', () => {
    const root = tempDir();
    const layout = new WorkspaceLayout(root);
    fs.mkdirSync(layout.profilesDir, { recursive: true });
    fs.writeFileSync(layout.profileFile('dev_environment_001'), variant('type: "DEVELOPMENT"', 'type: "NOPE"'));
    assert.throws(() => loadProfile(layout, defaultConfig(), 'dev_environment_001'), (error: unknown) => {
      assert.ok(error instanceof EnvProfilesError);
      assert.equal(error.code, 'PROFILE_INVALID');
      assert.equal(error.file, '.envprofiles/profiles/dev_environment_001.yaml');
      assert.equal(error.field, 'profile.type');
      assert.equal(error.line, 5);
      assert.match(error.message, /^\.envprofiles\/profiles\/dev_environment_001\.yaml:5:9 profile\.type: "NOPE"/);
      return true;
    });
    assert.throws(() => loadProfile(layout, defaultConfig(), 'missing_one'), /No profile "missing_one"/);
  });

  it('warns about config.yaml keys it does not have, at the key, and still loads the file', () => {
    const root = tempDir();
    const layout = new WorkspaceLayout(root);
    fs.mkdirSync(layout.storeDir);
    fs.writeFileSync(layout.configFile, 'outputs:\n  env_file: .env\nbackup:\n  directory: /mnt/nas/backups\nguard:\n  lockfile: data/app.lock\n  owner: ops\n');
    const config = loadWorkspaceConfig(layout);
    assert.equal(config.backups.directory, '.envprofiles/backups', 'the misspelt section is ignored');
    assert.deepEqual(workspaceConfigWarnings(layout).map((w) => [w.field, w.line, w.column, w.message]), [
      ['backup', 3, 1, 'is not a config.yaml section (outputs, guard, allowed_directories, backups), so it is ignored; did you mean backups?'],
      ['guard.lockfile', 6, 3, 'is not a key of guard (lock_file), so it is ignored; did you mean lock_file?'],
      ['guard.owner', 7, 3, 'is not a key of guard (lock_file), so it is ignored; check its spelling'],
    ]);
    fs.writeFileSync(layout.configFile, DEFAULT_CONFIG_TEXT);
    assert.deepEqual(workspaceConfigWarnings(layout), [], 'the default file has none');
  });

  it('reports config.yaml problems with file, field and line', () => {
    const root = tempDir();
    const layout = new WorkspaceLayout(root);
    fs.mkdirSync(layout.storeDir);
    fs.writeFileSync(layout.configFile, 'outputs:\n  env_file: ../outside.env\n');
    assert.throws(() => loadWorkspaceConfig(layout), (error: unknown) => {
      assert.ok(error instanceof EnvProfilesError);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.equal(error.field, 'outputs.env_file');
      assert.equal(error.line, 2);
      // The message itself says where (as a profile's does), not only the --json fields.
      assert.match(error.message, /^\.envprofiles\/config\.yaml:2:13 outputs\.env_file: /);
      return true;
    });
    // Nor may an output be written over one of this tool's own files (before, a switch wrote the env file over config.yaml).
    for (const [text, field] of [['outputs:\n  env_file: .envprofiles/config.yaml\n', 'outputs.env_file'], ['outputs:\n  links:\n    .envprofiles/state.json: settings\n', 'outputs.links..envprofiles/state.json']]) {
      fs.writeFileSync(layout.configFile, text);
      assert.throws(() => loadWorkspaceConfig(layout), (error: unknown) => error instanceof EnvProfilesError && error.field === field && /is inside \.envprofiles, where this tool keeps its own files/.test(error.message), text);
    }
    fs.writeFileSync(layout.configFile, 'outputs: [\n');
    assert.throws(() => loadWorkspaceConfig(layout), /YAML syntax error/);
    // A file that is no mapping says what it holds (before: "must be a YAML mapping" alone).
    fs.writeFileSync(layout.configFile, '- outputs\n- backups\n');
    assert.throws(() => loadWorkspaceConfig(layout), (error: unknown) => error instanceof EnvProfilesError && error.message === '.envprofiles/config.yaml must be a YAML mapping of settings (outputs:, guard:, backups:, …), but it holds a list');
    // An alias to no anchor (before: "a bug" from every command), and a path with a NUL character (before: "a bug" from backup and prune).
    fs.writeFileSync(layout.configFile, 'backups:\n  compression: *fast\n');
    assert.throws(() => loadWorkspaceConfig(layout), (error: unknown) => error instanceof EnvProfilesError && error.code === 'CONFIG_INVALID' && error.message === '.envprofiles/config.yaml:2:16 YAML error: the alias *fast refers to no anchor &fast before it; define the anchor first, or write the value itself');
    for (const [text, field] of [['backups:\n  directory: "a\\0b"\n', 'backups.directory'], ['guard:\n  lock_file: "a\\0b"\n', 'guard.lock_file'], ['allowed_directories: ["/srv", "a\\0b"]\n', 'allowed_directories.1']]) {
      fs.writeFileSync(layout.configFile, text);
      assert.throws(() => loadWorkspaceConfig(layout), (error: unknown) => error instanceof EnvProfilesError && error.code === 'CONFIG_INVALID' && error.field === field && error.message.endsWith(': contains a NUL character, which no path can hold'), text);
    }
    // A backups folder where a file stands (the folder itself, or a parent) is named at load time.
    fs.writeFileSync(path.join(root, 'notes.txt'), 'not a folder');
    for (const directory of ['notes.txt', 'notes.txt/backups']) {
      fs.writeFileSync(layout.configFile, `backups:\n  directory: ${directory}\n`);
      assert.throws(() => loadWorkspaceConfig(layout), (error: unknown) => {
        assert.ok(error instanceof EnvProfilesError);
        assert.equal(error.field, 'backups.directory');
        assert.equal(error.message, `.envprofiles/config.yaml:2:14 backups.directory: ${path.join(root, 'notes.txt')} is a file, not a folder; choose a folder for the backups`);
        return true;
      });
    }
  });
});

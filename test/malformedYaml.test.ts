import * as assert from 'node:assert/strict';
import type { Issue } from '../src/core/errors';
import { parseProfileText } from '../src/core/profileStore';
import { DEFAULT_CONFIG_TEXT, defaultConfig, parseWorkspaceConfig } from '../src/core/workspaceConfig';
import { WorkspaceLayout } from '../src/core/workspaceLayout';
import { SPEC_TEMPLATE } from '../src/demo/demoWorkspace';
import { scrambled, seeded } from './support/testHelpers';
import { tempDir } from './support/workspaces';

const SEED = Number(process.env.ENVPROFILES_YAML_SEED ?? 20261207);
const RUNS = Number(process.env.ENVPROFILES_YAML_RUNS ?? 1500);

/** Values a hand edit or a paste leaves behind: wrong types, YAML's own syntax, paths that escape. */
const VALUES = ['', '~', 'null', '0', '-1', '3.5', '1e309', 'true', 'yes', '"x"', "'../../etc'", '[]', '{}', '[1, 2]', '{a: 1}', '!!binary aGk=', '&a x', '*a', '"\\u0000"', '/etc/passwd', '"data/dev/../../x"', 'PRODUCTION', '"2025-13-45T99:00:00Z"', '9999999999999999999999', '"25:00"', '|\n    two\n    lines', '"unclosed', "'unclosed", 'a: b: c', '- item', '? key', '@at', '`tick`', '%percent'];
const KEYS = ['bogus_key', 'keep', 'last', 'files', 'required_tables', 'links', 'env_file', 'max_chain', 'compression', 'directory', 'before_switch', 'lock_file', 'id', 'type', 'databases', 'profile', '<<'];

/** One edit of the kinds that break YAML files by hand: a line lost, doubled, re-indented, retyped, cut short. */
function mutate(text: string, random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const lines = text.split('\n');
  const i = Math.floor(random() * lines.length);
  const indent = (line: string): string => line.slice(0, line.length - line.trimStart().length);
  switch (Math.floor(random() * 12)) {
    case 0:
      lines.splice(i, 1);
      break;
    case 1:
      lines.splice(i, 0, lines[i]);
      break;
    case 2:
      if (lines[i].includes(':')) lines[i] = `${lines[i].split(':')[0]}: ${pick(VALUES)}`;
      break;
    case 3:
      lines[i] = `\t${lines[i]}`;
      break;
    case 4:
      return text.slice(0, Math.floor(random() * (text.length + 1)));
    case 5:
      lines.splice(i + 1, 0, `${indent(lines[i])}${pick(KEYS)}: ${pick(VALUES)}`);
      break;
    case 6:
      return `\ufeff${text}`;
    case 7:
      return text.replace(/\n/g, '\r\n');
    case 8:
      return Array.from({ length: 1 + Math.floor(random() * 64) }, () => String.fromCharCode(Math.floor(random() * 256))).join('');
    case 9:
      lines[i] = ` ${lines[i]}`;
      break;
    case 10:
      lines[i] += pick([' # c', ' x', ':', ' - y', '"', "'", ' {', ']']);
      break;
    default:
      lines.push(pick(['profile:\n  id: again', '---\nx: 1', 'outputs: 7', '...', '%YAML 1.2', '[']));
  }
  return lines.join('\n');
}

/** The parser's own vocabulary, and what a value that went wrong prints as: neither may reach a user. */
const NOT_FOR_USERS = /\b(map-value-ind|seq-item-ind|explicit-key-ind|flow-(?:map|seq)-(?:start|end)|flow-error-end|doc-(?:start|end|mode)|directive-line|directives-end|(?:double|single)-quoted-scalar|block-scalar(?:-header)?|node end|YAML stream|parseAllDocuments|undefined|NaN)\b|\[object Object\]/;

function checkIssues(issues: readonly Issue[], text: string, label: string): void {
  const lineCount = text.split(/\r?\n/).length;
  for (const issue of issues) {
    assert.equal(typeof issue.message, 'string', label);
    assert.ok(issue.message.length > 0, `${label}: an empty message`);
    assert.doesNotMatch(issue.message, NOT_FOR_USERS, `${label}: ${issue.message}`);
    if (issue.line !== undefined) {
      assert.ok(Number.isInteger(issue.line) && issue.line >= 1 && issue.line <= lineCount + 1, `${label}: line ${issue.line} of ${lineCount}: ${issue.message}`);
      assert.ok(issue.column === undefined || (Number.isInteger(issue.column) && issue.column >= 1), `${label}: column ${issue.column}: ${issue.message}`);
    }
  }
}

describe('profile files and config.yaml broken by hand, at random (seeded: ENVPROFILES_YAML_SEED, ENVPROFILES_YAML_RUNS)', () => {
  it(`every broken file is refused or warned about with messages in the author's words, at a line the file has; nothing throws (${RUNS} files of each)`, () => {
    const layout = new WorkspaceLayout(tempDir());
    let refusedProfiles = 0;
    let refusedConfigs = 0;
    for (let run = 0; run < RUNS; run++) {
      const random = seeded(scrambled(SEED * 1000 + run));
      let profileText = SPEC_TEMPLATE;
      let configText = DEFAULT_CONFIG_TEXT;
      for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
        profileText = mutate(profileText, random);
        configText = mutate(configText, random);
      }
      const label = `run ${run} (ENVPROFILES_YAML_SEED=${SEED})`;
      const profile = parseProfileText(profileText, 'p.yaml', layout, defaultConfig(), 'dev_environment_001');
      checkIssues([...profile.issues, ...(profile.warnings ?? [])], profileText, `${label}, profile ${JSON.stringify(profileText)}`);
      assert.ok(profile.profile !== undefined || profile.issues.length > 0, `${label}: neither a profile nor an issue`);
      if (!profile.profile) refusedProfiles++;
      const config = parseWorkspaceConfig(configText, layout);
      checkIssues([...config.issues, ...(config.warnings ?? [])], configText, `${label}, config ${JSON.stringify(configText)}`);
      assert.ok(config.config !== undefined || config.issues.length > 0, `${label}: neither a config nor an issue`);
      if (!config.config) refusedConfigs++;
    }
    // The edits break most files, not all: both outcomes were exercised.
    assert.ok(refusedProfiles > RUNS / 4 && refusedProfiles < RUNS, `${refusedProfiles} of ${RUNS} profiles refused`);
    assert.ok(refusedConfigs > RUNS / 4 && refusedConfigs < RUNS, `${refusedConfigs} of ${RUNS} configs refused`);
  });
});

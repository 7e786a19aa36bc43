import { Document, isAlias, isMap, isNode, isScalar, LineCounter, visit, YAMLError, type Alias } from 'yaml';
import type { Issue } from './errors';

/** Finds the line and column (1-based) of the node at `fieldPath`, or of its nearest existing parent. */
export function positionOf(doc: Document, lineCounter: LineCounter, fieldPath: readonly (string | number)[]): { line?: number; column?: number } {
  for (let depth = fieldPath.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(fieldPath.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return {};
}

/**
 * The line and column of the key at `fieldPath` itself (for a key that is wrong, rather than its value);
 * the value's position when the key cannot be found.
 */
export function keyPositionOf(doc: Document, lineCounter: LineCounter, fieldPath: readonly (string | number)[]): { line?: number; column?: number } {
  const parent = fieldPath.length === 1 ? doc.contents : doc.getIn(fieldPath.slice(0, -1), true);
  if (isMap(parent)) {
    const key = parent.items.map((pair) => pair.key).find((k) => isScalar(k) && k.value === fieldPath[fieldPath.length - 1]);
    if (isNode(key) && key.range) {
      const { line, col } = lineCounter.linePos(key.range[0]);
      return { line, column: col };
    }
  }
  return positionOf(doc, lineCounter, fieldPath);
}

/** Aliases are expanded at most this many times: a document of nested aliases (a "billion laughs") would otherwise fill the memory. */
const MAX_ALIAS_COUNT = 100;

/**
 * The document as plain data, or the issue that stops it, with its position: an alias to an anchor that
 * is not defined before it (`*name` without `&name`), or too many aliases. The parser reports neither as
 * an error; converting threw, which every command said as "a bug" (one such profile file stopped `list`).
 */
export function plainData(doc: Document, lineCounter: LineCounter, file: string): { data: unknown } | { issue: Issue } {
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    let unresolved: Alias | undefined;
    visit(doc, {
      Alias(_key, node) {
        if (isAlias(node) && node.resolve(doc) === undefined) {
          unresolved = node;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (unresolved) {
      const at = unresolved.range ? lineCounter.linePos(unresolved.range[0]) : undefined;
      return { issue: { file, line: at?.line, column: at?.col, message: `YAML error: the alias *${unresolved.source} refers to no anchor &${unresolved.source} before it; define the anchor first, or write the value itself` } };
    }
    return { issue: { file, message: `YAML error: ${(error as Error).message}; write the values themselves instead of aliases` } };
  }
}

/** Turns the parser's syntax errors into issues that carry the file, line and column. */
export function syntaxIssues(file: string, errors: readonly YAMLError[], text: string, lineCounter: LineCounter): Issue[] {
  return errors.map((error) => {
    // The parser ends its first line with " at line L, column C:" (a code frame followed): the issue
    // carries the position, and messages put it before the text as file:line:column.
    const firstLine = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    // An unclosed quote is found where the file ends: the place to fix is where it opens.
    const opening = error.code === 'MISSING_CHAR' ? unclosedQuoteStart(text, error.pos[0], firstLine) : undefined;
    const pos = opening !== undefined ? lineCounter.linePos(opening) : error.linePos?.[0];
    const duplicate = error.code === 'DUPLICATE_KEY' ? duplicateKeyText(text, error.pos[0]) : undefined;
    if (duplicate) return { file, line: pos?.line, column: pos?.col, message: `YAML syntax error: the key ${duplicate} is written a second time here, in the same mapping; keep one of the two (YAML keys must be unique)` };
    return { file, line: pos?.line, column: pos?.col, message: `YAML syntax error: ${authorsWords(error.code, firstLine)}` };
  });
}

/**
 * Where the quoted value opens that the parser found unclosed at `end` (it runs on over lines, so only
 * the file's end stops it): the last quote before `end` that is not escaped inside the value.
 */
function unclosedQuoteStart(text: string, end: number, message: string): number | undefined {
  const quote = /^Missing closing (["'])quote$/.exec(message)?.[1];
  if (!quote) return undefined;
  for (let i = Math.min(end, text.length) - 1; i >= 0; i--) {
    if (text[i] !== quote) continue;
    if (quote === '"' && text[i - 1] === '\\') continue;
    if (quote === "'" && text[i - 1] === "'") {
      i--;
      continue;
    }
    return i;
  }
  return undefined;
}

/** The key as written at `start` (`name`, `"name"`), for "Map keys must be unique", which names none. */
function duplicateKeyText(text: string, start: number): string | undefined {
  const line = text.slice(start).split('\n', 1)[0];
  const key = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#:,{}[\]][^:#,{}]*?)\s*:/.exec(line)?.[1];
  if (!key) return undefined;
  return /^["']/.test(key) ? key : JSON.stringify(key);
}

/** The parser's names of tokens, as the file's author sees them. */
const TOKEN_WORDS: Readonly<Record<string, string>> = {
  'map-value-ind': '":"',
  'seq-item-ind': '"-"',
  'explicit-key-ind': '"?"',
  'flow-map-start': '"{"',
  'flow-map-end': '"}"',
  'flow-seq-start': '"["',
  'flow-seq-end': '"]"',
  comma: '","',
  'doc-start': '"---"',
  'doc-end': '"..."',
  'double-quoted-scalar': 'quoted value',
  'single-quoted-scalar': 'quoted value',
  'block-scalar': 'block of text',
  'block-scalar-header': 'block text indicator',
  'directive-line': 'directive line (%)',
  'flow-error-end': 'unclosed [ or {',
  'doc-mode': 'end of the document',
  comment: 'comment (#)',
  space: 'space',
  newline: 'line break',
  scalar: 'value',
  anchor: 'anchor (&)',
  alias: 'alias (*)',
  tag: 'tag (!)',
  directive: 'directive (%)',
  'byte-order-mark': 'byte order mark',
  'flow-collection': '[…] or {…}',
  'block-map': 'mapping',
  'block-seq': 'list',
};

/**
 * The parser's message in the words of the file's author: the names of its tokens
 * ("Unexpected map-value-ind token in YAML stream") and its advice to programmers ("please use
 * YAML.parseAllDocuments()") mean nothing to someone editing a profile.
 */
function authorsWords(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'the file holds more than one YAML document (a line "---" or "..." ends the first); keep one';
  const stray = /^Unexpected ([a-z-]+) token(?: in YAML (?:stream|document))?(?:: (.*))?$/.exec(message);
  if (stray) {
    const words = TOKEN_WORDS[stray[1]] ?? stray[1];
    const source = stray[2] === undefined ? undefined : sourceText(stray[2]);
    const shown = words.startsWith('"') || source === undefined ? words : `${words} ${source}`;
    return `Unexpected ${shown} here (check the indentation, and the ":" after each key)`;
  }
  if (/^Missing directives-end(?:\/doc-start)? indicator line$/.test(message)) return 'a line that starts with "%" is a YAML directive, which needs a line "---" after it; remove that line, or quote a value that starts with "%"';
  const unclosed = /^Missing closing (["'])quote$/.exec(message);
  if (unclosed) return `the quoted value that opens here has no closing ${unclosed[1]}`;
  return message
    .replace(/ at node end$/, ' after a complete value')
    .replace(/^(Unexpected |Unsupported token |Expected a flow scalar value, but found: )([a-z][a-z-]*[a-z])\b/, (whole, lead: string, type: string) => (TOKEN_WORDS[type] ? `${lead}${TOKEN_WORDS[type]}` : whole));
}

/** The text the parser quoted with JSON.stringify, shown once in quotes (a quoted value keeps its own). */
function sourceText(quoted: string): string {
  let text: unknown;
  try {
    text = JSON.parse(quoted);
  } catch {
    return quoted;
  }
  if (typeof text !== 'string') return quoted;
  return /^["']/.test(text) ? text : JSON.stringify(text);
}

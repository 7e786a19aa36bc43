import { Document, isMap, isNode, isScalar, LineCounter, YAMLError } from 'yaml';
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

/** Turns the parser's syntax errors into issues that carry the file, line and column. */
export function syntaxIssues(file: string, errors: readonly YAMLError[]): Issue[] {
  return errors.map((error) => {
    const pos = error.linePos?.[0];
    // The parser ends its first line with " at line L, column C:" (a code frame followed): the issue
    // carries the position, and messages put it before the text as file:line:column.
    const firstLine = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    return { file, line: pos?.line, column: pos?.col, message: `YAML syntax error: ${firstLine}` };
  });
}

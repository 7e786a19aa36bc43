import { displayWidth } from './displayWidth';

/** Help is never wider than this, however wide the terminal: longer lines are hard to read. */
const WIDEST = 100;
/** The width when the output is no terminal and COLUMNS says nothing (as man and git do). */
const DEFAULT_WIDTH = 80;
const NARROWEST = 40;

/** The columns help is wrapped to on `stream`: the terminal's (at most 100), else COLUMNS, else 80. */
export function helpWidth(stream: { isTTY?: boolean; columns?: number }, columnsVariable = process.env.COLUMNS): number {
  const columns = stream.isTTY && stream.columns ? stream.columns : Number(columnsVariable);
  return Number.isInteger(columns) && columns >= NARROWEST ? Math.min(columns, WIDEST) : DEFAULT_WIDTH;
}

/**
 * Help lines wrapped at word boundaries to `width` columns. A continued line is indented under the
 * text it continues: an option's or command's description under its column, a usage line under the
 * command's arguments. Before, a paragraph of 300 characters was left to the terminal to break.
 */
export function wrappedHelp(lines: readonly string[], width: number): string[] {
  return lines.flatMap((line) => wrappedLine(line, width));
}

function wrappedLine(line: string, width: number): string[] {
  if (displayWidth(line) <= width) return [line];
  const usage = line.match(USAGE_LEAD)?.[0];
  const lead = usage ?? line.match(COLUMN_LEAD)?.[0] ?? line.match(/^ */)![0];
  const indent = ' '.repeat(displayWidth(lead) <= width / 2 ? displayWidth(lead) : 4);
  const out: string[] = [];
  let current = lead;
  // A line's first word goes on it whatever its width (a word is never cut); the next ones while they fit.
  let hasWord = false;
  for (const word of usage ? bracketedWords(line.slice(lead.length)) : line.slice(lead.length).split(' ')) {
    if (!hasWord) current += word;
    else if (displayWidth(`${current} ${word}`) <= width) current += ` ${word}`;
    else {
      out.push(current);
      current = indent + word;
    }
    hasWord = hasWord || word !== '';
  }
  out.push(current);
  return out;
}

/** "Usage: envprofiles backup " (or its second form's spaces): arguments continue under the first. */
const USAGE_LEAD = /^(?:Usage: | +)envprofiles \S+ /;
/** "  --wait MINUTES    " or "  backup    ": an option or command, then its description after two spaces or more. */
const COLUMN_LEAD = /^ +\S+(?: \S+)* {2,}(?=\S)/;

/** A usage line's words, an option in brackets with its value one word ("[--set KEY=VALUE]..." is not broken inside). */
function bracketedWords(text: string): string[] {
  const words: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === ' ' && depth === 0) {
      words.push(current);
      current = '';
      continue;
    }
    if (char === '[') depth++;
    if (char === ']') depth = Math.max(0, depth - 1);
    current += char;
  }
  return [...words, current];
}

import { likelyMeant } from '../core/nearMiss';
import type { CliCommand } from './cliCommand';

/** What `parseArgs` threw, said for the command at hand (its own wording suggests `--` for positionals). */
export function optionProblem(command: CliCommand, globalOptions: readonly string[], error: Error & { code?: string }, args: readonly string[] = []): { message: string; hint: string } {
  const firstLine = error.message.split('\n')[0];
  const help = `Run "envprofiles ${command.name} --help".`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // "argument missing", or "ambiguous" when the next word is another option: either way, no value.
    const option = /^Option '(--[\w-]+)/.exec(firstLine)?.[1];
    const shown = option && new RegExp(`${option} (<[^>]+>|[A-Z]+)`).exec(command.usage)?.[0];
    // The next word begins with "-" but is no option (--wait -1, --reason -x): it was meant as the value.
    const next = option ? args[args.indexOf(option) + 1] : undefined;
    const dashed = next !== undefined && /^-(?!-)/.test(next) ? ` (a value that begins with "-" is written ${option}=${next})` : '';
    if (option) return { message: `${option} needs a value${shown ? `, as in ${shown}` : ''}${dashed}.`, hint: `Usage: ${command.usage}` };
  }
  const unknown = error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '([^']+)'/.exec(firstLine)?.[1] : undefined;
  if (!unknown) return { message: firstLine, hint: help };
  const own = Object.keys(command.options).map((name) => `--${name}`);
  const meant = likelyMeant(unknown.replace(/^-+/, ''), [...own, ...globalOptions].map((o) => o.replace(/^-+/, '')));
  const takes = own.length > 0 ? `It takes ${own.join(', ')}, and ${globalOptions.join(', ')}.` : `It takes only ${globalOptions.join(', ')}.`;
  return { message: `${command.name} has no option ${unknown}.`, hint: `${meant ? `Did you mean --${meant}? ` : ''}${takes} ${help}` };
}

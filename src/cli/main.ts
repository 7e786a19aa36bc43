import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { EnvProfilesError, formatIssue, isEnvProfilesError } from '../core/errors';
import { loadSqliteEngine } from '../core/sqlite/loadEngine';
import { TOOL_VERSION } from '../core/toolVersion';
import { typedSystemError } from '../core/systemErrors';
import { workspaceConfigWarnings } from '../core/workspaceConfig';
import { createWorkspaceContext, type Logger } from '../core/workspaceContext';
import { enclosingWorkspace } from '../core/workspaceDiscovery';
import { requireInitialised } from '../core/workspaceInit';
import { recoverIfIdle } from '../core/workspaceSession';
import type { CliCommand, CommandOutput } from './cliCommand';
import { COMMANDS } from './commandTable';
import { commandHelp, generalHelp } from './helpText';
import { helpWidth } from './wrappedHelp';
import { likelyMeant } from '../core/nearMiss';
import { counted } from '../core/counted';
import { shortened } from '../core/shortened';
import { askToType } from './terminalPrompt';
import { TerminalProgress } from './terminalProgress';
import { terminalSafe } from './textFormat';
import { optionProblem } from './optionErrors';
import { tolerateClosedOutput } from './closedOutput';
import { parentChannel } from './parentChannel';
import { stepHookFromEnvironment } from './testHooks';

const VERSION = TOOL_VERSION;

const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3 } as const;
/**
 * The signals that ask a command to stop, and what shells give a command stopped by each (128 + its
 * number), so that a script can tell it from a failure: Ctrl+C; kill, systemd, timeout(1); a closed
 * terminal. Each stops the operation at its next safe point, cleaned up; a second one quits at once.
 */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
/** Set by the first stop signal: the exit code of a command it stopped (CANCELLED). */
let stoppedWith: number | undefined;
/** Set when the extension runs this CLI as its child process. */
const channel = parentChannel();
const GLOBAL_OPTIONS = {
  workspace: { type: 'string' },
  json: { type: 'boolean' },
  wait: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The longest `--wait`: a day. */
const LONGEST_WAIT_MINUTES = 24 * 60;

/** `--wait MINUTES` in milliseconds (undefined without it). */
function lockWaitFrom(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const minutes = Number(value);
  if (String(value).trim() === '' || !Number.isFinite(minutes) || minutes < 0 || minutes > LONGEST_WAIT_MINUTES) {
    throw usageError(`--wait takes the minutes to wait for another operation (0 to ${LONGEST_WAIT_MINUTES}), got "${String(value)}".`, 'For example --wait 30; fractions are allowed (--wait 0.5 is half a minute).');
  }
  return minutes * 60_000;
}

/** Finds the command word: the first argument that is neither an option nor an option's value. */
function findCommand(argv: string[]): { name?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--workspace' || arg === '--wait') {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: argv };
}

/** The first option with a value given twice that does not take several values (`multiple`), if any. */
function repeatedOption(tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>, options: Record<string, { type: string; multiple?: boolean }>): string | undefined {
  const seen = new Set<string>();
  for (const token of tokens) {
    // A flag twice (--json --json) means what it means once.
    if (token.kind !== 'option' || options[token.name]?.multiple || options[token.name]?.type === 'boolean') continue;
    if (seen.has(token.name)) return token.name;
    seen.add(token.name);
  }
  return undefined;
}

function usageError(message: string, hint?: string): EnvProfilesError {
  return new EnvProfilesError('USAGE', message, { kind: 'usage', hint });
}

/**
 * "list takes no arguments, got 1 ("extra" is too many)": how many a command takes in words (before: "takes 0 to 1
 * argument"), and the ones too many, which say what was mistyped (a value whose option was left out).
 */
function argumentCountProblem(name: string, min: number, max: number, given: readonly string[]): string {
  const takes = max === 0 ? 'no arguments' : min === max ? counted(max, 'argument') : min === 0 ? `at most ${counted(max, 'argument')}` : `${min} to ${max} arguments`;
  const extra = given.length > max ? ` (${given.slice(max).map((a) => JSON.stringify(shortened(a, 40))).join(', ')} ${given.length - max === 1 ? 'is' : 'are'} too many)` : '';
  return `${name} takes ${takes}, got ${given.length}${extra}.`;
}

/** "Unknown command", with the command it most likely misspells (`backpu` → `backup`). */
function unknownCommandError(name: string): EnvProfilesError {
  const meant = likelyMeant(name, COMMANDS.map((c) => c.name));
  return usageError(`Unknown command "${name}".${meant ? ` Did you mean "${meant}"?` : ''}`, `Commands: ${COMMANDS.map((c) => c.name).join(', ')}. Run "envprofiles --help".`);
}

/** Options without a command word: names the first that is not one of envprofiles' own, if any. */
function noCommandError(argv: readonly string[]): EnvProfilesError {
  const own = new Set(['--json', '--help', '-h', '--version', ...Object.keys(GLOBAL_OPTIONS).map((name) => `--${name}`)]);
  const stranger = argv.find((arg, i) => arg.startsWith('-') && !own.has(arg.split('=')[0]) && argv[i - 1] !== '--workspace' && argv[i - 1] !== '--wait');
  const commands = `Commands: ${COMMANDS.map((c) => c.name).join(', ')}.`;
  return usageError(
    stranger === undefined ? 'No command was given.' : `No command was given, and envprofiles itself has no option ${JSON.stringify(shortened(stranger, 40))}.`,
    `${commands} Write the command first, as in "envprofiles list --json"; "envprofiles --help" lists them, "envprofiles <command> --help" gives a command's options.`,
  );
}

function stderrLogger(verbose: boolean, progress: TerminalProgress | undefined): Logger {
  const write = (level: string) => (message: string) => {
    progress?.end();
    process.stderr.write(`${level}: ${terminalSafe(message)}\n`);
  };
  return { debug: verbose ? write('debug') : () => {}, info: () => {}, warn: write('warning'), error: write('error') };
}

async function run(argv: string[]): Promise<number> {
  const wantsJson = argv.includes('--json');
  const { name, rest } = findCommand(argv);
  if (!name) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${generalHelp(VERSION, helpWidth(process.stdout))}\n`);
      return EXIT.ok;
    }
    if (argv.includes('--version')) {
      // With --json, the one JSON document --json promises (before: the bare version).
      process.stdout.write(wantsJson ? `${JSON.stringify({ ok: true, command: null, result: { version: VERSION } }, null, 2)}\n` : `${VERSION}\n`);
      return EXIT.ok;
    }
    // Nothing at all: the general help, as git prints its usage. Options but no command (`--json`,
    // `-x`) is a usage error like any other, so that --json still gets its one JSON document (before:
    // the whole help on stderr and nothing on stdout).
    if (argv.length === 0) {
      process.stderr.write(`${generalHelp(VERSION, helpWidth(process.stderr))}\n`);
      return EXIT.usage;
    }
    return reportError(noCommandError(argv), wantsJson, null);
  }
  // "help backup" is "backup --help"; "help bogus" is the unknown command it names (before: the general help, exit 0).
  const topicName = name === 'help' ? rest.find((a) => !a.startsWith('-')) : undefined;
  if (name === 'help' && (topicName === undefined || COMMANDS.some((c) => c.name === topicName))) {
    const topic = COMMANDS.find((c) => c.name === topicName);
    process.stdout.write(`${topic ? commandHelp(topic, helpWidth(process.stdout)) : generalHelp(VERSION, helpWidth(process.stdout))}\n`);
    return EXIT.ok;
  }
  let command: CliCommand | undefined;
  const progress = process.stderr.isTTY && !wantsJson && !channel ? new TerminalProgress(process.stderr) : undefined;
  try {
    command = COMMANDS.find((c) => c.name === name);
    if (!command) throw unknownCommandError(topicName ?? name);
    let parsed: ReturnType<typeof parseArgs>;
    const options = { ...GLOBAL_OPTIONS, ...command.options };
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true, tokens: true });
    } catch (error) {
      const { message, hint } = optionProblem(command, Object.keys(GLOBAL_OPTIONS).map((name) => `--${name}`), error as Error, rest);
      throw usageError(message, hint);
    }
    // An option that takes one value, given twice, kept the last one without a word (restore --db a --db b restored b only).
    const repeated = repeatedOption(parsed.tokens ?? [], options);
    if (repeated) throw usageError(`--${repeated} was given more than once; it takes one value.`, `Usage: ${command.usage}`);
    // An empty value (--as-new "$ID" with ID unset) was taken as the option left out: restore --as-new "" restored over the profile.
    const emptied = (parsed.tokens ?? []).find((token) => token.kind === 'option' && token.value === '');
    if (emptied?.kind === 'option') throw usageError(`--${emptied.name} was given an empty value; nothing was done.`, `Give it a value, or leave it out. Usage: ${command.usage}`);
    if (parsed.values.help) {
      process.stdout.write(`${commandHelp(command, helpWidth(process.stdout))}\n`);
      return EXIT.ok;
    }
    const [min, max] = command.positionals;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw usageError(argumentCountProblem(command.name, min, max, parsed.positionals), `Usage: ${command.usage}`);
    }
    // Without --workspace, a command run in a folder of the workspace finds it above (as git does); init makes one here.
    const searchAbove = parsed.values.workspace === undefined && !command.worksUninitialised;
    const root = path.resolve(String(parsed.values.workspace ?? (searchAbove ? (enclosingWorkspace(process.cwd()) ?? process.cwd()) : process.cwd())));
    const lockWaitMs = lockWaitFrom(parsed.values.wait);
    const engine = await loadSqliteEngine();
    // Ctrl+C (or SIGTERM, SIGHUP) asks the running operation to stop at its next safe point and clean
    // up; a second one quits. Before, SIGTERM and SIGHUP killed it mid-write, left for the next command to clean.
    const cancel = new AbortController();
    for (const [signal, exitCode] of Object.entries(STOP_SIGNALS)) {
      process.once(signal, () => {
        if (stoppedWith !== undefined) process.exit(stoppedWith);
        stoppedWith = exitCode;
        const again = signal === 'SIGINT' ? 'press Ctrl+C again' : `send ${signal} again`;
        process.stderr.write(`\nCancelling${signal === 'SIGINT' ? '' : ` (${signal})`}… (${again} to quit at once; the next command then cleans up)\n`);
        cancel.abort();
        process.once(signal, () => process.exit(exitCode));
      });
    }
    channel?.onCancel(() => cancel.abort());
    const context = createWorkspaceContext(root, engine, {
      signal: cancel.signal,
      lockWaitMs,
      actor: 'cli',
      logger: stderrLogger(process.env.ENVPROFILES_DEBUG === '1', progress),
      onStep: stepHookFromEnvironment(process.env),
      progress: channel?.report ?? progress?.report,
    });
    if (!command.worksUninitialised) requireInitialised(context.layout, { searchedAbove: searchAbove });
    // What it finished or rolled back is said by the logger (a "warning: Recovery:" line on stderr), as
    // under the lock, and listed in the JSON output.
    const recovered = recoverIfIdle(context);
    // A misspelt key of config.yaml is ignored: say so on every command (stderr), since any may depend on it.
    for (const warning of workspaceConfigWarnings(context.layout)) context.logger.warn(formatIssue(warning));
    const ask = (question: string, expected: string): Promise<string | undefined> => {
      progress?.end();
      return askToType(question, expected, cancel.signal);
    };
    const output: CommandOutput = await command.run({ context, positionals: parsed.positionals, options: parsed.values, askToType: ask });
    progress?.end({ finished: true });
    if (wantsJson) process.stdout.write(`${JSON.stringify({ ok: (output.exitCode ?? 0) === 0, command: command.name, result: output.json, recovered }, null, 2)}\n`);
    else process.stdout.write(`${terminalSafe(output.text.join('\n'))}\n`);
    return output.exitCode ?? EXIT.ok;
  } catch (error) {
    progress?.end();
    const code = reportError(error, wantsJson, command?.name ?? name);
    return stoppedWith !== undefined && isEnvProfilesError(error) && error.code === 'CANCELLED' ? stoppedWith : code;
  }
}

function reportError(error: unknown, wantsJson: boolean, commandName: string | null): number {
  const known = isEnvProfilesError(error) ? error : typedSystemError(error);
  const code = known?.code ?? 'INTERNAL';
  const message = known?.message ?? `Unexpected error: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`error[${code}]: ${terminalSafe(message)}\n`);
  if (known) {
    // The file the error concerns, when the message itself does not name it (e.g. the lock file of WORKSPACE_BUSY),
    // or names it without the line the error knows ("… but .envprofiles/config.yaml makes it the env file"): as
    // file:line:column, which terminals and editors open there. A message that names it so
    // (".envprofiles/config.yaml:20:16 ...") names it already.
    if (known.file) {
      const at = `${known.file}${known.line !== undefined ? `:${known.line}${known.column !== undefined ? `:${known.column}` : ''}` : ''}`;
      const tail = known.file.split(/[\\/]/).slice(-2).join('/');
      const named = message.includes(tail) && (known.line === undefined || message.includes(`${tail}:${known.line}`));
      if (!named) process.stderr.write(`  file: ${terminalSafe(`${at}${known.field ? ` (${known.field})` : ''}`)}\n`);
    }
    for (const issue of known.issues.slice(1, 20)) process.stderr.write(`  also: ${terminalSafe(formatIssue(issue))}\n`);
    if (known.hint) process.stderr.write(`  ${terminalSafe(known.hint)}\n`);
  } else {
    process.stderr.write('  This is a bug in Environment Profiles. Set ENVPROFILES_DEBUG=1 to see where it happened.\n');
    if (process.env.ENVPROFILES_DEBUG === '1') process.stderr.write(`${(error as Error)?.stack}\n`);
  }
  if (wantsJson) {
    const body = known ? known.toJSON() : { code, kind: 'failure', message };
    process.stdout.write(`${JSON.stringify({ ok: false, command: commandName, error: body }, null, 2)}\n`);
  }
  return known ? EXIT[known.kind] : EXIT.failure;
}

tolerateClosedOutput();
run(process.argv.slice(2))
  .then(
    (code) => {
      // A failure to write the output (closedOutput.ts) may have set 1 already: a command's own failure wins.
      process.exitCode = code !== 0 ? code : (process.exitCode ?? 0);
    },
    (error) => {
      process.stderr.write(`error[INTERNAL]: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  )
  .finally(() => channel?.finish());

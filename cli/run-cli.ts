import { parseArgs } from 'node:util';
import { cutText } from '../pipeline/config/quote-value.js';
import { ConfigError, GraphError, SchemaMismatchError, TickflowError, UsageError } from '../errors/errors.js';
import type { CliCommand, CliIo } from './cli-command.js';

/** Subcommands load on demand, so that `tickflow graph` never loads what only `run` needs. */
const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<CliCommand> }>> = {
  list: {
    summary: 'List the named pipelines and the components',
    load: async () => (await import('./commands/list-command.js')).listCommand,
  },
  run: { summary: 'Run a named pipeline or a definition file', load: async () => (await import('./commands/run-command.js')).runCommand },
  graph: {
    summary: 'Print a pipeline graph with each edge’s schema',
    load: async () => (await import('./commands/graph-command.js')).graphCommand,
  },
  lint: {
    summary: 'Check a pipeline definition file without running it',
    load: async () => (await import('./commands/lint-command.js')).lintCommand,
  },
  halt: {
    summary: 'Flip the kill switch of a running pipeline: no new orders, working orders canceled',
    load: async () => (await import('./commands/halt-command.js')).haltCommand,
  },
  resume: { summary: 'Let a halted pipeline trade again', load: async () => (await import('./commands/resume-command.js')).resumeCommand },
  audit: {
    summary: 'Verify an audit trail: hash chain, sequence, files',
    load: async () => (await import('./commands/audit-command.js')).auditCommand,
  },
  schemas: {
    summary: 'Register, check (compatibility, field by field) and list the record schemas in a schema registry',
    load: async () => (await import('./commands/schemas-command.js')).schemasCommand,
  },
  docs: {
    summary: 'Write the components’ pages (Markdown and JSON) from their definitions',
    load: async () => (await import('./commands/docs-command.js')).docsCommand,
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'tickflow — typed RxJS pipelines for quantitative trading',
    '',
    'Usage: tickflow COMMAND [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `tickflow COMMAND --help` for the options of a command.',
    '',
  ].join('\n');
}

function commandHelp(command: CliCommand): string {
  const flags = Object.entries(command.options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'string' ? ' VALUE' : ''}${o.short ? `, -${o.short}` : ''}`;
    return [flag, command.optionHelp[name] ?? ''] as const;
  });
  const width = Math.max(0, ...flags.map(([f]) => f.length));
  return [
    `Usage: tickflow ${command.name} ${command.usage}`,
    '',
    command.summary,
    '',
    'Options:',
    ...flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`),
    `  ${'--help, -h'.padEnd(width)}  Show this help`,
    '',
  ].join('\n');
}

/**
 * Whether `error` says that what the user gave is wrong (a flag, a value, a
 * config or definition file: its config, its graph, its schemas) rather than
 * that the work failed: such errors exit 2.
 */
const isUsersMistake = (error: unknown): boolean =>
  error instanceof UsageError || error instanceof ConfigError || error instanceof GraphError || error instanceof SchemaMismatchError;

/** A negative number, `-1`, `-0.5`, `-.5`, `-1e3`: a value, not a flag. */
const NEGATIVE_NUMBER = /^-\.?\d/;

type Options = NonNullable<CliCommand['options']>;

/**
 * `args` with every `--flag -1` (or `-f -1`) of an option that takes a value
 * written `--flag=-1`: node's parseArgs reads a word starting with `-` as a
 * flag, so `--duration -1` would say the flag needs a value where the value
 * itself is what is wrong. Only negative numbers are joined (`--set -x`
 * stays a missing value followed by a flag); nothing after `--` is touched.
 */
export function joinNegativeValues(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  // Bounded by args.length.
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = /^--[^=]+$/.test(arg)
      ? arg.slice(2)
      : /^-[^-]$/.test(arg)
        ? Object.entries(options).find(([, o]) => o.short === arg[1])?.[0]
        : undefined;
    const next = args[i + 1];
    if (
      name !== undefined &&
      Object.hasOwn(options, name) &&
      options[name]?.type === 'string' &&
      next !== undefined &&
      NEGATIVE_NUMBER.test(next)
    ) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * Runs the `tickflow` command line and returns the exit code: 0 on success,
 * 1 when the work failed, 2 when the command line itself was wrong: a bad
 * flag or value, or a config or definition file that is invalid.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    io.err(`tickflow: unknown command '${cutText(name)}'; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  const command = await entry.load();
  try {
    let parsed;
    try {
      const options = { ...command.options, help: { type: 'boolean', short: 'h' } } satisfies Options;
      parsed = parseArgs({ args: joinNegativeValues(rest, options), options, allowPositionals: true, strict: true });
    } catch (error) {
      // node names a flag that needs a value as '-d, --duration <value>': the long name is the flag.
      const quoted = /'([^']+)'/.exec((error as Error).message)?.[1] ?? '';
      const flag = cutText(/^(?:-[^-], )?(--[^\s]+) <value>$/.exec(quoted)?.[1] ?? quoted);
      const valid =
        Object.keys(command.options)
          .map((o) => `--${o}`)
          .join(', ') || '(none)';
      const problem =
        (error as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
          ? `flag '${flag}' needs a value`
          : `unknown flag '${flag}'`;
      throw new UsageError(`${problem}; valid flags: ${valid}`);
    }
    if (parsed.values['help'] === true) {
      io.out(commandHelp(command));
      return 0;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`tickflow ${name}: ${error.message}\nRun 'tickflow ${name} --help' for usage.\n`);
      return 2;
    }
    if (error instanceof TickflowError) {
      io.err(`tickflow ${name}: ${error.message}\n`);
      return isUsersMistake(error) ? 2 : 1;
    }
    io.err(`tickflow ${name}: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

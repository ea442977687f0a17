import type { ParseArgsConfig } from 'node:util';

/** Where a command writes; the process streams in production, buffers in tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  readonly positionals: string[];
}

/** One `tickflow` subcommand. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** Usage lines shown by `--help`, after `tickflow NAME`. */
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Help text of each option, by option name. */
  readonly optionHelp: Readonly<Record<string, string>>;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

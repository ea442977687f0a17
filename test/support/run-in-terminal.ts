import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI, ROOT, type CliChild } from './run-cli.js';

/** `text` as one word of a POSIX shell command line. */
const shellWord = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/** Whether script(1) of util-linux is on the PATH (Debian: package bsdutils, which is essential). */
export function hasScript(): boolean {
  return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts `tickflow ARGS` on a pseudo-terminal of `columns` columns, so that
 * its stdin, stdout and stderr are a terminal (`isTTY`) as in an
 * interactive shell. It runs under `script -qfec CMD /dev/null` (util-linux):
 * `-f` flushes every write, `-e` passes the exit code on, and SIGTERM to
 * `script` ends the command. What the terminal shows, both streams as one,
 * is `output().stdout`; `script`'s own complaints are `output().stderr`.
 * The result works with `stopCli` and `exitOf`.
 */
export function startCliInTerminal(
  args: readonly string[],
  options: { columns?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliChild {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' (npm test does it)`);
  if (!hasScript()) throw new Error('script(1) from util-linux is needed for the terminal tests (Debian: apt-get install bsdutils)');
  const command = `stty cols ${options.columns ?? 200} rows 50 && exec ${[process.execPath, CLI, ...args].map(shellWord).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return Object.assign(child, { output: () => ({ stdout, stderr }) });
}

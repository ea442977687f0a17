import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI; `npm test` builds it before the tests run. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `tickflow ARGS` as a child process in the repository root, with this environment plus `env`. */
export function startCli(
  args: readonly string[],
  cwd = ROOT,
  env: NodeJS.ProcessEnv = {},
): ChildProcess & { output: () => { stdout: string; stderr: string } } {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' (npm test does it)`);
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return Object.assign(child, { output: () => ({ stdout, stderr }) });
}

/** Runs `tickflow ARGS` to the end (killed after `timeoutMs`), with this environment plus `env`. */
export function runCli(args: readonly string[], timeoutMs = 20_000, cwd = ROOT, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = startCli(args, cwd, env);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...child.output() });
    });
  });
}

/** A child started by {@link startCli}. */
export type CliChild = ReturnType<typeof startCli>;

/** The exit code of a child, once it has exited (null when a signal ended it). */
export function exitOf(child: CliChild): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.on('close', resolve),
  );
}

/** Stops a child with SIGTERM and returns its exit code; SIGKILL (code null) after 15 s. */
export async function stopCli(child: CliChild): Promise<number | null> {
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  child.kill('SIGTERM');
  const code = await exitOf(child);
  clearTimeout(killer);
  return code;
}

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** A Python virtual environment with its packages installed, made once per machine and reused. */
export interface PythonVenv {
  /** The venv's interpreter: run scripts with it (`python -m pip`, never the venv's script wrappers). */
  readonly python: string;
  /** The venv's folder in the cache. */
  readonly dir: string;
}

/** Generous for a fresh machine: pip fetches and installs the wheels (about 10–30 s here). */
export const PYTHON_VENV_TIMEOUT_MS = 10 * 60_000;
/** The file a finished venv holds: a folder without it is what an interrupted run left. */
const READY_MARKER = 'tickflow-venv-ready';

/** The cache folder: TICKFLOW_PYTHON_CACHE, else $XDG_CACHE_HOME/tickflow/python, else ~/.cache/tickflow/python. */
function cacheDir(): string {
  const env = process.env;
  if (env['TICKFLOW_PYTHON_CACHE']) return env['TICKFLOW_PYTHON_CACHE'];
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'tickflow', 'python');
}

/** Runs a command to its end, bounded in time; rejects with its output when it fails. */
function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} ${signal === 'SIGKILL' ? `took over ${timeoutMs / 1000} s` : `failed (${signal ?? code})`}:\n${output.slice(-4000)}`,
          ),
        );
    });
  });
}

const secondsSince = (start: number): string => `${((performance.now() - start) / 1000).toFixed(1)} s`;

/**
 * A venv with `requirements` installed by pip from PyPI, for tests that check tickflow's output with a client we did
 * not write. Made once per machine into a cache outside the clone (TICKFLOW_PYTHON_CACHE, else
 * ~/.cache/tickflow/python), keyed by `name`, the base interpreter's version and the requirements, so that a change
 * to either makes a new one; built in a temporary folder and renamed into place when complete, so that an
 * interrupted build is never taken for a venv. The base interpreter is `python3` on the PATH (TICKFLOW_PYTHON
 * chooses another). Prints one line with its time through `log`.
 *
 * @example
 * ```ts
 * const { python } = await ensurePythonVenv('confluent-kafka', ['confluent-kafka[avro,schemaregistry]==2.16.1']);
 * ```
 */
export async function ensurePythonVenv(
  name: string,
  requirements: readonly string[],
  log: (line: string) => void = (line) => process.stderr.write(`python: ${line}\n`),
): Promise<PythonVenv> {
  const started = performance.now();
  const base = process.env['TICKFLOW_PYTHON'] || 'python3';
  const identity = await run(base, ['-c', 'import sys; print(sys.version.split()[0]); print(sys.base_prefix)'], 30_000).catch(
    (error: unknown) => {
      throw new Error(`no Python 3 to make the venv with ('${base}'; TICKFLOW_PYTHON chooses another): ${(error as Error).message}`);
    },
  );
  const [version = '?'] = identity.trim().split('\n');
  const key = createHash('sha256')
    .update(`${identity}\0${requirements.join('\0')}`)
    .digest('hex')
    .slice(0, 10);
  const dir = join(cacheDir(), `${name}-py${version}-${key}`);
  const python = join(dir, 'bin', 'python');
  const what = `${name} (${requirements.join(' ')}, Python ${version})`;
  if (existsSync(join(dir, READY_MARKER))) {
    log(`venv ${what} cached in ${dir} (${secondsSince(started)})`);
    return { python, dir };
  }
  mkdirSync(dirname(dir), { recursive: true });
  // What an interrupted build of this venv left is removed once older than any build can take.
  const prefix = `${basename(dir)}.tmp-`;
  for (const entry of readdirSync(dirname(dir))) {
    const path = join(dirname(dir), entry);
    if (entry.startsWith(prefix) && Date.now() - statSync(path).mtimeMs > 2 * PYTHON_VENV_TIMEOUT_MS)
      rmSync(path, { recursive: true, force: true });
  }
  const temp = join(dirname(dir), `${prefix}${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  try {
    await run(base, ['-m', 'venv', temp], 120_000);
    // The venv's interpreter by its path in the venv (a symlink): it finds its site-packages from there, also after the rename.
    await run(
      join(temp, 'bin', 'python'),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', ...requirements],
      PYTHON_VENV_TIMEOUT_MS,
    );
    writeFileSync(join(temp, READY_MARKER), `${what}\n`);
    if (existsSync(join(dir, READY_MARKER))) {
      // Another test run finished the same venv meanwhile: use it, drop ours.
      rmSync(temp, { recursive: true, force: true });
    } else {
      rmSync(dir, { recursive: true, force: true });
      renameSync(temp, dir);
    }
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  log(`venv ${what} made with pip in ${dir} (${secondsSince(started)})`);
  return { python, dir };
}

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** What a benchmark's own process spent, as it reported at its end. */
export interface ProcessUsage {
  /** User + system CPU time of the benchmark's process (not of the processes it started), seconds. */
  readonly cpuSeconds: number;
  /** The process's age when it reported, seconds: what its CPU time is a share of. */
  readonly wallSeconds: number;
  /** Peak resident set size of the process, MiB. */
  readonly peakRssMB: number;
}

/** One benchmark run in its own process: what it printed and what its process spent. */
export interface BenchmarkRun {
  /** The benchmark's file name in bench/ without .ts. */
  readonly name: string;
  readonly outcome: 'ran' | 'failed' | 'timed out' | 'not built';
  /** The process's exit code; null when it was killed (timed out) or never started (not built). */
  readonly exitCode: number | null;
  /** The lines the benchmark returned (on failure: whatever it printed to stdout). */
  readonly lines: readonly string[];
  /** The end of the process's stderr (progress notes, and the error of a failed run). */
  readonly stderrTail: string;
  /** The time from starting the process to its exit, as this process saw it, seconds. */
  readonly elapsedSeconds: number;
  /** Absent when the process did not reach its end (failed, timed out, not built). */
  readonly usage?: ProcessUsage;
}

/** Options of {@link runOneBenchmark}. */
export interface RunOneBenchmarkOptions {
  /** Kill the benchmark's process group after this long; default 15 minutes. */
  readonly timeoutMs?: number;
  /** Called with each chunk the benchmark writes to stderr, as it comes (progress of long benchmarks). */
  readonly onStderr?: (chunk: string) => void;
  /** Called with the process id once the benchmark's process started (so an interrupted run can end its group). */
  readonly onStart?: (pid: number) => void;
}

/** Starts the benchmark's usage report; a line of stdout that begins with it is the report, not a benchmark line. */
const USAGE_MARKER = '##tickflow-bench-usage## ';
const STDERR_TAIL_CHARS = 4000;
const DEFAULT_TIMEOUT_MS = 15 * 60_000;
/** How long a timed-out process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 5000;

const camelCase = (name: string): string => name.replace(/-(\w)/g, (_match, letter: string) => letter.toUpperCase());

/** The child's program: import the benchmark, run its function, print its lines, then one line of usage. */
function childScript(file: string, exportName: string): string {
  return [
    `const m = await import(${JSON.stringify(file)});`,
    `const run = m[${JSON.stringify(exportName)}];`,
    `if (typeof run !== 'function') throw new TypeError(${JSON.stringify(`${file} exports no function ${exportName}`)});`,
    `const lines = await run();`,
    `if (!Array.isArray(lines)) throw new TypeError(${JSON.stringify(`${exportName}() returned no array of lines`)});`,
    `const u = process.resourceUsage();`,
    `const usage = { cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, wallSeconds: process.uptime(), peakRssMB: u.maxRSS / 1024 };`,
    // Exit once written: the figures are taken, and a handle the benchmark left open would only hold the run until its timeout.
    `process.stdout.write(lines.join('\\n') + '\\n' + ${JSON.stringify(USAGE_MARKER)} + JSON.stringify(usage) + '\\n', () => process.exit(0));`,
  ].join('\n');
}

/** The benchmark's lines and its usage report out of its stdout. */
function parseStdout(stdout: string): { lines: string[]; usage: ProcessUsage | undefined } {
  const lines = stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const at = lines.findLastIndex((line) => line.startsWith(USAGE_MARKER));
  if (at === -1) return { lines, usage: undefined };
  const usage = JSON.parse((lines[at] as string).slice(USAGE_MARKER.length)) as ProcessUsage;
  return { lines: lines.slice(0, at), usage };
}

/**
 * Runs one benchmark of a built checkout in a process of its own
 * (`node --input-type=module -e`, importing `dist/bench/<name>.js` and
 * calling its export, the name in camelCase), so that the peak RSS and CPU
 * time it reports at its end are that benchmark's alone. The process leads
 * its own process group, so a timeout ends whatever it started too (a
 * redis-server, a client process). Never rejects: a benchmark that exits
 * non-zero, outlives `timeoutMs` or is not built comes back with that outcome.
 *
 * @param root a built checkout (holding dist/bench).
 * @param name the benchmark's file name in bench/ without .ts (`bars-throughput`).
 */
export async function runOneBenchmark(root: string, name: string, options: RunOneBenchmarkOptions = {}): Promise<BenchmarkRun> {
  const file = join(root, 'dist', 'bench', `${name}.js`);
  if (!existsSync(file)) {
    return { name, outcome: 'not built', exitCode: null, lines: [], stderrTail: `no ${file}: run npm run build`, elapsedSeconds: 0 };
  }
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', childScript(file, camelCase(name))], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) options.onStart?.(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
    options.onStderr?.(chunk);
  });
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    signalGroup('SIGTERM');
    killer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
      resolve(null);
    });
    // Whatever the benchmark left running (a server it did not stop) would hold the pipes open, and the run with them.
    child.on('exit', () => signalGroup('SIGTERM'));
    child.on('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  clearTimeout(killer);
  const elapsedSeconds = (performance.now() - started) / 1000;
  const { lines, usage } = parseStdout(stdout);
  const outcome = timedOut ? 'timed out' : exitCode === 0 && usage !== undefined ? 'ran' : 'failed';
  return {
    name,
    outcome,
    exitCode,
    lines,
    stderrTail: stderr,
    elapsedSeconds,
    ...(outcome === 'ran' && usage !== undefined ? { usage } : {}),
  };
}

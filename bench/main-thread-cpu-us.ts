import { existsSync, readFileSync } from 'node:fs';

/** Where Linux keeps the main thread's own CPU times (its tid is the pid). */
const MAIN_THREAD_STAT = `/proc/self/task/${process.pid}/stat`;
const CLOCK_TICKS_PER_S = 100;

/**
 * The JavaScript thread's own user + system CPU time so far, in µs, at the
 * kernel's 10 ms resolution, or NaN off Linux: the event loop's cost,
 * without that of the thread pool, the GC's helper threads or workers,
 * which `process.cpuUsage()` adds in.
 *
 * @example
 * ```ts
 * const started = mainThreadCpuUs();
 * let spin = 0;
 * for (let i = 0; i < 3e7; i++) spin += i;
 * console.log(Number.isNaN(started) || mainThreadCpuUs() - started >= 0, spin > 0);
 * // Logs: true true
 * ```
 */
export function mainThreadCpuUs(): number {
  if (!existsSync(MAIN_THREAD_STAT)) return NaN;
  // The fields after the parenthesised command name: state is field 3, utime and stime are fields 14 and 15.
  const stat = readFileSync(MAIN_THREAD_STAT, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_S;
}

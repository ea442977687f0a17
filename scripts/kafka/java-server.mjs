// One JVM server process (the Kafka broker or the schema registry): started with an AppCDS archive, waited for until it
// is ready (bounded), stopped by pid. Its output goes to a log file, read for readiness and for the error of a failed start.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';

/** Bound of one start, from spawn to ready: a loaded 2-core machine has needed 20 s; cold disks more. */
export const READY_TIMEOUT_MS = 120_000;
/** How long SIGTERM may take (a broker's controlled shutdown plus writing an AppCDS archive) before SIGKILL. */
export const STOP_GRACE_MS = 30_000;
const POLL_MS = 100;
const LOG_TAIL_CHARS = 6_000;

/** A property on every JVM command line this project starts, so that a stop by pid can check the pid is still ours. */
export const RUN_MARKER_PROPERTY = 'tickflow.kafka.run';

/**
 * JVM flags for a fast start: C1 only (the servers here are small and short-lived; no throughput loss was seen in
 * tests), and the class-data archive of this server when one exists, else one written when this process exits, so
 * the next start maps its classes instead of loading them (7.4 s to 4.3–4.9 s for the broker under load).
 */
function startFlags(archive, partialArchive) {
  const share = partialArchive === undefined ? `-XX:SharedArchiveFile=${archive}` : `-XX:ArchiveClassesAtExit=${partialArchive}`;
  return ['-XX:TieredStopAtLevel=1', '-XX:-UsePerfData', share];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `pid` is alive and still runs the command line that holds `marker` (Linux /proc; elsewhere, alive). */
export function ownProcessAlive(pid, marker) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return !existsSync('/proc/self');
  }
}

/** Text of `path` from byte `from` on ('' when missing). */
function readFrom(path, from) {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(path).size;
    const buffer = Buffer.alloc(Math.max(0, size - from));
    readSync(fd, buffer, 0, buffer.length, from);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const sizeOf = (path) => (existsSync(path) ? statSync(path).size : 0);

/**
 * After a stop: keeps an archive the JVM wrote at a clean exit (renamed into place, so a reader never maps half a file),
 * and drops one from a killed JVM.
 */
export function settleArchive(partialArchive, archive, cleanExit) {
  if (partialArchive === undefined || !existsSync(partialArchive)) return;
  if (cleanExit && statSync(partialArchive).size > 0 && !existsSync(archive)) renameSync(partialArchive, archive);
  else rmSync(partialArchive, { force: true });
}

/**
 * Stops `pid` (checked to still be ours by `marker`): `signal`, then SIGKILL after `graceMs`. Resolves with whether it
 * ended without SIGKILL. Works for a process this one did not start (`npm run kafka:down`).
 */
export async function stopByPid(pid, marker, signal = 'SIGTERM', graceMs = STOP_GRACE_MS) {
  if (!ownProcessAlive(pid, marker)) return true;
  process.kill(pid, signal);
  if (signal === 'SIGKILL') {
    for (let i = 0; i < 100 && ownProcessAlive(pid, marker); i++) await sleep(POLL_MS);
    return false;
  }
  const deadline = performance.now() + graceMs;
  while (performance.now() < deadline) {
    if (!ownProcessAlive(pid, marker)) return true;
    await sleep(POLL_MS);
  }
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && ownProcessAlive(pid, marker); i++) await sleep(POLL_MS);
  return false;
}

/** Every server started by this process and not detached, killed when it exits so that a crashed test leaves none. */
const attached = new Set();
let exitHookInstalled = false;

/**
 * @typedef {object} JavaServerOptions
 * @property {string} name What it is, for messages ("broker", "schema registry").
 * @property {string} java The `java` binary.
 * @property {string[]} jvmArgs Memory and system properties.
 * @property {() => string[]} mainArgs The class path, main class or jar and its arguments (read at each start).
 * @property {string} archive Where this server's AppCDS archive lives.
 * @property {string} logFile Where its stdout and stderr go.
 * @property {string} marker Put on its command line (as -Dtickflow.kafka.run=…), checked before any signal by pid.
 * @property {(logSinceStart: () => string) => Promise<boolean>} ready Whether it serves now.
 * @property {(log: string) => boolean} portTaken Whether a failed start's log says another process took its port.
 * @property {boolean} detached Outlives this process (`npm run kafka:up`).
 */

/**
 * A JVM server that can be started, stopped (by a signal, by pid) and started again with the same arguments.
 *
 * @param {JavaServerOptions} options
 */
export function javaServer(options) {
  const { name, java, jvmArgs, mainArgs, archive, logFile, marker, ready, portTaken, detached } = options;
  let pid;
  let child;
  let partialArchive;
  let starts = 0;

  const alive = () => pid !== undefined && ownProcessAlive(pid, marker);

  /** Starts it and waits until ready; resolves false when it exited because its port was taken (the caller picks others). */
  async function start() {
    if (alive()) throw new Error(`the ${name} runs already (pid ${pid})`);
    partialArchive = existsSync(archive) ? undefined : `${archive}.${process.pid}-${++starts}.partial`;
    const from = sizeOf(logFile);
    const out = openSync(logFile, 'a');
    const args = [...jvmArgs, `-D${RUN_MARKER_PROPERTY}=${marker}`, ...startFlags(archive, partialArchive), ...mainArgs()];
    child = spawn(java, args, { stdio: ['ignore', out, out], detached });
    closeSync(out);
    pid = child.pid;
    if (detached) child.unref();
    else {
      attached.add(child);
      const started = child;
      child.once('exit', () => attached.delete(started));
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.once('exit', () => {
          for (const c of attached) c.kill('SIGKILL');
        });
      }
    }
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    let exitStatus;
    void exited.then((status) => (exitStatus = status));
    const logSinceStart = () => readFrom(logFile, from);
    const deadline = performance.now() + READY_TIMEOUT_MS;
    while (performance.now() < deadline) {
      if (exitStatus !== undefined) {
        pid = undefined;
        settleArchive(partialArchive, archive, false);
        const log = logSinceStart();
        if (portTaken(log)) return false;
        throw new Error(
          `the ${name} exited (${exitStatus}) before it was ready; its log (${logFile}) ends:\n${log.slice(-LOG_TAIL_CHARS)}`,
        );
      }
      if (await ready(logSinceStart)) return true;
      await sleep(POLL_MS);
    }
    await stop('SIGKILL');
    throw new Error(
      `the ${name} was not ready within ${READY_TIMEOUT_MS / 1000} s; its log (${logFile}) ends:\n${logSinceStart().slice(-LOG_TAIL_CHARS)}`,
    );
  }

  /** Stops it by pid with `signal` (SIGKILL after a grace period); keeps the AppCDS archive a clean exit wrote. */
  async function stop(signal = 'SIGTERM') {
    if (pid === undefined) return;
    const stopping = pid;
    const clean = await stopByPid(stopping, marker, signal);
    // An attached child is reaped by Node; wait for its exit event so that nothing of it is left when stop resolves.
    if (child !== undefined && child.exitCode === null && child.signalCode === null)
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, STOP_GRACE_MS);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    if (pid === stopping) pid = undefined;
    settleArchive(partialArchive, archive, clean);
    partialArchive = undefined;
  }

  return {
    start,
    stop,
    get pid() {
      return pid;
    },
    get running() {
      return alive();
    },
    /** What `npm run kafka:down` needs to stop it from another process. */
    get partialArchive() {
      return partialArchive;
    },
  };
}

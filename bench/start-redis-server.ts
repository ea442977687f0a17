import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { aptInstall } from './apt-install.js';

/** A `redis-server` child process on 127.0.0.1, for tests and benchmarks. */
export interface RedisServer {
  /** The port it listens on; the same after `restart()`. */
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** The `redis-cli` next to the server binary, for reading with a standard tool. */
  readonly cliPath: string;
  /** Whether the process is running (between start or restart and stop). */
  readonly running: boolean;
  /** Stops the process (SIGTERM, then SIGKILL after a bound); the port stays reserved for `restart()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (nothing is persisted), and waits until it answers PING. */
  restart(): Promise<void>;
  /** Stops it and removes its working directory. */
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /** Extra config directives, e.g. `{ 'stream-node-max-entries': '10' }`, passed as `--name value`. */
  readonly config?: Readonly<Record<string, string>>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 5;
const LOG_LINES_KEPT = 40;

/** Every server started by this process, killed on exit so that a crashed test run leaves none behind. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function findOnPath(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'].filter((d) => d !== '');
  return dirs.map((d) => join(d, name)).find((path) => existsSync(path));
}

/**
 * The path of `redis-server`, installing Debian's `redis-server` package
 * first where it is missing (apt-get as root, as on the project's machines
 * and CI). The install takes a minute or more: call this from a hook with a
 * generous timeout.
 */
function ensureRedisServer(): string {
  const found = findOnPath('redis-server');
  if (found !== undefined) return found;
  aptInstall('redis-server', 'for the tests and benchmarks that talk to a real Redis; none is on the PATH');
  const installed = findOnPath('redis-server');
  if (installed === undefined) throw new Error('apt-get install redis-server did not provide redis-server on the PATH');
  return installed;
}

/** A port that was free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether a server on `port` answers PING within `timeoutMs`. */
function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts `redis-server` on a free port of 127.0.0.1 with nothing persisted
 * (`--save '' --appendonly no`, its own temporary directory), installing it
 * first when missing, and resolves once it answers PING (bounded). The
 * caller stops it with `close()` (tests: in `afterAll`).
 *
 * @example
 * ```ts
 * const redis = await startRedisServer({ config: { 'stream-node-max-entries': '10' } });
 * console.log(redis.url);
 * await redis.close();
 * // Logs: redis://127.0.0.1:41234
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = ensureRedisServer();
  const cliPath = join(binary, '..', 'redis-cli');
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-redis-'));
  const extra = Object.entries(options.config ?? {}).flatMap(([name, value]) => [`--${name}`, value]);
  const log: string[] = [];
  let child: ChildProcess | undefined;

  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }

  const spawnOn = async (port: number): Promise<boolean> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra];
    const started = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(started);
    started.once('exit', () => live.delete(started));
    const keep = (data: Buffer): void => {
      log.push(
        ...data
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      if (log.length > LOG_LINES_KEPT) log.splice(0, log.length - LOG_LINES_KEPT);
    };
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    child = started;
    const deadline = performance.now() + START_TIMEOUT_MS;
    for (let attempt = 0; attempt < 10_000 && performance.now() < deadline; attempt++) {
      if (started.exitCode !== null || started.signalCode !== null) return false;
      if (await ping(port, 500)) return true;
      await sleep(20);
    }
    started.kill('SIGKILL');
    throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${log.join('\n')}`);
  };

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    if (await spawnOn(port)) break;
    // Another process took the port between freePort() and the bind: try another one, a bounded number of times.
    if (attempt >= PORT_ATTEMPTS) throw new Error(`redis-server did not start after ${PORT_ATTEMPTS} attempts:\n${log.join('\n')}`);
  }

  const stop = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (current === undefined) return;
    current.kill('SIGTERM');
    if (!(await waitForExit(current, STOP_GRACE_MS))) {
      current.kill('SIGKILL');
      await waitForExit(current, STOP_GRACE_MS);
    }
  };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cliPath,
    get running() {
      return child !== undefined;
    },
    stop,
    async restart() {
      await stop();
      if (!(await spawnOn(port))) throw new Error(`redis-server could not listen on port ${port} again:\n${log.join('\n')}`);
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { ConfigError, StageError } from '../../errors/errors.js';
import type { PipelineHealth } from '../../pipeline/runtime/run-pipeline.js';
import type { FanoutMessages, FanoutServerSettings } from './fanout-messages.js';
import { ConflatedRecords } from './conflated-records.js';
import { listenOn } from './listen-on.js';
import type { WebsocketInput } from './websocket-books.js';
import { WebsocketServer } from './websocket-server.js';
import type { WebsocketSinkMetrics } from './websocket-sink-metrics.js';

type FromFanout = FanoutMessages['fromFanout'];
type ToFanout = FanoutMessages['toFanout'];

export interface FanoutProcessesOptions {
  /** How many processes serve the clients. */
  readonly count: number;
  /** The sink's settings; every limit on connections is shared out between the processes. */
  readonly settings: Omit<FanoutServerSettings, 'url'>;
  readonly logger: Logger;
  readonly metrics: WebsocketSinkMetrics;
  readonly health: () => PipelineHealth;
  readonly pipelineMetrics: () => Promise<string>;
}

/** A fan-out process has this long to start its server. */
const START_TIMEOUT_MS = 20_000;
/** A closing fan-out process has this long (its clients' close grace, and more) to exit before it is killed. */
const EXIT_TIMEOUT_MS = 10_000;

/** The built fan-out process: Node runs JavaScript, so run from the sources (vitest), the process runs their build in dist/. */
function fanoutScript(): string {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith('.ts')
    ? join(dirname(here), '..', '..', 'dist', 'sinks', 'websocket', 'fanout-process.js')
    : join(dirname(here), 'fanout-process.js');
  if (!existsSync(script)) throw new ConfigError('websocket sink', [`fanout_processes needs ${script}: run npm run build`]);
  return script;
}

/** One fan-out process, and what the sink knows of it. */
interface FanoutProcess {
  readonly index: number;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /** Its clients, as its counts said. */
  clients: number;
  closing: boolean;
}

/**
 * The WebSocket sink's clients served by `count` processes, so that the
 * fan-out's socket writes (about 6 µs each here) spread over the cores,
 * away from the pipeline's thread. This process listens, and hands every
 * connection, before reading from it, to the next process in turn; each
 * process runs the sink's server on books of its own, fed every record in a
 * batch per turn of the event loop (one JSON text for all, the next one
 * once every process applied the last; meanwhile quotes are conflated). A
 * process that dies takes its clients with it (they reconnect to the others);
 * the sink goes on while one is left. That wins where clients, not ticks,
 * are many: one process's socket writes bound how many clients it feeds.
 */
export class FanoutProcesses {
  /** Records for the processes while they apply the batch sent last. */
  private readonly waiting = new ConflatedRecords();
  /** The processes that were sent the last batch and have not said they applied it. */
  private readonly applying = new Set<FanoutProcess>();
  private sendScheduled = false;
  private nextProcess = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: FanoutProcessesOptions,
    private readonly processes: FanoutProcess[],
    private readonly listener: Server,
    readonly url: string,
  ) {
    listener.on('connection', (socket: Socket) => this.handOver(socket));
  }

  /** Starts the processes, then listens; rejects with a ConfigError when the port is taken. */
  static async start(options: FanoutProcessesOptions): Promise<FanoutProcesses> {
    const script = fanoutScript();
    const { settings, count } = options;
    const shared: FanoutServerSettings = {
      ...settings,
      url: '',
      maxConnections: Math.ceil(settings.maxConnections / count),
      maxConnectionsPerAddress: Math.ceil(settings.maxConnectionsPerAddress / count),
    };
    const listener = createServer({ pauseOnConnect: true });
    const processes: FanoutProcess[] = [];
    try {
      const { url } = await listenOn(listener, settings.host, settings.port);
      for (let index = 0; index < count; index++) {
        const child = fork(script, [], { serialization: 'json', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        processes.push({ index, child, exited, clients: 0, closing: false });
      }
      await Promise.all(processes.map((fanout) => FanoutProcesses.started(fanout, { ...shared, url })));
      const instance = new FanoutProcesses(options, processes, listener, url);
      for (const fanout of processes) instance.listen(fanout);
      WebsocketServer.announce({ logger: options.logger, authTokens: { isOpen: settings.authTokens.length === 0 } }, url);
      options.logger.info(
        { processes: count, pids: processes.map(({ child }) => child.pid) },
        `websocket sink: clients served by ${count} fan-out processes`,
      );
      return instance;
    } catch (error) {
      for (const { child } of processes) child.kill('SIGKILL');
      listener.close();
      throw error;
    }
  }

  /** Sends `settings` and resolves when the process's server is ready. */
  private static started(fanout: FanoutProcess, settings: FanoutServerSettings): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new StageError(`websocket fan-out process ${fanout.index + 1} did not start`)),
        START_TIMEOUT_MS,
      );
      const onMessage = (message: FromFanout): void => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        fanout.child.off('message', onMessage);
        resolve();
      };
      fanout.child.on('message', onMessage);
      fanout.child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new StageError(`websocket fan-out process ${fanout.index + 1} exited while starting (${signal ?? `code ${code}`})`));
      });
      fanout.child.send({ type: 'start', settings } satisfies ToFanout);
    });
  }

  /**
   * Passes a record to every process: in a batch with the others of this turn
   * of the event loop, or, while the processes still apply the last batch,
   * in the next one, quote diffs merged per instrument ({@link ConflatedRecords}),
   * so that processes that fall behind catch up on the latest quotes instead
   * of working through a backlog.
   */
  write(input: WebsocketInput): void {
    this.waiting.add(input);
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    setImmediate(() => this.sendWaiting());
  }

  /**
   * Sends the records still pending, closes every client with `code` (the
   * processes give them the sink's close grace), waits for the processes to
   * exit (killing those that do not) and stops listening. Calling it again
   * returns the same promise.
   */
  close(code = 1001, reason = 'server shutting down'): Promise<void> {
    this.closing ??= this.closeAll(code, reason);
    return this.closing;
  }

  /**
   * Sends what waits once every process applied the batch before: one JSON
   * text for all of them, since serializing is most of what a record costs
   * here (Node's IPC serialized a batch per process at about 15 µs a record
   * on this loaded machine).
   */
  private sendWaiting(): void {
    this.sendScheduled = false;
    if (this.applying.size > 0 || this.waiting.isEmpty) return;
    const message: ToFanout = { type: 'records', json: JSON.stringify(this.waiting.take()) };
    for (const fanout of this.processes) {
      if (fanout.closing || !fanout.child.connected) continue;
      this.applying.add(fanout);
      fanout.child.send(message);
    }
  }

  private async closeAll(code: number, reason: string): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    // What waits goes out before the close, whatever a process is applying: IPC keeps the order.
    this.applying.clear();
    this.sendWaiting();
    await Promise.all(
      this.processes.map(async (fanout) => {
        fanout.closing = true;
        if (fanout.child.connected) fanout.child.send({ type: 'close', code, reason } satisfies ToFanout);
        const timer = setTimeout(() => fanout.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
        await fanout.exited;
        clearTimeout(timer);
      }),
    );
    await stopped;
    this.options.logger.info({ url: this.url }, 'websocket sink stopped');
  }

  /** Hands a connection, unread, to the next process still serving; with none left it is refused. */
  private handOver(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    const serving = this.processes.filter((fanout) => !fanout.closing && fanout.child.connected);
    const fanout = serving[this.nextProcess++ % Math.max(serving.length, 1)];
    if (fanout === undefined) {
      const body = JSON.stringify({ error: 'no fan-out process is serving' });
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    fanout.child.send({ type: 'connection' } satisfies ToFanout, socket, (error) => {
      if (error !== null) socket.destroy();
    });
  }

  /** Takes a process's logs, counts and questions; logs its death when it was not closed. */
  private listen(fanout: FanoutProcess): void {
    const { logger, metrics } = this.options;
    const processLogger = logger.child({ fanout_process: fanout.index + 1 });
    fanout.child.on('message', (message: FromFanout) => {
      switch (message.type) {
        case 'log':
          return FanoutProcesses.relayLog(processLogger, message.line);
        case 'counts':
          fanout.clients += message.clients;
          metrics.clients.inc(message.clients);
          metrics.messagesSent.inc(message.messagesSent);
          for (const [code, n] of Object.entries(message.clientErrors)) metrics.clientErrors.labels({ code }).inc(n);
          return;
        case 'ask':
          return void this.answer(fanout, message.id, message.what);
        case 'applied':
          this.applying.delete(fanout);
          return this.sendWaiting();
        case 'ready':
        case 'closed':
          return;
      }
    });
    fanout.child.once('exit', (code, signal) => {
      this.applying.delete(fanout);
      this.sendWaiting();
      // Its clients went with it.
      metrics.clients.dec(fanout.clients);
      fanout.clients = 0;
      if (fanout.closing) return;
      fanout.closing = true;
      logger.error(
        { fanout_process: fanout.index + 1, code, signal },
        `websocket fan-out process ${fanout.index + 1} exited (${signal ?? `code ${code}`}); its clients were disconnected, the other processes serve new ones`,
      );
    });
  }

  private async answer(fanout: FanoutProcess, id: number, what: 'health' | 'metrics'): Promise<void> {
    let answer: ToFanout;
    try {
      answer =
        what === 'health'
          ? { type: 'answer', id, health: this.options.health() }
          : { type: 'answer', id, metrics: await this.options.pipelineMetrics() };
    } catch (error) {
      answer = { type: 'answer', id, error: (error as Error).message };
    }
    if (fanout.child.connected) fanout.child.send(answer);
  }

  /** A process's pino line, logged here at its level with its fields (already redacted there). */
  private static relayLog(logger: Logger, line: string): void {
    const {
      level,
      msg,
      time: _time,
      pid: _pid,
      hostname: _hostname,
      ...fields
    } = JSON.parse(line) as Record<string, unknown> & { level: number; msg?: string };
    const name = logger.levels.labels[level] ?? 'info';
    logger[name as 'info'](fields, msg);
  }
}

import type { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { asyncScheduler } from 'rxjs';
import type { PipelineHealth } from '../../pipeline/runtime/run-pipeline.js';
import { createLogger } from '../../pipeline/runtime/create-logger.js';
import type { CounterSeries, GaugeSeries, MetricLabels, StageMetric } from '../../pipeline/runtime/stage-metrics.js';
import { AuthTokens } from './auth-tokens.js';
import type { FanoutMessages } from './fanout-messages.js';
import { WebsocketBooks, type WebsocketInput } from './websocket-books.js';
import { WebsocketServer } from './websocket-server.js';
import type { WebsocketSinkMetrics } from './websocket-sink-metrics.js';

type FromFanout = FanoutMessages['fromFanout'];
type ToFanout = FanoutMessages['toFanout'];

/** How often the counts of this process reach the sink's metrics. */
const COUNTS_INTERVAL_MS = 500;

/** The sink's metrics as this process counts them: sums since they were last sent. */
class CountsSinceSent implements WebsocketSinkMetrics {
  private clientsDelta = 0;
  private sent = 0;
  private errors: Record<string, number> = {};
  readonly clients: GaugeSeries = {
    set: () => undefined,
    inc: (value = 1) => void (this.clientsDelta += value),
    dec: (value = 1) => void (this.clientsDelta -= value),
  };
  readonly messagesSent: CounterSeries = { inc: (value = 1) => void (this.sent += value) };
  readonly clientErrors: StageMetric<CounterSeries> = {
    inc: (value = 1) => this.countError('', value),
    labels: (labels: MetricLabels) => ({ inc: (value = 1) => this.countError(String(labels.code), value) }),
  };

  /** The counts since the last call, or undefined when nothing was counted. */
  take(): Extract<FromFanout, { type: 'counts' }> | undefined {
    if (this.clientsDelta === 0 && this.sent === 0 && Object.keys(this.errors).length === 0) return undefined;
    const counts = { type: 'counts', clients: this.clientsDelta, messagesSent: this.sent, clientErrors: this.errors } as const;
    this.clientsDelta = this.sent = 0;
    this.errors = {};
    return counts;
  }

  private countError(code: string, value: number): void {
    this.errors[code] = (this.errors[code] ?? 0) + value;
  }
}

/**
 * A fan-out process of the WebSocket sink (see {@link FanoutProcesses}):
 * serves the client connections the sink's process hands it, from books of
 * its own fed the sink's records, and answers `/health` and `/metrics` by
 * asking the sink's process. Its logs and counts go to the sink's process.
 * It exits once closed, or when the sink's process is gone.
 */
export function runFanoutProcess(): void {
  const send = (message: FromFanout): void => void process.send?.(message);
  const books = new WebsocketBooks();
  const metrics = new CountsSinceSent();
  const questions = new Map<number, { resolve: (answer: Extract<ToFanout, { type: 'answer' }>) => void }>();
  let nextQuestion = 1;
  const ask = (what: 'health' | 'metrics'): Promise<Extract<ToFanout, { type: 'answer' }>> =>
    new Promise((resolve) => {
      const id = nextQuestion++;
      questions.set(id, { resolve });
      send({ type: 'ask', id, what });
    });
  const sendCounts = (): void => {
    const counts = metrics.take();
    if (counts !== undefined) send(counts);
  };
  let server: WebsocketServer | undefined;
  let starting: Promise<WebsocketServer> | undefined;
  const countsTimer = setInterval(sendCounts, COUNTS_INTERVAL_MS);
  countsTimer.unref();

  const close = async (code: number, reason: string): Promise<void> => {
    const started = await starting;
    await started?.close(code, reason);
    clearInterval(countsTimer);
    sendCounts();
    send({ type: 'closed' });
    process.disconnect?.();
  };

  process.on('message', (message: ToFanout, socket?: Socket) => {
    switch (message.type) {
      case 'start': {
        const { settings } = message;
        const logger = createLogger({
          level: settings.logLevel,
          pretty: false,
          destination: { write: (line: string) => send({ type: 'log', line }) },
        });
        starting = WebsocketServer.adopting(
          {
            ...settings,
            authTokens: new AuthTokens(settings.authTokens),
            book: books.quotes,
            feeds: books.feeds,
            trade: books.trade,
            scheduler: asyncScheduler,
            logger,
            metrics,
            health: () =>
              ask('health').then((answer) => {
                if (answer.health === undefined) throw new Error(answer.error ?? 'no health in the answer');
                return answer.health satisfies PipelineHealth;
              }),
            pipelineMetrics: () =>
              ask('metrics').then((answer) => {
                if (answer.metrics === undefined) throw new Error(answer.error ?? 'no metrics in the answer');
                return answer.metrics;
              }),
          },
          settings.url,
        );
        starting.then(
          (started) => {
            server = started;
            send({ type: 'ready' });
          },
          (error: unknown) => {
            logger.error({ err: error }, `websocket fan-out process could not start: ${(error as Error).message}`);
            process.exit(1);
          },
        );
        return;
      }
      case 'records':
        for (const input of JSON.parse(message.json) as WebsocketInput[]) books.apply(server, ...input);
        send({ type: 'applied' });
        return;
      case 'connection':
        // A connection closed on its way here arrives without its socket.
        if (socket !== undefined) server?.adopt(socket);
        return;
      case 'answer':
        questions.get(message.id)?.resolve(message);
        questions.delete(message.id);
        return;
      case 'close':
        void close(message.code, message.reason);
        return;
    }
  });
  // The sink's process is gone without closing this one: its clients go too.
  process.once('disconnect', () => {
    if (server !== undefined) void server.close(1001, 'server shutting down').then(() => process.exit(0));
    else process.exit(0);
  });
}

if (process.send !== undefined && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runFanoutProcess();
}

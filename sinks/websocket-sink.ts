import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { StageError } from '../errors/errors.js';
import type { PipelineHealth } from '../pipeline/runtime/run-pipeline.js';
import type { OrderEvent } from '../schemas/generated.js';
import { AuthTokens } from './websocket/auth-tokens.js';
import { FanoutProcesses } from './websocket/fanout-processes.js';
import { WebsocketBooks } from './websocket/websocket-books.js';
import { metric } from '../pipeline/runtime/metric-declaration.js';
import { WebsocketServer } from './websocket/websocket-server.js';

/**
 * The `websocket` sink: serves live quotes and trading state to WebSocket
 * clients in the DIFF protocol of tqsdk (`subscribe_quote`, `peek_message`,
 * `rtn_data` merge patches, plus feed status under `feeds` and orders,
 * positions and denials under `trade`) and in a simpler action protocol
 * (`subscribe`, `market_data`, `subscribe_orders`, `order_event`, …), with a
 * live quote and trading page at `/` and the pipeline's `/health` and
 * `/metrics` on the same port.
 *
 * Every QuoteDiff is applied to a book of latest quotes (new instruments
 * appear as they come), every FeedStatus to a board of feeds, every
 * OrderEvent to a {@link TradeBook} (orders with the state machine's status,
 * positions, the latest denials, per account) and pushed to clients that
 * subscribed to orders; each record is acknowledged once applied. An order
 * event that is not a valid transition of its order is ignored: counted as
 * dropped (`invalid-transition`), logged, not acknowledged, not pushed.
 * Clients get changes merged, never queued, so a slow client costs at most
 * what the books hold. On close (all inputs completed, or the stage
 * unsubscribed), clients get what is pending, are closed with 1001, and the
 * server stops.
 *
 * ```
 * quotes: --d--d--d--|
 * feeds:  -s-------s----|
 * orders: ---o---x--o---|   (x: not a valid transition)
 * acks:   -sdo-d--dso---|   (the records, at once as applied; completes after the server closed)
 * ```
 *
 * @example
 * ```ts
 * import { asyncScheduler } from 'rxjs';
 * const writer = websocketSink.create(validateComponentConfig(websocketSink, { port: 0 }), standaloneContext(asyncScheduler, { component: websocketSink })); // listens on a free port
 * const diff: QuoteDiff = { instrument_id: InstrumentId('SHFE.rb2501'), ts_event: 1_735_822_800_000_000, sequence: 1, changes: { last_price: 3550 } };
 * console.log(writer.write('quotes', diff)); // applied to the quote book and pushed to subscribers at once
 * await writer.close(); // stops the server
 * // Logs: undefined   (handed over now: acknowledged at once, no promise)
 * ```
 */
export const websocketSink = defineComponent({
  name: 'websocket',
  kind: 'sink',
  description:
    'Serves live quotes and trading state (orders, positions, denials) over WebSocket (tqsdk DIFF protocol and an action protocol), with a live page, /health and /metrics.',
  in: { quotes: 'QuoteDiff', feeds: 'FeedStatus', orders: 'OrderEvent' },
  boundary: true,
  spec: {
    host: field.string({ description: 'Address to listen on; 0.0.0.0 serves other machines.', default: '127.0.0.1', example: '0.0.0.0' }),
    port: field.integer({
      description: 'Port for WebSocket clients, the quote page, /health and /metrics; 0 picks a free one (the log names it).',
      default: 7777,
      min: 0,
      max: 65535,
      example: 7777,
    }),
    auth_tokens: field.stringList({
      description:
        'Tokens that open a connection (Authorization: Bearer TOKEN, or ?token=TOKEN); none means no auth. Comma-separated in the environment variable.',
      default: [],
      example: ['change-me'],
      secret: true,
      env: 'TICKFLOW_WS_TOKENS',
    }),
    max_frame_bytes: field.integer({
      description: 'Largest message a client may send; a larger one closes its connection with 1009.',
      default: 65_536,
      min: 64,
      max: 16_777_216,
      example: 65_536,
    }),
    max_subscriptions: field.integer({
      description: 'Most instruments one client may subscribe to, over both protocols.',
      default: 500,
      min: 1,
      max: 100_000,
      example: 500,
    }),
    max_messages_per_second: field.integer({
      description: 'Most messages a client may send per second (peek_message aside); more are refused with RATE_LIMITED.',
      default: 100,
      min: 1,
      max: 100_000,
      example: 100,
    }),
    max_bytes_per_second: field.integer({
      description:
        'Most bytes a client may send per second, every frame counted (a burst of as many); past it messages are refused with RATE_LIMITED and the socket is not read until the budget is back (TCP slows the sender); a client 3 s worth in debt is closed with 1008.',
      default: 262_144,
      min: 1024,
      max: 1_073_741_824,
      example: 262_144,
    }),
    max_reply_bytes: field.integer({
      description: 'Largest answer to one request (list_instruments, search_instruments, …); a larger one is refused with REPLY_TOO_LARGE.',
      default: 1_048_576,
      min: 1024,
      max: 67_108_864,
      example: 1_048_576,
    }),
    max_connections: field.integer({
      description: 'Most WebSocket clients at once; more are refused with HTTP 503 before the handshake.',
      default: 10_000,
      min: 1,
      max: 1_000_000,
      example: 10_000,
    }),
    max_connections_per_address: field.integer({
      description: 'Most WebSocket clients at once from one remote address.',
      default: 256,
      min: 1,
      max: 1_000_000,
      example: 64,
    }),
    max_buffered_bytes: field.integer({
      description:
        'Bytes a client socket may buffer before pushes to it wait (changes keep merging meanwhile); four times this disconnects it.',
      default: 1_048_576,
      min: 1024,
      max: 1_073_741_824,
      example: 1_048_576,
    }),
    fanout_processes: field.integer({
      description:
        'Processes that serve the clients, so that the fan-out spreads over the cores (each takes every record and its share of the connections, and of max_connections and max_connections_per_address); 0 serves them in the pipeline process.',
      default: 0,
      min: 0,
      max: 64,
      example: 2,
    }),
  },
  checkedAtStart: ["that 'port' is free on 'host'"],
  metrics: {
    clients: metric.gauge('WebSocket clients connected.'),
    messages_sent_total: metric.counter('Messages sent to WebSocket clients.'),
    client_errors_total: metric.counter('Client messages or connections refused, by error code.', { labels: ['code'] }),
  },
  drops: {
    'invalid-transition':
      "An order event the order state machine does not allow from the order's state (the trade book keeps the order as it was)",
  },
  create: (config, ctx) => {
    const books = new WebsocketBooks();
    const fanningOut = config.fanout_processes > 0;
    const settings = {
      host: config.host,
      port: config.port,
      authTokens: config.auth_tokens,
      maxFrameBytes: config.max_frame_bytes,
      maxSubscriptions: config.max_subscriptions,
      maxMessagesPerSecond: config.max_messages_per_second,
      maxBytesPerSecond: config.max_bytes_per_second,
      maxReplyBytes: config.max_reply_bytes,
      maxConnections: config.max_connections,
      maxConnectionsPerAddress: config.max_connections_per_address,
      maxBufferedBytes: config.max_buffered_bytes,
    };
    const metrics = {
      clients: ctx.metrics.gauge('clients'),
      messagesSent: ctx.metrics.counter('messages_sent_total'),
      clientErrors: ctx.metrics.counter('client_errors_total'),
    };
    const health = (): PipelineHealth => ctx.pipeline.health();
    const pipelineMetrics = (): Promise<string> => ctx.pipeline.metrics();
    // The port is taken before any stage of the pipeline starts, so a second pipeline on it writes nothing.
    const starting = ctx.acquire<WebsocketServer | FanoutProcesses>(
      () =>
        !fanningOut
          ? WebsocketServer.start({
              ...settings,
              authTokens: new AuthTokens(config.auth_tokens),
              book: books.quotes,
              feeds: books.feeds,
              trade: books.trade,
              scheduler: ctx.scheduler,
              logger: ctx.logger,
              metrics,
              health,
              pipelineMetrics,
            })
          : FanoutProcesses.start({
              count: config.fanout_processes,
              settings: { ...settings, logLevel: ctx.logger.level },
              logger: ctx.logger,
              metrics,
              health,
              pipelineMetrics,
            }),
      (server) => server.close(),
    );
    let server: WebsocketServer | undefined;
    let fanout: FanoutProcesses | undefined;
    // A failed take fails the run before it starts; close() still hears of it.
    starting.then(
      (started) => (started instanceof FanoutProcesses ? (fanout = started) : (server = started)),
      () => undefined,
    );
    return {
      write(...input) {
        // The fan-out processes apply quotes and feeds themselves; order events are checked here, so that those ignored are not acknowledged.
        const ignored = !fanningOut || input[0] === 'orders' ? books.apply(server, ...input) : undefined;
        if (ignored === undefined) {
          fanout?.write(input);
          return;
        }
        ctx.metrics.dropped('invalid-transition');
        // Logged in full the first few times, then once per 1,000: a misbehaving venue must not flood the log.
        const count = books.trade.invalidTransitions;
        const record = input[1] as OrderEvent;
        if (count <= 10 || count % 1000 === 0) {
          ctx.logger.warn(
            { event_id: record.event_id, type: record.type, account: record.account_id, invalid_transitions: count },
            `order event ignored: ${ignored}`,
          );
        }
        return false;
      },
      async close() {
        const started = await starting;
        try {
          await started.close();
        } catch (error) {
          throw new StageError(`websocket: could not close the server: ${(error as Error).message}`, {
            cause: error,
            context: { stage: ctx.stage },
          });
        }
      },
    };
  },
});

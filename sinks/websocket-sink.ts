import { Observable, Subscription } from 'rxjs';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { StageError } from '../errors/errors.js';
import { AuthTokens } from './websocket/auth-tokens.js';
import { FeedBoard } from './websocket/feed-board.js';
import { QuoteBook } from '../protocols/diff/quote-book.js';
import { TradeBook } from './websocket/trade-book.js';
import { WebsocketMetrics } from './websocket/websocket-metrics.js';
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
 * what the books hold. When all inputs complete, clients get what is
 * pending, are closed with 1001, the server stops, and the sink completes;
 * unsubscribing closes everything too.
 *
 * ```
 * quotes: --d--d--d--|
 * feeds:  -s------s-----|
 * orders: ---o---x--o---|      (x: not a valid transition)
 * acks:   -sdo-d--ds-o--|   (the records, once applied; completes after the server closed)
 * ```
 *
 * @example
 * ```ts
 * const sink = websocketSink.create(validateConfig('ws', websocketSink.spec, { port: 0 }), ctx);
 * sink({ quotes: quoteDiffs$, feeds: feedStatus$, orders: orderEvents$ }).subscribe();
 * // Logs: websocket sink serving quotes on ws://127.0.0.1:40123/ (live quote page http://127.0.0.1:40123/, …)
 * ```
 */
export const websocketSink = defineComponent({
  name: 'websocket',
  kind: 'sink',
  description: 'Serves live quotes and trading state (orders, positions, denials) over WebSocket (tqsdk DIFF protocol and an action protocol), with a live page, /health and /metrics.',
  in: { quotes: 'QuoteDiff', feeds: 'FeedStatus', orders: 'OrderEvent' },
  boundary: true,
  spec: {
    host: field.string({ description: 'Address to listen on; 0.0.0.0 serves other machines.', default: '127.0.0.1', example: '0.0.0.0' }),
    port: field.integer({ description: 'Port for WebSocket clients, the quote page, /health and /metrics; 0 picks a free one (the log names it).', default: 7777, min: 0, max: 65535, example: 7777 }),
    auth_tokens: field.stringList({
      description: 'Tokens that open a connection (Authorization: Bearer TOKEN, or ?token=TOKEN); none means no auth. Comma-separated in the environment variable.',
      default: [],
      example: ['change-me'],
      secret: true,
      env: 'TICKFLOW_WS_TOKENS',
    }),
    max_frame_bytes: field.integer({ description: 'Largest message a client may send; a larger one closes its connection with 1009.', default: 65_536, min: 64, max: 16_777_216, example: 65_536 }),
    max_subscriptions: field.integer({ description: 'Most instruments one client may subscribe to, over both protocols.', default: 500, min: 1, max: 100_000, example: 500 }),
    max_messages_per_second: field.integer({ description: 'Most messages a client may send per second (peek_message aside); more are refused with RATE_LIMITED.', default: 100, min: 1, max: 100_000, example: 100 }),
    max_bytes_per_second: field.integer({
      description: 'Most bytes a client may send per second, every frame counted (a burst of as many); past it messages are refused with RATE_LIMITED and the socket is not read until the budget is back (TCP slows the sender); a client 3 s worth in debt is closed with 1008.',
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
    max_connections: field.integer({ description: 'Most WebSocket clients at once; more are refused with HTTP 503 before the handshake.', default: 10_000, min: 1, max: 1_000_000, example: 10_000 }),
    max_connections_per_address: field.integer({ description: 'Most WebSocket clients at once from one remote address.', default: 256, min: 1, max: 1_000_000, example: 64 }),
    max_buffered_bytes: field.integer({
      description: 'Bytes a client socket may buffer before pushes to it wait (changes keep merging meanwhile); four times this disconnects it.',
      default: 1_048_576,
      min: 1024,
      max: 1_073_741_824,
      example: 1_048_576,
    }),
  },
  checkedAtStart: ["that 'port' is free on 'host'"],
  create: (config, ctx) => {
    const book = new QuoteBook();
    const feeds = new FeedBoard();
    const trade = new TradeBook();
    // The port is taken before any stage of the pipeline starts, so a second pipeline on it writes nothing.
    const starting = ctx.acquire(
      () =>
        WebsocketServer.start({
          host: config.host,
          port: config.port,
          authTokens: new AuthTokens(config.auth_tokens),
          maxFrameBytes: config.max_frame_bytes,
          maxSubscriptions: config.max_subscriptions,
          maxMessagesPerSecond: config.max_messages_per_second,
          maxBytesPerSecond: config.max_bytes_per_second,
          maxReplyBytes: config.max_reply_bytes,
          maxConnections: config.max_connections,
          maxConnectionsPerAddress: config.max_connections_per_address,
          maxBufferedBytes: config.max_buffered_bytes,
          book,
          feeds,
          trade,
          scheduler: ctx.scheduler,
          logger: ctx.logger,
          metrics: new WebsocketMetrics(ctx.registry, ctx.stage),
          health: () => ctx.pipeline.health(),
          pipelineMetrics: () => ctx.pipeline.metrics(),
        }),
      (server) => server.close(),
    );
    return (inputs) =>
      new Observable<unknown>((subscriber) => {
        const subscription = new Subscription();
        let server: WebsocketServer | undefined;
        let tornDown = false;
        let quotesDone = false;
        let feedsDone = false;
        let ordersDone = false;

        const fail = (error: unknown): void => subscriber.error(error);
        const finishIfDone = (): void => {
          if (!quotesDone || !feedsDone || !ordersDone || server === undefined) return;
          server.close().then(
            () => subscriber.complete(),
            (error: unknown) => fail(new StageError(`websocket: could not close the server: ${(error as Error).message}`, { cause: error, context: { stage: ctx.stage } })),
          );
        };

        starting.then(
          (started) => {
            if (tornDown) return void started.close();
            server = started;
            finishIfDone();
          },
          fail,
        );
        subscription.add(
          inputs.quotes.subscribe({
            next(diff) {
              const change = book.apply(diff);
              if (change !== undefined) server?.quoteChanged(change);
              subscriber.next(diff);
            },
            error: fail,
            complete() {
              quotesDone = true;
              finishIfDone();
            },
          }),
        );
        subscription.add(
          inputs.feeds.subscribe({
            next(status) {
              const change = feeds.apply(status);
              if (change !== undefined) server?.feedChanged(change);
              subscriber.next(status);
            },
            error: fail,
            complete() {
              feedsDone = true;
              finishIfDone();
            },
          }),
        );
        subscription.add(
          inputs.orders.subscribe({
            next(event) {
              const update = trade.apply(event);
              if (update.ignored !== undefined) {
                ctx.metrics.dropped('invalid-transition');
                // Logged in full the first few times, then once per 1,000: a misbehaving venue must not flood the log.
                const count = trade.invalidTransitions;
                if (count <= 10 || count % 1000 === 0) {
                  ctx.logger.warn({ event_id: event.event_id, type: event.type, account: event.account_id, invalid_transitions: count }, `order event ignored: ${update.ignored}`);
                }
                return;
              }
              server?.tradeChanged(update.changes);
              server?.orderEvent(event);
              subscriber.next(event);
            },
            error: fail,
            complete() {
              ordersDone = true;
              finishIfDone();
            },
          }),
        );
        return () => {
          tornDown = true;
          subscription.unsubscribe();
          void server?.close();
        };
      });
  },
});

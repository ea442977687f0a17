import { Observable, Subscription } from 'rxjs';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { StageError } from '../pipeline/errors.js';
import { AuthTokens } from './websocket/auth-tokens.js';
import { FeedBoard } from './websocket/feed-board.js';
import { QuoteBook } from '../protocols/diff/quote-book.js';
import { WebsocketMetrics } from './websocket/websocket-metrics.js';
import { WebsocketServer } from './websocket/websocket-server.js';

/**
 * The `websocket` sink: serves live quotes to WebSocket clients in the DIFF
 * protocol of tqsdk (`subscribe_quote`, `peek_message`, `rtn_data` merge
 * patches, plus feed status under `feeds`) and in a simpler action protocol
 * (`subscribe`, `market_data`, …), with a live quote page at `/` and the
 * pipeline's `/health` and `/metrics` on the same port.
 *
 * Every QuoteDiff is applied to a book of latest quotes (new instruments
 * appear as they come) and every FeedStatus to a board of feeds; each record
 * is acknowledged once applied. Clients get changes merged, never queued, so
 * a slow client costs at most its subscriptions × quote fields. When both
 * inputs complete, clients get what is pending, are closed with 1001, the
 * server stops, and the sink completes; unsubscribing closes everything too.
 *
 * ```
 * quotes: --d--d--d--|
 * feeds:  -s------s-----|
 * acks:   -sd--d--ds----|   (the records, once applied; completes after the server closed)
 * ```
 *
 * @example
 * ```ts
 * const sink = websocketSink.create(validateConfig('ws', websocketSink.spec, { port: 0 }), ctx);
 * sink({ quotes: quoteDiffs$, feeds: feedStatus$ }).subscribe();
 * // Logs: websocket sink serving quotes on ws://127.0.0.1:40123/ (live quote page http://127.0.0.1:40123/, …)
 * ```
 */
export const websocketSink = defineComponent({
  name: 'websocket',
  kind: 'sink',
  description: 'Serves live quotes over WebSocket (tqsdk DIFF protocol and an action protocol), with a live quote page, /health and /metrics.',
  in: { quotes: 'QuoteDiff', feeds: 'FeedStatus' },
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
    max_frame_bytes: field.integer({ description: 'Largest message a client may send; a larger one closes its connection with 1009.', default: 65_536, min: 64, example: 65_536 }),
    max_subscriptions: field.integer({ description: 'Most instruments one client may subscribe to, over both protocols.', default: 500, min: 1, example: 500 }),
    max_messages_per_second: field.integer({ description: 'Most messages a client may send per second (peek_message aside); more are refused with RATE_LIMITED.', default: 100, min: 1, example: 100 }),
    max_buffered_bytes: field.integer({
      description: 'Bytes a client socket may buffer before pushes to it wait (changes keep merging meanwhile); four times this disconnects it.',
      default: 1_048_576,
      min: 1024,
      example: 1_048_576,
    }),
  },
  create: (config, ctx) => (inputs) =>
    new Observable<unknown>((subscriber) => {
      const book = new QuoteBook();
      const feeds = new FeedBoard();
      const subscription = new Subscription();
      let server: WebsocketServer | undefined;
      let tornDown = false;
      let quotesDone = false;
      let feedsDone = false;

      const fail = (error: unknown): void => subscriber.error(error);
      const finishIfDone = (): void => {
        if (!quotesDone || !feedsDone || server === undefined) return;
        server.close().then(
          () => subscriber.complete(),
          (error: unknown) => fail(new StageError(`websocket: could not close the server: ${(error as Error).message}`, { cause: error, context: { stage: ctx.stage } })),
        );
      };

      WebsocketServer.start({
        host: config.host,
        port: config.port,
        authTokens: new AuthTokens(config.auth_tokens),
        maxFrameBytes: config.max_frame_bytes,
        maxSubscriptions: config.max_subscriptions,
        maxMessagesPerSecond: config.max_messages_per_second,
        maxBufferedBytes: config.max_buffered_bytes,
        book,
        feeds,
        scheduler: ctx.scheduler,
        logger: ctx.logger,
        metrics: new WebsocketMetrics(ctx.registry, ctx.stage),
        health: () => ctx.pipeline.health(),
        pipelineMetrics: () => ctx.pipeline.metrics(),
      }).then(
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
      return () => {
        tornDown = true;
        subscription.unsubscribe();
        void server?.close();
      };
    }),
});

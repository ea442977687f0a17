import { Observable, type Subscription } from 'rxjs';
import WebSocket from 'ws';
import { checkInstrumentId, checkTickSanity, shownValue } from '../domain/tick-sanity.js';
import type { FeedState, FeedStatus, Tick } from '../schemas/generated.js';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { ConfigError, TickflowError } from '../errors/errors.js';
import { RetryPolicy } from '../pipeline/runtime/retry-policy.js';
import { quoteName, readQuotePatches } from '../protocols/diff/read-quote-patches.js';
import { tickFromDiffQuote } from '../protocols/diff/tick-from-diff-quote.js';
import { parseBoundedJson } from '../protocols/json/parse-bounded-json.js';
import { UpstreamQuotes } from './ws-feed/upstream-quotes.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Drops are logged one by one at first, then every thousandth, so a broken upstream cannot flood the log. */
const shouldLog = (count: number): boolean => count <= 10 || count % 1000 === 0;

/**
 * Deepest nesting of an upstream message. A DIFF rtn_data of quotes is 5
 * deep (message, data, patch, quotes, quote); 32 leaves room for whatever
 * else a gateway sends beside them (accounts, charts), and is shallow enough
 * for anything to walk. Deeper messages are refused before they are parsed.
 */
const MAX_MESSAGE_DEPTH = 32;
const MIB = 1024 * 1024;

/** Why the feed dropped upstream input, as counted in `dropped{reason}`. */
type DropReason = 'malformed' | 'incomplete' | 'instrument-limit';

/**
 * The `ws-feed` source: a client of an upstream DIFF server (another
 * tickflow's WebSocket sink, or any DIFF gateway). It subscribes, runs the
 * peek_message loop, applies the merge patches to its own snapshot and
 * emits a Tick for every quote that changed, stamped with its own feed id,
 * receive time (scheduler time) and sequence. It reconnects with backoff
 * and subscribes again after every reconnect; the new connection's first
 * snapshot repeats quotes already emitted, which dedup-merge drops.
 *
 * Its side output `status` reports the feed as UP (data arriving), STALE
 * (connected, no data for `stale_after_ms`) or DOWN (disconnected).
 *
 * ```
 * upstream:  -a-b-x-B-c-     a, b, c: quotes; x: the connection drops; B: the new connection's snapshot, b again
 * ticks:     -a-b---B-c-     one tick per quote that changed; B: b again, from the fresh snapshot
 * status:    -u---d-u---     u: UP (data arriving); d: DOWN (disconnected, reconnecting with backoff)
 * ```
 *
 * A quote merged by a slow upstream (several ticks in one patch) yields one
 * tick: DIFF is a state protocol, not a log.
 *
 * Everything from the upstream is bounded before it is walked, merged or
 * quoted: a message longer than `max_message_bytes` is refused by the
 * WebSocket itself (the connection is then opened again, for a fresh
 * snapshot), one nested deeper than 32 levels before it is parsed; patches
 * are checked for shape before they are merged (see
 * {@link readQuotePatches}); the feed holds at most `max_instruments`
 * quotes of at most the 40 DIFF quote fields; every tick must pass
 * {@link checkTickSanity} (a price of 1e308 or a negative volume never
 * reaches strategies). What is refused is dropped and counted —
 * `dropped{reason="malformed"}` (not JSON, too long or deep, wrong shape,
 * implausible value, bad instrument id, or a quote holding a value refused
 * earlier), `"incomplete"` (a required field missing) or
 * `"instrument-limit"` — sent to the dead letters (schema Tick, origin the
 * upstream URL, the reason naming instrument and field) and logged (the
 * first ten, then every thousandth). The feed keeps running: a hostile
 * upstream affects its own feed only.
 */
export const wsFeedSource = defineComponent({
  name: 'ws-feed',
  kind: 'source',
  out: 'Tick',
  sideOutputs: { status: 'FeedStatus' },
  boundary: true,
  description: 'Ticks from an upstream DIFF-protocol WebSocket server, reconnecting with backoff; feed status as a side output.',
  spec: {
    url: field.string({ description: 'WebSocket URL of the upstream DIFF server', example: 'ws://127.0.0.1:7777/' }),
    instruments: field.stringList({
      description: 'Instruments to subscribe; empty subscribes every instrument the upstream lists',
      default: [],
      example: ['SHFE.rb2501'],
    }),
    feed_id: field.string({ description: 'Feed id written into every tick; empty uses the stage id', default: '', example: 'upstream-a' }),
    token: field.string({
      description: 'Bearer token for the upstream, if it asks for one',
      default: '',
      example: 's3cret',
      secret: true,
      env: 'TICKFLOW_WS_FEED_TOKEN',
    }),
    stale_after_ms: field.integer({
      description: 'Connected without data this long: the feed is STALE',
      default: 3000,
      min: 1,
      max: 3_600_000,
      example: 1000,
    }),
    retry_initial_ms: field.integer({
      description: 'First reconnect delay; it doubles up to retry_max_ms, with ±20% jitter',
      default: 200,
      min: 1,
      max: 600_000,
      example: 100,
    }),
    retry_max_ms: field.integer({ description: 'Longest reconnect delay', default: 5000, min: 1, max: 3_600_000, example: 10000 }),
    max_message_bytes: field.integer({
      description:
        'Longest upstream message in bytes (at most 256 MiB); a longer one is refused, counted as malformed, and the connection opened again for a fresh snapshot',
      default: 16 * MIB,
      min: 1024,
      max: 256 * MIB,
      example: 4 * MIB,
    }),
    max_instruments: field.integer({
      description:
        'Most instruments whose quotes the feed holds (at most 200,000); quotes of further instruments are dropped, counted as instrument-limit',
      default: 20_000,
      min: 1,
      max: 200_000,
      example: 5000,
    }),
  },
  validate: [
    {
      rule: "'url' starts with ws:// or wss://",
      problems: (config) =>
        /^wss?:\/\//.test(config.url) ? [] : [`'url' must start with ws:// or wss://, got ${JSON.stringify(config.url)}`],
    },
  ],
  checkedAtStart: ["that the feed at 'url' answers (the source retries until it does)"],
  drops: {
    malformed: 'An upstream message that is not valid JSON or not a DIFF message',
    incomplete: 'A quote that lacks a field a Tick needs',
    'instrument-limit': 'A quote of an instrument beyond max_instruments',
  },
  create(config, ctx) {
    const feedId = config.feed_id === '' ? ctx.stage : config.feed_id;
    const retry = new RetryPolicy({ initialMs: config.retry_initial_ms, maxMs: config.retry_max_ms });
    const statusOut = ctx.sideOutput<FeedStatus>('status');
    const scheduler = ctx.scheduler;
    const micros = (): number => Math.round(scheduler.now() * 1000);

    return new Observable<Tick>((subscriber) => {
      let socket: WebSocket | undefined;
      const quotes = new UpstreamQuotes(config.max_instruments);
      let sequence = 0;
      let attempt = 0;
      let state: FeedState | undefined;
      let lastDataAt = scheduler.now();
      let lastTickTs: number | null = null;
      let drops = 0;
      let upstreamErrors = 0;
      let closed = false;
      const timers: Subscription[] = [];

      const report = (next: FeedState, detail: string): void => {
        if (next === state) return;
        state = next;
        ctx.logger.info({ feed: feedId, state: next, url: config.url }, `feed ${feedId} ${next}: ${detail}`);
        statusOut.next({
          feed_id: feedId,
          state: next,
          ts_event: micros(),
          last_tick_ts: lastTickTs,
          lead_count: 0,
          lag_count: 0,
          gap_count: 0,
          drop_count: drops,
          detail,
        });
      };

      /** Drops upstream input: counted, dead-lettered, logged (rate-limited). `payload` is bounded (it came through the bounded parser). */
      const drop = (reason: DropReason, detail: string, payload: unknown, instrumentId?: string): void => {
        drops++;
        ctx.metrics.dropped(reason);
        ctx.deadLetter({ origin: config.url, schema: 'Tick', reason: detail, payload });
        if (shouldLog(drops)) {
          const instrument = instrumentId === undefined ? undefined : quoteName(instrumentId);
          ctx.logger.warn({ feed: feedId, instrument, reason, dropped: drops }, `ws-feed ${feedId}: ${detail}`);
        }
      };

      const send = (message: object): void => {
        if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
      };

      // A peek more than the upstream expects is harmless (peek_message only says "ready"); one too few stalls the feed.
      const peek = (): void => send({ aid: 'peek_message' });

      const subscribe = (instruments: readonly string[]): void => {
        send({ aid: 'subscribe_quote', ins_list: instruments.join(',') });
        peek();
      };

      /** Subscribes to what the upstream lists: valid instrument ids only, at most max_instruments of them. */
      const subscribeListed = (listed: readonly unknown[]): void => {
        const valid = listed.filter((i): i is string => checkInstrumentId(i) === undefined);
        const taken = valid.slice(0, config.max_instruments);
        if (taken.length < listed.length) {
          ctx.logger.warn(
            { feed: feedId, listed: listed.length, invalid: listed.length - valid.length, beyondLimit: valid.length - taken.length },
            `ws-feed ${feedId}: subscribing to ${taken.length} of the ${listed.length} instruments the upstream lists (invalid ids and those beyond max_instruments left out)`,
          );
        }
        subscribe(taken);
      };

      const onRtnData = (data: unknown): void => {
        const { updates, rejections } = readQuotePatches(data);
        // Each instrument's quote is dropped at most once per message.
        const droppedNow = new Set<string>();
        for (const rejection of rejections) {
          if (rejection.instrumentId !== undefined) droppedNow.add(rejection.instrumentId);
          drop('malformed', rejection.reason, rejection.payload, rejection.instrumentId);
        }
        const changed = new Set<string>();
        for (const update of updates) {
          const id = update.instrumentId;
          const refusal = quotes.apply(update);
          if (refusal === undefined) {
            changed.add(id);
          } else if (!droppedNow.has(id)) {
            droppedNow.add(id);
            drop(refusal.reason, `quote of ${quoteName(id)}: ${refusal.detail}`, update.fields, id);
          }
        }
        for (const id of changed) {
          const quote = quotes.quote(id);
          if (quote === undefined) continue; // unsubscribed: deleted from the snapshot
          if (quote.refusedField !== undefined) {
            if (!droppedNow.has(id))
              drop(
                'malformed',
                `quote of ${id}: '${quote.refusedField}' holds a value refused earlier; no tick until the upstream sets it again`,
                quote.fields,
                id,
              );
            continue;
          }
          const tick = tickFromDiffQuote(id, quote.fields, { feedId, tsRecv: micros(), sequence: sequence + 1 });
          if (typeof tick === 'string') {
            drop('incomplete', tick, quote.fields, id);
            continue;
          }
          const problem = checkTickSanity(tick);
          if (problem !== undefined) {
            drop('malformed', `quote of ${id}: ${problem}`, tick, id);
            continue;
          }
          sequence++;
          lastTickTs = tick.ts_event;
          subscriber.next(tick);
        }
        if (changed.size > 0) report('UP', 'quotes arriving');
        peek();
      };

      const onMessage = (raw: WebSocket.RawData): void => {
        const text = (Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw)).toString('utf8');
        const parsed = parseBoundedJson(text, { maxLength: config.max_message_bytes, maxDepth: MAX_MESSAGE_DEPTH });
        if (!parsed.ok) {
          drop('malformed', `upstream message ${parsed.reason}`, text);
          peek();
          return;
        }
        const message = parsed.value;
        if (!isObject(message)) {
          drop('malformed', `upstream message is not an object: ${shownValue(message)}`, message);
          peek();
          return;
        }
        // Only a well-formed message is data: an upstream sending nothing but junk goes STALE.
        lastDataAt = scheduler.now();
        if (message['aid'] === 'rtn_data') onRtnData(message['data']);
        else if (message['action'] === 'instruments' && Array.isArray(message['instruments'])) subscribeListed(message['instruments']);
        else if (message['aid'] === 'error' || message['action'] === 'error') {
          const error = message['error'];
          const detail = isObject(error) ? `${shownValue(error['code'])}: ${shownValue(error['message'])}` : shownValue(error);
          if (shouldLog(++upstreamErrors))
            ctx.logger.warn(
              { feed: feedId, error: detail, errors: upstreamErrors },
              `ws-feed ${feedId}: upstream reported an error: ${detail}`,
            );
        }
      };

      /**
       * The last guard: whatever goes wrong handling one message is that
       * message's drop, never an exception out of the socket's event handler
       * (which would end the process, and every feed in it).
       */
      const onMessageGuarded = (raw: WebSocket.RawData): void => {
        try {
          onMessage(raw);
        } catch (error) {
          ctx.logger.error({ feed: feedId, err: error }, `ws-feed ${feedId}: failed to handle an upstream message; dropped`);
          drop('malformed', `upstream message could not be handled: ${(error as Error)?.message ?? String(error)}`, null);
          peek();
        }
      };

      const reconnect = (error: unknown): void => {
        if (closed) return;
        attempt++;
        if (!retry.shouldRetry(attempt, error)) {
          report('DOWN', `giving up: ${(error as Error).message}`);
          subscriber.error(error);
          return;
        }
        const delay = retry.delayMs(attempt);
        report('DOWN', `${(error as Error).message}; reconnecting in ${delay} ms`);
        timers.push(scheduler.schedule(connect, delay));
      };

      function connect(): void {
        if (closed) return;
        quotes.clear();
        const headers = config.token === '' ? undefined : { authorization: `Bearer ${config.token}` };
        // maxPayload: ws refuses a longer message before buffering it whole, and closes the connection (1009).
        const ws = new WebSocket(config.url, { headers, handshakeTimeout: 5_000, maxPayload: config.max_message_bytes });
        socket = ws;
        let failure: unknown;
        ws.on('open', () => {
          attempt = 0;
          lastDataAt = scheduler.now();
          if (config.instruments.length > 0) subscribe(config.instruments);
          else send({ action: 'list_instruments' });
        });
        ws.on('message', onMessageGuarded);
        ws.on('unexpected-response', (_request, response) => {
          // 401/403 will not change by retrying: stop with a clear error.
          const status = response.statusCode ?? 0;
          failure =
            status === 401 || status === 403
              ? new ConfigError(`stage '${ctx.stage}' (ws-feed)`, [`upstream ${config.url} refused the token (HTTP ${status})`])
              : new TickflowError(`upstream ${config.url} answered HTTP ${status}`, { retriable: true, context: { feed: feedId } });
          ws.terminate();
        });
        ws.on('error', (error: Error & { code?: string }) => {
          if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
            drop(
              'malformed',
              `upstream message longer than max_message_bytes (${config.max_message_bytes}); the connection is closed and opened again`,
              null,
            );
          }
          failure ??= new TickflowError(`upstream ${config.url}: ${error.message}`, {
            retriable: true,
            cause: error,
            context: { feed: feedId },
          });
        });
        ws.on('close', (code) => {
          if (socket === ws) socket = undefined;
          reconnect(
            failure ??
              new TickflowError(`upstream ${config.url} closed the connection (code ${code})`, {
                retriable: true,
                context: { feed: feedId },
              }),
          );
        });
      }

      // Staleness is judged on the scheduler, so it runs on virtual time in tests.
      timers.push(
        scheduler.schedule(
          function (this: { schedule(state?: undefined, delay?: number): void }) {
            if (state === 'UP' && scheduler.now() - lastDataAt > config.stale_after_ms)
              report('STALE', `no data for ${config.stale_after_ms} ms`);
            this.schedule(undefined, Math.max(1, Math.floor(config.stale_after_ms / 2)));
          },
          Math.max(1, Math.floor(config.stale_after_ms / 2)),
        ),
      );
      connect();

      return () => {
        closed = true;
        for (const t of timers) t.unsubscribe();
        socket?.removeAllListeners('close');
        socket?.close(1000);
        socket = undefined;
      };
    });
  },
});

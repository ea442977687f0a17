import { Observable, type Subscription } from 'rxjs';
import WebSocket from 'ws';
import type { FeedState, FeedStatus, Tick } from '../schemas/generated.js';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { ConfigError, TickflowError } from '../pipeline/errors.js';
import { RetryPolicy } from '../pipeline/runtime/retry-policy.js';
import { applyMergePatch, type JsonValue } from '../protocols/diff/apply-merge-patch.js';
import { tickFromDiffQuote } from '../protocols/diff/tick-from-diff-quote.js';

type JsonObject = Record<string, JsonValue>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Incomplete quotes are logged one by one at first, then every thousandth, so a broken upstream cannot flood the log. */
const shouldLog = (count: number): boolean => count <= 10 || count % 1000 === 0;

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
 * upstream:  --q1--q2--X(reconnect)--q2'--q3--
 * ticks:     --t1--t2---------------t2'--t3--
 * status:    --UP-------DOWN--------UP--------
 * ```
 *
 * A quote merged by a slow upstream (several ticks in one patch) yields one
 * tick: DIFF is a state protocol, not a log.
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
    instruments: field.stringList({ description: 'Instruments to subscribe; empty subscribes every instrument the upstream lists', default: [], example: ['SHFE.rb2501'] }),
    feed_id: field.string({ description: 'Feed id written into every tick; empty uses the stage id', default: '', example: 'upstream-a' }),
    token: field.string({ description: 'Bearer token for the upstream, if it asks for one', default: '', example: 's3cret', secret: true, env: 'TICKFLOW_WS_FEED_TOKEN' }),
    stale_after_ms: field.integer({ description: 'Connected without data this long: the feed is STALE', default: 3000, min: 1, example: 1000 }),
    retry_initial_ms: field.integer({ description: 'First reconnect delay; it doubles up to retry_max_ms, with ±20% jitter', default: 200, min: 1, example: 100 }),
    retry_max_ms: field.integer({ description: 'Longest reconnect delay', default: 5000, min: 1, example: 10000 }),
  },
  create(config, ctx) {
    if (!/^wss?:\/\//.test(config.url)) {
      throw new ConfigError(`stage '${ctx.stage}' (ws-feed)`, [`'url' must start with ws:// or wss://, got ${JSON.stringify(config.url)}`]);
    }
    const feedId = config.feed_id === '' ? ctx.stage : config.feed_id;
    const retry = new RetryPolicy({ initialMs: config.retry_initial_ms, maxMs: config.retry_max_ms });
    const statusOut = ctx.sideOutput<FeedStatus>('status');
    const scheduler = ctx.scheduler;
    const micros = (): number => Math.round(scheduler.now() * 1000);

    return new Observable<Tick>((subscriber) => {
      let socket: WebSocket | undefined;
      let snapshot: JsonObject = {};
      let sequence = 0;
      let attempt = 0;
      let state: FeedState | undefined;
      let lastDataAt = scheduler.now();
      let lastTickTs: number | null = null;
      let incomplete = 0;
      let closed = false;
      const timers: Subscription[] = [];

      const report = (next: FeedState, detail: string): void => {
        if (next === state) return;
        state = next;
        ctx.logger.info({ feed: feedId, state: next, url: config.url }, `feed ${feedId} ${next}: ${detail}`);
        statusOut.next({
          feed_id: feedId, state: next, ts_event: micros(), last_tick_ts: lastTickTs,
          lead_count: 0, lag_count: 0, gap_count: 0, drop_count: incomplete, detail,
        });
      };

      const send = (message: object): void => {
        if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
      };

      const subscribe = (instruments: readonly string[]): void => {
        send({ aid: 'subscribe_quote', ins_list: instruments.join(',') });
        send({ aid: 'peek_message' });
      };

      const onRtnData = (data: unknown): void => {
        if (!Array.isArray(data)) return;
        const changed = new Set<string>();
        for (const patch of data as JsonValue[]) {
          if (isObject(patch) && isObject(patch['quotes'])) for (const id of Object.keys(patch['quotes'])) changed.add(id);
          snapshot = applyMergePatch(snapshot, patch) as JsonObject;
        }
        const quotes = isObject(snapshot['quotes']) ? snapshot['quotes'] : {};
        for (const id of changed) {
          const quote = quotes[id];
          if (!isObject(quote)) continue; // unsubscribed: deleted from the snapshot
          const tick = tickFromDiffQuote(id, quote, { feedId, tsRecv: micros(), sequence: sequence + 1 });
          if (typeof tick === 'string') {
            ctx.metrics.dropped('incomplete');
            if (shouldLog(++incomplete)) ctx.logger.warn({ feed: feedId, instrument: id, dropped: incomplete }, `ws-feed ${feedId}: ${tick}`);
            continue;
          }
          sequence++;
          lastTickTs = tick.ts_event;
          subscriber.next(tick);
        }
        if (changed.size > 0) report('UP', 'quotes arriving');
        send({ aid: 'peek_message' });
      };

      const onMessage = (raw: WebSocket.RawData): void => {
        lastDataAt = scheduler.now();
        let message: unknown;
        try {
          message = JSON.parse(raw.toString());
        } catch {
          ctx.logger.warn({ feed: feedId }, `ws-feed ${feedId}: upstream sent a frame that is not JSON; ignored`);
          return;
        }
        if (!isObject(message)) return;
        if (message['aid'] === 'rtn_data') onRtnData(message['data']);
        else if (message['action'] === 'instruments' && Array.isArray(message['instruments'])) subscribe(message['instruments'].filter((i): i is string => typeof i === 'string'));
        else if (message['aid'] === 'error' || message['action'] === 'error') ctx.logger.warn({ feed: feedId, error: message['error'] }, `ws-feed ${feedId}: upstream reported an error`);
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
        snapshot = {};
        const headers = config.token === '' ? undefined : { authorization: `Bearer ${config.token}` };
        const ws = new WebSocket(config.url, { headers, handshakeTimeout: 5_000 });
        socket = ws;
        let failure: unknown;
        ws.on('open', () => {
          attempt = 0;
          lastDataAt = scheduler.now();
          if (config.instruments.length > 0) subscribe(config.instruments);
          else send({ action: 'list_instruments' });
        });
        ws.on('message', onMessage);
        ws.on('unexpected-response', (_request, response) => {
          // 401/403 will not change by retrying: stop with a clear error.
          const status = response.statusCode ?? 0;
          failure =
            status === 401 || status === 403
              ? new ConfigError(`stage '${ctx.stage}' (ws-feed)`, [`upstream ${config.url} refused the token (HTTP ${status})`])
              : new TickflowError(`upstream ${config.url} answered HTTP ${status}`, { retriable: true, context: { feed: feedId } });
          ws.terminate();
        });
        ws.on('error', (error) => {
          failure ??= new TickflowError(`upstream ${config.url}: ${error.message}`, { retriable: true, cause: error, context: { feed: feedId } });
        });
        ws.on('close', (code) => {
          if (socket === ws) socket = undefined;
          reconnect(failure ?? new TickflowError(`upstream ${config.url} closed the connection (code ${code})`, { retriable: true, context: { feed: feedId } }));
        });
      }

      // Staleness is judged on the scheduler, so it runs on virtual time in tests.
      timers.push(
        scheduler.schedule(function (this: { schedule(state?: undefined, delay?: number): void }) {
          if (state === 'UP' && scheduler.now() - lastDataAt > config.stale_after_ms) report('STALE', `no data for ${config.stale_after_ms} ms`);
          this.schedule(undefined, Math.max(1, Math.floor(config.stale_after_ms / 2)));
        }, Math.max(1, Math.floor(config.stale_after_ms / 2))),
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

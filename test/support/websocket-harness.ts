import { pino } from 'pino';
import { Subject, asyncScheduler, endWith, ignoreElements, merge, takeUntil, type Subscription } from 'rxjs';
import { WebSocket } from 'ws';
import type { StandaloneContext } from '../../pipeline/components/standalone-context.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { sinkStage } from '../../pipeline/runtime/sink-stage.js';
import type { PipelineHealth } from '../../pipeline/runtime/run-pipeline.js';
import {
  InstrumentId,
  type DenialReason,
  type FeedStatus,
  type OrderAccepted,
  type OrderCanceled,
  type OrderCancelRejected,
  type OrderDenied,
  type OrderEvent,
  type OrderFilled,
  type OrderPendingCancel,
  type OrderSide,
  type OrderSubmitted,
  type QuoteDiff,
} from '../../schemas/generated.js';
import { websocketSink } from '../../sinks/websocket-sink.js';
import { fromPlainIds, type PlainIds } from './plain-ids.js';
import { testContext } from './test-context.js';

/** 2025-01-02 21:00:00 +08:00 in epoch microseconds. */
export const T0 = 1_735_822_800_000_000;

/** A first QuoteDiff of an instrument: the fields a quote-diff stage sends for a new quote. */
export function firstQuote(instrumentId: string, lastPrice: number, changes: Record<string, null | number | string> = {}): QuoteDiff {
  return {
    instrument_id: InstrumentId(instrumentId),
    ts_event: T0,
    sequence: 1,
    changes: {
      trading_day: '20250103',
      action_day: '20250102',
      ts_event: T0,
      last_price: lastPrice,
      pre_settlement: lastPrice - 10,
      pre_close: lastPrice - 12,
      pre_open_interest: 1_000_000,
      open: lastPrice - 5,
      high: lastPrice + 10,
      low: lastPrice - 20,
      close: null,
      settlement: null,
      upper_limit: lastPrice + 270,
      lower_limit: lastPrice - 270,
      average_price: lastPrice - 1.5,
      volume: 12_000,
      last_volume: null,
      turnover: 419_820_000,
      open_interest: 1_002_000,
      bid_price1: lastPrice - 1,
      bid_volume1: 10,
      ask_price1: lastPrice,
      ask_volume1: 12,
      ...changes,
    },
  };
}

/** A later QuoteDiff of an instrument. */
export function laterQuote(instrumentId: string, sequence: number, changes: Record<string, null | number | string>): QuoteDiff {
  return {
    instrument_id: InstrumentId(instrumentId),
    ts_event: T0 + sequence * 500_000,
    sequence,
    changes: { ts_event: T0 + sequence * 500_000, ...changes },
  };
}

export function feedStatus(feedId: string, state: FeedStatus['state'], changes: Partial<FeedStatus> = {}): FeedStatus {
  return {
    feed_id: feedId,
    state,
    ts_event: T0,
    last_tick_ts: T0,
    lead_count: 10,
    lag_count: 2,
    gap_count: 0,
    drop_count: 2,
    detail: `feed ${state.toLowerCase()}`,
    ...changes,
  };
}

/** The account and strategy of the order events below unless a test names others. */
export const ACCOUNT = 'acc-1';
export const STRATEGY = 'strat-1';

let eventCount = 0;

/** The fields every order event carries: ids, a time 1 ms after the previous event's, a causation id. */
function eventBase(type: string, clientOrderId: string, instrumentId: string) {
  eventCount++;
  return {
    event_id: `${type}-${clientOrderId}-${eventCount}`,
    client_order_id: clientOrderId,
    strategy_id: STRATEGY,
    account_id: ACCOUNT,
    instrument_id: instrumentId,
  };
}

function eventTimes(clientOrderId: string) {
  const ts = T0 + eventCount * 1000;
  return { ts_event: ts, ts_init: ts, causation_id: `cmd-${clientOrderId}` };
}

/** OrderSubmitted of a GFD limit order (a market order when `price` is null). */
export function orderSubmitted(
  id: string,
  instrumentId: string,
  side: OrderSide,
  quantity: number,
  price: number | null,
  extra: Partial<PlainIds<OrderSubmitted>> = {},
): OrderSubmitted {
  return fromPlainIds<OrderSubmitted>({
    type: 'OrderSubmitted',
    ...eventBase('OrderSubmitted', id, instrumentId),
    venue: 'paper',
    side,
    order_type: price === null ? 'MARKET' : 'LIMIT',
    time_in_force: 'GFD',
    position_effect: 'OPEN',
    quantity,
    price,
    ...eventTimes(id),
    ...extra,
  });
}

export function orderAccepted(id: string, instrumentId: string, extra: Partial<PlainIds<OrderAccepted>> = {}): OrderAccepted {
  return fromPlainIds<OrderAccepted>({
    type: 'OrderAccepted',
    ...eventBase('OrderAccepted', id, instrumentId),
    venue_order_id: `v-${id}`,
    ...eventTimes(id),
    ...extra,
  });
}

/** OrderFilled of `lots` at `price`; `cum` and `leaves` are the order's lots filled and still working after it. */
export function orderFilled(
  id: string,
  instrumentId: string,
  side: OrderSide,
  lots: number,
  price: number,
  cum: number,
  leaves: number,
  extra: Partial<PlainIds<OrderFilled>> = {},
): OrderFilled {
  const base = eventBase('OrderFilled', id, instrumentId);
  return fromPlainIds<OrderFilled>({
    type: 'OrderFilled',
    ...base,
    venue_order_id: `v-${id}`,
    trade_id: `t-${eventCount}`,
    side,
    last_quantity: lots,
    last_price: price,
    cum_quantity: cum,
    leaves_quantity: leaves,
    ...eventTimes(id),
    ...extra,
  });
}

export function orderPendingCancel(
  id: string,
  instrumentId: string,
  extra: Partial<PlainIds<OrderPendingCancel>> = {},
): OrderPendingCancel {
  return fromPlainIds<OrderPendingCancel>({
    type: 'OrderPendingCancel',
    ...eventBase('OrderPendingCancel', id, instrumentId),
    venue_order_id: `v-${id}`,
    ...eventTimes(id),
    ...extra,
  });
}

export function orderCanceled(
  id: string,
  instrumentId: string,
  filled: number,
  extra: Partial<PlainIds<OrderCanceled>> = {},
): OrderCanceled {
  return fromPlainIds<OrderCanceled>({
    type: 'OrderCanceled',
    ...eventBase('OrderCanceled', id, instrumentId),
    venue_order_id: `v-${id}`,
    filled_quantity: filled,
    ...eventTimes(id),
    ...extra,
  });
}

export function orderCancelRejected(
  id: string,
  instrumentId: string,
  reason: string,
  extra: Partial<PlainIds<OrderCancelRejected>> = {},
): OrderCancelRejected {
  return fromPlainIds<OrderCancelRejected>({
    type: 'OrderCancelRejected',
    ...eventBase('OrderCancelRejected', id, instrumentId),
    venue_order_id: `v-${id}`,
    reason,
    ...eventTimes(id),
    ...extra,
  });
}

export function orderDenied(
  id: string,
  instrumentId: string,
  reasonCode: DenialReason,
  reason: string,
  extra: Partial<PlainIds<OrderDenied>> = {},
): OrderDenied {
  return fromPlainIds<OrderDenied>({
    type: 'OrderDenied',
    ...eventBase('OrderDenied', id, instrumentId),
    reason_code: reasonCode,
    reason,
    ...eventTimes(id),
    ...extra,
  });
}

/** Waits until `condition` holds, polling every 10 ms, for at most `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited >= timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Lets the event loop run `turns` times, so that microtask flushes and socket writes happen. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

export interface RunningSink {
  readonly quotes: Subject<QuoteDiff>;
  readonly feeds: Subject<FeedStatus>;
  readonly orders: Subject<OrderEvent>;
  readonly acks: unknown[];
  /** `http://127.0.0.1:PORT`, from the sink's log line. */
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly ctx: StandaloneContext;
  readonly logLines: string[];
  /** Settles when the sink completes (or rejects when it errors). */
  readonly done: Promise<void>;
  readonly subscription: Subscription;
}

const running = new Set<RunningSink>();

/**
 * Starts the websocket sink on a free port of 127.0.0.1 with `config` through the real spec; feed it through the Subjects.
 * The `orders` port completes with the last of `quotes` and `feeds` (so completing those two ends the sink, as before the
 * port existed) unless `ordersOutliveOthers` is set, when only `orders.complete()` ends it.
 */
export async function startSink(
  config: Record<string, unknown> = {},
  options: { health?: () => PipelineHealth; env?: NodeJS.ProcessEnv; ordersOutliveOthers?: boolean } = {},
): Promise<RunningSink> {
  const logLines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  const base = testContext(asyncScheduler, websocketSink, { stage: 'ws', logger });
  const taken: Promise<unknown>[] = [];
  const ctx: StandaloneContext = {
    ...base,
    pipeline: { ...base.pipeline, health: options.health ?? base.pipeline.health },
    acquire: (take, release) => {
      const resource = base.acquire(take, release);
      taken.push(resource);
      return resource;
    },
  };
  const validated = validateConfig('websocket', websocketSink.spec, { port: 0, ...config }, options.env);
  const quotes = new Subject<QuoteDiff>();
  const feeds = new Subject<FeedStatus>();
  const orders = new Subject<OrderEvent>();
  const acks: unknown[] = [];
  let subscription!: Subscription;
  const writer = websocketSink.create(validated, ctx);
  // As the runner does: the port is taken before the stage starts.
  await Promise.all(taken);
  const done = new Promise<void>((resolve, reject) => {
    subscription = sinkStage(writer, (error) => logger.error({ err: error }, 'websocket: could not close'))({
      quotes,
      feeds,
      orders:
        options.ordersOutliveOthers === true ? orders : orders.pipe(takeUntil(merge(quotes, feeds).pipe(ignoreElements(), endWith(true)))),
    }).subscribe({ next: (ack) => void acks.push(ack), error: reject, complete: resolve });
  });
  // Boxed: the rethrow is of the error as it came, whatever it is.
  let failure: { error: unknown } | undefined;
  done.catch((error: unknown) => (failure = { error }));
  let url: string | undefined;
  await waitFor(() => {
    if (failure !== undefined) throw failure.error;
    return (url = logLines.map((l) => JSON.parse(l) as { url?: string }).find((l) => l.url !== undefined)?.url) !== undefined;
  }, 'the sink to log its url');
  const port = Number(new URL(url as string).port);
  const sink: RunningSink = {
    quotes,
    feeds,
    orders,
    acks,
    url: url as string,
    wsUrl: `ws://127.0.0.1:${port}/`,
    port,
    ctx,
    logLines,
    done,
    subscription,
  };
  running.add(sink);
  return sink;
}

/** Unsubscribes every sink started by a test and closes its clients; for afterEach. */
export async function stopAllSinks(): Promise<void> {
  for (const sink of running) sink.subscription.unsubscribe();
  running.clear();
  for (const client of openClients) client.socket.terminate();
  openClients.clear();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test messages are read as loose JSON
export type Message = Record<string, any>;

const openClients = new Set<TestClient>();

/** A real `ws` client that records every frame and lets a test await the next matching message, within a time bound. */
export class TestClient {
  readonly frames: string[] = [];
  readonly messages: Message[] = [];
  private consumed = 0;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      this.frames.push(text);
      this.messages.push(JSON.parse(text) as Message);
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    openClients.add(this);
  }

  /** Connects; rejects with the HTTP status when the upgrade is refused. */
  static connect(url: string, options: { headers?: Record<string, string> } = {}): Promise<TestClient> {
    const socket = new WebSocket(url, { headers: options.headers });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new TestClient(socket)));
      socket.once('unexpected-response', (_request, response) =>
        reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { statusCode: response.statusCode })),
      );
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message not yet taken that matches `predicate` (messages before it are skipped). */
  async next(predicate: (m: Message) => boolean = () => true, what = 'a message', timeoutMs = 5000): Promise<Message> {
    let found: Message | undefined;
    await waitFor(
      () => {
        for (let i = this.consumed; i < this.messages.length; i++) {
          const m = this.messages[i] as Message;
          if (predicate(m)) {
            this.consumed = i + 1;
            found = m;
            return true;
          }
        }
        return false;
      },
      what,
      timeoutMs,
    );
    return found as Message;
  }

  /** The messages received and not yet taken. */
  unread(): Message[] {
    return this.messages.slice(this.consumed);
  }

  /** Takes every message received so far. */
  skipAll(): void {
    this.consumed = this.messages.length;
  }

  close(): void {
    this.socket.close();
    openClients.delete(this);
  }
}

/** `peek_message` and the rtn_data that answers it. */
export async function peek(client: TestClient, timeoutMs = 5000): Promise<Message> {
  client.send({ aid: 'peek_message' });
  return client.next((m) => m['aid'] === 'rtn_data', 'rtn_data', timeoutMs);
}

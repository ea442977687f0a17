import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import { WebSocket, type RawData } from 'ws';
import { ActionSession } from './action-session.js';
import { ClientErrorCode, type ClientError } from './client-error.js';
import { DiffSession } from './diff-session.js';
import type { FeedBoard, FeedChange } from './feed-board.js';
import type { QuoteBook, QuoteChange } from '../../protocols/diff/quote-book.js';
import { RateLimiter } from './rate-limiter.js';
import type { TradeBook, TradeEntityChange } from './trade-book.js';
import type { WebsocketMetrics } from './websocket-metrics.js';

/** Which protocol a message speaks, and so which envelope its error reply takes. */
type Protocol = 'aid' | 'action';

/**
 * A client that lets its socket buffer grow past this many times
 * `maxBufferedBytes` does not even read the replies to its own requests; it is
 * disconnected so that its memory stays bounded.
 */
const HARD_BUFFER_FACTOR = 4;
/** How much of a bad value an error message quotes. */
const MAX_QUOTED = 80;

export interface ClientConnectionOptions {
  /** Numbers the connection in logs. */
  readonly id: number;
  readonly socket: WebSocket;
  readonly book: QuoteBook;
  readonly feeds: FeedBoard;
  readonly trade: TradeBook;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  readonly metrics: WebsocketMetrics;
  /** Instruments subscribed on this connection, over both protocols. */
  readonly maxSubscriptions: number;
  readonly maxMessagesPerSecond: number;
  /** Pushes wait while the socket buffers more than this. */
  readonly maxBufferedBytes: number;
}

function quoted(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(data: RawData): string {
  return (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

/**
 * One client socket: reads its messages in either protocol (a message with
 * `aid` is DIFF, one with `action` the action protocol), applies the limits,
 * and sends what its sessions have pending.
 *
 * Pushes (rtn_data, market_data, order_event) are sent only while the socket
 * buffers at most `maxBufferedBytes`; otherwise the sessions keep merging and
 * the push goes out when a write completes. Replies to requests are always sent,
 * since the rate limit bounds them; a client whose buffer still passes
 * four times the bound is disconnected.
 */
export class ClientConnection {
  private readonly diff: DiffSession;
  private readonly action: ActionSession;
  private readonly limiter: RateLimiter;
  /** The protocol the client last spoke: the envelope for errors of messages that name none (bad JSON, `[]`). */
  private lastProtocol: Protocol = 'aid';
  private flushScheduled = false;
  private closed = false;

  constructor(private readonly options: ClientConnectionOptions) {
    this.diff = new DiffSession(options.book, options.feeds, options.trade);
    this.action = new ActionSession(options.book);
    this.limiter = new RateLimiter(options.maxMessagesPerSecond, options.scheduler);
    options.socket.on('message', (data) => this.onMessage(data));
  }

  /** A quote changed in the book: merge it into the sessions, send on the next microtask so that a burst goes out together. */
  quoteChanged(change: QuoteChange): void {
    this.diff.quoteChanged(change);
    this.action.quoteChanged(change.instrumentId);
    this.scheduleFlush();
  }

  /** A feed's status changed. */
  feedChanged(change: FeedChange): void {
    this.diff.feedChanged(change);
    this.scheduleFlush();
  }

  /** Order events changed the trade state. */
  tradeChanged(changes: readonly TradeEntityChange[]): void {
    this.diff.tradeChanged(changes);
    this.scheduleFlush();
  }

  /**
   * An order event, as its serialized `order_event` message (serialized once
   * for every client). Sent at once, so a client that keeps up sees every
   * event in order; when the socket is backed up, or events already wait,
   * it waits as its order's latest event.
   */
  orderEvent(orderKey: string, message: string): void {
    if (this.closed || !this.action.wantsOrderEvents) return;
    if (!this.action.hasWaitingOrderEvents && this.hasRoom()) return this.send(message);
    this.action.waitOrderEvent(orderKey, message);
    this.scheduleFlush();
  }

  /** Sends what is pending, then closes the socket with `code`; a later change sends nothing. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.options.socket.close(code, reason);
  }

  /** Sends every pending push the socket's buffer bound allows. */
  flush(): void {
    const socket = this.options.socket;
    if (this.closed || socket.readyState !== WebSocket.OPEN) return;
    const rtnData = this.hasRoom() ? this.diff.takeMessage() : undefined;
    if (rtnData !== undefined) this.send(rtnData);
    while (this.hasRoom()) {
      const marketData = this.action.takeMarketData();
      if (marketData === undefined) break;
      this.send(marketData);
    }
    while (this.hasRoom()) {
      const orderEvent = this.action.takeOrderEvent();
      if (orderEvent === undefined) break;
      this.send(orderEvent);
    }
  }

  private hasRoom(): boolean {
    return this.options.socket.bufferedAmount <= this.options.maxBufferedBytes;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Sends a message, or text already serialized. */
  private send(message: object | string): void {
    const socket = this.options.socket;
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(typeof message === 'string' ? message : JSON.stringify(message), (error) => {
      // A write reached the operating system: there may be room for what waited.
      if (error === undefined || error === null) {
        if ((this.diff.isPeekHeld && this.diff.hasPending) || this.action.hasPending) this.scheduleFlush();
      }
    });
    this.options.metrics.messageSent();
    if (socket.bufferedAmount > HARD_BUFFER_FACTOR * this.options.maxBufferedBytes) {
      this.options.logger.warn({ client: this.options.id, buffered_bytes: socket.bufferedAmount }, 'websocket client does not read; disconnecting it');
      this.options.metrics.clientError('SLOW_CONSUMER');
      this.closed = true;
      socket.terminate();
    }
  }

  private refuse(protocol: Protocol, error: ClientError): void {
    this.options.metrics.clientError(error.code);
    this.options.logger.debug({ client: this.options.id, code: error.code }, `websocket client message refused: ${error.message}`);
    // A flood of refused messages must not fill the socket with refusals.
    if (error.code === ClientErrorCode.RATE_LIMITED && !this.hasRoom()) return;
    this.send(protocol === 'aid' ? { aid: 'error', error } : { action: 'error', error });
  }

  private onMessage(data: RawData): void {
    if (this.closed) return;
    let message: unknown;
    let parseError: string | undefined;
    try {
      message = JSON.parse(textOf(data));
    } catch (error) {
      parseError = (error as Error).message;
    }
    const named: Protocol | undefined = isRecord(message) ? ('aid' in message ? 'aid' : 'action' in message ? 'action' : undefined) : undefined;
    const protocol = named ?? this.lastProtocol;
    this.lastProtocol = protocol;
    // peek_message is the protocol's flow control, answered at most once each: never rate-limited, since tqsdk does not re-send one.
    if (isRecord(message) && message['aid'] === 'peek_message') {
      this.diff.peekMessage();
      this.flush();
      return;
    }
    if (!this.limiter.tryTake()) {
      return this.refuse(protocol, { code: ClientErrorCode.RATE_LIMITED, message: `more than ${this.options.maxMessagesPerSecond} messages per second; message ignored` });
    }
    if (parseError !== undefined) return this.refuse(protocol, { code: ClientErrorCode.BAD_JSON, message: `message is not JSON: ${parseError}` });
    if (!isRecord(message) || !('aid' in message || 'action' in message)) {
      return this.refuse(protocol, { code: ClientErrorCode.BAD_REQUEST, message: `a message must be a JSON object with "aid" (DIFF protocol) or "action", got ${quoted(message)}` });
    }
    const error = protocol === 'aid' ? this.onDiffMessage(message) : this.onActionMessage(message);
    if (error !== undefined) this.refuse(protocol, error);
  }

  private onDiffMessage(message: Record<string, unknown>): ClientError | undefined {
    const aid = message['aid'];
    if (typeof aid !== 'string') return { code: ClientErrorCode.BAD_REQUEST, message: `"aid" must be a string, got ${quoted(aid)}` };
    if (aid !== 'subscribe_quote') {
      return { code: ClientErrorCode.UNKNOWN_AID, message: `unknown aid ${quoted(aid)}; this server serves subscribe_quote, peek_message` };
    }
    const insList = message['ins_list'];
    if (typeof insList !== 'string') {
      return { code: ClientErrorCode.BAD_REQUEST, message: `subscribe_quote: "ins_list" must be a comma-separated string of instruments, got ${quoted(insList)}` };
    }
    const error = this.diff.subscribeQuote(insList, this.options.maxSubscriptions - this.action.subscriptions.size);
    if (error === undefined) this.flush();
    return error;
  }

  private onActionMessage(message: Record<string, unknown>): ClientError | undefined {
    const action = message['action'];
    if (typeof action !== 'string') return { code: ClientErrorCode.BAD_REQUEST, message: `"action" must be a string, got ${quoted(action)}` };
    switch (action) {
      case 'subscribe':
      case 'unsubscribe': {
        const instruments = message['instruments'];
        if (!Array.isArray(instruments) || !instruments.every((i): i is string => typeof i === 'string')) {
          return { code: ClientErrorCode.BAD_REQUEST, message: `${action}: "instruments" must be a list of instrument ids, got ${quoted(instruments)}` };
        }
        const reply = action === 'subscribe' ? this.action.subscribe(instruments, this.options.maxSubscriptions - this.diff.subscriptions.size) : this.action.unsubscribe(instruments);
        if ('code' in reply) return reply;
        this.send(reply);
        this.flush();
        return undefined;
      }
      case 'list_instruments':
        this.send(this.action.listInstruments());
        return undefined;
      case 'subscribe_orders':
        this.send(this.action.subscribeOrders());
        return undefined;
      case 'unsubscribe_orders':
        this.send(this.action.unsubscribeOrders());
        return undefined;
      case 'search_instruments': {
        const pattern = message['pattern'];
        if (typeof pattern !== 'string') return { code: ClientErrorCode.BAD_REQUEST, message: `search_instruments: "pattern" must be a string, got ${quoted(pattern)}` };
        this.send(this.action.searchInstruments(pattern));
        return undefined;
      }
      default:
        return { code: ClientErrorCode.UNKNOWN_ACTION, message: `unknown action ${quoted(action)}; this server serves subscribe, unsubscribe, list_instruments, search_instruments, subscribe_orders, unsubscribe_orders` };
    }
  }
}

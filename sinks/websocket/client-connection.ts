import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import { WebSocket, type RawData } from 'ws';
import { ActionSession } from './action-session.js';
import { parseBoundedJson } from '../../protocols/json/parse-bounded-json.js';
import { ClientErrorCode, ConnectionErrorCode, type ClientError } from './client-error.js';
import { DiffSession } from './diff-session.js';
import type { FeedBoard, FeedChange } from './feed-board.js';
import type { QuoteFanout } from './quote-fanout.js';
import type { QuoteWaiter } from './quote-subscription.js';
import { RateLimiter } from './rate-limiter.js';
import type { TradeBook, TradeEntityChange } from './trade-book.js';
import type { WebsocketSinkMetrics } from './websocket-sink-metrics.js';

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
/** Deepest client message read: requests are flat objects with at most a list of ids. Deeper ones are refused before they are parsed. */
export const MAX_MESSAGE_DEPTH = 8;
/** A client this many seconds' worth of its byte rate in debt is flooding: closed with 1008. */
const FLOOD_SECONDS = 3;
/** Longest peek_message worth parsing once a client is past its byte budget (`{"aid":"peek_message"}` with room for spacing). */
const PEEK_MESSAGE_MAX_BYTES = 128;
/** How long a client closed for flooding has to finish the closing handshake before its socket is dropped: it does not read, so it may never. */
const FLOOD_CLOSE_GRACE_MS = 1000;

export interface ClientConnectionOptions {
  /** Numbers the connection in logs. */
  readonly id: number;
  readonly socket: WebSocket;
  readonly fanout: QuoteFanout;
  readonly feeds: FeedBoard;
  readonly trade: TradeBook;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  readonly metrics: WebsocketSinkMetrics;
  /** Instruments subscribed on this connection, over both protocols. */
  readonly maxSubscriptions: number;
  readonly maxMessagesPerSecond: number;
  /** Bytes a client may send per second (every frame counts, peek_message too); over it, messages are refused, far over it the connection is closed. */
  readonly maxBytesPerSecond: number;
  /** Largest reply to a request; a larger one is replaced by a REPLY_TOO_LARGE error. */
  readonly maxReplyBytes: number;
  /** Pushes wait while the socket buffers more than this. */
  readonly maxBufferedBytes: number;
  /** Asks the server to call {@link ClientConnection.flush} soon, with every other client that has something to send. */
  readonly requestFlush: (client: ClientConnection) => void;
}

/** A bad value as an error message quotes it: cut short. Values are depth-bounded by the time they get here. */
function quoted(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The TCP socket under a ws WebSocket: ws exposes no cork, and several frames in one write are what a socket write costs least. */
function tcpSocketOf(socket: WebSocket): Socket | undefined {
  return (socket as unknown as { _socket?: Socket })._socket;
}

function bufferOf(data: RawData): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/**
 * One client socket: reads its messages in either protocol (a message with
 * `aid` is DIFF, one with `action` the action protocol), applies the limits,
 * and sends what its sessions have pending.
 *
 * Pushes (rtn_data, market_data, order_event) are sent when the server
 * flushes, corked into one socket write, and only while the socket buffers at
 * most `maxBufferedBytes`; otherwise the shared fan-out keeps merging and the
 * push goes out when a write completes. Replies to requests are always sent,
 * since the rate limit bounds them; a client whose buffer still passes
 * four times the bound is disconnected.
 */
export class ClientConnection implements QuoteWaiter {
  private readonly diff: DiffSession;
  private readonly action: ActionSession;
  private readonly limiter: RateLimiter;
  private readonly bytes: RateLimiter;
  /** The protocol the client last spoke: the envelope for errors of messages that name none (bad JSON, `[]`). */
  private lastProtocol: Protocol = 'aid';
  private closed = false;
  /** Called when a write reached the operating system: there may be room for what waited. One function for every send. */
  private readonly onWritten = (error?: Error | null): void => {
    if ((error === undefined || error === null) && this.hasPending()) this.options.requestFlush(this);
  };

  constructor(private readonly options: ClientConnectionOptions) {
    this.diff = new DiffSession(options.fanout, options.feeds, options.trade);
    this.action = new ActionSession(options.fanout);
    this.limiter = new RateLimiter(options.maxMessagesPerSecond, options.scheduler);
    this.bytes = new RateLimiter(options.maxBytesPerSecond, options.scheduler);
    options.socket.on('message', (data) => {
      // Nothing a client sends may throw out of the listener: a failure here is ours, answered and logged, and the server goes on.
      try {
        this.onMessage(data);
      } catch (error) {
        this.options.logger.error({ client: this.options.id, err: error }, `websocket client message failed: ${(error as Error).message}`);
        this.refuse(this.lastProtocol, {
          code: ClientErrorCode.INTERNAL_ERROR,
          message: 'the server failed on this message; it was not applied',
        });
      }
    });
  }

  /** A feed's status changed. */
  feedChanged(change: FeedChange): void {
    this.diff.feedChanged(change);
    this.options.requestFlush(this);
  }

  /** Order events changed the trade state. */
  tradeChanged(changes: readonly TradeEntityChange[]): void {
    this.diff.tradeChanged(changes);
    this.options.requestFlush(this);
  }

  /**
   * An order event, as its encoded `order_event` message (encoded once for
   * every client). Sent at once, so a client that keeps up sees every
   * event in order; when the socket is backed up, or events already wait,
   * it waits as its order's latest event.
   */
  orderEvent(orderKey: string, message: Buffer): void {
    if (this.closed || !this.action.wantsOrderEvents) return;
    if (!this.action.hasWaitingOrderEvents && this.hasRoom()) return this.send(message);
    this.action.waitOrderEvent(orderKey, message);
    this.options.requestFlush(this);
  }

  /** The socket closed: lets go of what the sessions share. */
  dispose(): void {
    this.closed = true;
    this.diff.dispose();
    this.action.dispose();
  }

  /** Sends what is pending, then closes the socket with `code`; a later change sends nothing. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.options.socket.close(code, reason);
  }

  /** A subscribed instrument changed: the server flushes this client with the others. */
  wake(): void {
    if (!this.closed) this.options.requestFlush(this);
  }

  /**
   * Sends every pending push the socket's buffer bound allows, in one socket
   * write. A client that still waits for quotes (a held peek, action
   * subscriptions) is parked on its subscriptions, to be woken when one of
   * their instruments changes; one whose socket was full is flushed again
   * when a write completes.
   */
  flush(): void {
    const socket = this.options.socket;
    if (this.closed || socket.readyState !== WebSocket.OPEN) return;
    const tcp = tcpSocketOf(socket);
    tcp?.cork();
    try {
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
    } finally {
      tcp?.uncork();
    }
    if (this.closed) return;
    if (this.diff.isPeekHeld) this.diff.park(this);
    if (this.action.subscriptions.size > 0) this.action.park(this);
  }

  /** True when a push waits: for a held peek, or for room in the socket. */
  private hasPending(): boolean {
    return (this.diff.isPeekHeld && this.diff.hasPending()) || this.action.hasPending();
  }

  /**
   * Stops reading the client's socket until its byte budget is back: TCP
   * then slows the sender down, and a client past its rate costs the server
   * no more reading than its rate allows.
   */
  private holdReading(ms: number): void {
    const socket = this.options.socket;
    if (socket.isPaused) return;
    socket.pause();
    this.options.scheduler.schedule(() => {
      if (!this.closed) socket.resume();
    }, ms);
  }

  private hasRoom(): boolean {
    return this.options.socket.bufferedAmount <= this.options.maxBufferedBytes;
  }

  /** Sends a message, text already serialized, or an encoded message (a text frame, shared by many clients and never copied). */
  private send(message: object | string | Buffer): void {
    const socket = this.options.socket;
    if (socket.readyState !== WebSocket.OPEN) return;
    if (Buffer.isBuffer(message)) socket.send(message, { binary: false }, this.onWritten);
    else socket.send(typeof message === 'string' ? message : JSON.stringify(message), this.onWritten);
    this.options.metrics.messagesSent.inc();
    if (socket.bufferedAmount > HARD_BUFFER_FACTOR * this.options.maxBufferedBytes) {
      this.options.logger.warn(
        { client: this.options.id, buffered_bytes: socket.bufferedAmount },
        'websocket client does not read; disconnecting it',
      );
      this.options.metrics.clientErrors.labels({ code: ConnectionErrorCode.SLOW_CONSUMER }).inc();
      this.closed = true;
      socket.terminate();
    }
  }

  /** Sends the reply to a request, or REPLY_TOO_LARGE instead when it is over the bound. */
  private reply(protocol: Protocol, message: object): void {
    const text = JSON.stringify(message);
    if (text.length <= this.options.maxReplyBytes) return this.send(text);
    this.refuse(protocol, {
      code: ClientErrorCode.REPLY_TOO_LARGE,
      message: `the answer would have ${text.length} bytes, more than the ${this.options.maxReplyBytes} a reply may have; ask for less (search_instruments with a narrower pattern)`,
    });
  }

  private refuse(protocol: Protocol, error: ClientError): void {
    this.options.metrics.clientErrors.labels({ code: error.code }).inc();
    this.options.logger.debug({ client: this.options.id, code: error.code }, `websocket client message refused: ${error.message}`);
    // A flood of refused messages must not fill the socket of a client that does not read with refusals.
    if (!this.hasRoom()) return;
    this.send(protocol === 'aid' ? { aid: 'error', error } : { action: 'error', error });
  }

  private onMessage(data: RawData): void {
    if (this.closed) return;
    const frame = bufferOf(data);
    // Every frame spends the byte budget, peek_message too: bytes that arrived were read either way.
    const balance = this.bytes.spend(frame.length);
    if (balance < -FLOOD_SECONDS * this.options.maxBytesPerSecond) {
      this.options.logger.warn(
        { client: this.options.id, max_bytes_per_second: this.options.maxBytesPerSecond },
        'websocket client sends far more than its byte rate; disconnecting it',
      );
      this.options.metrics.clientErrors.labels({ code: ConnectionErrorCode.FLOODING }).inc();
      this.closed = true;
      this.options.socket.close(1008, 'byte rate exceeded');
      // Nothing more it sends is read: parsing a flood for a closed client is the flood's goal.
      this.options.socket.pause();
      this.options.scheduler.schedule(() => this.options.socket.terminate(), FLOOD_CLOSE_GRACE_MS);
      return;
    }
    if (balance < 0) {
      this.holdReading((-balance / this.options.maxBytesPerSecond) * 1000);
      // Past the budget only a peek_message is still served, and a frame this long is none: refused unread.
      if (frame.length > PEEK_MESSAGE_MAX_BYTES) return this.refuseByteRate(this.lastProtocol);
    }
    const text = frame.toString('utf8');
    const parsed = parseBoundedJson(text, { maxLength: text.length, maxDepth: MAX_MESSAGE_DEPTH });
    const message = parsed.ok ? parsed.value : undefined;
    const named: Protocol | undefined = isRecord(message)
      ? 'aid' in message
        ? 'aid'
        : 'action' in message
          ? 'action'
          : undefined
      : undefined;
    const protocol = named ?? this.lastProtocol;
    this.lastProtocol = protocol;
    // peek_message is the protocol's flow control, answered at most once each: never rate-limited, since tqsdk does not re-send one.
    if (isRecord(message) && message['aid'] === 'peek_message') {
      this.diff.peekMessage();
      this.options.requestFlush(this);
      return;
    }
    if (balance < 0) return this.refuseByteRate(protocol);
    if (!this.limiter.tryTake()) {
      return this.refuse(protocol, {
        code: ClientErrorCode.RATE_LIMITED,
        message: `more than ${this.options.maxMessagesPerSecond} messages per second; message ignored`,
      });
    }
    if (!parsed.ok) {
      const tooDeep = parsed.reason.startsWith('nested');
      return this.refuse(protocol, {
        code: tooDeep ? ClientErrorCode.TOO_DEEP : ClientErrorCode.BAD_JSON,
        message: tooDeep ? `message is ${parsed.reason}; requests are flat` : `message is ${parsed.reason}`,
      });
    }
    if (!isRecord(message) || !('aid' in message || 'action' in message)) {
      return this.refuse(protocol, {
        code: ClientErrorCode.BAD_REQUEST,
        message: `a message must be a JSON object with "aid" (DIFF protocol) or "action", got ${quoted(message)}`,
      });
    }
    const error = protocol === 'aid' ? this.onDiffMessage(message) : this.onActionMessage(message);
    if (error !== undefined) this.refuse(protocol, error);
  }

  private refuseByteRate(protocol: Protocol): void {
    this.refuse(protocol, {
      code: ClientErrorCode.RATE_LIMITED,
      message: `more than ${this.options.maxBytesPerSecond} bytes per second; message ignored`,
    });
  }

  private onDiffMessage(message: Record<string, unknown>): ClientError | undefined {
    const aid = message['aid'];
    if (typeof aid !== 'string') return { code: ClientErrorCode.BAD_REQUEST, message: `"aid" must be a string, got ${quoted(aid)}` };
    if (aid !== 'subscribe_quote') {
      return { code: ClientErrorCode.UNKNOWN_AID, message: `unknown aid ${quoted(aid)}; this server serves subscribe_quote, peek_message` };
    }
    const insList = message['ins_list'];
    if (typeof insList !== 'string') {
      return {
        code: ClientErrorCode.BAD_REQUEST,
        message: `subscribe_quote: "ins_list" must be a comma-separated string of instruments, got ${quoted(insList)}`,
      };
    }
    const error = this.diff.subscribeQuote(insList, this.options.maxSubscriptions - this.action.subscriptions.size);
    if (error === undefined) this.options.requestFlush(this);
    return error;
  }

  private onActionMessage(message: Record<string, unknown>): ClientError | undefined {
    const action = message['action'];
    if (typeof action !== 'string')
      return { code: ClientErrorCode.BAD_REQUEST, message: `"action" must be a string, got ${quoted(action)}` };
    switch (action) {
      case 'subscribe':
      case 'unsubscribe': {
        const instruments = message['instruments'];
        if (!Array.isArray(instruments) || !instruments.every((i): i is string => typeof i === 'string')) {
          return {
            code: ClientErrorCode.BAD_REQUEST,
            message: `${action}: "instruments" must be a list of instrument ids, got ${quoted(instruments)}`,
          };
        }
        const reply =
          action === 'subscribe'
            ? this.action.subscribe(instruments, this.options.maxSubscriptions - this.diff.subscriptions.size)
            : this.action.unsubscribe(instruments);
        if ('code' in reply) return reply;
        this.reply('action', reply);
        this.options.requestFlush(this);
        return undefined;
      }
      case 'list_instruments':
        this.reply('action', this.action.listInstruments());
        return undefined;
      case 'subscribe_orders':
        this.reply('action', this.action.subscribeOrders());
        return undefined;
      case 'unsubscribe_orders':
        this.reply('action', this.action.unsubscribeOrders());
        return undefined;
      case 'search_instruments': {
        const pattern = message['pattern'];
        if (typeof pattern !== 'string')
          return { code: ClientErrorCode.BAD_REQUEST, message: `search_instruments: "pattern" must be a string, got ${quoted(pattern)}` };
        this.reply('action', this.action.searchInstruments(pattern));
        return undefined;
      }
      default:
        return {
          code: ClientErrorCode.UNKNOWN_ACTION,
          message: `unknown action ${quoted(action)}; this server serves subscribe, unsubscribe, list_instruments, search_instruments, subscribe_orders, unsubscribe_orders`,
        };
    }
  }
}

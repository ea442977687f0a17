import { ClientErrorCode, type ClientError } from './client-error.js';
import type { QuoteBook, QuoteValue } from '../../protocols/diff/quote-book.js';

/** The reply to `subscribe` / `unsubscribe`. */
export interface SubscriptionReply {
  readonly action: 'subscribed' | 'unsubscribed';
  /** Subscribed (or unsubscribed) by this request. */
  readonly instruments: readonly string[];
  /** subscribe: not known to the server, so not subscribed; unsubscribe: were not subscribed. */
  readonly unknown: readonly string[];
  /** Instruments subscribed on this connection now. */
  readonly count: number;
}

/** The reply to `list_instruments` / `search_instruments`. */
export interface InstrumentsReply {
  readonly action: 'instruments';
  readonly instruments: readonly string[];
  readonly count: number;
}

/** A pushed quote: every DIFF key present, null where the exchange has not set the value. */
export interface MarketData {
  readonly action: 'market_data';
  readonly instrument_id: string;
  readonly quote: Readonly<Record<string, QuoteValue | null>>;
}

/** The reply to `subscribe_orders` / `unsubscribe_orders`. */
export interface OrdersSubscriptionReply {
  readonly action: 'subscribed_orders' | 'unsubscribed_orders';
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/**
 * What one client of the action protocol has subscribed and has not yet been
 * sent. Pure state, no sockets.
 *
 * Changed instruments are remembered as a set, not as queued messages: when
 * the socket is slow, each instrument is sent once, with its latest quote,
 * when the socket drains. Memory per client is bounded by its subscriptions.
 *
 * Order events (after `subscribe_orders`) go out one by one while the socket
 * keeps up; those that must wait are kept as the latest event of each order,
 * in the order they arrived, so a slow client gets every order's newest
 * event once it drains, never a growing queue. Memory is bounded by the
 * orders that changed meanwhile.
 */
export class ActionSession {
  private readonly subscribed = new Set<string>();
  private readonly dirty = new Set<string>();
  private ordersSubscribed = false;
  /** Serialized order_event messages waiting for the socket, the latest per order; the last changed order last. */
  private readonly waitingOrderEvents = new Map<string, string>();

  constructor(private readonly book: QuoteBook) {}

  /** The instruments subscribed on this connection. */
  get subscriptions(): ReadonlySet<string> {
    return this.subscribed;
  }

  /**
   * `subscribe`: adds the known instruments among `instruments` and queues
   * their current quote; unknown ones are reported and not subscribed.
   * Returns an error, and changes nothing, when the total would exceed
   * `maxSubscriptions`.
   */
  subscribe(instruments: readonly string[], maxSubscriptions: number): SubscriptionReply | ClientError {
    const requested = unique(instruments);
    const accepted = requested.filter((id) => this.book.has(id));
    const unknown = requested.filter((id) => !this.book.has(id));
    const added = accepted.filter((id) => !this.subscribed.has(id)).length;
    if (this.subscribed.size + added > maxSubscriptions) {
      return {
        code: ClientErrorCode.TOO_MANY_SUBSCRIPTIONS,
        message: `subscribing ${added} more instruments would make ${this.subscribed.size + added}; at most ${maxSubscriptions} may be subscribed on this connection; subscription unchanged`,
      };
    }
    for (const id of accepted) {
      this.subscribed.add(id);
      this.dirty.add(id);
    }
    return { action: 'subscribed', instruments: accepted, unknown, count: this.subscribed.size };
  }

  /** `unsubscribe`: removes the instruments; those that were not subscribed are reported as `unknown`. */
  unsubscribe(instruments: readonly string[]): SubscriptionReply {
    const requested = unique(instruments);
    const removed = requested.filter((id) => this.subscribed.has(id));
    for (const id of removed) {
      this.subscribed.delete(id);
      this.dirty.delete(id);
    }
    return {
      action: 'unsubscribed',
      instruments: removed,
      unknown: requested.filter((id) => !removed.includes(id)),
      count: this.subscribed.size,
    };
  }

  /** `list_instruments`: every instrument the server knows, sorted. */
  listInstruments(): InstrumentsReply {
    const instruments = this.book.instruments();
    return { action: 'instruments', instruments, count: instruments.length };
  }

  /** `search_instruments`: the known instruments whose id contains `pattern`, ignoring case, `*` matching any run. */
  searchInstruments(pattern: string): InstrumentsReply {
    const instruments = this.book.search(pattern);
    return { action: 'instruments', instruments, count: instruments.length };
  }

  /** Marks a subscribed instrument as changed since it was last sent. */
  quoteChanged(instrumentId: string): void {
    if (this.subscribed.has(instrumentId)) this.dirty.add(instrumentId);
  }

  /** `subscribe_orders`: every order event from now on is pushed to this client. */
  subscribeOrders(): OrdersSubscriptionReply {
    this.ordersSubscribed = true;
    return { action: 'subscribed_orders' };
  }

  /** `unsubscribe_orders`: no more order events; those waiting are dropped. */
  unsubscribeOrders(): OrdersSubscriptionReply {
    this.ordersSubscribed = false;
    this.waitingOrderEvents.clear();
    return { action: 'unsubscribed_orders' };
  }

  /** True after `subscribe_orders` (and until `unsubscribe_orders`). */
  get wantsOrderEvents(): boolean {
    return this.ordersSubscribed;
  }

  /** True when order events wait for the socket: a new one must wait behind them. */
  get hasWaitingOrderEvents(): boolean {
    return this.waitingOrderEvents.size > 0;
  }

  /**
   * Keeps an order event (as its serialized message) until the socket has
   * room; it replaces an event of the same order still waiting, and moves
   * that order to the end. `orderKey` tells orders apart (account and
   * client_order_id). Ignored unless the client subscribed to orders.
   */
  waitOrderEvent(orderKey: string, message: string): void {
    if (!this.ordersSubscribed) return;
    this.waitingOrderEvents.delete(orderKey);
    this.waitingOrderEvents.set(orderKey, message);
  }

  /** The oldest waiting order event's message, or `undefined` when none waits. */
  takeOrderEvent(): string | undefined {
    for (const [key, message] of this.waitingOrderEvents) {
      this.waitingOrderEvents.delete(key);
      return message;
    }
    return undefined;
  }

  /** True when some subscribed instrument changed since it was last sent, or an order event waits. */
  get hasPending(): boolean {
    return this.dirty.size > 0 || this.waitingOrderEvents.size > 0;
  }

  /** The next changed instrument's latest quote, or `undefined` when every one has been sent. */
  takeMarketData(): MarketData | undefined {
    for (const id of this.dirty) {
      this.dirty.delete(id);
      const quote = this.book.completeQuote(id);
      if (quote !== undefined) return { action: 'market_data', instrument_id: id, quote };
    }
    return undefined;
  }
}

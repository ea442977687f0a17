import { ClientErrorCode, type ClientError } from './client-error.js';
import type { QuoteBook, QuoteValue } from '../../protocols/diff/quote-book.js';
import type { QuoteFanout } from './quote-fanout.js';
import type { QuoteSubscription, QuoteWaiter } from './quote-subscription.js';

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
 * Changed instruments are found from the shared {@link QuoteFanout} when the
 * connection sends (the session keeps only the epoch it was sent through),
 * not queued as messages: when the socket is slow, each instrument is sent
 * once, with its latest quote, when the socket drains, as the `market_data`
 * message encoded once for every client. Memory per client is bounded by its
 * subscriptions.
 *
 * Order events (after `subscribe_orders`) go out one by one while the socket
 * keeps up; those that must wait are kept as the latest event of each order,
 * in the order they arrived, so a slow client gets every order's newest
 * event once it drains, never a growing queue. Memory is bounded by the
 * orders that changed meanwhile.
 */
export class ActionSession {
  private readonly subscribed = new Set<string>();
  private subscription: QuoteSubscription;
  /** The fan-out epoch whose quote changes have been moved into `unsent`. */
  private sentEpoch: number;
  /** Subscribed instruments whose latest quote the client has not been sent yet. */
  private readonly unsent = new Set<string>();
  private ordersSubscribed = false;
  /** Encoded order_event messages waiting for the socket, the latest per order; the last changed order last. */
  private readonly waitingOrderEvents = new Map<string, Buffer>();
  private readonly book: QuoteBook;
  /** Who waits on the subscription for a change, while it does. */
  private parked: QuoteWaiter | undefined;

  constructor(private readonly fanout: QuoteFanout) {
    this.book = fanout.book;
    this.subscription = fanout.subscribe([]);
    this.sentEpoch = fanout.seal();
  }

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
      this.unsent.add(id);
    }
    this.unpark();
    this.subscription = this.fanout.subscribe(this.subscribed, this.subscription);
    return { action: 'subscribed', instruments: accepted, unknown, count: this.subscribed.size };
  }

  /** `unsubscribe`: removes the instruments; those that were not subscribed are reported as `unknown`. */
  unsubscribe(instruments: readonly string[]): SubscriptionReply {
    const requested = unique(instruments);
    const removed = requested.filter((id) => this.subscribed.has(id));
    for (const id of removed) {
      this.subscribed.delete(id);
      this.unsent.delete(id);
    }
    this.unpark();
    this.subscription = this.fanout.subscribe(this.subscribed, this.subscription);
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

  /** Nothing to send now: `waiter` is woken when one of the subscribed instruments changes. */
  park(waiter: QuoteWaiter): void {
    this.parked = waiter;
    this.subscription.waiters.add(waiter);
  }

  private unpark(): void {
    if (this.parked !== undefined) this.subscription.waiters.delete(this.parked);
    this.parked = undefined;
  }

  /** The client is gone: its shared subscription is let go. */
  dispose(): void {
    this.unpark();
    this.fanout.release(this.subscription);
    this.subscription = this.fanout.subscribe([]);
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
  waitOrderEvent(orderKey: string, message: Buffer): void {
    if (!this.ordersSubscribed) return;
    this.waitingOrderEvents.delete(orderKey);
    this.waitingOrderEvents.set(orderKey, message);
  }

  /** The oldest waiting order event's message, or `undefined` when none waits. */
  takeOrderEvent(): Buffer | undefined {
    for (const [key, message] of this.waitingOrderEvents) {
      this.waitingOrderEvents.delete(key);
      return message;
    }
    return undefined;
  }

  /** True when some subscribed instrument changed since it was last sent, or an order event waits. */
  hasPending(): boolean {
    return (
      this.unsent.size > 0 ||
      this.waitingOrderEvents.size > 0 ||
      (this.subscribed.size > 0 && this.fanout.hasOpenChanges) ||
      this.subscription.lastChangedEpoch > this.sentEpoch
    );
  }

  /** The next changed instrument's latest quote as its encoded `market_data` message, or `undefined` when every one has been sent. */
  takeMarketData(): Buffer | undefined {
    const epoch = this.fanout.seal();
    if (epoch > this.sentEpoch) {
      for (const id of this.fanout.changesSince(this.subscription, this.sentEpoch)?.ids ?? []) this.unsent.add(id);
      this.sentEpoch = epoch;
    }
    for (const id of this.unsent) {
      this.unsent.delete(id);
      const message = this.fanout.marketDataMessage(id);
      if (message !== undefined) return message;
    }
    return undefined;
  }
}

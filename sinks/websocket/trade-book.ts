import { OrderIndex } from '../../domain/order-index.js';
import { isTerminal, nextOrderStatus, type OrderStatus } from '../../domain/order-state-machine.js';
import { InvalidStateTransitionError } from '../../errors/errors.js';
import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';
import {
  AccountId,
  ClientOrderId,
  type InstrumentId,
  type OrderDenied,
  type OrderEvent,
  type OrderFilled,
  type PositionEffect,
} from '../../schemas/generated.js';

/** A value the trade state holds. Unset values are absent, never null. */
export type TradeValue = number | string;

/** The parts of an account a client sees under `trade.<account_id>`. */
export type TradeSection = 'orders' | 'positions' | 'denials';

/** One order, position or denial as clients see it. */
export type TradeView = Readonly<Record<string, TradeValue>>;

/** A JSON merge patch of one entity: new values, null where a value is no longer set. */
export type TradePatch = Readonly<Record<string, TradeValue | null>>;

/** One entity (order, position or denial) of one account that an order event changed. */
export interface TradeEntityChange {
  readonly accountId: string;
  readonly section: TradeSection;
  /** client_order_id (orders), instrument_id (positions) or event_id (denials). */
  readonly key: string;
  /** The fields that changed, or null: the entity is gone (a terminal order or a denial beyond the bound). */
  readonly patch: TradePatch | null;
  /** The entity did not exist before: `patch` is its whole view. */
  readonly isNew: boolean;
}

/** What applying one order event did. */
export interface TradeUpdate {
  /** The entities it changed, in order; empty when nothing visible changed. */
  readonly changes: readonly TradeEntityChange[];
  /** Set when the event was ignored because it is not a valid transition of its order: why. */
  readonly ignored: string | undefined;
}

/** One entity of the book, for building a client's snapshot. */
export interface TradeEntity {
  readonly accountId: string;
  readonly section: TradeSection;
  readonly key: string;
  readonly view: TradeView;
}

/** The whole trade state in the shape of the DIFF `trade` root: account → section → key → view. */
export type TradeSnapshot = Record<string, Record<TradeSection, Record<string, TradeView>>>;

export interface TradeBookOptions {
  /** Terminal orders kept per account, the latest to end; older ones are deleted. Default {@link MAX_TERMINAL_ORDERS}. */
  readonly maxTerminalOrders?: number;
  /** Denials kept per account, the latest; older ones are deleted. Default {@link MAX_DENIALS}. */
  readonly maxDenials?: number;
}

/** Terminal orders (filled, canceled, rejected, denied, expired) kept per account. */
export const MAX_TERMINAL_ORDERS = 200;
/** Denials kept per account. */
export const MAX_DENIALS = 50;

/**
 * Every key an entity of each section can have: a view with all of them,
 * null where unset, replaces whatever a client held under that key.
 */
export const TRADE_KEYS: Readonly<Record<TradeSection, readonly string[]>> = {
  orders: [
    'client_order_id',
    'instrument_id',
    'strategy_id',
    'venue',
    'venue_order_id',
    'side',
    'position_effect',
    'order_type',
    'price',
    'quantity',
    'filled',
    'average_fill_price',
    'status',
    'reason',
    'insert_datetime',
    'datetime',
  ],
  positions: ['instrument_id', 'net', 'volume_long', 'volume_short', 'open_price_long', 'open_price_short', 'datetime'],
  denials: ['client_order_id', 'instrument_id', 'strategy_id', 'reason_code', 'reason', 'datetime'],
};

interface OrderRecord {
  readonly clientOrderId: ClientOrderId;
  readonly instrumentId: InstrumentId;
  status: OrderStatus;
  filled: number;
  /** Lots and Σ price × lots of the fills seen, for the average fill price. */
  fillLots: number;
  fillCost: number;
  /** From OrderSubmitted; unknown for an order only ever denied. */
  positionEffect: PositionEffect | undefined;
  readonly view: Record<string, TradeValue>;
}

interface PositionRecord {
  long: number;
  short: number;
  openPriceLong: number;
  openPriceShort: number;
  readonly view: Record<string, TradeValue>;
}

interface AccountState {
  /** The account's orders by client order id (the account is the owner key: clients see one order per id), terminal ones bounded. */
  readonly orders: OrderIndex<OrderRecord, AccountId>;
  readonly positions: Map<string, PositionRecord>;
  /** Denials by event id, oldest first. */
  readonly denials: Map<string, Record<string, TradeValue>>;
}

/** Sets `key` of `view` to `value` (null removes it) and records the change in `patch`; nothing when the value is already so. */
function set(view: Record<string, TradeValue>, patch: Record<string, TradeValue | null>, key: string, value: TradeValue | null): void {
  if (value === null ? !(key in view) : view[key] === value) return;
  if (value === null) delete view[key];
  else view[key] = value;
  patch[key] = value;
}

const datetime = (tsMicros: number): string => DiffQuoteFields.formatDatetime(tsMicros);

/**
 * The state a trading client needs, per account, built from order events:
 * orders by client_order_id, positions by instrument and the latest
 * denials, keyed as the DIFF `trade` root (`trade.<account>.orders.<id>`).
 * Each {@link apply} returns merge patches of exactly what changed, as
 * {@link QuoteBook} does for quotes.
 *
 * - **Orders** take their status from the order state machine
 *   (`nextOrderStatus`). An event that is not a valid transition of its
 *   order (a fill of an order never submitted, an event after a terminal
 *   one) is ignored and counted in {@link invalidTransitions}: the state
 *   never moves on a bad event. Terminal orders beyond the latest
 *   {@link MAX_TERMINAL_ORDERS} of an account are deleted.
 * - **Denials** list every OrderDenied, the latest {@link MAX_DENIALS} per
 *   account. A denial of an order the book does not know is a denied submit:
 *   the order appears as DENIED. A denial of an order it knows is a denied
 *   command about that order (a cancel over the cancel rate, a duplicate
 *   submit): the order keeps its state.
 * - **Positions** follow the fills, China-futures style with long and short
 *   held apart: a fill of an OPEN order adds to its side (BUY long, SELL
 *   short) at a volume-weighted average open price; a fill of a CLOSE order
 *   takes from the other side (SELL closes long, BUY closes short), leaving
 *   the average open price as it was, and never below zero (a position opened
 *   before the book started cannot be known: the rest is counted in
 *   {@link unmatchedCloseLots}). `net` is long − short.
 *
 * Memory is bounded by accounts × (working orders + 200 + instruments + 50).
 */
export class TradeBook {
  private readonly accounts = new Map<string, AccountState>();
  private readonly maxTerminalOrders: number;
  private readonly maxDenials: number;
  /** Events ignored because they are not a valid transition of their order. */
  invalidTransitions = 0;
  /** Lots of CLOSE fills beyond the position held on that side (opened before the book started, or a venue that allows it). */
  unmatchedCloseLots = 0;

  constructor(options: TradeBookOptions = {}) {
    this.maxTerminalOrders = options.maxTerminalOrders ?? MAX_TERMINAL_ORDERS;
    this.maxDenials = options.maxDenials ?? MAX_DENIALS;
  }

  /** Applies one order event; returns the entities it changed, or why it was ignored. */
  apply(event: OrderEvent): TradeUpdate {
    const existing = this.accounts.get(event.account_id)?.orders.get(event.account_id, event.client_order_id);
    if (event.type === 'OrderDenied' && existing !== undefined) {
      // A denied command about a known order (cancel, duplicate submit): listed, the order unchanged.
      return { changes: this.addDenial(this.account(event.account_id), event), ignored: undefined };
    }
    let next: OrderStatus;
    try {
      next = nextOrderStatus(existing?.status ?? 'INITIALIZED', event, existing?.filled ?? 0);
    } catch (error) {
      if (!(error instanceof InvalidStateTransitionError)) throw error;
      this.invalidTransitions++;
      return { changes: [], ignored: error.message };
    }
    const account = this.account(event.account_id);
    const changes: TradeEntityChange[] = [];
    const order = existing ?? this.newOrder(account, event);
    const patch: Record<string, TradeValue | null> = {};
    const view = order.view;
    if (existing === undefined) Object.assign(patch, view);
    order.status = next;
    set(view, patch, 'status', next);
    set(view, patch, 'datetime', datetime(event.ts_event));
    switch (event.type) {
      case 'OrderAccepted':
        set(view, patch, 'venue_order_id', event.venue_order_id);
        break;
      case 'OrderRejected':
      case 'OrderCancelRejected':
        set(view, patch, 'reason', event.reason);
        if (event.type === 'OrderCancelRejected' && event.venue_order_id !== null) set(view, patch, 'venue_order_id', event.venue_order_id);
        break;
      case 'OrderDenied':
        set(view, patch, 'reason', event.reason);
        break;
      case 'OrderFilled': {
        order.fillLots += event.last_quantity;
        order.fillCost += event.last_price * event.last_quantity;
        order.filled = Math.max(order.filled, event.cum_quantity);
        set(view, patch, 'venue_order_id', event.venue_order_id);
        set(view, patch, 'filled', order.filled);
        if (order.fillLots > 0) set(view, patch, 'average_fill_price', order.fillCost / order.fillLots);
        const position = this.fillPosition(account, event, order.positionEffect ?? 'OPEN');
        if (position !== undefined) changes.push(position);
        break;
      }
      case 'OrderCanceled':
      case 'OrderExpired':
        order.filled = Math.max(order.filled, event.filled_quantity);
        set(view, patch, 'filled', order.filled);
        if (event.venue_order_id !== null) set(view, patch, 'venue_order_id', event.venue_order_id);
        break;
      case 'OrderSubmitted':
      case 'OrderPendingCancel':
        break;
    }
    // The order first, then what it moved: a client sees the fill before the position it makes.
    if (existing === undefined || Object.keys(patch).length > 0) {
      changes.unshift({ accountId: event.account_id, section: 'orders', key: event.client_order_id, patch, isNew: existing === undefined });
    }
    if (event.type === 'OrderDenied') changes.push(...this.addDenial(account, event));
    if (isTerminal(next)) {
      const evicted = account.orders.close(order);
      if (evicted !== undefined)
        changes.push({ accountId: event.account_id, section: 'orders', key: evicted.clientOrderId, patch: null, isNew: false });
    }
    return { changes, ignored: undefined };
  }

  /** Every entity of every account, accounts in the order they appeared. Do not change the views. */
  *entities(): IterableIterator<TradeEntity> {
    for (const [accountId, account] of this.accounts) {
      for (const order of account.orders.orders()) yield { accountId, section: 'orders', key: order.clientOrderId, view: order.view };
      for (const [key, position] of account.positions) yield { accountId, section: 'positions', key, view: position.view };
      for (const [key, view] of account.denials) yield { accountId, section: 'denials', key, view };
    }
  }

  /** One entity's view, or `undefined` when the book does not hold it. Do not change it. */
  view(accountId: string, section: TradeSection, key: string): TradeView | undefined {
    const account = this.accounts.get(accountId);
    if (account === undefined) return undefined;
    switch (section) {
      case 'orders':
        // The key comes from a client's path: branded here, where it enters.
        return account.orders.get(AccountId(accountId), ClientOrderId(key))?.view;
      case 'positions':
        return account.positions.get(key)?.view;
      case 'denials':
        return account.denials.get(key);
    }
  }

  /**
   * One entity's view with every key of its section present and null where
   * unset: as a merge patch, a complete replacement of whatever a client held
   * under that key.
   */
  completeView(accountId: string, section: TradeSection, key: string): TradePatch | undefined {
    const view = this.view(accountId, section, key);
    if (view === undefined) return undefined;
    const complete: Record<string, TradeValue | null> = {};
    for (const k of TRADE_KEYS[section]) complete[k] = view[k] ?? null;
    return complete;
  }

  /** The orders of an account that may still trade (not terminal), in the order they appeared. */
  workingOrders(accountId: string): readonly TradeView[] {
    return (
      this.accounts
        .get(accountId)
        ?.orders.workingOrders()
        .map((o) => o.view) ?? []
    );
  }

  /** The whole state as the DIFF `trade` root carries it; copies, safe to keep. */
  snapshot(): TradeSnapshot {
    const snapshot: TradeSnapshot = {};
    for (const { accountId, section, key, view } of this.entities()) {
      const account = (snapshot[accountId] ??= { orders: {}, positions: {}, denials: {} });
      account[section][key] = { ...view };
    }
    return snapshot;
  }

  private account(accountId: AccountId): AccountState {
    let account = this.accounts.get(accountId);
    if (account === undefined) {
      const orders = new OrderIndex<OrderRecord, AccountId>({
        maxClosed: this.maxTerminalOrders,
        ownerOf: () => accountId,
        clientOrderIdOf: (o) => o.clientOrderId,
        instrumentOf: (o) => o.instrumentId,
      });
      account = { orders, positions: new Map(), denials: new Map() };
      this.accounts.set(accountId, account);
    }
    return account;
  }

  /** The record of an order the book meets for the first time (OrderSubmitted, or OrderDenied of a submit). */
  private newOrder(account: AccountState, event: OrderEvent): OrderRecord {
    const view: Record<string, TradeValue> = {
      client_order_id: event.client_order_id,
      instrument_id: event.instrument_id,
      strategy_id: event.strategy_id,
    };
    let positionEffect: PositionEffect | undefined;
    if (event.type === 'OrderSubmitted') {
      positionEffect = event.position_effect;
      view['venue'] = event.venue;
      view['side'] = event.side;
      view['position_effect'] = event.position_effect;
      view['order_type'] = event.order_type;
      if (event.price !== null) view['price'] = event.price;
      view['quantity'] = event.quantity;
    }
    view['filled'] = 0;
    view['insert_datetime'] = datetime(event.ts_event);
    const order: OrderRecord = {
      clientOrderId: event.client_order_id,
      instrumentId: event.instrument_id,
      status: 'INITIALIZED',
      filled: 0,
      fillLots: 0,
      fillCost: 0,
      positionEffect,
      view,
    };
    account.orders.add(order);
    return order;
  }

  /** Moves the position of the fill's instrument by the fill; returns its change, or `undefined` when nothing changed. */
  private fillPosition(account: AccountState, fill: OrderFilled, effect: PositionEffect): TradeEntityChange | undefined {
    const { instrument_id: instrumentId, side, last_quantity: lots, last_price: price } = fill;
    let position = account.positions.get(instrumentId);
    const isNew = position === undefined;
    if (position === undefined) {
      position = {
        long: 0,
        short: 0,
        openPriceLong: 0,
        openPriceShort: 0,
        view: { instrument_id: instrumentId, net: 0, volume_long: 0, volume_short: 0 },
      };
      account.positions.set(instrumentId, position);
    }
    const opens = effect === 'OPEN';
    // OPEN: BUY adds long, SELL adds short. CLOSE*: SELL takes from long, BUY from short.
    const long = (side === 'BUY') === opens;
    if (opens) {
      if (long) {
        position.openPriceLong = (position.openPriceLong * position.long + price * lots) / (position.long + lots);
        position.long += lots;
      } else {
        position.openPriceShort = (position.openPriceShort * position.short + price * lots) / (position.short + lots);
        position.short += lots;
      }
    } else {
      const held = long ? position.long : position.short;
      const closed = Math.min(held, lots);
      this.unmatchedCloseLots += lots - closed;
      if (long) position.long -= closed;
      else position.short -= closed;
      if (position.long === 0) position.openPriceLong = 0;
      if (position.short === 0) position.openPriceShort = 0;
    }
    const patch: Record<string, TradeValue | null> = isNew ? { ...position.view } : {};
    const view = position.view;
    set(view, patch, 'net', position.long - position.short);
    set(view, patch, 'volume_long', position.long);
    set(view, patch, 'volume_short', position.short);
    set(view, patch, 'open_price_long', position.long > 0 ? position.openPriceLong : null);
    set(view, patch, 'open_price_short', position.short > 0 ? position.openPriceShort : null);
    set(view, patch, 'datetime', datetime(fill.ts_event));
    if (!isNew && Object.keys(patch).length === 0) return undefined;
    return { accountId: fill.account_id, section: 'positions', key: instrumentId, patch, isNew };
  }

  /** Lists a denial (a repeated event id only updates its entry) and deletes the oldest beyond the bound. */
  private addDenial(account: AccountState, event: OrderDenied): TradeEntityChange[] {
    let view = account.denials.get(event.event_id);
    const isNew = view === undefined;
    if (view === undefined) account.denials.set(event.event_id, (view = {}));
    const patch: Record<string, TradeValue | null> = {};
    set(view, patch, 'client_order_id', event.client_order_id);
    set(view, patch, 'instrument_id', event.instrument_id);
    set(view, patch, 'strategy_id', event.strategy_id);
    set(view, patch, 'reason_code', event.reason_code);
    set(view, patch, 'reason', event.reason);
    set(view, patch, 'datetime', datetime(event.ts_event));
    const changes: TradeEntityChange[] = [];
    if (isNew || Object.keys(patch).length > 0)
      changes.push({ accountId: event.account_id, section: 'denials', key: event.event_id, patch, isNew });
    for (const oldest of account.denials.keys()) {
      if (account.denials.size <= this.maxDenials) break;
      account.denials.delete(oldest);
      changes.push({ accountId: event.account_id, section: 'denials', key: oldest, patch: null, isNew: false });
    }
    return changes;
  }
}

import type { ProductSpec } from '../../domain/product-table.js';
import type { TradingSessions } from '../../domain/trading-sessions.js';
import type { CancelOrder, OrderEvent, OrderSide, SubmitOrder, Tick, TradingState } from '../../schemas/generated.js';
import type { RiskLimits } from './risk-limits.js';
import { TokenBucket } from './token-bucket.js';

/** An order risk passed that has not reached a final state (filled, canceled, rejected, expired). */
export interface WorkingOrder {
  /** The SubmitOrder risk passed. */
  readonly submit: SubmitOrder;
  /** Lots still working. */
  leaves: number;
  /** The venue, once an OrderSubmitted named it. */
  venue: string | null;
  /** A cancel passed (or the kill switch sent one) and no cancel reject came back. */
  cancelPending: boolean;
  readonly book: InstrumentBook;
}

/** What one account did in one instrument on one trading day. */
export interface DailyCounts {
  /** YYYYMMDD; counts of another day read as zero. */
  tradingDay: string;
  orders: number;
  cancels: number;
  trades: number;
}

/** A submit risk passed, remembered for the duplicate-order window. */
export interface RecentSubmit {
  readonly side: OrderSide;
  readonly price: number | null;
  readonly quantity: number;
  /** Scheduler time (ms) it passed. */
  readonly atMs: number;
}

/** One account in one instrument: position, working orders, counts and rate buckets. */
export interface InstrumentBook {
  readonly accountId: string;
  readonly instrumentId: string;
  /** Net position in lots: long minus short, from fills. */
  net: number;
  /** Lots of working buy orders. */
  workingBuy: number;
  /** Lots of working sell orders. */
  workingSell: number;
  readonly orders: Set<WorkingOrder>;
  readonly daily: DailyCounts;
  /** Passed submits, oldest first, pruned to the duplicate window when a submit is recorded. */
  readonly recentSubmits: RecentSubmit[];
  readonly submits: TokenBucket;
  readonly cancels: TokenBucket;
}

/** One account: its working orders and rate buckets across instruments. */
export interface AccountBook {
  readonly accountId: string;
  activeOrders: number;
  readonly submits: TokenBucket;
  readonly cancels: TokenBucket;
  readonly instruments: Map<string, InstrumentBook>;
}

const RATE_WINDOW_MS = 1000;

/** The largest position `book` can reach if every working order on one side fills: long or short, in lots, never negative. */
function exposure(net: number, workingBuy: number, workingSell: number): number {
  return Math.max(net + workingBuy, workingSell - net, 0);
}

/**
 * Everything pre-trade risk knows, for one subscription of the risk operator:
 * trading state, limits, the latest tick of each instrument, positions,
 * working orders, daily counts and rate buckets per account and instrument.
 *
 * Rules only read it (`check(command, state)`); the operator changes it:
 * `recordSubmit` / `recordCancel` for what passes, `applyEvent` for the
 * order router's events, `applyTick` for market data. Time comes from the
 * operator: `nowMs` is scheduler time, set before each decision; trading days
 * and sessions use market time: the instrument's latest tick's event time.
 *
 * @example
 * ```ts
 * import { TradingSessions } from '../../domain/trading-sessions.js';
 * import { validateConfig } from '../../pipeline/config/validate-config.js';
 * import { riskLimitSpec } from './risk-limits.js';
 * const limits = validateConfig('risk limits', riskLimitSpec, {}); // every limit at its default
 * const submit: SubmitOrder = {
 *   type: 'SubmitOrder', command_id: 'c-1', client_order_id: ClientOrderId('o-1'), strategy_id: StrategyId('ma'), account_id: AccountId('acc-1'),
 *   instrument_id: InstrumentId('SHFE.rb2501'),
 *   side: 'BUY', order_type: 'LIMIT', time_in_force: 'GFD', position_effect: 'OPEN', quantity: 2, price: 3500, venue: null, ts_init: 0, causation_id: null,
 * };
 * const state = new RiskState(limits, 'ACTIVE', new TradingSessions());
 * state.recordSubmit(submit);
 * console.log(state.book('acc-1', 'SHFE.rb2501').workingBuy);
 * // Logs: 2
 * ```
 */
export class RiskState {
  /** Scheduler time (ms) of the decision being made. */
  nowMs = 0;
  private readonly accounts = new Map<string, AccountBook>();
  /** Working orders by strategy, then client order id (no key strings built per lookup). */
  private readonly working = new Map<string, Map<string, WorkingOrder>>();
  /** Every working order, in the order they passed. */
  private readonly passOrder = new Set<WorkingOrder>();
  private readonly ticks = new Map<string, Tick>();
  private readonly products = new Map<string, ProductSpec | null>();

  constructor(
    public limits: RiskLimits,
    public tradingState: TradingState,
    readonly sessions: TradingSessions,
  ) {}

  /** The book of an account, created empty on first use. */
  account(accountId: string): AccountBook {
    let account = this.accounts.get(accountId);
    if (account === undefined) {
      account = {
        accountId,
        activeOrders: 0,
        submits: new TokenBucket(RATE_WINDOW_MS),
        cancels: new TokenBucket(RATE_WINDOW_MS),
        instruments: new Map(),
      };
      this.accounts.set(accountId, account);
    }
    return account;
  }

  /** The book of an account in an instrument, created empty on first use. */
  book(accountId: string, instrumentId: string): InstrumentBook {
    const account = this.account(accountId);
    let book = account.instruments.get(instrumentId);
    if (book === undefined) {
      book = {
        accountId,
        instrumentId,
        net: 0,
        workingBuy: 0,
        workingSell: 0,
        orders: new Set(),
        daily: { tradingDay: '', orders: 0, cancels: 0, trades: 0 },
        recentSubmits: [],
        submits: new TokenBucket(RATE_WINDOW_MS),
        cancels: new TokenBucket(RATE_WINDOW_MS),
      };
      account.instruments.set(instrumentId, book);
    }
    return book;
  }

  /** Every account's books. */
  allAccounts(): IterableIterator<AccountBook> {
    return this.accounts.values();
  }

  /** The working order a strategy knows by `clientOrderId`. */
  workingOrder(strategyId: string, clientOrderId: string): WorkingOrder | undefined {
    return this.working.get(strategyId)?.get(clientOrderId);
  }

  /** Every working order, in the order they passed. */
  workingOrders(): IterableIterator<WorkingOrder> {
    return this.passOrder.values();
  }

  /** The latest tick of an instrument. */
  /**
   * Market time for a command on an instrument: the event time of its latest
   * tick (exchange time, so a replay or a simulated market judges sessions as
   * live did), or `fallback` (the command's ts_init) before any tick.
   */
  marketTime(instrumentId: string, fallback: number): number {
    return this.latestTick(instrumentId)?.ts_event ?? fallback;
  }

  latestTick(instrumentId: string): Tick | undefined {
    return this.ticks.get(instrumentId);
  }

  /** The product of an instrument, or `undefined` when the product table does not know it. */
  product(instrumentId: string): ProductSpec | undefined {
    let product = this.products.get(instrumentId);
    if (product === undefined) {
      try {
        product = this.sessions.productOf(instrumentId);
      } catch {
        product = null;
      }
      this.products.set(instrumentId, product);
    }
    return product ?? undefined;
  }

  /** The trading day (YYYYMMDD) of `tsMicros` for the instrument; the UTC+8 calendar day for unknown products. */
  tradingDay(instrumentId: string, tsMicros: number): string {
    return this.product(instrumentId) === undefined ? this.sessions.actionDay(tsMicros) : this.sessions.tradingDay(instrumentId, tsMicros);
  }

  /** The counts of `book` on `tradingDay`: zero when its counts belong to another day. */
  countsOn(book: InstrumentBook, tradingDay: string): Readonly<DailyCounts> {
    return book.daily.tradingDay === tradingDay ? book.daily : { tradingDay, orders: 0, cancels: 0, trades: 0 };
  }

  /** The largest long or short position (lots) `book` can reach if its working orders fill, with `side`/`quantity` added. */
  exposureWith(book: InstrumentBook, side: OrderSide | null, quantity: number): number {
    return exposure(book.net, book.workingBuy + (side === 'BUY' ? quantity : 0), book.workingSell + (side === 'SELL' ? quantity : 0));
  }

  applyTick(tick: Tick): void {
    this.ticks.set(tick.instrument_id, tick);
  }

  /** Follows the order router: fills move positions and working lots; final events end working orders. */
  applyEvent(event: OrderEvent): void {
    const order = this.workingOrder(event.strategy_id, event.client_order_id);
    switch (event.type) {
      case 'OrderSubmitted':
        if (order !== undefined) order.venue = event.venue;
        return;
      case 'OrderPendingCancel':
        if (order !== undefined) order.cancelPending = true;
        return;
      case 'OrderCancelRejected':
        if (order !== undefined) order.cancelPending = false;
        return;
      case 'OrderFilled': {
        const book = order?.book ?? this.book(event.account_id, event.instrument_id);
        book.net += event.side === 'BUY' ? event.last_quantity : -event.last_quantity;
        this.bump(book, this.tradingDay(event.instrument_id, event.ts_event), 'trades');
        if (order !== undefined) this.setLeaves(order, event.leaves_quantity);
        return;
      }
      case 'OrderCanceled':
      case 'OrderRejected':
      case 'OrderExpired':
      case 'OrderDenied':
        if (order !== undefined) this.setLeaves(order, 0);
        return;
      case 'OrderAccepted':
        return;
    }
  }

  /** Records a submit that passed: a working order, its lots, the day's count, rate tokens, the duplicate window. */
  recordSubmit(submit: SubmitOrder): void {
    const book = this.book(submit.account_id, submit.instrument_id);
    const account = this.account(submit.account_id);
    const order: WorkingOrder = { submit, leaves: submit.quantity, venue: submit.venue, cancelPending: false, book };
    let ofStrategy = this.working.get(submit.strategy_id);
    if (ofStrategy === undefined) this.working.set(submit.strategy_id, (ofStrategy = new Map<string, WorkingOrder>()));
    // A reused client order id replaces the order it named; its lots stop counting.
    const replaced = ofStrategy.get(submit.client_order_id);
    if (replaced !== undefined) this.setLeaves(replaced, 0);
    ofStrategy.set(submit.client_order_id, order);
    this.passOrder.add(order);
    book.orders.add(order);
    account.activeOrders++;
    if (submit.side === 'BUY') book.workingBuy += submit.quantity;
    else book.workingSell += submit.quantity;
    this.bump(book, this.tradingDay(submit.instrument_id, this.marketTime(submit.instrument_id, submit.ts_init)), 'orders');
    account.submits.take(this.nowMs, this.limits.submit_rate_per_s);
    book.submits.take(this.nowMs, this.limits.submit_rate_per_instrument_per_s);
    const recent = book.recentSubmits;
    const windowMs = this.limits.duplicate_window_ms;
    let expired = 0;
    while (expired < recent.length && (recent[expired] as RecentSubmit).atMs + windowMs <= this.nowMs) expired++;
    if (expired > 0) recent.splice(0, expired);
    recent.push({ side: submit.side, price: submit.price, quantity: submit.quantity, atMs: this.nowMs });
  }

  /** Records a cancel that passed: the order's cancel is pending, the day's count, rate tokens. */
  recordCancel(cancel: CancelOrder): void {
    const book = this.book(cancel.account_id, cancel.instrument_id);
    const account = this.account(cancel.account_id);
    const order = this.workingOrder(cancel.strategy_id, cancel.client_order_id);
    if (order !== undefined) order.cancelPending = true;
    this.bump(book, this.tradingDay(cancel.instrument_id, this.marketTime(cancel.instrument_id, cancel.ts_init)), 'cancels');
    account.cancels.take(this.nowMs, this.limits.cancel_rate_per_s);
    book.cancels.take(this.nowMs, this.limits.cancel_rate_per_instrument_per_s);
  }

  /** Records a cancel the kill switch sends for `order` at `tsMicros`: pending, and counted for the day (no rate tokens: it is never denied). */
  recordKillSwitchCancel(order: WorkingOrder, tsMicros: number): void {
    order.cancelPending = true;
    this.bump(order.book, this.tradingDay(order.book.instrumentId, tsMicros), 'cancels');
  }

  private bump(book: InstrumentBook, tradingDay: string, count: 'orders' | 'cancels' | 'trades'): void {
    const daily = book.daily;
    if (daily.tradingDay !== tradingDay) {
      daily.tradingDay = tradingDay;
      daily.orders = 0;
      daily.cancels = 0;
      daily.trades = 0;
    }
    daily[count]++;
  }

  /** Sets what is left of a working order; at zero the order stops working. */
  private setLeaves(order: WorkingOrder, leaves: number): void {
    const next = Math.max(0, Math.min(order.leaves, leaves));
    const done = order.leaves - next;
    order.leaves = next;
    if (order.submit.side === 'BUY') order.book.workingBuy -= done;
    else order.book.workingSell -= done;
    if (next > 0) return;
    order.book.orders.delete(order);
    this.passOrder.delete(order);
    const ofStrategy = this.working.get(order.submit.strategy_id);
    if (ofStrategy?.get(order.submit.client_order_id) === order) ofStrategy.delete(order.submit.client_order_id);
    this.account(order.book.accountId).activeOrders--;
  }
}

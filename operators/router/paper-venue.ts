import { asyncScheduler, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { OrderIndex } from '../../domain/order-index.js';
import { TradingSessions } from '../../domain/trading-sessions.js';
import { ConfigError } from '../../errors/errors.js';
import { handWrittenStage } from '../../pipeline/runtime/hand-written-stage.js';
import type { CancelOrder, OrderCommand, OrderEvent, SubmitOrder, Tick } from '../../schemas/generated.js';

export interface PaperVenueOptions {
  /** The venue this stage plays: it keeps only commands whose `venue` is this. Also the prefix of its ids. Default `paper`. */
  readonly venue?: string;
  /** Time a command takes to reach the paper exchange, in scheduler milliseconds: its acknowledgement and any fill at arrival happen this much later. Default 0 (at once). */
  readonly latencyMs?: number;
  /** Whether a fill is limited to the volume quoted at the best opposite level (what earlier fills on the same tick left of it). Default true; false fills any quantity at the best price. */
  readonly partialFills?: boolean;
  /** The clock of latency and of the venue's `ts_init` and acknowledgement times. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** The calendar that tells trading days apart (GFD orders expire when it changes) and knows the instruments. Default `new TradingSessions()`. */
  readonly sessions?: TradingSessions;
}

/** An order the venue knows: working, or closed and remembered. */
interface PaperOrder {
  readonly command: SubmitOrder;
  /** Null only for an order the venue rejected. */
  readonly venueOrderId: string | null;
  /** Acceptance order: time priority. */
  readonly seq: number;
  /** Lots filled so far. */
  filled: number;
  status: 'WORKING' | ClosedStatus;
}

/** The latest quote of one instrument, what its best levels have left, and its resting orders. */
interface Book {
  tick: Tick;
  /** Trading day of `tick`; GFD orders resting here belong to it. */
  tradingDay: string;
  /** Lots of the best ask / bid of `tick` not yet taken by fills. */
  askLeft: number;
  bidLeft: number;
  /** Whether the calendar knows the product; when it does not, the tick's own trading day is used. */
  readonly knownProduct: boolean;
  /** Resting GFD limit buys, best first: highest limit, then earliest (price-time priority). */
  readonly buys: PaperOrder[];
  /** Resting GFD limit sells, best first: lowest limit, then earliest. */
  readonly sells: PaperOrder[];
}

type ClosedStatus = 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';

/** Closed orders remembered to answer a late cancel with a reason; the oldest is forgotten first. */
const MAX_CLOSED_ORDERS = 10_000;

/**
 * A paper execution venue: it matches orders against live quotes, as an
 * exchange would, without sending them anywhere.
 *
 * It keeps the commands routed to `venue` and, `latencyMs` after each
 * arrives (on the scheduler, in arrival order), executes it against the
 * instrument's latest tick:
 *
 * - a submit is rejected (OrderRejected with the reason) when the instrument
 *   is unknown, there is no quote yet, the quantity or the limit price is
 *   invalid, or the client order id is taken; otherwise acknowledged
 *   (OrderAccepted, venue order id `${venue}-order-N`);
 * - a LIMIT buy fills when ask1 ≤ limit, a sell when bid1 ≥ limit, at the
 *   quote's price; a MARKET order fills at the opposite best price. With
 *   `partialFills`, a fill takes at most what the best opposite level quotes
 *   (less what earlier fills on that tick took); fills are OrderFilled with
 *   trade id `${venue}-N` and the last, cumulative and leaves quantities;
 * - FAK fills what it can at once and cancels the rest; FOK fills completely
 *   at once or is canceled; a MARKET order never rests (GFD acts as FAK);
 *   a GFD limit order rests and is matched again on every tick of its
 *   instrument, resting orders in price-time priority (a tick costs only the
 *   orders it fills, however many rest);
 * - resting orders expire (OrderExpired) on the first tick of a later trading
 *   day of their instrument (by `sessions`);
 * - a cancel answers OrderCanceled, or OrderCancelRejected with the reason
 *   when the order already closed or is unknown.
 *
 * Fills a tick causes carry its `ts_event`; what a command causes carries
 * the scheduler time it executes at. `causation_id` is the command the venue
 * was carrying out (the submit for acknowledgements, fills, expiry and the
 * cancel of a FAK/FOK remainder; the cancel for its answer). Ids are
 * counters, so a replay makes the same ones. State is updated before
 * anything is emitted, and reports leave in the order they happened even
 * when a consumer sends commands back synchronously. A calendar that throws
 * (other than for an unknown instrument) fails the stream with its error,
 * after the reports made before it; nothing is processed after.
 *
 * ```
 * ticks:    -a----b------     a: ask 3501 x 12; b: ask 3499 x 1
 * commands: --s-------c--     s: buy 2 GFD at 3500; c: cancel it
 *   paperVenue({})
 * result:   --A---F---X--     A OrderAccepted, F OrderFilled 1 @ 3499 (leaves 1), X OrderCanceled
 * ```
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { AccountId, ClientOrderId, StrategyId } from '../../schemas/generated.js';
 * import { SimMarket } from '../../sources/sim-market.js';
 * const tick = new SimMarket({ instruments: ['SHFE.rb2501'], seed: 1, start: Date.parse('2025-01-03T09:00:00+08:00') * 1000, tickIntervalMs: 500, feedId: 'sim', latencyUs: 0 }).next();
 * const submit: SubmitOrder = {
 *   type: 'SubmitOrder', command_id: 'c-1', client_order_id: ClientOrderId('o-1'), strategy_id: StrategyId('ma'), account_id: AccountId('paper'), instrument_id: tick.instrument_id,
 *   side: 'BUY', order_type: 'LIMIT', time_in_force: 'GFD', position_effect: 'OPEN', quantity: 1, price: tick.ask_price1, venue: 'paper', ts_init: tick.ts_event, causation_id: null,
 * };
 * paperVenue({ latencyMs: 5 })({ commands: of(submit), ticks: of(tick) })
 *   .subscribe((r) => console.log(r.type, r.client_order_id));
 * // Logs: OrderAccepted o-1
 * // Logs: OrderFilled o-1      (5 ms after the submit: the buy at the best ask crosses the quote)
 * ```
 *
 * @param options Venue name, latency, partial fills, scheduler and calendar.
 * @returns A function of the `commands` and `ticks` streams giving the venue's reports; it completes when both have and no command is in flight.
 * @throws {ConfigError} When `latencyMs` is negative or not finite, or `venue` is empty.
 */
export function paperVenue(
  options: PaperVenueOptions = {},
): (inputs: { readonly commands: Observable<OrderCommand>; readonly ticks: Observable<Tick> }) => Observable<OrderEvent> {
  const venue = options.venue ?? 'paper';
  const latencyMs = options.latencyMs ?? 0;
  const problems: string[] = [];
  if (venue.trim() === '') problems.push(`'venue' must not be empty`);
  if (!(latencyMs >= 0) || !Number.isFinite(latencyMs)) problems.push(`'latencyMs' must be a finite number ≥ 0, got ${latencyMs}`);
  if (problems.length > 0) throw new ConfigError('paperVenue options', problems);
  const partialFills = options.partialFills ?? true;
  const scheduler = options.scheduler ?? asyncScheduler;
  const sessions = options.sessions ?? new TradingSessions();

  return ({ commands, ticks }) =>
    handWrittenStage<OrderEvent>((stage) => {
      const books = new Map<string, Book>();
      /** Client order ids are the strategy's: two strategies may use the same one. */
      const orders = new OrderIndex<PaperOrder>({
        maxClosed: MAX_CLOSED_ORDERS,
        ownerOf: (o) => o.command.strategy_id,
        clientOrderIdOf: (o) => o.command.client_order_id,
        instrumentOf: (o) => o.command.instrument_id,
      });
      let eventCount = 0;
      let orderCount = 0;
      let tradeCount = 0;
      /** Commands on their way to the paper exchange, oldest first from `head`. */
      const inflight: { readonly due: number; readonly command: OrderCommand }[] = [];
      let head = 0;
      let timer: Subscription | undefined;
      let inputsDone = false;

      const nowMicros = (): number => Math.round(scheduler.now() * 1000);

      const maybeComplete = (): void => {
        if (inputsDone && head === inflight.length) stage.complete();
      };

      const close = (order: PaperOrder, status: ClosedStatus): void => {
        order.status = status;
        orders.close(order);
      };

      const reject = (command: SubmitOrder, reason: string, record: boolean): void => {
        const now = nowMicros();
        if (record) {
          const order: PaperOrder = { command, venueOrderId: null, seq: 0, filled: 0, status: 'REJECTED' };
          orders.add(order);
          close(order, 'REJECTED');
        }
        stage.emit({
          type: 'OrderRejected',
          event_id: `${venue}-event-${++eventCount}`,
          client_order_id: command.client_order_id,
          strategy_id: command.strategy_id,
          account_id: command.account_id,
          instrument_id: command.instrument_id,
          reason,
          ts_event: now,
          ts_init: now,
          causation_id: command.command_id,
        });
      };

      /** Lots `order` can take from `book` now, at `price`; 0 when the quote does not cross or has nothing left. */
      const fillable = (order: PaperOrder, book: Book): { readonly quantity: number; readonly price: number } => {
        const { command } = order;
        const buy = command.side === 'BUY';
        const price = buy ? book.tick.ask_price1 : book.tick.bid_price1;
        if (price === null) return { quantity: 0, price: 0 };
        if (command.order_type === 'LIMIT' && command.price !== null && (buy ? price > command.price : price < command.price))
          return { quantity: 0, price };
        const available = partialFills ? (buy ? book.askLeft : book.bidLeft) : Infinity;
        return { quantity: Math.max(0, Math.min(command.quantity - order.filled, available)), price };
      };

      /** Books a fill of `quantity` at `price`; closes the order when nothing is left. */
      const fill = (order: PaperOrder, book: Book, quantity: number, price: number, tsEvent: number): void => {
        const { command } = order;
        order.filled += quantity;
        if (command.side === 'BUY') book.askLeft -= quantity;
        else book.bidLeft -= quantity;
        const leaves = command.quantity - order.filled;
        if (leaves === 0) close(order, 'FILLED');
        stage.emit({
          type: 'OrderFilled',
          event_id: `${venue}-event-${++eventCount}`,
          client_order_id: command.client_order_id,
          strategy_id: command.strategy_id,
          account_id: command.account_id,
          instrument_id: command.instrument_id,
          // A working order always has its venue order id.
          venue_order_id: order.venueOrderId as string,
          trade_id: `${venue}-${++tradeCount}`,
          side: command.side,
          last_quantity: quantity,
          last_price: price,
          cum_quantity: order.filled,
          leaves_quantity: leaves,
          ts_event: tsEvent,
          ts_init: nowMicros(),
          causation_id: command.command_id,
        });
      };

      const canceled = (order: PaperOrder, causationId: string): void => {
        close(order, 'CANCELED');
        const now = nowMicros();
        stage.emit({
          type: 'OrderCanceled',
          event_id: `${venue}-event-${++eventCount}`,
          client_order_id: order.command.client_order_id,
          strategy_id: order.command.strategy_id,
          account_id: order.command.account_id,
          instrument_id: order.command.instrument_id,
          venue_order_id: order.venueOrderId,
          filled_quantity: order.filled,
          ts_event: now,
          ts_init: now,
          causation_id: causationId,
        });
      };

      /** Why the exchange would refuse `command` before looking at the market, or undefined. */
      const invalidReason = (command: SubmitOrder): string | undefined => {
        if (!Number.isInteger(command.quantity) || command.quantity <= 0)
          return `quantity must be a positive whole number of lots, got ${command.quantity}`;
        let tickSize: number;
        try {
          tickSize = sessions.productOf(command.instrument_id).tickSize;
        } catch (error: unknown) {
          if (error instanceof ConfigError) return `unknown instrument ${command.instrument_id}: ${error.problems.join('; ')}`;
          throw error;
        }
        if (command.order_type === 'MARKET') return undefined;
        if (command.price === null || !Number.isFinite(command.price) || command.price <= 0)
          return `a limit order needs a positive price, got ${command.price}`;
        const steps = command.price / tickSize;
        if (Math.abs(steps - Math.round(steps)) > 1e-6)
          return `price ${command.price} is not a multiple of the tick size ${tickSize} of ${command.instrument_id}`;
        return undefined;
      };

      /** Queues a GFD limit order behind the resting orders of its side at a price as good or better. */
      const rest = (book: Book, order: PaperOrder): void => {
        const buy = order.command.side === 'BUY';
        const queue = buy ? book.buys : book.sells;
        // Sorted by `rank` ascending: the most aggressive limit first; an equal limit goes after the earlier orders.
        const rank = (o: PaperOrder): number => (buy ? -(o.command.price as number) : (o.command.price as number));
        const own = rank(order);
        let low = 0;
        let high = queue.length;
        while (low < high) {
          const middle = (low + high) >>> 1;
          if (rank(queue[middle] as PaperOrder) <= own) low = middle + 1;
          else high = middle;
        }
        queue.splice(low, 0, order);
      };

      /**
       * Fills resting orders of one side, best first, from the book's latest quote. The first order
       * that gets nothing, or only part, ends the pass: the orders behind it are less aggressive or
       * the level is used up. The orders filled completely are a prefix of the queue.
       */
      const matchResting = (queue: PaperOrder[], book: Book, tsEvent: number): void => {
        let done = 0;
        for (const order of queue) {
          const { quantity, price } = fillable(order, book);
          if (quantity === 0) break;
          fill(order, book, quantity, price, tsEvent);
          if (order.filled < order.command.quantity) break;
          done++;
        }
        if (done > 0) queue.splice(0, done);
      };

      const submit = (command: SubmitOrder): void => {
        if (orders.get(command.strategy_id, command.client_order_id) !== undefined) {
          // Not recorded: the order that owns the id keeps its state.
          reject(command, `client order id ${command.client_order_id} of strategy ${command.strategy_id} is already in use`, false);
          return;
        }
        const invalid = invalidReason(command);
        if (invalid !== undefined) return reject(command, invalid, true);
        const book = books.get(command.instrument_id);
        if (book === undefined) return reject(command, `no quote for ${command.instrument_id} yet`, true);

        const venueOrderId = `${venue}-order-${++orderCount}`;
        const order: PaperOrder = { command, venueOrderId, seq: orderCount, filled: 0, status: 'WORKING' };
        orders.add(order);
        const now = nowMicros();
        stage.emit({
          type: 'OrderAccepted',
          event_id: `${venue}-event-${++eventCount}`,
          client_order_id: command.client_order_id,
          strategy_id: command.strategy_id,
          account_id: command.account_id,
          instrument_id: command.instrument_id,
          venue_order_id: venueOrderId,
          ts_event: now,
          ts_init: now,
          causation_id: command.command_id,
        });

        // A market order never rests: GFD acts as FAK.
        const timeInForce = command.order_type === 'MARKET' && command.time_in_force === 'GFD' ? 'FAK' : command.time_in_force;
        const { quantity, price } = fillable(order, book);
        if (timeInForce === 'FOK') {
          if (quantity === command.quantity) fill(order, book, quantity, price, now);
          else canceled(order, command.command_id);
          return;
        }
        if (quantity > 0) fill(order, book, quantity, price, now);
        if (order.filled === command.quantity) return;
        if (timeInForce === 'FAK') canceled(order, command.command_id);
        else rest(book, order);
      };

      const cancel = (command: CancelOrder): void => {
        const order = orders.get(command.strategy_id, command.client_order_id);
        if (order?.status === 'WORKING') {
          const book = books.get(order.command.instrument_id);
          const queue = order.command.side === 'BUY' ? book?.buys : book?.sells;
          const index = queue?.indexOf(order) ?? -1;
          if (index >= 0) queue?.splice(index, 1);
          canceled(order, command.command_id);
          return;
        }
        const now = nowMicros();
        stage.emit({
          type: 'OrderCancelRejected',
          event_id: `${venue}-event-${++eventCount}`,
          client_order_id: command.client_order_id,
          strategy_id: command.strategy_id,
          account_id: command.account_id,
          instrument_id: command.instrument_id,
          venue_order_id: order?.venueOrderId ?? null,
          reason:
            order === undefined
              ? `order ${command.client_order_id} is unknown to venue ${venue}`
              : `order ${command.client_order_id} is already ${order.status}`,
          ts_event: now,
          ts_init: now,
          causation_id: command.command_id,
        });
      };

      const execute = (command: OrderCommand): void => {
        if (command.type === 'SubmitOrder') submit(command);
        else cancel(command);
      };

      const tradingDayOf = (tick: Tick, knownProduct: boolean): string =>
        knownProduct ? sessions.tradingDay(tick.instrument_id, tick.ts_event) : tick.trading_day;

      const isKnownProduct = (instrumentId: string): boolean => {
        try {
          sessions.productOf(instrumentId);
          return true;
        } catch (error: unknown) {
          if (error instanceof ConfigError) return false;
          throw error;
        }
      };

      const onTick = (tick: Tick): void => {
        let book = books.get(tick.instrument_id);
        if (book === undefined) {
          const knownProduct = isKnownProduct(tick.instrument_id);
          book = {
            tick,
            tradingDay: tradingDayOf(tick, knownProduct),
            askLeft: tick.ask_volume1,
            bidLeft: tick.bid_volume1,
            knownProduct,
            buys: [],
            sells: [],
          };
          books.set(tick.instrument_id, book);
          return;
        }
        const tradingDay = tradingDayOf(tick, book.knownProduct);
        book.tick = tick;
        book.askLeft = tick.ask_volume1;
        book.bidLeft = tick.bid_volume1;
        if (tradingDay > book.tradingDay) {
          book.tradingDay = tradingDay;
          // Every resting order belongs to an earlier trading day: the exchange has expired it.
          const expired = [...book.buys, ...book.sells].sort((a, b) => a.seq - b.seq);
          book.buys.length = 0;
          book.sells.length = 0;
          for (const order of expired) {
            close(order, 'EXPIRED');
            stage.emit({
              type: 'OrderExpired',
              event_id: `${venue}-event-${++eventCount}`,
              client_order_id: order.command.client_order_id,
              strategy_id: order.command.strategy_id,
              account_id: order.command.account_id,
              instrument_id: order.command.instrument_id,
              venue_order_id: order.venueOrderId,
              filled_quantity: order.filled,
              ts_event: tick.ts_event,
              ts_init: nowMicros(),
              causation_id: order.command.command_id,
            });
          }
          return;
        }
        if (book.buys.length > 0) matchResting(book.buys, book, tick.ts_event);
        if (book.sells.length > 0) matchResting(book.sells, book, tick.ts_event);
      };

      const arm = (delayMs: number): void => {
        timer = stage.schedule(scheduler, deliver, Math.max(0, delayMs));
      };

      /** Executes the commands whose latency has passed, then waits for the next one. */
      const deliver = (): void => {
        timer = undefined;
        const now = scheduler.now();
        for (let next = inflight[head]; next !== undefined && next.due <= now; next = inflight[head]) {
          head++;
          execute(next.command);
        }
        if (head === inflight.length) {
          inflight.length = 0;
          head = 0;
        } else {
          if (head > 1024) {
            inflight.splice(0, head);
            head = 0;
          }
          arm((inflight[head] as { due: number }).due - now);
        }
        maybeComplete();
      };

      const receive = (command: OrderCommand): void => {
        if (command.venue !== venue) return;
        if (latencyMs === 0) {
          execute(command);
          return;
        }
        inflight.push({ due: scheduler.now() + latencyMs, command });
        if (timer === undefined) arm(latencyMs);
      };

      stage.follow(ticks, onTick);
      stage.follow(commands, receive);
      return {
        whenInputsComplete: () => {
          inputsDone = true;
          maybeComplete();
        },
      };
    });
}

import { OrderIndex } from '../domain/order-index.js';
import { nextOrderStatus, isTerminal, type OrderStatus } from '../domain/order-state-machine.js';
import { InvalidStateTransitionError, StageError } from '../errors/errors.js';
import {
  ClientOrderId,
  type AccountId,
  type Bar,
  type CancelOrder,
  type InstrumentId,
  type OrderCommand,
  type OrderEvent,
  type OrderSide,
  type OrderType,
  type PositionEffect,
  type Signal,
  type StrategyId,
  type SubmitOrder,
  type Tick,
  type TimeInForce,
} from '../schemas/generated.js';

/** The methods of a strategy, as named when one of them fails. */
export type StrategyMethod = 'init' | 'onTick' | 'onBar' | 'onOrderEvent' | 'stop';

/** What a strategy wants done after a call: signals to publish and order commands to send, in that order. */
export interface StrategyResult {
  readonly signals?: readonly Signal[];
  readonly commands?: readonly OrderCommand[];
}

/** What a strategy method returns: a result, or nothing when it has nothing to do. */
export type StrategyOutput = StrategyResult | undefined | void;

/**
 * A trading strategy: a plain object with an id and the methods it needs.
 * Every method gets the strategy's {@link StrategyContext} and returns what it
 * wants done; it never sends anything itself, so a strategy is tested by
 * calling its methods.
 *
 * A strategy object keeps its own state and runs in one stage subscription at
 * a time; `init` is called first and should reset that state.
 */
export interface Strategy {
  /** Unique among the strategies of a pipeline; stamped on every command and signal, and how order events find their way back. */
  readonly id: StrategyId;
  /** Called once when the stage starts, before any market data. */
  init?(ctx: StrategyContext): StrategyOutput;
  onTick?(tick: Tick, ctx: StrategyContext): StrategyOutput;
  onBar?(bar: Bar, ctx: StrategyContext): StrategyOutput;
  /** Called for each order event of this strategy, after its orders and positions in `ctx` reflect the event. */
  onOrderEvent?(event: OrderEvent, ctx: StrategyContext): StrategyOutput;
  /** Called once when market data ends; its commands are the stage's last output. */
  stop?(ctx: StrategyContext): StrategyOutput;
}

/** One of the strategy's orders as its own order events have left it. */
export interface StrategyOrder {
  readonly client_order_id: ClientOrderId;
  readonly instrument_id: InstrumentId;
  readonly side: OrderSide;
  readonly order_type: OrderType;
  readonly time_in_force: TimeInForce;
  readonly position_effect: PositionEffect;
  readonly quantity: number;
  readonly price: number | null;
  /** INITIALIZED from the moment the SubmitOrder leaves until the first event about it arrives. */
  readonly status: OrderStatus;
  readonly filled_quantity: number;
  readonly venue_order_id: string | null;
  /** A CancelOrder for this order was sent and is not answered yet (canceled, cancel rejected or denied). */
  readonly cancel_requested: boolean;
}

/** The strategy's lots in one instrument, from its own fills since the stage started (China futures keep long and short apart). */
export interface StrategyPosition {
  readonly instrument_id: InstrumentId;
  readonly long: number;
  readonly short: number;
  /** `long - short`. */
  readonly net: number;
}

/** What a strategy asks for when it builds an order. */
export interface OrderRequest {
  readonly instrument_id: InstrumentId;
  readonly side: OrderSide;
  /** Lots, a positive integer. */
  readonly quantity: number;
  /** Limit price; null for a market order. */
  readonly price: number | null;
  readonly position_effect: PositionEffect;
  /** Default LIMIT when a price is given, MARKET when it is null. */
  readonly order_type?: OrderType;
  /** Default GFD. */
  readonly time_in_force?: TimeInForce;
  /** Id of the record that caused the order (a signal, a tick, an order event); see {@link tickId} and {@link barId}. */
  readonly causation_id: string | null;
}

/** What a strategy gives to build a signal. */
export interface SignalRequest {
  readonly instrument_id: InstrumentId;
  readonly name: string;
  readonly value: number;
  /** Event time of the data the value was derived from. */
  readonly ts_event: number;
  readonly causation_id: string | null;
}

/**
 * Everything a strategy may use: the clock, ids, its own orders and positions,
 * and builders of complete records. Nothing else of the pipeline is reachable.
 */
export interface StrategyContext {
  readonly strategyId: StrategyId;
  readonly accountId: AccountId;
  /** Scheduler time in microseconds: event time in replay, virtual time in tests. */
  now(): number;
  /** The next id of this strategy, `${strategyId}-${n}` from 1; ids are deterministic, so a replay makes the same ones. */
  nextId(): string;
  /** Orders not yet in a final state (including ones just sent and not yet acknowledged), oldest first; of one instrument when given. */
  workingOrders(instrumentId?: InstrumentId): readonly StrategyOrder[];
  /** An order by client order id: working, or among the most recent finished ones. */
  order(clientOrderId: ClientOrderId): StrategyOrder | undefined;
  /** The position in an instrument; zeros when the strategy has none. */
  position(instrumentId: InstrumentId): StrategyPosition;
  /** Every instrument the strategy has traded, whether or not it still holds lots. */
  positions(): readonly StrategyPosition[];
  /** A SubmitOrder with every field set and fresh ids; throws StageError for a quantity or price no order can have. */
  submitOrder(request: OrderRequest): SubmitOrder;
  /** A CancelOrder of one of the strategy's orders. */
  cancelOrder(order: StrategyOrder, causationId: string | null): CancelOrder;
  /** A Signal with a fresh id, stamped with the strategy and the current time. */
  signal(request: SignalRequest): Signal;
}

/** A context together with what its owner (the strategy operator, or a test) does to it. */
export interface StrategyRuntime {
  readonly context: StrategyContext;
  /**
   * Takes note of a command the strategy returned, before it is sent: a
   * SubmitOrder opens an order (INITIALIZED), a CancelOrder marks its order
   * cancel-requested. Throws StageError, noting nothing, for a command of
   * another strategy or a client order id already used.
   */
  track(command: OrderCommand): void;
  /**
   * Applies one of the strategy's order events to its orders and positions,
   * through the order state machine. Throws InvalidStateTransitionError,
   * changing nothing, for an event of an unknown order or one the order's
   * state does not allow (a duplicate, an event out of order).
   */
  apply(event: OrderEvent): void;
}

export interface StrategyContextOptions {
  readonly strategyId: StrategyId;
  readonly accountId: AccountId;
  /** The clock, in microseconds. */
  readonly now: () => number;
}

/** Finished orders kept for `order()` and for late events (a cancel reject after a fill); older ones are forgotten. */
const KEPT_FINISHED_ORDERS = 1000;

/** The causation id of a tick: its feed and the feed's sequence number, `${feed_id}:${sequence}`. */
export function tickId(tick: Tick): string {
  return `${tick.feed_id}:${tick.sequence}`;
}

/** The causation id of a bar: instrument, period and start, `${instrument_id}:${period_s}s:${ts_open}`. */
export function barId(bar: Bar): string {
  return `${bar.instrument_id}:${bar.period_s}s:${bar.ts_open}`;
}

class TrackedOrder implements StrategyOrder {
  status: OrderStatus = 'INITIALIZED';
  filled_quantity = 0;
  venue_order_id: string | null = null;
  cancel_requested = false;
  /** Command ids of cancel requests not answered yet; `cancel_requested` says whether there are any. */
  readonly cancelIds: string[] = [];

  constructor(
    readonly client_order_id: ClientOrderId,
    readonly instrument_id: InstrumentId,
    readonly side: OrderSide,
    readonly order_type: OrderType,
    readonly time_in_force: TimeInForce,
    readonly position_effect: PositionEffect,
    readonly quantity: number,
    readonly price: number | null,
    /** The SubmitOrder's command id (null for an order first seen in an OrderSubmitted event). */
    readonly submitId: string | null,
  ) {}

  requestCancel(commandId: string): void {
    this.cancelIds.push(commandId);
    this.cancel_requested = true;
  }

  /** The cancel request `commandId` was answered (the oldest one when none has that id). */
  answerCancel(commandId: string): void {
    const index = this.cancelIds.indexOf(commandId);
    this.cancelIds.splice(index >= 0 ? index : 0, 1);
    this.cancel_requested = this.cancelIds.length > 0;
  }

  answerAllCancels(): void {
    this.cancelIds.length = 0;
    this.cancel_requested = false;
  }
}

class TrackedPosition implements StrategyPosition {
  long = 0;
  short = 0;
  net = 0;
  constructor(readonly instrument_id: InstrumentId) {}
}

/**
 * The context of one strategy and the order and position tracking behind it.
 * The strategy operator makes one per strategy per subscription; tests make
 * one to call a strategy's methods directly.
 *
 * @example
 * ```ts
 * import { AccountId, InstrumentId, StrategyId } from '../schemas/generated.js';
 * const { context, track } = createStrategyContext({ strategyId: StrategyId('ma'), accountId: AccountId('paper'), now: () => 0 });
 * const order = context.submitOrder({ instrument_id: InstrumentId('SHFE.rb2501'), side: 'BUY', quantity: 1, price: 3500, position_effect: 'OPEN', causation_id: null });
 * track(order);
 * console.log(order.client_order_id, context.workingOrders().length);
 * // Logs: ma-2 1
 * ```
 */
export function createStrategyContext(options: StrategyContextOptions): StrategyRuntime {
  const { strategyId, accountId, now } = options;
  let lastId = 0;
  /** One strategy's orders: the owner key is always its own id. */
  const orders = new OrderIndex<TrackedOrder>({
    maxClosed: KEPT_FINISHED_ORDERS,
    ownerOf: () => strategyId,
    clientOrderIdOf: (o) => o.client_order_id,
    instrumentOf: (o) => o.instrument_id,
  });
  const positions = new Map<InstrumentId, TrackedPosition>();
  /** Zero positions of instruments never traded, so that asking for one allocates once. */
  const flats = new Map<InstrumentId, StrategyPosition>();
  const nextId = (): string => `${strategyId}-${++lastId}`;

  const flatPosition = (instrumentId: InstrumentId): StrategyPosition => {
    let position = flats.get(instrumentId);
    if (position === undefined)
      flats.set(instrumentId, (position = Object.freeze({ instrument_id: instrumentId, long: 0, short: 0, net: 0 })));
    return position;
  };

  const orderOf = (clientOrderId: ClientOrderId): TrackedOrder | undefined => orders.get(strategyId, clientOrderId);

  const finish = (order: TrackedOrder): void => {
    order.answerAllCancels();
    orders.close(order);
  };

  const fill = (order: TrackedOrder, lots: number): void => {
    let position = positions.get(order.instrument_id);
    if (position === undefined) positions.set(order.instrument_id, (position = new TrackedPosition(order.instrument_id)));
    const buy = order.side === 'BUY';
    if (order.position_effect === 'OPEN') {
      if (buy) position.long += lots;
      else position.short += lots;
    } else if (buy) {
      position.short -= lots;
    } else {
      position.long -= lots;
    }
    position.net = position.long - position.short;
  };

  const invalid = (event: OrderEvent, why: string, cause?: unknown): InvalidStateTransitionError =>
    new InvalidStateTransitionError(`strategy ${strategyId}: order ${event.client_order_id}: ${event.type} ${event.event_id}: ${why}`, {
      cause,
      context: { instrument: event.instrument_id },
    });

  const context: StrategyContext = {
    strategyId,
    accountId,
    now,
    nextId,
    workingOrders: (instrumentId) => orders.workingOrders(instrumentId),
    order: orderOf,
    position: (instrumentId) => positions.get(instrumentId) ?? flatPosition(instrumentId),
    positions: () => [...positions.values()],
    submitOrder(request) {
      if (!Number.isInteger(request.quantity) || request.quantity <= 0) {
        throw new StageError(`strategy ${strategyId}: order quantity must be a positive integer, got ${request.quantity}`, {
          context: { instrument: request.instrument_id },
        });
      }
      const orderType = request.order_type ?? (request.price === null ? 'MARKET' : 'LIMIT');
      if (orderType === 'LIMIT' && (request.price === null || !Number.isFinite(request.price))) {
        throw new StageError(`strategy ${strategyId}: a LIMIT order needs a finite price, got ${request.price}`, {
          context: { instrument: request.instrument_id },
        });
      }
      const commandId = nextId();
      return {
        type: 'SubmitOrder',
        command_id: commandId,
        client_order_id: ClientOrderId(nextId()),
        strategy_id: strategyId,
        account_id: accountId,
        instrument_id: request.instrument_id,
        side: request.side,
        order_type: orderType,
        time_in_force: request.time_in_force ?? 'GFD',
        position_effect: request.position_effect,
        quantity: request.quantity,
        price: orderType === 'MARKET' ? null : request.price,
        venue: null,
        ts_init: now(),
        causation_id: request.causation_id,
      };
    },
    cancelOrder: (order, causationId) => ({
      type: 'CancelOrder',
      command_id: nextId(),
      client_order_id: order.client_order_id,
      strategy_id: strategyId,
      account_id: accountId,
      instrument_id: order.instrument_id,
      venue: null,
      ts_init: now(),
      causation_id: causationId,
    }),
    signal: (request) => ({
      signal_id: nextId(),
      strategy_id: strategyId,
      instrument_id: request.instrument_id,
      name: request.name,
      value: request.value,
      ts_event: request.ts_event,
      ts_init: now(),
      causation_id: request.causation_id,
    }),
  };

  const track = (command: OrderCommand): void => {
    if (command.strategy_id !== strategyId) {
      throw new StageError(
        `strategy ${strategyId} returned a ${command.type} of strategy '${command.strategy_id}' (${command.command_id}); it was not sent`,
        {
          context: { instrument: command.instrument_id },
        },
      );
    }
    if (command.type === 'CancelOrder') {
      // A cancel of an order this strategy does not know still goes out: risk or the router answers it (UNKNOWN_ORDER).
      const order = orderOf(command.client_order_id);
      if (order !== undefined && !orders.isClosed(order)) order.requestCancel(command.command_id);
      return;
    }
    if (orderOf(command.client_order_id) !== undefined) {
      throw new StageError(
        `strategy ${strategyId} reused client order id ${command.client_order_id} (${command.command_id}); it was not sent`,
        {
          context: { instrument: command.instrument_id },
        },
      );
    }
    const c = command;
    orders.add(
      new TrackedOrder(
        c.client_order_id,
        c.instrument_id,
        c.side,
        c.order_type,
        c.time_in_force,
        c.position_effect,
        c.quantity,
        c.price,
        c.command_id,
      ),
    );
  };

  const apply = (event: OrderEvent): void => {
    let order = orderOf(event.client_order_id);
    if (order === undefined) {
      // An OrderSubmitted carries the whole order, so one this run did not send (a restart) can still be followed.
      if (event.type !== 'OrderSubmitted') throw invalid(event, 'unknown order');
      const e = event;
      order = new TrackedOrder(
        e.client_order_id,
        e.instrument_id,
        e.side,
        e.order_type,
        e.time_in_force,
        e.position_effect,
        e.quantity,
        e.price,
        null,
      );
      orders.add(order);
    }
    // A denied cancel leaves the order as it was; only a denied submit moves it (to DENIED).
    if (event.type === 'OrderDenied' && event.causation_id !== order.submitId) {
      if (order.cancelIds.includes(event.causation_id)) {
        order.answerCancel(event.causation_id);
        return;
      }
    }
    let status: OrderStatus;
    try {
      status = nextOrderStatus(order.status, event, order.filled_quantity);
    } catch (error) {
      throw invalid(event, `not valid in state ${order.status}`, error);
    }
    order.status = status;
    switch (event.type) {
      case 'OrderAccepted':
        order.venue_order_id = event.venue_order_id;
        break;
      case 'OrderFilled':
        order.venue_order_id = event.venue_order_id;
        order.filled_quantity = event.cum_quantity;
        fill(order, event.last_quantity);
        break;
      case 'OrderCancelRejected':
        order.answerCancel(event.causation_id);
        break;
      case 'OrderCanceled':
      case 'OrderExpired':
        if (event.venue_order_id !== null) order.venue_order_id = event.venue_order_id;
        break;
      default:
        break;
    }
    if (isTerminal(status) && !orders.isClosed(order)) finish(order);
  };

  return { context, track, apply };
}

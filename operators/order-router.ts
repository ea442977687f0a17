import { asyncScheduler, type Observable, type Observer, type SchedulerLike } from 'rxjs';
import type { Logger } from 'pino';
import { OrderIndex } from '../domain/order-index.js';
import { isTerminal, nextOrderStatus, orderTransitionOf, type OrderStatus } from '../domain/order-state-machine.js';
import { ConfigError, InvalidStateTransitionError } from '../errors/errors.js';
import { handWrittenStage } from '../pipeline/runtime/hand-written-stage.js';
import type { StageMetrics } from '../pipeline/runtime/stage-metrics.js';
import type {
  CancelOrder,
  ClientOrderId,
  InstrumentId,
  OrderCancelRejected,
  OrderCommand,
  OrderEvent,
  OrderPendingCancel,
  OrderSubmitted,
  StrategyId,
  SubmitOrder,
} from '../schemas/generated.js';
import { VenueRoutes } from './router/venue-routes.js';

export interface OrderRouterOptions {
  /** Routing rules `PATTERN=VENUE`, first match wins: `SHFE.rb2501`, `SHFE.*` (a prefix), `account:ACC`. Default none. */
  readonly routes?: readonly string[];
  /** The venue of a command no rule matches. Default `paper`. */
  readonly defaultVenue?: string;
  /** How many closed orders (filled, canceled, rejected, expired) are remembered, for late reports and cancels; the oldest is forgotten first. Default 10,000. */
  readonly maxOrders?: number;
  /** Receives every command the router sends on, its `venue` set; venue stages keep their own. A `next` that throws fails the stream. */
  readonly routed?: Pick<Observer<OrderCommand>, 'next'>;
  /** Prefix of the ids of events the router makes (`${idPrefix}-1`, …): the stage id, so ids are unique and a replay makes the same ones. Default `router`. */
  readonly idPrefix?: string;
  /** The clock of `ts_event` and `ts_init` of the events the router makes. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Counts reports not applied: `invalid-transition`, `duplicate-fill`, `unknown-order`, `unexpected-report`, and cancels `cancel-pending`. */
  readonly metrics?: Pick<StageMetrics, 'dropped'>;
  /** Invalid transitions are logged at error, other drops at warn (duplicate fills at debug). */
  readonly logger?: Pick<Logger, 'error' | 'warn' | 'debug'>;
}

/** What the router knows of one order. */
interface RoutedOrder {
  readonly clientOrderId: ClientOrderId;
  readonly strategyId: StrategyId;
  readonly instrumentId: InstrumentId;
  readonly venue: string;
  status: OrderStatus;
  /** Lots filled so far (the venue's `cum_quantity`). */
  filled: number;
  venueOrderId: string | null;
  /** Trade ids applied, to ignore a fill the venue reports twice (e.g. CTP replays trades after a reconnect); made at the first fill. */
  tradeIds: Set<string> | null;
}

/** The events venues report; the router makes OrderSubmitted and OrderPendingCancel itself, risk makes OrderDenied. */
const VENUE_REPORTS: ReadonlySet<OrderEvent['type']> = new Set([
  'OrderAccepted',
  'OrderRejected',
  'OrderFilled',
  'OrderCanceled',
  'OrderExpired',
  'OrderCancelRejected',
]);

const DEFAULT_MAX_ORDERS = 10_000;

/**
 * Routes approved order commands to execution venues and keeps each order's
 * state by the order state machine, emitting the order's lifecycle.
 *
 * A SubmitOrder becomes an OrderSubmitted (every field of the command, the
 * venue, `causation_id` = `command_id`), then goes to `routed` with its
 * `venue` set: the command's own venue if it names one, else the first
 * matching rule, else the default venue. A CancelOrder of a working order
 * becomes an OrderPendingCancel and goes to the venue of its order; a cancel
 * of an order the router does not know or has closed is answered with an
 * OrderCancelRejected and goes nowhere; a second cancel while one is pending
 * is dropped (`cancel-pending`).
 *
 * Venue reports (through a feedback edge) are checked against the order state
 * machine with the order's filled quantity: a valid one updates the order and
 * is emitted; an invalid one is logged at error with the order, state and
 * event, counted (`invalid-transition`), and neither applied nor emitted. A
 * fill whose `trade_id` the order already has is ignored (`duplicate-fill`).
 * Closed orders are remembered up to `maxOrders`, oldest forgotten first.
 * State is updated before anything is emitted, and records leave in the
 * order their causes happened even when a venue answers synchronously from
 * inside `routed`. An observer, hook or logger of the options that throws
 * fails the stream with its error, after the records made before it; nothing
 * is processed after.
 *
 * ```
 * commands: -s-----c---       s SubmitOrder, c CancelOrder of the same order
 * reports:  ---a-p----x       a OrderAccepted, p partial OrderFilled, x OrderCanceled (from the venue)
 *   orderRouter({ routed })
 * result:   -S-a-p-P--x       S OrderSubmitted, P OrderPendingCancel
 * routed:   -v-----w---       v, w: s and c with their venue set
 * ```
 *
 * @example
 * ```ts
 * import { of, Subject } from 'rxjs';
 * import { AccountId, ClientOrderId, StrategyId } from '../schemas/generated.js';
 * import { SimMarket } from '../sources/sim-market.js';
 * const tick = new SimMarket({ instruments: ['SHFE.rb2501'], seed: 1, start: Date.parse('2025-01-03T09:00:00+08:00') * 1000, tickIntervalMs: 500, feedId: 'sim', latencyUs: 0 }).next();
 * const submit: SubmitOrder = {
 *   type: 'SubmitOrder', command_id: 'c-1', client_order_id: ClientOrderId('o-1'), strategy_id: StrategyId('ma'), account_id: AccountId('paper'), instrument_id: tick.instrument_id,
 *   side: 'BUY', order_type: 'LIMIT', time_in_force: 'GFD', position_effect: 'OPEN', quantity: 1, price: tick.ask_price1, venue: null, ts_init: tick.ts_event, causation_id: null,
 * };
 * const reports = new Subject<OrderEvent>();
 * orderRouter({ routes: ['SHFE.*=paper'], routed: { next: (c) => console.log(c.type, c.venue) } })({ commands: of(submit), reports })
 *   .subscribe((e) => console.log(e.type));
 * // Logs: OrderSubmitted
 * // Logs: SubmitOrder paper
 * ```
 *
 * @param options Routing rules, the `routed` observer, memory bound, ids, clock, metrics and logger.
 * @returns A function of the `commands` and `reports` streams giving the order events; it completes when both have.
 * @throws {ConfigError} When a routing rule is malformed or `maxOrders` is not a positive integer.
 */
export function orderRouter(
  options: OrderRouterOptions = {},
): (inputs: { readonly commands: Observable<OrderCommand>; readonly reports: Observable<OrderEvent> }) => Observable<OrderEvent> {
  const routes = VenueRoutes.parse(options.routes ?? [], options.defaultVenue ?? 'paper', 'orderRouter routes');
  const maxOrders = options.maxOrders ?? DEFAULT_MAX_ORDERS;
  if (!Number.isInteger(maxOrders) || maxOrders < 1)
    throw new ConfigError('orderRouter options', [`'maxOrders' must be a positive integer, got ${maxOrders}`]);
  const { routed, metrics, logger } = options;
  const idPrefix = options.idPrefix ?? 'router';
  const scheduler = options.scheduler ?? asyncScheduler;

  return ({ commands, reports }) =>
    handWrittenStage<OrderEvent>((stage) => {
      /** Client order ids are the strategy's: two strategies may use the same one. */
      const orders = new OrderIndex<RoutedOrder>({
        maxClosed: maxOrders,
        ownerOf: (o) => o.strategyId,
        clientOrderIdOf: (o) => o.clientOrderId,
        instrumentOf: (o) => o.instrumentId,
      });
      let eventCount = 0;

      const nowMicros = (): number => Math.round(scheduler.now() * 1000);
      const nextEventId = (): string => `${idPrefix}-${++eventCount}`;

      /** The order's next status after `event`, or undefined after logging and counting an invalid transition. */
      const transition = (status: OrderStatus, filled: number, event: OrderEvent): OrderStatus | undefined => {
        try {
          return nextOrderStatus(status, event, filled);
        } catch (error: unknown) {
          if (!(error instanceof InvalidStateTransitionError)) throw error;
          metrics?.dropped('invalid-transition');
          logger?.error(
            {
              err: error,
              order: event.client_order_id,
              strategy: event.strategy_id,
              state: status,
              event: orderTransitionOf(event, filled),
            },
            `${error.message}; not applied`,
          );
          return undefined;
        }
      };

      const submit = (command: SubmitOrder): void => {
        const known = orders.get(command.strategy_id, command.client_order_id);
        const now = nowMicros();
        const venue = command.venue ?? routes.venueOf(command);
        const event: OrderSubmitted = {
          type: 'OrderSubmitted',
          event_id: `${idPrefix}-${eventCount + 1}`,
          client_order_id: command.client_order_id,
          strategy_id: command.strategy_id,
          account_id: command.account_id,
          instrument_id: command.instrument_id,
          venue,
          side: command.side,
          order_type: command.order_type,
          time_in_force: command.time_in_force,
          position_effect: command.position_effect,
          quantity: command.quantity,
          price: command.price,
          ts_event: now,
          ts_init: now,
          causation_id: command.command_id,
        };
        // A client order id the router already knows is a second submit of that order: the table refuses it.
        const status = transition(known?.status ?? 'INITIALIZED', known?.filled ?? 0, event);
        if (status === undefined) return;
        eventCount++;
        orders.add({
          clientOrderId: command.client_order_id,
          strategyId: command.strategy_id,
          instrumentId: command.instrument_id,
          venue,
          status,
          filled: 0,
          venueOrderId: null,
          tradeIds: null,
        });
        stage.emit(event);
        stage.emitTo(routed, { ...command, venue });
      };

      const cancelRejected = (command: CancelOrder, venueOrderId: string | null, reason: string): OrderCancelRejected => {
        const now = nowMicros();
        return {
          type: 'OrderCancelRejected',
          event_id: nextEventId(),
          client_order_id: command.client_order_id,
          strategy_id: command.strategy_id,
          account_id: command.account_id,
          instrument_id: command.instrument_id,
          venue_order_id: venueOrderId,
          reason,
          ts_event: now,
          ts_init: now,
          causation_id: command.command_id,
        };
      };

      const cancel = (command: CancelOrder): void => {
        const order = orders.get(command.strategy_id, command.client_order_id);
        if (order === undefined) {
          stage.emit(
            cancelRejected(command, null, `order ${command.client_order_id} of strategy ${command.strategy_id} is unknown to the router`),
          );
          return;
        }
        if (isTerminal(order.status)) {
          // The table lets a closed order take a cancel reject and stay as it is, so consumers of the events can apply this too.
          stage.emit(cancelRejected(command, order.venueOrderId, `order ${command.client_order_id} is already ${order.status}`));
          return;
        }
        if (order.status === 'PENDING_CANCEL') {
          metrics?.dropped('cancel-pending');
          logger?.warn(
            { order: order.clientOrderId, strategy: order.strategyId, command: command.command_id },
            `cancel of order ${order.clientOrderId} dropped: a cancel is already pending`,
          );
          return;
        }
        const now = nowMicros();
        const event: OrderPendingCancel = {
          type: 'OrderPendingCancel',
          event_id: `${idPrefix}-${eventCount + 1}`,
          client_order_id: command.client_order_id,
          strategy_id: command.strategy_id,
          account_id: command.account_id,
          instrument_id: command.instrument_id,
          venue_order_id: order.venueOrderId,
          ts_event: now,
          ts_init: now,
          causation_id: command.command_id,
        };
        const status = transition(order.status, order.filled, event);
        if (status === undefined) return;
        eventCount++;
        order.status = status;
        // A cancel goes where its order went, whatever the rules say.
        stage.emit(event);
        stage.emitTo(routed, { ...command, venue: order.venue });
      };

      const applyReport = (report: OrderEvent): void => {
        if (!VENUE_REPORTS.has(report.type)) {
          metrics?.dropped('unexpected-report');
          logger?.warn(
            { order: report.client_order_id, strategy: report.strategy_id, event: report.type },
            `${report.type} is not a venue report; ignored`,
          );
          return;
        }
        const order = orders.get(report.strategy_id, report.client_order_id);
        if (order === undefined) {
          metrics?.dropped('unknown-order');
          logger?.warn(
            { order: report.client_order_id, strategy: report.strategy_id, event: report.type },
            `${report.type} for order ${report.client_order_id}, unknown to the router (never routed, or closed and forgotten); ignored`,
          );
          return;
        }
        if (report.type === 'OrderFilled' && order.tradeIds?.has(report.trade_id) === true) {
          metrics?.dropped('duplicate-fill');
          logger?.debug(
            { order: order.clientOrderId, strategy: order.strategyId, trade: report.trade_id },
            `fill ${report.trade_id} of order ${order.clientOrderId} seen before; ignored`,
          );
          return;
        }
        const status = transition(order.status, order.filled, report);
        if (status === undefined) return;
        order.status = status;
        if (report.type === 'OrderFilled') {
          order.filled = report.cum_quantity;
          (order.tradeIds ??= new Set()).add(report.trade_id);
          order.venueOrderId = report.venue_order_id;
        } else if (report.type === 'OrderAccepted') {
          order.venueOrderId = report.venue_order_id;
        }
        if (isTerminal(status)) orders.close(order);
        stage.emit(report);
      };

      stage.follow(reports, applyReport);
      stage.follow(commands, (command) => (command.type === 'SubmitOrder' ? submit(command) : cancel(command)));
    });
}

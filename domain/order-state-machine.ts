import type { OrderEvent } from '../schemas/generated.js';
import { InvalidStateTransitionError } from '../errors/errors.js';

/** Where an order stands. INITIALIZED: a SubmitOrder exists, nothing has happened to it yet. */
export type OrderStatus =
  | 'INITIALIZED'
  | 'DENIED'
  | 'SUBMITTED'
  | 'ACCEPTED'
  | 'REJECTED'
  | 'PARTIALLY_FILLED'
  | 'FILLED'
  | 'PENDING_CANCEL'
  | 'CANCELED'
  | 'EXPIRED';

/**
 * What happened to an order, as the state machine tells events apart: an
 * OrderFilled is a `PartialFill` or a final `Fill` by what it leaves, and a
 * cancel reject returns to ACCEPTED or PARTIALLY_FILLED by whether the order
 * has fills.
 */
export type OrderTransition =
  | 'OrderDenied'
  | 'OrderSubmitted'
  | 'OrderAccepted'
  | 'OrderRejected'
  | 'PartialFill'
  | 'Fill'
  | 'OrderPendingCancel'
  | 'OrderCancelRejected'
  | 'OrderCancelRejectedAfterFill'
  | 'OrderCanceled'
  | 'OrderExpired';

/**
 * The order state machine: one exhaustive table. A pair not in it is an
 * invalid transition (`InvalidStateTransitionError`), never silently applied.
 */
export const ORDER_TRANSITIONS = {
  INITIALIZED: {
    OrderDenied: 'DENIED',
    OrderSubmitted: 'SUBMITTED',
  },
  SUBMITTED: {
    OrderAccepted: 'ACCEPTED',
    OrderRejected: 'REJECTED',
    // Race: the venue's fill overtakes its acknowledgement.
    PartialFill: 'PARTIALLY_FILLED',
    Fill: 'FILLED',
    OrderPendingCancel: 'PENDING_CANCEL',
    // FAK/FOK orders the venue cancels before acknowledging.
    OrderCanceled: 'CANCELED',
    OrderExpired: 'EXPIRED',
  },
  ACCEPTED: {
    PartialFill: 'PARTIALLY_FILLED',
    Fill: 'FILLED',
    OrderPendingCancel: 'PENDING_CANCEL',
    // The venue cancels on its own (FAK remainder, session end, risk at the exchange).
    OrderCanceled: 'CANCELED',
    OrderExpired: 'EXPIRED',
  },
  PARTIALLY_FILLED: {
    PartialFill: 'PARTIALLY_FILLED',
    Fill: 'FILLED',
    OrderPendingCancel: 'PENDING_CANCEL',
    OrderCanceled: 'CANCELED',
    OrderExpired: 'EXPIRED',
  },
  PENDING_CANCEL: {
    OrderCanceled: 'CANCELED',
    // Race: the venue's acknowledgement was on its way when the cancel request left; the cancel is still pending.
    OrderAccepted: 'PENDING_CANCEL',
    // Race: the venue rejected the order before it saw the cancel request.
    OrderRejected: 'REJECTED',
    // Race: fills that happened before the venue saw the cancel request; the cancel is still pending.
    PartialFill: 'PENDING_CANCEL',
    // Race: the order filled completely before the cancel arrived.
    Fill: 'FILLED',
    OrderCancelRejected: 'ACCEPTED',
    OrderCancelRejectedAfterFill: 'PARTIALLY_FILLED',
    OrderExpired: 'EXPIRED',
  },
  FILLED: {
    // Race: the venue rejects a cancel because the order had already filled; the reject arrives after the fill.
    OrderCancelRejected: 'FILLED',
    OrderCancelRejectedAfterFill: 'FILLED',
  },
  DENIED: {},
  // Race: the venue refuses a cancel because it had already closed the order; the reject arrives after the close.
  // The order router answers a cancel of a closed order the same way itself.
  REJECTED: {
    OrderCancelRejected: 'REJECTED',
  },
  CANCELED: {
    OrderCancelRejected: 'CANCELED',
    OrderCancelRejectedAfterFill: 'CANCELED',
  },
  EXPIRED: {
    OrderCancelRejected: 'EXPIRED',
    OrderCancelRejectedAfterFill: 'EXPIRED',
  },
} as const satisfies Record<OrderStatus, Partial<Record<OrderTransition, OrderStatus>>>;

/**
 * Terminal states: the order will not trade again (a FILLED, REJECTED, CANCELED or EXPIRED order may still see a late cancel reject,
 * which leaves it as it is). The one definition: the live page gets it from the WebSocket sink too.
 */
export const TERMINAL_ORDER_STATES: ReadonlySet<OrderStatus> = new Set(['DENIED', 'REJECTED', 'FILLED', 'CANCELED', 'EXPIRED']);

/** Whether `status` is one of the {@link TERMINAL_ORDER_STATES}. */
export const isTerminal = (status: OrderStatus): boolean => TERMINAL_ORDER_STATES.has(status);

/** The transition an order event makes, given how much of the order had filled before it. */
export function orderTransitionOf(event: OrderEvent, filledBefore: number): OrderTransition {
  switch (event.type) {
    case 'OrderFilled':
      return event.leaves_quantity > 0 ? 'PartialFill' : 'Fill';
    case 'OrderCancelRejected':
      return filledBefore > 0 ? 'OrderCancelRejectedAfterFill' : 'OrderCancelRejected';
    default:
      return event.type;
  }
}

/** The status after `event`; throws `InvalidStateTransitionError` naming the order, the state and the event for a pair the table lacks. */
export function nextOrderStatus(status: OrderStatus, event: OrderEvent, filledBefore: number): OrderStatus {
  const transition = orderTransitionOf(event, filledBefore);
  const next = (ORDER_TRANSITIONS[status] as Partial<Record<OrderTransition, OrderStatus>>)[transition];
  if (next === undefined) {
    throw new InvalidStateTransitionError(`order ${event.client_order_id}: ${transition} is not valid in state ${status}`, {
      context: { instrument: event.instrument_id },
    });
  }
  return next;
}

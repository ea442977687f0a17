import { describe, expect, it } from 'vitest';
import {
  ORDER_TRANSITIONS,
  isTerminal,
  nextOrderStatus,
  orderTransitionOf,
  type OrderStatus,
  type OrderTransition,
} from '../../domain/order-state-machine.js';
import { InvalidStateTransitionError } from '../../errors/errors.js';
import { AccountId, ClientOrderId, InstrumentId, StrategyId, type OrderEvent } from '../../schemas/generated.js';

/** Every state: the table's keys, which `satisfies Record<OrderStatus, …>` makes exhaustive. */
const STATES = Object.keys(ORDER_TRANSITIONS) as OrderStatus[];

/** Every transition; a Record over the union fails to compile when one is missing. */
const TRANSITION_SET: Record<OrderTransition, true> = {
  OrderDenied: true,
  OrderSubmitted: true,
  OrderAccepted: true,
  OrderRejected: true,
  PartialFill: true,
  Fill: true,
  OrderPendingCancel: true,
  OrderCancelRejected: true,
  OrderCancelRejectedAfterFill: true,
  OrderCanceled: true,
  OrderExpired: true,
};
const TRANSITIONS = Object.keys(TRANSITION_SET) as OrderTransition[];

const ids = {
  event_id: 'e-1',
  client_order_id: ClientOrderId('o-42'),
  strategy_id: StrategyId('ma'),
  account_id: AccountId('ACC1'),
  instrument_id: InstrumentId('SHFE.rb2501'),
} as const;
const times = { ts_event: 1_000, ts_init: 1_000, causation_id: 'c-1' } as const;

/** An event that makes `transition`, and the filled quantity before it that the transition needs. */
function eventFor(transition: OrderTransition): { readonly event: OrderEvent; readonly filledBefore: number } {
  switch (transition) {
    case 'OrderDenied':
      return { event: { type: 'OrderDenied', ...ids, reason_code: 'TRADING_HALTED', reason: 'halted', ...times }, filledBefore: 0 };
    case 'OrderSubmitted':
      return {
        event: {
          type: 'OrderSubmitted',
          ...ids,
          venue: 'paper',
          side: 'BUY',
          order_type: 'LIMIT',
          time_in_force: 'GFD',
          position_effect: 'OPEN',
          quantity: 2,
          price: 3500,
          ...times,
        },
        filledBefore: 0,
      };
    case 'OrderAccepted':
      return { event: { type: 'OrderAccepted', ...ids, venue_order_id: 'v-1', ...times }, filledBefore: 0 };
    case 'OrderRejected':
      return { event: { type: 'OrderRejected', ...ids, reason: 'no quote', ...times }, filledBefore: 0 };
    case 'PartialFill':
    case 'Fill': {
      const leaves = transition === 'Fill' ? 0 : 1;
      const event: OrderEvent = {
        type: 'OrderFilled',
        ...ids,
        venue_order_id: 'v-1',
        trade_id: 't-1',
        side: 'BUY',
        last_quantity: 1,
        last_price: 3500,
        cum_quantity: 1,
        leaves_quantity: leaves,
        ...times,
      };
      return { event, filledBefore: 0 };
    }
    case 'OrderPendingCancel':
      return { event: { type: 'OrderPendingCancel', ...ids, venue_order_id: 'v-1', ...times }, filledBefore: 0 };
    case 'OrderCancelRejected':
    case 'OrderCancelRejectedAfterFill':
      return {
        event: { type: 'OrderCancelRejected', ...ids, venue_order_id: 'v-1', reason: 'too late', ...times },
        filledBefore: transition === 'OrderCancelRejected' ? 0 : 1,
      };
    case 'OrderCanceled':
      return { event: { type: 'OrderCanceled', ...ids, venue_order_id: 'v-1', filled_quantity: 0, ...times }, filledBefore: 0 };
    case 'OrderExpired':
      return { event: { type: 'OrderExpired', ...ids, venue_order_id: 'v-1', filled_quantity: 0, ...times }, filledBefore: 0 };
  }
}

const table = ORDER_TRANSITIONS as Readonly<Record<OrderStatus, Partial<Record<OrderTransition, OrderStatus>>>>;

describe('order state machine', () => {
  it('tells every transition apart from its event and the filled quantity before it', () => {
    for (const transition of TRANSITIONS) {
      const { event, filledBefore } = eventFor(transition);
      expect(orderTransitionOf(event, filledBefore)).toBe(transition);
    }
  });

  it(`answers every one of the ${STATES.length * TRANSITIONS.length} (state, transition) pairs as the table says`, () => {
    let valid = 0;
    let invalid = 0;
    for (const state of STATES) {
      for (const transition of TRANSITIONS) {
        const { event, filledBefore } = eventFor(transition);
        const expected = table[state][transition];
        if (expected !== undefined) {
          expect(nextOrderStatus(state, event, filledBefore), `${state} + ${transition}`).toBe(expected);
          valid++;
          continue;
        }
        let thrown: unknown;
        try {
          nextOrderStatus(state, event, filledBefore);
        } catch (error: unknown) {
          thrown = error;
        }
        expect(thrown, `${state} + ${transition} must throw`).toBeInstanceOf(InvalidStateTransitionError);
        const message = (thrown as Error).message;
        // The error names the order, the state and the event.
        expect(message).toContain('o-42');
        expect(message).toContain(state);
        expect(message).toContain(transition);
        expect((thrown as InvalidStateTransitionError).context.instrument).toBe('SHFE.rb2501');
        invalid++;
      }
    }
    expect(valid + invalid).toBe(STATES.length * TRANSITIONS.length);
    expect(valid).toBe(Object.values(table).reduce((n, row) => n + Object.keys(row).length, 0));
  });

  it('leads only to states the table knows', () => {
    for (const row of Object.values(table)) {
      for (const target of Object.values(row)) expect(STATES).toContain(target);
    }
  });

  it('lets a terminal state take only a late cancel reject, which leaves it as it is', () => {
    for (const state of STATES.filter(isTerminal)) {
      for (const [transition, target] of Object.entries(table[state])) {
        expect(transition, `${state} + ${transition}`).toMatch(/^OrderCancelRejected/);
        expect(target).toBe(state);
      }
    }
    expect(STATES.filter(isTerminal).sort()).toEqual(['CANCELED', 'DENIED', 'EXPIRED', 'FILLED', 'REJECTED']);
  });

  it('reaches every state from INITIALIZED, and a terminal state from every state', () => {
    const reachable = new Set<OrderStatus>(['INITIALIZED']);
    for (let changed = true, rounds = 0; changed && rounds < STATES.length; rounds++) {
      changed = false;
      for (const state of [...reachable]) {
        for (const target of Object.values(table[state])) {
          if (!reachable.has(target)) {
            reachable.add(target);
            changed = true;
          }
        }
      }
    }
    expect([...reachable].sort()).toEqual([...STATES].sort());
    for (const state of STATES.filter((s) => !isTerminal(s))) {
      expect(Object.values(table[state]).some(isTerminal), `${state} has a way out`).toBe(true);
    }
  });

  it('keeps a pending cancel through the races with the venue, and returns to the right state when the cancel is refused', () => {
    const after = (state: OrderStatus, transition: OrderTransition): OrderStatus => {
      const { event, filledBefore } = eventFor(transition);
      return nextOrderStatus(state, event, filledBefore);
    };
    expect(after('PENDING_CANCEL', 'OrderAccepted')).toBe('PENDING_CANCEL');
    expect(after('PENDING_CANCEL', 'PartialFill')).toBe('PENDING_CANCEL');
    expect(after('PENDING_CANCEL', 'Fill')).toBe('FILLED');
    expect(after('PENDING_CANCEL', 'OrderCancelRejected')).toBe('ACCEPTED');
    expect(after('PENDING_CANCEL', 'OrderCancelRejectedAfterFill')).toBe('PARTIALLY_FILLED');
    expect(after('FILLED', 'OrderCancelRejectedAfterFill')).toBe('FILLED');
  });
});

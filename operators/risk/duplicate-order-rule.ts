import type { RecentSubmit } from './risk-state.js';
import type { RiskRule } from './risk-rule.js';

/**
 * Duplicate submits (DUPLICATE_ORDER): the same account, instrument, side,
 * price and lots as a submit that passed less than `duplicate_window_ms`
 * (scheduler time) before, or a client order id that names an order still
 * working.
 */
export const duplicateOrderRule: RiskRule = {
  name: 'duplicate-order',
  configKeys: ['duplicate_window_ms'],
  switchKey: 'rule_duplicate_order',
  appliesTo: ['SubmitOrder'],
  check(command, state) {
    if (command.type !== 'SubmitOrder') return undefined;
    if (state.workingOrder(command.strategy_id, command.client_order_id) !== undefined) {
      return {
        code: 'DUPLICATE_ORDER',
        message: `duplicate-order: client order id ${command.client_order_id} of strategy ${command.strategy_id} names an order still working`,
      };
    }
    const windowMs = state.limits.duplicate_window_ms;
    const recent = state.book(command.account_id, command.instrument_id).recentSubmits;
    for (let i = recent.length - 1; i >= 0; i--) {
      const earlier = recent[i] as RecentSubmit;
      if (earlier.atMs + windowMs <= state.nowMs) break;
      if (earlier.side === command.side && earlier.price === command.price && earlier.quantity === command.quantity) {
        const price = command.price === null ? 'market' : `at ${command.price}`;
        return {
          code: 'DUPLICATE_ORDER',
          message: `duplicate-order: ${command.side} ${command.quantity} ${command.instrument_id} ${price} passed ${state.nowMs - earlier.atMs} ms ago, within duplicate_window_ms ${windowMs}`,
        };
      }
    }
    return undefined;
  },
};

import type { RiskRule } from './risk-rule.js';

/** Cancels only of orders that are working (UNKNOWN_ORDER): risk passed them and no final event came back. */
export const unknownOrderRule: RiskRule = {
  name: 'unknown-order',
  configKeys: [],
  switchKey: 'rule_unknown_order',
  appliesTo: ['CancelOrder'],
  check(command, state) {
    if (state.workingOrder(command.strategy_id, command.client_order_id) !== undefined) return undefined;
    return {
      code: 'UNKNOWN_ORDER',
      message: `unknown-order: no working order ${command.client_order_id} of strategy ${command.strategy_id} to cancel`,
    };
  },
};

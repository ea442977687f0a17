import type { RiskRule } from './risk-rule.js';

/** Working orders per account: a submit passes while fewer than `max_active_orders` work (MAX_ACTIVE_ORDERS_EXCEEDED). */
export const maxActiveOrdersRule: RiskRule = {
  name: 'max-active-orders',
  configKeys: ['max_active_orders'],
  switchKey: 'rule_max_active_orders',
  appliesTo: ['SubmitOrder'],
  check(command, state) {
    const limit = state.limits.max_active_orders;
    const active = state.account(command.account_id).activeOrders;
    if (active >= limit) {
      return {
        code: 'MAX_ACTIVE_ORDERS_EXCEEDED',
        message: `max-active-orders: account ${command.account_id} has ${active} working orders, limit max_active_orders ${limit}`,
      };
    }
    return undefined;
  },
};

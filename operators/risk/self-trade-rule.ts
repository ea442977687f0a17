import type { RiskRule } from './risk-rule.js';

/**
 * Self-trade prevention (SELF_TRADE): a submit that would cross a working
 * order of the same account in the same instrument on the other side — a buy
 * at or above one of its working sells, a sell at or below one of its
 * working buys; a market order crosses any.
 */
export const selfTradeRule: RiskRule = {
  name: 'self-trade',
  configKeys: [],
  switchKey: 'rule_self_trade',
  appliesTo: ['SubmitOrder'],
  check(command, state) {
    if (command.type !== 'SubmitOrder') return undefined;
    const book = state.book(command.account_id, command.instrument_id);
    if ((command.side === 'BUY' ? book.workingSell : book.workingBuy) === 0) return undefined;
    const price = command.order_type === 'MARKET' ? null : command.price;
    for (const order of book.orders) {
      const other = order.submit;
      if (other.side === command.side) continue;
      const otherPrice = other.order_type === 'MARKET' ? null : other.price;
      const crosses = price === null || otherPrice === null || (command.side === 'BUY' ? price >= otherPrice : price <= otherPrice);
      if (crosses) {
        return {
          code: 'SELF_TRADE',
          message: `self-trade: ${command.side} ${price === null ? 'at market' : `at ${price}`} would cross working ${other.side} ${other.client_order_id} ${otherPrice === null ? 'at market' : `at ${otherPrice}`} of account ${command.account_id} in ${command.instrument_id}`,
        };
      }
    }
    return undefined;
  },
};

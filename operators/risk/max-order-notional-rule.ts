import type { RiskRule } from './risk-rule.js';

/**
 * Value of one order, price × lots × contract multiplier of its product, at
 * most `max_order_notional` (MAX_ORDER_NOTIONAL_EXCEEDED). A market order is
 * valued at the opposite best price of the instrument's latest tick (the
 * ask for a buy, the bid for a sell), or at the limit price on that side
 * when the book side is empty; with neither, or for a product the product
 * table does not know, it cannot be valued and is denied.
 */
export const maxOrderNotionalRule: RiskRule = {
  name: 'max-order-notional',
  configKeys: ['max_order_notional'],
  switchKey: 'rule_max_order_notional',
  appliesTo: ['SubmitOrder'],
  check(command, state) {
    if (command.type !== 'SubmitOrder') return undefined;
    const limit = state.limits.max_order_notional;
    const product = state.product(command.instrument_id);
    if (product === undefined) {
      return {
        code: 'MAX_ORDER_NOTIONAL_EXCEEDED',
        message: `max-order-notional: no contract multiplier for ${command.instrument_id} (unknown product), so its value cannot be held to max_order_notional ${limit}`,
      };
    }
    let price = command.price;
    if (command.order_type === 'MARKET' || price === null) {
      const tick = state.latestTick(command.instrument_id);
      price = command.side === 'BUY' ? (tick?.ask_price1 ?? tick?.upper_limit ?? null) : (tick?.bid_price1 ?? tick?.lower_limit ?? null);
      if (price === null) {
        return {
          code: 'MAX_ORDER_NOTIONAL_EXCEEDED',
          message: `max-order-notional: no ${command.side === 'BUY' ? 'ask' : 'bid'} price for ${command.instrument_id} ${tick === undefined ? '(no tick yet)' : 'in the latest tick'} to value a market order against max_order_notional ${limit}`,
        };
      }
    }
    const notional = price * command.quantity * product.multiplier;
    if (notional > limit) {
      return {
        code: 'MAX_ORDER_NOTIONAL_EXCEEDED',
        message: `max-order-notional: notional ${notional} (${price} × ${command.quantity} lots × ${product.multiplier}) exceeds max_order_notional ${limit}`,
      };
    }
    return undefined;
  },
};

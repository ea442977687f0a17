import type { RiskRule } from './risk-rule.js';

/** Lots of one order: at least 1, at most `max_order_volume` (MAX_ORDER_VOLUME_EXCEEDED). */
export const maxOrderVolumeRule: RiskRule = {
  name: 'max-order-volume',
  configKeys: ['max_order_volume'],
  switchKey: 'rule_max_order_volume',
  appliesTo: ['SubmitOrder'],
  check(command, state) {
    if (command.type !== 'SubmitOrder') return undefined;
    const limit = state.limits.max_order_volume;
    if (command.quantity > limit) {
      return {
        code: 'MAX_ORDER_VOLUME_EXCEEDED',
        message: `max-order-volume: quantity ${command.quantity} lots exceeds max_order_volume ${limit}`,
      };
    }
    if (!(command.quantity >= 1)) {
      return {
        code: 'MAX_ORDER_VOLUME_EXCEEDED',
        message: `max-order-volume: quantity ${command.quantity} lots is not a volume an order can have (at least 1, max_order_volume ${limit})`,
      };
    }
    return undefined;
  },
};

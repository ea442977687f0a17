import type { RiskRule } from './risk-rule.js';

/**
 * Position limits, counting working orders that would increase the position
 * (MAX_POSITION_EXCEEDED): per account and instrument, the net position if
 * every working order on the order's side filled, with the order, stays
 * within `max_position` long and short; per account, the sum over
 * instruments of those largest reachable positions stays within
 * `max_total_position`. An order that does not increase the largest
 * reachable position always passes.
 */
export const maxPositionRule: RiskRule = {
  name: 'max-position',
  configKeys: ['max_position', 'max_total_position'],
  switchKey: 'rule_max_position',
  appliesTo: ['SubmitOrder'],
  check(command, state) {
    if (command.type !== 'SubmitOrder') return undefined;
    const { max_position: perInstrument, max_total_position: total } = state.limits;
    const book = state.book(command.account_id, command.instrument_id);
    const reach = command.side === 'BUY' ? book.net + book.workingBuy + command.quantity : book.workingSell + command.quantity - book.net;
    if (reach > perInstrument) {
      const side = command.side === 'BUY' ? 'long' : 'short';
      return {
        code: 'MAX_POSITION_EXCEEDED',
        message: `max-position: ${side} position in ${command.instrument_id} could reach ${reach} lots (net ${book.net}, working ${command.side === 'BUY' ? book.workingBuy : book.workingSell}, order ${command.quantity}), exceeds max_position ${perInstrument}`,
      };
    }
    const before = state.exposureWith(book, null, 0);
    const after = state.exposureWith(book, command.side, command.quantity);
    if (after > before) {
      let sum = after;
      for (const other of state.account(command.account_id).instruments.values()) {
        if (other !== book) sum += state.exposureWith(other, null, 0);
      }
      if (sum > total) {
        return {
          code: 'MAX_POSITION_EXCEEDED',
          message: `max-position: positions of account ${command.account_id} across instruments could reach ${sum} lots, exceeds max_total_position ${total}`,
        };
      }
    }
    return undefined;
  },
};

import type { OrderCommand } from '../../schemas/generated.js';
import type { RiskDenial } from './risk-rule.js';
import type { RiskState } from './risk-state.js';

/**
 * The kill switch, checked before every rule and never switched off.
 * ACTIVE: everything goes on to the rules. HALTED: submits are denied
 * (TRADING_HALTED). REDUCING: a submit passes only if it closes lots the
 * account holds and, with every working order on its side, cannot take the
 * position past flat (REDUCE_ONLY); an OPEN order is denied even against an
 * opposite position, since in China futures it would open a locked position
 * rather than reduce one. Cancels always go on to the rules.
 */
export function checkTradingState(command: OrderCommand, state: RiskState): RiskDenial | undefined {
  if (command.type === 'CancelOrder' || state.tradingState === 'ACTIVE') return undefined;
  if (state.tradingState === 'HALTED') {
    return {
      code: 'TRADING_HALTED',
      message: `trading-state: trading is HALTED; submits are denied until the state is ACTIVE or REDUCING`,
    };
  }
  const book = state.book(command.account_id, command.instrument_id);
  const held = command.side === 'BUY' ? -book.net : book.net;
  const working = command.side === 'BUY' ? book.workingBuy : book.workingSell;
  if (command.position_effect === 'OPEN') {
    return {
      code: 'REDUCE_ONLY',
      message: `trading-state: trading is REDUCING; an OPEN ${command.side} would add a position (net ${book.net} lots in ${command.instrument_id})`,
    };
  }
  if (command.quantity + working > held) {
    return {
      code: 'REDUCE_ONLY',
      message: `trading-state: trading is REDUCING; ${command.side} ${command.quantity} lots with ${working} working on that side would exceed the ${Math.max(0, held)} lots it can reduce (net ${book.net} in ${command.instrument_id})`,
    };
  }
  return undefined;
}

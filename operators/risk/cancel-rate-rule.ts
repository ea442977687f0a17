import type { RiskRule } from './risk-rule.js';

/**
 * Cancels per account and per account and instrument in any one second of
 * scheduler time, as token buckets whose tokens come back one second after
 * they were spent (CANCEL_RATE_EXCEEDED).
 */
export const cancelRateRule: RiskRule = {
  name: 'cancel-rate',
  configKeys: ['cancel_rate_per_s', 'cancel_rate_per_instrument_per_s'],
  switchKey: 'rule_cancel_rate',
  appliesTo: ['CancelOrder'],
  check(command, state) {
    const { cancel_rate_per_s: perAccount, cancel_rate_per_instrument_per_s: perInstrument } = state.limits;
    const account = state.account(command.account_id);
    if (!account.cancels.available(state.nowMs, perAccount)) {
      return {
        code: 'CANCEL_RATE_EXCEEDED',
        message: `cancel-rate: account ${command.account_id} sent ${account.cancels.spent(state.nowMs)} cancels in the last second, limit cancel_rate_per_s ${perAccount}`,
      };
    }
    const book = state.book(command.account_id, command.instrument_id);
    if (!book.cancels.available(state.nowMs, perInstrument)) {
      return {
        code: 'CANCEL_RATE_EXCEEDED',
        message: `cancel-rate: account ${command.account_id} sent ${book.cancels.spent(state.nowMs)} cancels for ${command.instrument_id} in the last second, limit cancel_rate_per_instrument_per_s ${perInstrument}`,
      };
    }
    return undefined;
  },
};

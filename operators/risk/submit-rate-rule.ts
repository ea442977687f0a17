import type { RiskRule } from './risk-rule.js';

/**
 * Submits per account and per account and instrument in any one second of
 * scheduler time, as token buckets whose tokens come back one second after
 * they were spent (RATE_LIMIT_EXCEEDED).
 */
export const submitRateRule: RiskRule = {
  name: 'submit-rate',
  configKeys: ['submit_rate_per_s', 'submit_rate_per_instrument_per_s'],
  switchKey: 'rule_submit_rate',
  appliesTo: ['SubmitOrder'],
  check(command, state) {
    const { submit_rate_per_s: perAccount, submit_rate_per_instrument_per_s: perInstrument } = state.limits;
    const account = state.account(command.account_id);
    if (!account.submits.available(state.nowMs, perAccount)) {
      return {
        code: 'RATE_LIMIT_EXCEEDED',
        message: `submit-rate: account ${command.account_id} sent ${account.submits.spent(state.nowMs)} submits in the last second, limit submit_rate_per_s ${perAccount}`,
      };
    }
    const book = state.book(command.account_id, command.instrument_id);
    if (!book.submits.available(state.nowMs, perInstrument)) {
      return {
        code: 'RATE_LIMIT_EXCEEDED',
        message: `submit-rate: account ${command.account_id} sent ${book.submits.spent(state.nowMs)} submits for ${command.instrument_id} in the last second, limit submit_rate_per_instrument_per_s ${perInstrument}`,
      };
    }
    return undefined;
  },
};

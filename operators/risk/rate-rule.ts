import type { RiskRule } from './risk-rule.js';

const KINDS = {
  submit: { command: 'SubmitOrder', code: 'RATE_LIMIT_EXCEEDED', buckets: 'submits', plural: 'submits' },
  cancel: { command: 'CancelOrder', code: 'CANCEL_RATE_EXCEEDED', buckets: 'cancels', plural: 'cancels' },
} as const;

/**
 * The rate rule of submits or of cancels: per account and per account and
 * instrument in any one second of scheduler time, as token buckets whose
 * tokens come back one second after they were spent.
 */
export function rateRule(kind: keyof typeof KINDS): RiskRule {
  const { command: appliesTo, code, buckets, plural } = KINDS[kind];
  const perAccountKey = `${kind}_rate_per_s` as const;
  const perInstrumentKey = `${kind}_rate_per_instrument_per_s` as const;
  return {
    name: `${kind}-rate`,
    configKeys: [perAccountKey, perInstrumentKey],
    switchKey: `rule_${kind}_rate`,
    appliesTo: [appliesTo],
    check(command, state) {
      const perAccount = state.limits[perAccountKey];
      const perInstrument = state.limits[perInstrumentKey];
      const account = state.account(command.account_id)[buckets];
      if (!account.available(state.nowMs, perAccount)) {
        return {
          code,
          message: `${kind}-rate: account ${command.account_id} sent ${account.spent(state.nowMs)} ${plural} in the last second, limit ${perAccountKey} ${perAccount}`,
        };
      }
      const book = state.book(command.account_id, command.instrument_id)[buckets];
      if (!book.available(state.nowMs, perInstrument)) {
        return {
          code,
          message: `${kind}-rate: account ${command.account_id} sent ${book.spent(state.nowMs)} ${plural} for ${command.instrument_id} in the last second, limit ${perInstrumentKey} ${perInstrument}`,
        };
      }
      return undefined;
    },
  };
}

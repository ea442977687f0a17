import type { RiskRule } from './risk-rule.js';

/**
 * Submits only while the instrument trades (OUTSIDE_TRADING_SESSION), by the
 * China futures session calendar at market time (the instrument's latest
 * tick's event time; the command's ts_init before any tick); an instrument of
 * a product the calendar does not know has no session. Cancels pass at any
 * time: withdrawing an order never adds risk.
 */
export const tradingSessionRule: RiskRule = {
  name: 'trading-session',
  configKeys: [],
  switchKey: 'rule_trading_session',
  appliesTo: ['SubmitOrder'],
  check(command, state) {
    if (state.product(command.instrument_id) === undefined) {
      return {
        code: 'OUTSIDE_TRADING_SESSION',
        message: `trading-session: ${command.instrument_id} is of no known product, so it has no trading session`,
      };
    }
    const at = state.marketTime(command.instrument_id, command.ts_init);
    if (!state.sessions.isInSession(command.instrument_id, at)) {
      return {
        code: 'OUTSIDE_TRADING_SESSION',
        message: `trading-session: ${command.instrument_id} is not in a trading session at market time ${new Date(at / 1000).toISOString()}; next session starts ${new Date(state.sessions.nextSessionStart(command.instrument_id, at) / 1000).toISOString()}`,
      };
    }
    return undefined;
  },
};

import type { RiskRule } from './risk-rule.js';

/**
 * Daily counts per account and instrument (DAILY_LIMIT_EXCEEDED): submits
 * pass while fewer than `max_daily_orders` passed and fewer than
 * `max_daily_trades` fills came back; cancels pass while fewer than
 * `max_daily_cancels` passed. Counts reset at the trading-day boundary of the
 * instrument (`TradingSessions.tradingDay` of market time — the latest tick's
 * event time — so a night session counts toward the next day).
 */
export const dailyLimitsRule: RiskRule = {
  name: 'daily-limits',
  configKeys: ['max_daily_orders', 'max_daily_cancels', 'max_daily_trades'],
  switchKey: 'rule_daily_limits',
  appliesTo: ['SubmitOrder', 'CancelOrder'],
  check(command, state) {
    const { max_daily_orders: maxOrders, max_daily_cancels: maxCancels, max_daily_trades: maxTrades } = state.limits;
    const tradingDay = state.tradingDay(command.instrument_id, state.marketTime(command.instrument_id, command.ts_init));
    const counts = state.countsOn(state.book(command.account_id, command.instrument_id), tradingDay);
    const where = `account ${command.account_id} in ${command.instrument_id} on ${tradingDay}`;
    if (command.type === 'CancelOrder') {
      if (counts.cancels >= maxCancels)
        return {
          code: 'DAILY_LIMIT_EXCEEDED',
          message: `daily-limits: ${counts.cancels} cancels by ${where}, limit max_daily_cancels ${maxCancels}`,
        };
      return undefined;
    }
    if (counts.orders >= maxOrders)
      return {
        code: 'DAILY_LIMIT_EXCEEDED',
        message: `daily-limits: ${counts.orders} orders by ${where}, limit max_daily_orders ${maxOrders}`,
      };
    if (counts.trades >= maxTrades)
      return {
        code: 'DAILY_LIMIT_EXCEEDED',
        message: `daily-limits: ${counts.trades} trades by ${where}, limit max_daily_trades ${maxTrades}`,
      };
    return undefined;
  },
};

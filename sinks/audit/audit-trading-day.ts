const MICROS_PER_DAY = 86_400_000_000;
/** Asia/Shanghai is UTC+8 all year. */
const UTC8_OFFSET = 8 * 3_600_000_000;
/** After the day session and settlement, before the 21:00 night open: later instants belong to the next trading day. */
const TRADING_DAY_CUTOFF = 18 * 3_600_000_000;

function isWeekday(epochDay: number): boolean {
  const weekday = (((epochDay + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  return weekday >= 1 && weekday <= 5;
}

/**
 * The China futures trading day (YYYYMMDD) of an instant, for daily rotation
 * of the audit trail: the UTC+8 calendar day until 18:00, the next weekday
 * after it (a night session belongs to the next trading day), and Monday for
 * the weekend. So one file holds one trading day, night session included,
 * matching the exchange's settlement statements. It is the rule of
 * `TradingSessions.tradingDay` without an instrument (no holiday calendar).
 *
 * @example
 * ```ts
 * console.log(auditTradingDay(Date.parse('2025-01-03T21:30:00+08:00') * 1000));
 * // Logs: 20250106   (Friday night → Monday)
 * ```
 */
export function auditTradingDay(tsMicros: number): string {
  const local = tsMicros + UTC8_OFFSET;
  let day = Math.floor(local / MICROS_PER_DAY);
  if (local - day * MICROS_PER_DAY >= TRADING_DAY_CUTOFF) day++;
  for (let i = 0; i < 3 && !isWeekday(day); i++) day++;
  return new Date(day * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
}

import type { ConfigOf, ConfigSpec } from '../../pipeline/config/config-spec.js';
import { field } from '../../pipeline/config/field.js';

/**
 * Every limit and rule switch of pre-trade risk, as config fields. The same
 * names are the risk component's config, the body of `POST /control/{stage}/limits`
 * and the keys of `RiskControlChanged.limits_json`. Rates are per rolling
 * second of scheduler time; lots and counts are per account.
 */
export const riskLimitSpec = {
  rule_submit_rate: field.boolean({ description: 'Switch of the submit-rate rule (RATE_LIMIT_EXCEEDED)', default: true, example: true }),
  submit_rate_per_s: field.integer({
    description:
      'Most submits an account may send in any one second (a token comes back one second after it was spent); 300/s is the compliance ceiling for programmatic trading',
    default: 300,
    example: 100,
    min: 1,
    max: 300,
  }),
  submit_rate_per_instrument_per_s: field.integer({
    description: 'Most submits an account may send for one instrument in any one second',
    default: 100,
    example: 20,
    min: 1,
    max: 300,
  }),
  rule_cancel_rate: field.boolean({ description: 'Switch of the cancel-rate rule (CANCEL_RATE_EXCEEDED)', default: true, example: true }),
  cancel_rate_per_s: field.integer({
    description: 'Most cancels an account may send in any one second',
    default: 300,
    example: 100,
    min: 1,
    max: 300,
  }),
  cancel_rate_per_instrument_per_s: field.integer({
    description: 'Most cancels an account may send for one instrument in any one second',
    default: 100,
    example: 20,
    min: 1,
    max: 300,
  }),
  rule_max_order_volume: field.boolean({
    description: 'Switch of the max-order-volume rule (MAX_ORDER_VOLUME_EXCEEDED)',
    default: true,
    example: true,
  }),
  max_order_volume: field.integer({ description: 'Most lots one order may have', default: 100, example: 50, min: 1, max: 10_000 }),
  rule_max_order_notional: field.boolean({
    description: 'Switch of the max-order-notional rule (MAX_ORDER_NOTIONAL_EXCEEDED)',
    default: true,
    example: true,
  }),
  max_order_notional: field.number({
    description:
      'Largest value of one order: price × lots × contract multiplier; market orders are valued at the opposite best price of the latest tick',
    default: 10_000_000,
    example: 2_000_000,
    min: 0,
    max: 1e10,
  }),
  rule_max_position: field.boolean({
    description: 'Switch of the max-position rule (MAX_POSITION_EXCEEDED)',
    default: true,
    example: true,
  }),
  max_position: field.integer({
    description: 'Largest net position in lots an account may hold in one instrument, counting its working orders that would increase it',
    default: 500,
    example: 50,
    min: 0,
    max: 1_000_000,
  }),
  max_total_position: field.integer({
    description:
      'Largest sum over instruments of an account’s absolute net positions in lots, counting working orders that would increase them',
    default: 2000,
    example: 200,
    min: 0,
    max: 10_000_000,
  }),
  rule_max_active_orders: field.boolean({
    description: 'Switch of the max-active-orders rule (MAX_ACTIVE_ORDERS_EXCEEDED)',
    default: true,
    example: true,
  }),
  max_active_orders: field.integer({
    description: 'Most working orders an account may have at once',
    default: 200,
    example: 20,
    min: 0,
    max: 100_000,
  }),
  rule_daily_limits: field.boolean({ description: 'Switch of the daily-limits rule (DAILY_LIMIT_EXCEEDED)', default: true, example: true }),
  max_daily_orders: field.integer({
    description: 'Most submits per account and instrument in one trading day',
    default: 4000,
    example: 1000,
    min: 0,
    max: 1_000_000,
  }),
  max_daily_cancels: field.integer({
    description: 'Most cancels per account and instrument in one trading day (exchanges flag 500 as abnormal)',
    default: 480,
    example: 400,
    min: 0,
    max: 1_000_000,
  }),
  max_daily_trades: field.integer({
    description: 'Fills per account and instrument in one trading day after which no more submits pass',
    default: 4000,
    example: 1000,
    min: 0,
    max: 1_000_000,
  }),
  rule_price_band: field.boolean({ description: 'Switch of the price-band rule (PRICE_OUT_OF_BAND)', default: true, example: true }),
  price_band_ticks: field.integer({
    description: 'Most ticks (product tick size) a limit price may lie from the last price; 0 leaves this bound out',
    default: 0,
    example: 20,
    min: 0,
    max: 10_000,
  }),
  price_band_percent: field.number({
    description:
      'Most percent of the last price a limit price may lie from it; 0 leaves this bound out (limit-up and limit-down always apply)',
    default: 3,
    example: 1.5,
    min: 0,
    max: 100,
  }),
  rule_duplicate_order: field.boolean({
    description: 'Switch of the duplicate-order rule (DUPLICATE_ORDER)',
    default: true,
    example: true,
  }),
  duplicate_window_ms: field.integer({
    description:
      'A submit with the same account, instrument, side, price and lots as one passed this many milliseconds before is a duplicate',
    default: 1000,
    example: 500,
    min: 1,
    max: 3_600_000,
  }),
  rule_self_trade: field.boolean({
    description:
      'Switch of the self-trade rule (SELF_TRADE): an order that would cross a working order of the same account on the other side',
    default: true,
    example: true,
  }),
  rule_trading_session: field.boolean({
    description: 'Switch of the trading-session rule (OUTSIDE_TRADING_SESSION), by the command’s ts_init',
    default: true,
    example: true,
  }),
  rule_unknown_order: field.boolean({
    description: 'Switch of the unknown-order rule (UNKNOWN_ORDER): a cancel of an order that is not working',
    default: true,
    example: true,
  }),
} as const satisfies ConfigSpec;

/** The limits and rule switches in force: every field of `riskLimitSpec`. */
export type RiskLimits = ConfigOf<typeof riskLimitSpec>;

/** Limits where a larger value is stricter (a longer duplicate window catches more duplicates). */
const STRICTER_WHEN_LARGER: ReadonlySet<keyof RiskLimits> = new Set(['duplicate_window_ms']);
/** Limits where 0 leaves the bound out, so 0 is the loosest value. */
const ZERO_IS_OFF: ReadonlySet<keyof RiskLimits> = new Set(['price_band_ticks', 'price_band_percent']);

/**
 * What a run-time change of limits may not do: loosen anything past what the
 * pipeline's definition set. A rule the definition switches on stays on; a
 * numeric limit may be tightened, and loosened again only up to the
 * definition's value. Loosening further needs a new definition and a restart,
 * which goes through review; a control credential alone cannot do it.
 *
 * @returns one problem per limit the change would loosen past the definition, naming it, the value asked and the bound
 */
export function limitsBeyondDefinition(requested: Partial<RiskLimits>, definition: RiskLimits): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(requested) as [keyof RiskLimits, RiskLimits[keyof RiskLimits]][]) {
    const bound = definition[key];
    if (typeof value === 'boolean') {
      if (bound === true && value === false)
        problems.push(`'${key}' is on in the pipeline's definition and cannot be switched off at run time`);
    } else if (typeof value === 'number' && typeof bound === 'number') {
      if (STRICTER_WHEN_LARGER.has(key)) {
        if (value < bound) problems.push(`'${key}' may not go below the definition's ${bound} at run time; got ${value}`);
      } else if (ZERO_IS_OFF.has(key) && bound > 0 && value === 0) {
        problems.push(`'${key}' is set in the pipeline's definition (${bound}) and cannot be switched off (0) at run time`);
      } else if (!(ZERO_IS_OFF.has(key) && bound === 0) && value > bound) {
        problems.push(
          `'${key}' may be at most the definition's ${bound} at run time (a change may tighten a limit, not loosen it past the definition); got ${value}`,
        );
      }
    }
  }
  return problems;
}

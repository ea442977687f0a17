import type { RiskRule } from './risk-rule.js';

/**
 * Limit prices against the instrument's latest tick (PRICE_OUT_OF_BAND):
 * within limit-down and limit-up, and at most `price_band_ticks` ticks and
 * `price_band_percent` percent of the last price away from it (each bound
 * left out at 0; without a last price, the previous settlement is the
 * reference). Without a tick of the instrument the band is unknown and a
 * limit order is denied. Market orders carry no price and pass.
 */
export const priceBandRule: RiskRule = {
  name: 'price-band',
  configKeys: ['price_band_ticks', 'price_band_percent'],
  switchKey: 'rule_price_band',
  appliesTo: ['SubmitOrder'],
  check(command, state) {
    if (command.type !== 'SubmitOrder' || command.order_type === 'MARKET' || command.price === null) return undefined;
    const price = command.price;
    const tick = state.latestTick(command.instrument_id);
    if (tick === undefined)
      return {
        code: 'PRICE_OUT_OF_BAND',
        message: `price-band: no tick of ${command.instrument_id} yet, so price ${price} cannot be checked against its band`,
      };
    if (tick.upper_limit !== null && price > tick.upper_limit) {
      return {
        code: 'PRICE_OUT_OF_BAND',
        message: `price-band: price ${price} is above limit-up ${tick.upper_limit} of ${command.instrument_id}`,
      };
    }
    if (tick.lower_limit !== null && price < tick.lower_limit) {
      return {
        code: 'PRICE_OUT_OF_BAND',
        message: `price-band: price ${price} is below limit-down ${tick.lower_limit} of ${command.instrument_id}`,
      };
    }
    const reference = tick.last_price ?? tick.pre_settlement;
    if (reference === null) return undefined;
    const distance = Math.abs(price - reference);
    const { price_band_ticks: bandTicks, price_band_percent: bandPercent } = state.limits;
    const tickSize = state.product(command.instrument_id)?.tickSize;
    // A hair of tolerance, so that a price exactly on the band edge is not lost to floating point (0.1 + 0.2).
    if (bandTicks > 0 && tickSize !== undefined && distance > bandTicks * tickSize * (1 + 1e-9)) {
      return {
        code: 'PRICE_OUT_OF_BAND',
        message: `price-band: price ${price} is ${Math.round((distance / tickSize) * 1e6) / 1e6} ticks from last price ${reference}, limit price_band_ticks ${bandTicks}`,
      };
    }
    if (bandPercent > 0 && distance > (Math.abs(reference) * bandPercent * (1 + 1e-9)) / 100) {
      return {
        code: 'PRICE_OUT_OF_BAND',
        message: `price-band: price ${price} is ${Math.round((distance / Math.abs(reference)) * 1e8) / 1e6}% from last price ${reference}, limit price_band_percent ${bandPercent}`,
      };
    }
    return undefined;
  },
};

import { cancelRateRule } from './cancel-rate-rule.js';
import { dailyLimitsRule } from './daily-limits-rule.js';
import { duplicateOrderRule } from './duplicate-order-rule.js';
import { maxActiveOrdersRule } from './max-active-orders-rule.js';
import { maxOrderNotionalRule } from './max-order-notional-rule.js';
import { maxOrderVolumeRule } from './max-order-volume-rule.js';
import { maxPositionRule } from './max-position-rule.js';
import { priceBandRule } from './price-band-rule.js';
import type { RiskRule } from './risk-rule.js';
import { selfTradeRule } from './self-trade-rule.js';
import { submitRateRule } from './submit-rate-rule.js';
import { tradingSessionRule } from './trading-session-rule.js';
import { unknownOrderRule } from './unknown-order-rule.js';

/**
 * Every pre-trade rule, in the order they run; the first denial wins. Checks
 * of the command alone come first, then checks against working orders and
 * positions, then counts, and the rate buckets last, so a command another
 * rule denies never reads as a rate breach.
 */
export const riskRules: readonly RiskRule[] = [
  tradingSessionRule,
  unknownOrderRule,
  maxOrderVolumeRule,
  priceBandRule,
  maxOrderNotionalRule,
  duplicateOrderRule,
  selfTradeRule,
  maxPositionRule,
  maxActiveOrdersRule,
  dailyLimitsRule,
  submitRateRule,
  cancelRateRule,
];

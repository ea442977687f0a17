import { rateRule } from './rate-rule.js';

/** Cancels per account and per account and instrument in any one second (CANCEL_RATE_EXCEEDED). */
export const cancelRateRule = rateRule('cancel');

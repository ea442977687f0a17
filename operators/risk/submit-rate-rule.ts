import { rateRule } from './rate-rule.js';

/** Submits per account and per account and instrument in any one second (RATE_LIMIT_EXCEEDED); 300/s is the compliance ceiling by default. */
export const submitRateRule = rateRule('submit');

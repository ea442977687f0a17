/**
 * How the ctp source spreads instruments over its fronts; see
 * `planSubscriptions` for what each one does.
 *
 * The names are also a runtime list, so a config field can offer exactly
 * these choices: `field.choice(distributionStrategies, …)`.
 *
 * @example
 * ```ts
 * console.log(distributionStrategies.join(', '));
 * // Logs: round_robin, least_subscriptions, quality, hash
 * ```
 */
export const distributionStrategies = ['round_robin', 'least_subscriptions', 'quality', 'hash'] as const;

/** One of `distributionStrategies`. */
export type DistributionStrategy = (typeof distributionStrategies)[number];

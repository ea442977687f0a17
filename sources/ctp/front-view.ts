/**
 * One CTP front as the subscription planner sees it: a snapshot, taken when
 * a plan is made.
 *
 * In plain words: which front, how much it is preferred, whether it may take
 * instruments now, how many it may hold, and how well it has been doing.
 */
export interface FrontView {
  /** Unique among the fronts of one ctp source. */
  readonly id: string;
  /** Lower is preferred: a front of a worse tier only takes what the better tiers cannot hold. */
  readonly priority: number;
  /** Whether instruments may be placed on this front now (logged in, not stale). */
  readonly healthy: boolean;
  /** Most instruments this front may hold at once. */
  readonly maxSubscriptions: number;
  /** Age of the front's latest tick in milliseconds; null when it has delivered none yet. */
  readonly tickAgeMs: number | null;
  /** Errors the front reported within its recent window (disconnects, failed subscriptions). */
  readonly recentErrors: number;
}

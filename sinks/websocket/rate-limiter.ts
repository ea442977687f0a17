import type { SchedulerLike } from 'rxjs';

/**
 * A token bucket: allows `perSecond` units a second on average and a burst
 * of as many, refilled continuously on the scheduler's clock (so it runs on
 * virtual time in tests). Units are messages for the message rate and bytes
 * for the byte rate.
 */
export class RateLimiter {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly scheduler: SchedulerLike,
  ) {
    this.tokens = perSecond;
    this.refilledAt = scheduler.now();
  }

  /** Takes `cost` units when the bucket holds them; false (and nothing taken) when it does not and the message must be refused. */
  tryTake(cost = 1): boolean {
    this.refill();
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /**
   * Spends `cost` units whether the bucket holds them or not (bytes that
   * arrived were received either way) and returns the balance: below zero,
   * the sender is over its rate by that much.
   */
  spend(cost: number): number {
    this.refill();
    this.tokens -= cost;
    return this.tokens;
  }

  private refill(): void {
    const now = this.scheduler.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
  }
}

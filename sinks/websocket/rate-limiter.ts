import type { SchedulerLike } from 'rxjs';

/**
 * A token bucket: allows `perSecond` messages a second on average and a
 * burst of as many, refilled continuously on the scheduler's clock (so it
 * runs on virtual time in tests).
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

  /** Takes one token; false when the bucket is empty and the message must be refused. */
  tryTake(): boolean {
    const now = this.scheduler.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * A token bucket on scheduler time in which every token comes back exactly
 * `windowMs` after it was spent.
 *
 * A bucket refilled continuously at N tokens a second with room for N admits
 * up to 2N in one second (a full bucket plus a second of refill). Returning
 * each token one window after it was spent keeps bursts of up to N, and no
 * half-open window `[t, t + windowMs)` ever holds more than `capacity`
 * spends: the guarantee a per-second compliance ceiling asks for. It costs
 * one remembered time per token in use (a ring buffer, grown on demand).
 */
export class TokenBucket {
  /** Spend times (ms), oldest at `head`, `count` of them. */
  private times = new Float64Array(8);
  private head = 0;
  private count = 0;

  /** @param windowMs How long a spent token stays spent. */
  constructor(private readonly windowMs = 1000) {}

  /** Tokens spent within the window ending at `nowMs`. */
  spent(nowMs: number): number {
    this.expire(nowMs);
    return this.count;
  }

  /** Whether a token is free at `nowMs` when the bucket holds `capacity`. */
  available(nowMs: number, capacity: number): boolean {
    return this.spent(nowMs) < capacity;
  }

  /** Spends a token at `nowMs` if one is free; returns whether it did. */
  take(nowMs: number, capacity: number): boolean {
    if (!this.available(nowMs, capacity)) return false;
    const times = this.times;
    if (this.count === times.length) this.grow();
    this.times[(this.head + this.count) % this.times.length] = nowMs;
    this.count++;
    return true;
  }

  /** The scheduler time at which the oldest spent token comes back, or `nowMs` when none is spent. */
  nextFreeAt(nowMs: number): number {
    this.expire(nowMs);
    return this.count === 0 ? nowMs : (this.times[this.head] as number) + this.windowMs;
  }

  private expire(nowMs: number): void {
    const times = this.times;
    while (this.count > 0 && (times[this.head] as number) + this.windowMs <= nowMs) {
      this.head = (this.head + 1) % times.length;
      this.count--;
    }
  }

  private grow(): void {
    const old = this.times;
    const next = new Float64Array(old.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) % old.length] as number;
    this.times = next;
    this.head = 0;
  }
}

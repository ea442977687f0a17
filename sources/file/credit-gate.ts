/**
 * Back-pressure between a reader that emits records and a downstream stage
 * that holds them for a while (the pacer): the reader takes a credit per
 * record it emits and stops reading while `limit` records are out; the
 * downstream releases a credit per record it has passed on. Reading
 * resumes once half the credits are back, so it resumes in batches rather
 * than a record at a time.
 */
export class CreditGate {
  private out = 0;
  private waiter: (() => void) | undefined;

  constructor(readonly limit: number) {}

  /** Records emitted and not yet released. */
  get outstanding(): number {
    return this.out;
  }

  get open(): boolean {
    return this.out < this.limit;
  }

  take(count = 1): void {
    this.out += count;
  }

  release(count = 1): void {
    this.out = Math.max(0, this.out - count);
    if (this.waiter !== undefined && this.out <= this.limit / 2) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter();
    }
  }

  /** Calls `resume` now when the gate is open, else once enough credits are released. Only the latest waiter is kept. */
  whenOpen(resume: () => void): void {
    if (this.open) {
      resume();
      return;
    }
    this.waiter = resume;
  }

  /** Forgets the waiter, e.g. when the reader is unsubscribed. */
  cancel(): void {
    this.waiter = undefined;
  }
}

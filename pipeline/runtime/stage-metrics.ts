/**
 * The counters of one stage. Plain numbers on the hot path; the Prometheus
 * registry reads them when scraped, so counting costs an increment.
 */
export class StageMetrics {
  recordsIn = 0;
  recordsOut = 0;
  errors = 0;
  readonly droppedByReason = new Map<string, number>();
  /** Processing time of the stage per input record, in seconds, counted into buckets. */
  readonly latencyBuckets: number[];
  latencyCount = 0;
  latencySum = 0;

  constructor(
    readonly stage: string,
    readonly component: string,
    readonly bucketBounds: readonly number[],
  ) {
    this.latencyBuckets = new Array<number>(bucketBounds.length).fill(0);
  }

  /** Counts records the stage dropped, by a short reason such as `invalid` or `stale`. */
  dropped(reason: string, count = 1): void {
    this.droppedByReason.set(reason, (this.droppedByReason.get(reason) ?? 0) + count);
  }

  get droppedTotal(): number {
    let total = 0;
    for (const n of this.droppedByReason.values()) total += n;
    return total;
  }

  observeLatency(seconds: number): void {
    this.latencyCount++;
    this.latencySum += seconds;
    const bounds = this.bucketBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= (bounds[i] as number)) {
        this.latencyBuckets[i] = (this.latencyBuckets[i] as number) + 1;
        return;
      }
    }
  }
}

import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { StageMetrics } from './stage-metrics.js';

/**
 * Counts a stage's records in and out and times, for each input record, the
 * stage's own work: the synchronous time of the record's delivery less the
 * time spent in the stages after it. Wrap every input stream of the stage
 * with `input()` and its output with `output()`.
 *
 * ```
 * source:   --a--b--c--|
 *   source.pipe(meter.input(), map(f), meter.output())
 * result:   --A--B--C--|      metrics: in 3, out 3, 3 latencies
 * ```
 *
 * @example
 * const meter = new StageMeter(metrics);
 * of(1, 2).pipe(meter.input(), map((x) => x * 2), meter.output()).subscribe((x) => console.log(x));
 * // Logs: 2, 4   (and metrics.recordsIn === 2)
 */
export class StageMeter {
  private inRecord = false;
  private downstreamMs = 0;

  constructor(private readonly metrics: StageMetrics) {}

  /** Counts and times each record as the stage receives it. */
  input<T>(): MonoTypeOperatorFunction<T> {
    return (source) =>
      new Observable<T>((subscriber) =>
        source.subscribe({
          next: (record) => {
            this.metrics.recordsIn++;
            const start = performance.now();
            const outer = this.inRecord;
            this.downstreamMs = 0;
            this.inRecord = true;
            try {
              subscriber.next(record);
            } finally {
              this.inRecord = outer;
              this.metrics.observeLatency((performance.now() - start - this.downstreamMs) / 1000);
            }
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        }),
      );
  }

  /** Counts each record the stage emits and keeps the time spent downstream out of its latency. */
  output<T>(): MonoTypeOperatorFunction<T> {
    return (source) =>
      new Observable<T>((subscriber) =>
        source.subscribe({
          next: (value) => {
            this.metrics.recordsOut++;
            if (!this.inRecord) {
              subscriber.next(value);
              return;
            }
            const start = performance.now();
            subscriber.next(value);
            this.downstreamMs += performance.now() - start;
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        }),
      );
  }
}

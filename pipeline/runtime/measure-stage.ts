import { Observable, type OperatorFunction } from 'rxjs';
import type { StageMetrics } from './stage-metrics.js';

/**
 * Wraps a stage's operator to count its records in and out and to time,
 * for each input record, the stage's own work: the synchronous time of the
 * record's delivery less the time spent in the stages after it.
 *
 * ```
 * source:   --a--b--c--|
 *   measureStage(map(f), metrics)
 * result:   --A--B--C--|      metrics: in 3, out 3, 3 latencies
 * ```
 *
 * @example
 * of(1, 2).pipe(measureStage(map((x) => x * 2), metrics)).subscribe((x) => console.log(x));
 * // Logs: 2, 4   (and metrics.recordsIn === 2)
 *
 * @param operator The stage's operator.
 * @param metrics Where to count.
 * @returns The same operator, measured.
 */
export function measureStage<I, O>(operator: OperatorFunction<I, O>, metrics: StageMetrics): OperatorFunction<I, O> {
  return (source) =>
    new Observable<O>((subscriber) => {
      let inRecord = false;
      let downstreamMs = 0;
      const counted = new Observable<I>((inner) =>
        source.subscribe({
          next(record) {
            metrics.recordsIn++;
            const start = performance.now();
            downstreamMs = 0;
            inRecord = true;
            try {
              inner.next(record);
            } finally {
              inRecord = false;
              metrics.observeLatency((performance.now() - start - downstreamMs) / 1000);
            }
          },
          error: (error: unknown) => inner.error(error),
          complete: () => inner.complete(),
        }),
      );
      return operator(counted).subscribe({
        next(value) {
          metrics.recordsOut++;
          if (!inRecord) {
            subscriber.next(value);
            return;
          }
          const start = performance.now();
          subscriber.next(value);
          downstreamMs += performance.now() - start;
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

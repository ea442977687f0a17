import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * Emits every record unchanged.
 *
 * The smallest stage there is: a graph placeholder, and the baseline the
 * benchmarks measure the cost of a stage (counting, timing, validation) against.
 *
 * ```
 * source:  --a--b--c--|
 *   passThrough()
 * result:  --a--b--c--|
 * ```
 *
 * @example
 * of(1, 2, 3).pipe(passThrough()).subscribe((x) => console.log(x));
 * // Logs: 1, 2, 3
 *
 * @returns An operator that mirrors its source.
 */
export function passThrough<T>(): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) =>
      source.subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}

import type { MonoTypeOperatorFunction } from 'rxjs';
import { handWrittenStage } from '../pipeline/runtime/hand-written-stage.js';

/**
 * Emits every record unchanged.
 *
 * The smallest stage there is: a graph placeholder, and the baseline the
 * benchmarks measure the cost of a stage (counting, timing, validation) against.
 * A value a subscriber feeds back while one is delivered follows it, after it
 * has reached every subscriber.
 *
 * ```
 * source:  --a--b--c--|
 *   passThrough()
 * result:  --a--b--c--|
 * ```
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * of(1, 2, 3).pipe(passThrough()).subscribe((x) => console.log(x));
 * // Logs: 1
 * // Logs: 2
 * // Logs: 3
 * ```
 *
 * @returns An operator that mirrors its source.
 */
export function passThrough<T>(): MonoTypeOperatorFunction<T> {
  return (source) =>
    handWrittenStage<T>((stage) => {
      stage.follow(source, (value) => stage.emit(value));
    });
}

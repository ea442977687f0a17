import { filter, type OperatorFunction } from 'rxjs';
import type { RecordCodec, RecordProblem } from '../schemas/schema-catalog.js';

/**
 * Passes on the records that match an Avro schema and hands every other one
 * to `reject` with the first problem found.
 *
 * Used on the edges of a running pipeline: in `strict` validation on every
 * edge, in `boundary` validation where records cross a process boundary.
 * The stream itself never errors because of a bad record; it errors only
 * when `reject` throws.
 *
 * ```
 * source:   --a--b--X--c--|
 *   validateRecords(tickCodec, reject)      (X lacks a field)
 * result:   --a--b-----c--|        reject(X, { path: 'trading_day', … })
 * ```
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * const ticks$ = of<unknown>({ instrument_id: 'SHFE.rb2501' }); // a tick without its other fields
 * ticks$.pipe(validateRecords(SchemaCatalog.default().codec('Tick'), (_record, problem) => console.log(problem.reason))).subscribe();
 * // Logs: field 'trading_day' expected string, got missing   (for each invalid tick)
 * ```
 *
 * @param codec The schema's codec, from `SchemaCatalog.codec`.
 * @param reject Called with each invalid record and its problem.
 * @returns An operator that emits the valid records, typed, in order.
 */
export function validateRecords<T>(
  codec: RecordCodec<T>,
  reject: (record: unknown, problem: RecordProblem) => void,
): OperatorFunction<unknown, T> {
  // A throwing `reject` errors the stream: filter reports a throwing predicate as the stream's error.
  return filter((record): record is T => {
    const problem = codec.check(record);
    if (problem === undefined) return true;
    reject(record, problem);
    return false;
  });
}

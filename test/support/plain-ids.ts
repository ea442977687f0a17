import type { AccountId, ClientOrderId, InstrumentId, StrategyId } from '../../schemas/generated.js';

type BrandedId = AccountId | ClientOrderId | InstrumentId | StrategyId;

/**
 * A record type with its branded ids loosened to plain strings: what a test
 * writes as literals. A union stays a union of its loosened branches.
 */
export type PlainIds<T> = { [K in keyof T]: T[K] extends BrandedId ? string : T[K] };

/**
 * A test's own record, its plain-string ids taken as the ids they are: the
 * test is the trust boundary here, as a source parsing its input is in the
 * pipeline. It checks nothing and returns `record` itself.
 */
export function fromPlainIds<T>(record: PlainIds<T>): T {
  return record as T;
}

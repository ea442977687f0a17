import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';

/** The TestScheduler every marble test builds in beforeEach. */
export function createTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

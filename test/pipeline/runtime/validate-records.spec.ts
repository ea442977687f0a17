import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { validateRecords } from '../../../pipeline/runtime/validate-records.js';
import { SchemaCatalog, type RecordProblem } from '../../../pipeline/schemas/schema-catalog.js';
import { createTestScheduler } from '../../support/marbles.js';
import { makeTick } from '../../support/make-tick.js';

const codec = SchemaCatalog.default().codec('Tick');
const values = { a: makeTick({ sequence: 1 }), b: makeTick({ sequence: 2 }), x: { ...makeTick({ sequence: 3 }), trading_day: undefined } };

describe('validateRecords', () => {
  let scheduler: TestScheduler;
  let rejected: [unknown, RecordProblem][];
  const reject = (record: unknown, problem: RecordProblem) => rejected.push([record, problem]);
  beforeEach(() => {
    scheduler = createTestScheduler();
    rejected = [];
  });

  it('passes valid records and diverts invalid ones with the field that failed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  --a--x--b--|', values);
      const e1subs = '   ^----------!';
      const expected = ' --a-----b--|';
      expectObservable(e1.pipe(validateRecords(codec, reject))).toBe(expected, values);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(rejected).toEqual([[values.x, { path: 'trading_day', reason: "field 'trading_day' expected string, got missing" }]]);
  });

  it('handles never, empty and errors', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('-').pipe(validateRecords(codec, reject))).toBe('-');
      expectObservable(cold('|').pipe(validateRecords(codec, reject))).toBe('|');
      expectObservable(cold('-a-#', values).pipe(validateRecords(codec, reject))).toBe('-a-#', values);
    });
  });

  it('follows a never-ending source until unsubscribed', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('  -a-x-b-a-', values);
      const unsub = '   ------!  ';
      const e1subs = '  ^-----!  ';
      const expected = '-a---b-  ';
      expectObservable(e1.pipe(validateRecords(codec, reject)), unsub).toBe(expected, values);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('errors the stream when the reject callback throws', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const boom = new Error('dead-letter store full');
      const throwing = () => {
        throw boom;
      };
      expectObservable(cold('-a-x-b-|', values).pipe(validateRecords(codec, throwing))).toBe('-a-#', values, boom);
    });
  });
});

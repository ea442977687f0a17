import { Subject, share } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { passThrough } from '../../operators/pass-through.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';

const values = { a: makeTick({ sequence: 1 }), b: makeTick({ sequence: 2 }), c: makeTick({ sequence: 3 }) };

describe('passThrough', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('mirrors never', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('-').pipe(passThrough())).toBe('-');
    });
  });

  it('mirrors empty', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('|').pipe(passThrough())).toBe('|');
    });
  });

  it('mirrors one value and many values', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  --a--|', values);
      const e1subs = '   ^----!';
      const expected = ' --a--|';
      expectObservable(e1.pipe(passThrough())).toBe(expected, values);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectObservable(cold('-a-b-c-|', values).pipe(passThrough())).toBe('-a-b-c-|', values);
    });
  });

  it('mirrors an error', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('--a--#', values, new Error('feed lost')).pipe(passThrough())).toBe('--a--#', values, new Error('feed lost'));
    });
  });

  it('follows a source that never ends, and unsubscribes early', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('  --a--b--c--', values);
      const unsub = '   ------!    ';
      const e1subs = '  ^-----!    ';
      const expected = '--a--b-    ';
      expectObservable(e1.pipe(passThrough()), unsub).toBe(expected, values);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('passes a re-entrant emission through in order', () => {
    const source = new Subject<number>();
    const seen: number[] = [];
    source.pipe(passThrough()).subscribe((x) => {
      seen.push(x);
      if (x === 1) source.next(2);
    });
    source.next(1);
    expect(seen).toEqual([1, 2]);
  });

  it('keeps its order for every subscriber of a shared output when one of them feeds a value back', () => {
    const source = new Subject<number>();
    const shared = source.pipe(passThrough(), share());
    const first: number[] = [];
    const second: number[] = [];
    shared.subscribe((x) => {
      first.push(x);
      if (x === 1) source.next(2);
    });
    shared.subscribe((x) => second.push(x));
    source.next(1);
    // 2 is handled once 1 has reached every subscriber, not from inside its delivery.
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([1, 2]);
  });
});

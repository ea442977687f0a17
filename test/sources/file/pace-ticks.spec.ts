import { mergeMap, take } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Tick } from '../../../schemas/generated.js';
import { paceTicks } from '../../../sources/file/pace-ticks.js';
import { createTestScheduler } from '../../support/marbles.js';
import { makeTick } from '../../support/make-tick.js';

const T0 = makeTick().ts_event;
const MS = 1000; // microseconds of ts_event

/** Ticks a, b, c… at the given milliseconds of event time after T0. */
function ticksAt(...offsetsMs: number[]): Record<string, Tick> {
  return Object.fromEntries(offsetsMs.map((ms, i) => [String.fromCharCode(97 + i), makeTick({ ts_event: T0 + ms * MS, sequence: i + 1 })]));
}

describe('paceTicks', () => {
  let scheduler: TestScheduler;

  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  const pace = (speed: number, maxGapMs = 0) => paceTicks<Tick>({ speed, maxGapMs, scheduler });

  describe('pacing', () => {
    it('emits at the recorded gaps at speed 1 and completes after the last', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const values = ticksAt(0, 3, 10, 12);
        const e1 = cold('(abcd|)', values);
        const e1subs = '(^!)';
        const expected = 'a 2ms b 6ms c 1ms (d|)';
        expectObservable(e1.pipe(pace(1))).toBe(expected, values);
        expectSubscriptions(e1.subscriptions).toBe(e1subs);
      });
    });

    it('emits at a tenth of the gaps at speed 10', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 30, 100, 120);
        const e1 = cold('(abcd|)', values);
        const expected = 'a 2ms b 6ms c 1ms (d|)';
        expectObservable(e1.pipe(pace(10))).toBe(expected, values);
      });
    });

    it('emits at twice the gaps at speed 0.5', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 3, 5);
        const e1 = cold('(abc|)', values);
        const expected = 'a 5ms b 3ms (c|)';
        expectObservable(e1.pipe(pace(0.5))).toBe(expected, values);
      });
    });

    it('caps a long gap, such as the night break, at maxGapMs of scheduler time after speed', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 3, 3 + 9 * 3600_000, 3 + 9 * 3600_000 + 2);
        const e1 = cold('(abcd|)', values);
        const expected = 'a 2ms b 4ms c 1ms (d|)';
        expectObservable(e1.pipe(pace(1, 5))).toBe(expected, values);
      });
    });

    it('caps after speed: at speed 10 a 100 ms gap becomes 10 ms, then 5 ms', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 100);
        const e1 = cold('(ab|)', values);
        const expected = 'a 4ms (b|)';
        expectObservable(e1.pipe(pace(10, 5))).toBe(expected, values);
      });
    });

    it('does not cap when maxGapMs is 0', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 60_000);
        const e1 = cold('(ab|)', values);
        const expected = 'a 59999ms (b|)';
        expectObservable(e1.pipe(pace(1, 0))).toBe(expected, values);
      });
    });

    it('emits ticks with the same ts_event, or going back in time, without waiting; gaps count from the latest ts_event', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 4, 4, 1, 12);
        const e1 = cold('(abcde|)', values);
        const expected = 'a 3ms (bcd) 3ms (e|)';
        expectObservable(e1.pipe(pace(1))).toBe(expected, values);
      });
    });

    it('emits a tick that arrives after its due time at once, and keeps later ticks on event time', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 3, 13);
        const e1 = cold('a 9ms (bc|)', values);
        const expected = 'a 9ms b 2ms (c|)';
        expectObservable(e1.pipe(pace(1))).toBe(expected, values);
      });
    });

    it('paces ticks arriving one by one like ticks arriving at once', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 3, 10);
        const e1 = cold('a-b-c|', values);
        const expected = 'a 2ms b 6ms (c|)';
        expectObservable(e1.pipe(pace(1))).toBe(expected, values);
      });
    });

    it('returns the source unchanged at speed 0', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 3, 10_000);
        const e1 = cold('(abc|)', values);
        expect(e1.pipe(pace(0))).toBe(e1);
        expectObservable(e1.pipe(pace(0))).toBe('(abc|)', values);
      });
    });

    it('emits at most 1000 records per scheduler action when many are due at once, letting other actions run between', () => {
      const times: number[] = [];
      let emittedWhenOtherActionRan: number | undefined;
      scheduler.run(({ cold }) => {
        // A first tick at frame 0, then 2500 ticks all due at frame 10, queued at once.
        const due = Array.from({ length: 2500 }, (_, i) => makeTick({ ts_event: T0 + 10 * MS, sequence: i + 2 }));
        const e1 = cold<Tick[]>('(ab)', { a: [makeTick({ ts_event: T0 })], b: due }).pipe(mergeMap((batch) => batch));
        e1.pipe(pace(1)).subscribe(() => times.push(scheduler.now()));
        // Another action at frame 10, queued after the pacer's.
        scheduler.schedule(() => scheduler.schedule(() => (emittedWhenOtherActionRan = times.length), 9), 1);
      });
      expect(times.length).toBe(2501);
      expect(times.filter((t) => t === 10).length).toBe(2500);
      expect(emittedWhenOtherActionRan).toBe(1001);
    });
  });

  describe('lifecycle', () => {
    it('never emits for a source that never emits', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const e1 = cold<Tick>('-');
        const e1subs = '^';
        const expected = '-';
        expectObservable(e1.pipe(pace(1))).toBe(expected);
        expectSubscriptions(e1.subscriptions).toBe(e1subs);
      });
    });

    it('completes with an empty source', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const e1 = cold<Tick>('|');
        const e1subs = '(^!)';
        const expected = '|';
        expectObservable(e1.pipe(pace(1))).toBe(expected);
        expectSubscriptions(e1.subscriptions).toBe(e1subs);
      });
    });

    it('emits one value at once', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0);
        const e1 = cold('--a--|', values);
        const expected = '--a--|';
        expectObservable(e1.pipe(pace(1))).toBe(expected, values);
      });
    });

    it('passes an error on at once, dropping ticks still waiting', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const values = ticksAt(0, 7);
        const e1 = cold('(ab) 1ms #', values);
        const e1subs = '^ 4ms !';
        const expected = 'a 4ms #';
        expectObservable(e1.pipe(pace(1))).toBe(expected, values);
        expectSubscriptions(e1.subscriptions).toBe(e1subs);
      });
    });

    it('stops emitting when unsubscribed early from a source that never ends', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const values = ticksAt(0, 3, 6, 9);
        const e1 = cold('(abcd)', values);
        const unsub = '^ 4ms !';
        const e1subs = '^ 4ms !';
        const expected = 'a 2ms b';
        expectObservable(e1.pipe(pace(1)), unsub).toBe(expected, values);
        expectSubscriptions(e1.subscriptions).toBe(e1subs);
      });
    });

    it('stops at once when the subscriber unsubscribes during next (re-entrancy)', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const values = ticksAt(0, 3, 6, 9);
        const e1 = cold('(abcd)', values);
        const e1subs = '^ 2ms !';
        const expected = 'a 2ms (b|)';
        expectObservable(e1.pipe(pace(1), take(2))).toBe(expected, values);
        expectSubscriptions(e1.subscriptions).toBe(e1subs);
      });
    });

    it('keeps order when a tick arrives while it is emitting', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 3, 3);
        const e1 = cold('(abc|)', values);
        const expected = 'a 2ms (bc|)';
        expectObservable(e1.pipe(pace(1))).toBe(expected, values);
      });
    });

    it('paces each subscription on its own', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const values = ticksAt(0, 3);
        const e1 = cold('(ab|)', values);
        const paced = e1.pipe(pace(1));
        expectObservable(paced).toBe('a 2ms (b|)', values);
        expectObservable(paced).toBe('a 2ms (b|)', values);
      });
    });
  });
});

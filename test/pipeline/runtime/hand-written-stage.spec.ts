import { EMPTY, Subject, config, tap, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handWrittenStage } from '../../../pipeline/runtime/hand-written-stage.js';
import { createTestScheduler } from '../../support/marbles.js';

/** A stage that emits every value of its inputs doubled. */
function doubled(...inputs: Observable<number>[]): Observable<number> {
  return handWrittenStage<number>((stage) => {
    for (const input of inputs) stage.follow(input, (x) => stage.emit(x * 2));
  });
}

const numbers = { 1: 1, 2: 2, 3: 3, 4: 4, 6: 6 };

describe('handWrittenStage', () => {
  let scheduler: TestScheduler;
  /** Errors RxJS would have thrown as uncaught exceptions. */
  let uncaught: unknown[];
  beforeEach(() => {
    scheduler = createTestScheduler();
    uncaught = [];
    config.onUnhandledError = (error) => uncaught.push(error);
  });
  afterEach(() => {
    config.onUnhandledError = null;
    expect(uncaught).toEqual([]);
  });

  it('emits what its handlers emit and completes once every awaited input has', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -1---2-|', numbers);
      const e2 = cold('  --3-------|', numbers);
      const e1subs = '   ^------!';
      const e2subs = '   ^---------!';
      const expected = ' -26--4----|';
      expectObservable(doubled(e1, e2)).toBe(expected, numbers);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e2subs);
    });
  });

  it('does not wait for an input that is not awaited, and unsubscribes it on completion', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -1--|', numbers);
      const e2 = hot('   --3---3', numbers);
      const e2subs = '   ^---!';
      const expected = ' -26-|';
      const stage = handWrittenStage<number>((s) => {
        s.follow(e1, (x) => s.emit(x * 2));
        s.follow(e2, (x) => s.emit(x * 2), { awaited: false });
      });
      expectObservable(stage).toBe(expected, numbers);
      expectSubscriptions(e2.subscriptions).toBe(e2subs);
    });
  });

  it('counts an input that completes while start runs only once every input is followed', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(doubled(EMPTY, cold('-1|', numbers))).toBe('-2|', numbers);
      expectObservable(doubled(EMPTY)).toBe('|');
    });
  });

  it('turns a throwing input handler into an error of the output, after what it emitted before, and unsubscribes every input', () => {
    const boom = new Error('handler broke');
    let handled = 0;
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -1-3-4-|', numbers);
      const e2 = hot('   ------2', numbers);
      const subs = '     ^--!';
      const expected = ' -2-(6#)';
      const stage = handWrittenStage<number>((s) => {
        const handle = (x: number): void => {
          handled++;
          s.emit(x * 2);
          if (x === 3) throw boom;
        };
        s.follow(e1, handle);
        s.follow(e2, handle);
      });
      expectObservable(stage).toBe(expected, numbers, boom);
      expectSubscriptions(e1.subscriptions).toBe(subs);
      expectSubscriptions(e2.subscriptions).toBe(subs);
    });
    expect(handled).toBe(2);
  });

  it('turns a throwing start into an error at subscribe', () => {
    const boom = new Error('bad start');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('-1|', numbers);
      const stage = handWrittenStage<number>((s) => {
        s.emit(0);
        throw boom;
      });
      expectObservable(stage).toBe('(0#)', { 0: 0 }, boom);
      expectSubscriptions(e1.subscriptions).toBe([]);
    });
  });

  it('runs timers on the scheduler and turns a throwing one into an error of the output', () => {
    const boom = new Error('timer broke');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -1-2----', numbers);
      const e1subs = '   ^----!';
      const expected = ' ---2-#';
      const stage = handWrittenStage<number>((s) => {
        s.follow(e1, (x) => {
          s.schedule(
            scheduler,
            () => {
              if (x === 2) throw boom;
              s.emit(x * 2);
            },
            2,
          );
        });
      });
      expectObservable(stage).toBe(expected, numbers, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('errors the output when one input errors, after what was queued, and unsubscribes the others', () => {
    const lost = new Error('feed lost');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -1-----', numbers);
      const e2 = cold('  ---#', numbers, lost);
      const subs = '     ^--!';
      const expected = ' -2-#';
      expectObservable(doubled(e1, e2)).toBe(expected, numbers, lost);
      expectSubscriptions(e1.subscriptions).toBe(subs);
      expectSubscriptions(e2.subscriptions).toBe(subs);
    });
  });

  it('unsubscribes its inputs, cancels its timers and runs its teardown when unsubscribed', () => {
    let fired = false;
    let tornDown = false;
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('   -1-----', numbers);
      const unsub = '    ---!';
      const e1subs = '   ^--!';
      const stage = handWrittenStage<number>((s) => {
        s.follow(e1, () =>
          s.schedule(
            scheduler,
            () => {
              fired = true;
            },
            5,
          ),
        );
        return { teardown: () => (tornDown = true) };
      });
      expectObservable(stage, unsub).toBe('----');
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(fired).toBe(false);
    expect(tornDown).toBe(true);
    // Virtual time ends at the unsubscription: the timer due at 6 did not outlive it.
    expect(scheduler.now()).toBe(3);
  });

  it('completes as whenInputsComplete decides, after what is queued', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -1-|', numbers);
      const stage = handWrittenStage<number>((s) => {
        s.follow(e1, (x) => s.emit(x));
        return {
          whenInputsComplete: () => {
            s.emit(4);
            s.schedule(scheduler, () => s.complete(), 2);
          },
        };
      });
      expectObservable(stage).toBe('-1-4-|', numbers);
    });
  });

  it('handles a value fed back during an emission against complete state, and emits after what was queued before it', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -x-', { x: 'x' });
      const feedback = new Subject<string>();
      const expected = ' -(abc)';
      let handled = 0;
      const stage = handWrittenStage<string>((s) => {
        const handle = (v: string): void => {
          s.emit(`${v}${handled}`);
          handled++;
          if (v === 'x') s.emit('z');
        };
        s.follow(e1, handle);
        s.follow(feedback, handle, { awaited: false });
      });
      // A subscriber that answers the first value at once, from inside its delivery.
      const fed = stage.pipe(tap((v) => v === 'x0' && feedback.next('y')));
      expectObservable(fed).toBe(expected, { a: 'x0', b: 'z', c: 'y1' });
    });
  });

  it('queues side observers in one order with the output, and fails on one that throws without delivering what follows it', () => {
    const boom = new Error('side broke');
    const delivered: string[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -1-2-3', numbers);
      const side = {
        next: (v: string) => {
          delivered.push(v);
          if (v === 'side 2') throw boom;
        },
      };
      const stage = handWrittenStage<string>((s) => {
        s.follow(e1, (x) => {
          s.emitTo(side, `side ${x}`);
          s.emit(`out ${x}`);
        });
      });
      expectObservable(stage.pipe(tap((v) => delivered.push(v)))).toBe('-a-#', { a: 'out 1' }, boom);
    });
    expect(delivered).toEqual(['side 1', 'out 1', 'side 2']);
  });

  it('delivers at once on flush, inside the callback', () => {
    const order: string[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -1|', numbers);
      const stage = handWrittenStage<number>((s) => {
        s.follow(e1, (x) => {
          s.emit(x);
          s.flush();
          order.push('after flush');
        });
      });
      expectObservable(stage.pipe(tap(() => order.push('delivered')))).toBe('-1|', numbers);
    });
    expect(order).toEqual(['delivered', 'after flush']);
  });
});

import { config, map, of, pipe, tap, type OperatorFunction } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageMeter } from '../../../pipeline/runtime/stage-meter.js';
import { StageMetrics } from '../../../pipeline/runtime/stage-metrics.js';
import { createTestScheduler } from '../../support/marbles.js';
import { makeTick } from '../../support/make-tick.js';

const values = { a: makeTick({ sequence: 1 }), b: makeTick({ sequence: 2 }) };

/** The operator measured the way the runner measures a stage. */
function measureStage<I, O>(operator: OperatorFunction<I, O>, metrics: StageMetrics): OperatorFunction<I, O> {
  const meter = new StageMeter(metrics);
  return pipe(meter.input<I>(), operator, meter.output<O>());
}

describe('StageMeter', () => {
  let scheduler: TestScheduler;
  let metrics: StageMetrics;
  /** Errors RxJS would have thrown as uncaught exceptions. */
  let uncaught: unknown[];
  beforeEach(() => {
    scheduler = createTestScheduler();
    metrics = new StageMetrics('s', 'c', [1e-3, 1]);
    uncaught = [];
    config.onUnhandledError = (error) => uncaught.push(error);
  });
  afterEach(() => {
    config.onUnhandledError = null;
  });

  it('leaves the stream as the operator makes it and counts records in and out', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a--b--|', values);
      const e1subs = '   ^------!';
      const expected = ' -a--b--|';
      expectObservable(
        e1.pipe(
          measureStage(
            map((t) => t),
            metrics,
          ),
        ),
      ).toBe(expected, values);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect([metrics.recordsIn, metrics.recordsOut, metrics.latencyCount]).toEqual([2, 2, 2]);
  });

  it('handles never, empty, error and early unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      expectObservable(
        cold('-').pipe(
          measureStage(
            map((t) => t),
            metrics,
          ),
        ),
      ).toBe('-');
      expectObservable(
        cold('|').pipe(
          measureStage(
            map((t) => t),
            metrics,
          ),
        ),
      ).toBe('|');
      expectObservable(
        cold('-a-#', values).pipe(
          measureStage(
            map((t) => t),
            metrics,
          ),
        ),
      ).toBe('-a-#', values);
      expectObservable(
        hot('-a-b-a-b-', values).pipe(
          measureStage(
            map((t) => t),
            metrics,
          ),
        ),
        '----!',
      ).toBe('-a-b-', values);
    });
  });

  it('turns an operator callback that throws into an error of the stream', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const boom = new Error('bad');
      const throwing = map(() => {
        throw boom;
      });
      expectObservable(cold('-a-b-|', values).pipe(measureStage(throwing, metrics))).toBe('-#', undefined, boom);
    });
  });

  it('turns a latency hook that throws into an error of the stream, after the record it timed', () => {
    const boom = new Error('histogram broke');
    class BrokenLatency extends StageMetrics {
      override observeLatency(): void {
        throw boom;
      }
    }
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-b-|', values);
      const e1subs = '   ^!';
      const expected = ' -(a#)';
      expectObservable(
        e1.pipe(
          measureStage(
            map((t) => t),
            new BrokenLatency('s', 'c', [1]),
          ),
        ),
      ).toBe(expected, values, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(uncaught).toEqual([]);
  });

  it('turns a counter that throws on a record out into an error of the stream', () => {
    const boom = new Error('counter broke');
    Object.defineProperty(metrics, 'recordsOut', {
      get: () => 0,
      set: () => {
        throw boom;
      },
    });
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-b-|', values);
      const e1subs = '   ^!';
      expectObservable(
        e1.pipe(
          measureStage(
            map((t) => t),
            metrics,
          ),
        ),
      ).toBe('-#', undefined, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(uncaught).toEqual([]);
  });

  it('times every record of the first 256, then one in 8 counted for 8: the latency count follows the records in', () => {
    const n = 10_000;
    const ticks = Array.from({ length: n }, (_, i) => makeTick({ sequence: i }));
    let out = 0;
    of(...ticks)
      .pipe(
        measureStage(
          map((t) => t),
          metrics,
        ),
      )
      .subscribe(() => out++);
    expect([out, metrics.recordsIn, metrics.recordsOut]).toEqual([n, n, n]);
    expect(metrics.latencyCount).toBeGreaterThanOrEqual(n);
    expect(metrics.latencyCount).toBeLessThan(n + StageMeter.SAMPLE_EVERY);
    expect(metrics.latencyBuckets.reduce((sum, b) => sum + b, 0)).toBeLessThanOrEqual(metrics.latencyCount);
    const small = new StageMetrics('s', 'c', [1]);
    of(...ticks.slice(0, StageMeter.TIMED_FIRST))
      .pipe(
        measureStage(
          map((t) => t),
          small,
        ),
      )
      .subscribe();
    expect(small.latencyCount).toBe(StageMeter.TIMED_FIRST);
  });

  it('excludes the time spent in later stages from the stage latency', () => {
    const busyMs = 20;
    of(1)
      .pipe(
        measureStage(
          map((x: number) => x),
          metrics,
        ),
        tap(() => {
          const until = performance.now() + busyMs;
          while (performance.now() < until) {
            // the next stage is slow
          }
        }),
      )
      .subscribe();
    expect(metrics.latencyCount).toBe(1);
    expect(metrics.latencySum).toBeLessThan(busyMs / 1000 / 2);
  });
});

import fc from 'fast-check';
import { pino } from 'pino';
import { Subject, config, from } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../errors/errors.js';
import { StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import { dedupMerge, type DedupMergeOptions } from '../../operators/dedup-merge.js';
import { dedupMergeOperator } from '../../operators/dedup-merge-operator.js';
import { DiffQuoteFields, type QuoteField } from '../../protocols/diff/diff-quote-fields.js';
import type { FeedState, FeedStatus, Tick } from '../../schemas/generated.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';
import { testContext } from '../support/test-context.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';

/** Feed health thresholds in frames (1 ms each), short enough to draw. */
const STALE_MS = 4;
const DOWN_MS = 8;
const HALF_SECOND = 500_000;
const T0 = makeTick().ts_event;
const EVENT_LETTERS = 'abcdefgh';

/** Market event i of SHFE.rb2501: half a second after event i - 1, with its own volume. */
function marketEvent(i: number, changes: Partial<Tick> = {}): Tick {
  return makeTick({ ts_event: T0 + i * HALF_SECOND, volume: 12_000 + i, ...changes });
}

/** `event` as feed `feedId` delivers it: the feed's own sequence and receive time. */
function delivered(event: Tick, feedId: string, sequence: number): Tick {
  return { ...event, feed_id: feedId, sequence, ts_recv: event.ts_event + (feedId === 'a' ? 1_000 : 3_000) };
}

/** Feed a delivers market events 0–7 as a–h, feed b as A–H, with sequences 1–8. */
const ticks: Record<string, Tick> = Object.fromEntries(
  [...EVENT_LETTERS].flatMap((letter, i) => [
    [letter, delivered(marketEvent(i), 'a', i + 1)],
    [letter.toUpperCase(), delivered(marketEvent(i), 'b', i + 1)],
  ]),
);

interface FeedCounts {
  readonly lead?: number;
  readonly lag?: number;
  readonly gap?: number;
  readonly drop?: number;
}

/** The record `dedupMerge` reports for `feedId` at virtual time `frame`; `lastEvent` is the index of the feed's last market event. */
function feedStatus(
  feedId: string,
  state: FeedState,
  frame: number,
  lastEvent: number | null,
  counts: FeedCounts,
  detail: string,
): FeedStatus {
  return {
    feed_id: feedId,
    state,
    ts_event: frame * 1000,
    last_tick_ts: lastEvent === null ? null : T0 + lastEvent * HALF_SECOND,
    lead_count: counts.lead ?? 0,
    lag_count: counts.lag ?? 0,
    gap_count: counts.gap ?? 0,
    drop_count: counts.drop ?? 0,
    detail,
  };
}

const QUOTE_FIELDS = Object.keys(DiffQuoteFields.keyOf) as QuoteField[];

/** What identifies a market event: the tick without the fields of the feed that delivered it. */
function marketFieldsOf(tick: Tick): Record<string, null | number | string> {
  return { instrument_id: tick.instrument_id, ...Object.fromEntries(QUOTE_FIELDS.map((field) => [field, tick[field]])) };
}

describe('dedupMerge', () => {
  let scheduler: TestScheduler;
  let metrics: StageMetrics;
  let status: Subject<FeedStatus>;
  let options: DedupMergeOptions;
  /** Errors RxJS would have thrown as uncaught exceptions. */
  let uncaught: unknown[];
  beforeEach(() => {
    scheduler = createTestScheduler();
    metrics = new StageMetrics('s', 'dedup-merge', [1]);
    status = new Subject<FeedStatus>();
    options = { staleAfterMs: STALE_MS, downAfterMs: DOWN_MS, scheduler, metrics, status };
    uncaught = [];
    config.onUnhandledError = (error) => uncaught.push(error);
  });
  afterEach(() => {
    config.onUnhandledError = null;
  });

  it('emits nothing for never, and reports no feed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<Tick>('-');
      const e1subs = '       ^';
      const expected = '     -';
      expectObservable(status).toBe('-');
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('completes on empty', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<Tick>('|');
      const e1subs = '       (^!)';
      const expected = '     |';
      expectObservable(status).toBe('-');
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('emits one value, reports its feed UP, and stops the health timer on completion', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-|', ticks);
      const e1subs = '   ^--!';
      const expected = ' -a-|';
      const reported = ' -u--';
      expectObservable(status).toBe(reported, { u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick') });
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected, ticks);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    // Virtual time ends at the completion: no health check (due at frame 5) outlived it.
    expect(scheduler.now()).toBe(3);
  });

  it('emits one copy of what feeds a and b both deliver, counting a as leading and b as lagging', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -aAbBcC--------', ticks);
      const e1subs = '   ^';
      const expected = ' -a-b-c--------';
      const reported = ' -uU------sS--dD';
      expectObservable(status).toBe(reported, {
        u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick'),
        U: feedStatus('b', 'UP', 2, 0, { lag: 1, drop: 1 }, 'first tick'),
        s: feedStatus('a', 'STALE', 9, 2, { lead: 3 }, 'no tick for 4 ms'),
        S: feedStatus('b', 'STALE', 10, 2, { lag: 3, drop: 3 }, 'no tick for 4 ms'),
        d: feedStatus('a', 'DOWN', 13, 2, { lead: 3 }, 'no tick for 8 ms'),
        D: feedStatus('b', 'DOWN', 14, 2, { lag: 3, drop: 3 }, 'no tick for 8 ms'),
      });
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected, ticks);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ duplicate: 3 });
  });

  it('carries on with feed b when feed a dies, and reports a STALE then DOWN on time', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('  -aAbB-C-D-E-F-G-H', ticks);
      const e1subs = '  ^';
      const expected = '-a-b--C-D-E-F-G-H';
      const reported = '-uU----s---d--------S---D';
      expectObservable(status).toBe(reported, {
        u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick'),
        U: feedStatus('b', 'UP', 2, 0, { lag: 1, drop: 1 }, 'first tick'),
        s: feedStatus('a', 'STALE', 7, 1, { lead: 2 }, 'no tick for 4 ms'),
        d: feedStatus('a', 'DOWN', 11, 1, { lead: 2 }, 'no tick for 8 ms'),
        S: feedStatus('b', 'STALE', 20, 7, { lead: 6, lag: 2, drop: 2 }, 'no tick for 4 ms'),
        D: feedStatus('b', 'DOWN', 24, 7, { lead: 6, lag: 2, drop: 2 }, 'no tick for 8 ms'),
      });
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected, ticks);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('reports expected feeds DOWN from the start until their first tick, and a feed UP again when it resumes', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  ----a------------b', ticks);
      const expected = '----a------------b';
      const reported = '(pq)u---s---d----r---t---e';
      expectObservable(status).toBe(reported, {
        p: feedStatus('a', 'DOWN', 0, null, {}, 'expected feed, no tick yet'),
        q: feedStatus('b', 'DOWN', 0, null, {}, 'expected feed, no tick yet'),
        u: feedStatus('a', 'UP', 4, 0, { lead: 1 }, 'first tick'),
        s: feedStatus('a', 'STALE', 8, 0, { lead: 1 }, 'no tick for 4 ms'),
        d: feedStatus('a', 'DOWN', 12, 0, { lead: 1 }, 'no tick for 8 ms'),
        r: feedStatus('a', 'UP', 17, 1, { lead: 2 }, 'tick after 13 ms without one'),
        t: feedStatus('a', 'STALE', 21, 1, { lead: 2 }, 'no tick for 4 ms'),
        e: feedStatus('a', 'DOWN', 25, 1, { lead: 2 }, 'no tick for 8 ms'),
      });
      expectObservable(e1.pipe(dedupMerge({ ...options, expectedFeeds: ['a', 'b'] }))).toBe(expected, ticks);
    });
  });

  it('reports a STALE feed UP again at its next tick', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  -a-----b', ticks);
      const expected = '-a-----b';
      const reported = '-u---s-r---t---d';
      expectObservable(status).toBe(reported, {
        u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick'),
        s: feedStatus('a', 'STALE', 5, 0, { lead: 1 }, 'no tick for 4 ms'),
        r: feedStatus('a', 'UP', 7, 1, { lead: 2 }, 'tick after 6 ms without one'),
        t: feedStatus('a', 'STALE', 11, 1, { lead: 2 }, 'no tick for 4 ms'),
        d: feedStatus('a', 'DOWN', 15, 1, { lead: 2 }, 'no tick for 8 ms'),
      });
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected, ticks);
    });
  });

  it('drops a tick its own feed repeats, without counting the feed as lagging', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  -aab', ticks);
      const expected = '-a-b';
      const reported = '-u-----s---d';
      expectObservable(status).toBe(reported, {
        u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick'),
        s: feedStatus('a', 'STALE', 7, 1, { lead: 2, drop: 1 }, 'no tick for 4 ms'),
        d: feedStatus('a', 'DOWN', 11, 1, { lead: 2, drop: 1 }, 'no tick for 8 ms'),
      });
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected, ticks);
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ duplicate: 1 });
  });

  it('drops as stale a tick older than the last one emitted for its instrument', () => {
    // Feed a delivers event 2 before event 1, numbering them in the order it sends them.
    const outOfOrder = { x: delivered(marketEvent(0), 'a', 1), z: delivered(marketEvent(2), 'a', 2), y: delivered(marketEvent(1), 'a', 3) };
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  -xzy', outOfOrder);
      const expected = '-xz-';
      const reported = '-u-----s---d';
      expectObservable(status).toBe(reported, {
        u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick'),
        s: feedStatus('a', 'STALE', 7, 1, { lead: 2, drop: 1 }, 'no tick for 4 ms'),
        d: feedStatus('a', 'DOWN', 11, 1, { lead: 2, drop: 1 }, 'no tick for 8 ms'),
      });
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected, outOfOrder);
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ stale: 1 });
  });

  it('counts a jump in a feed’s sequence as a gap, and emits on', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  -abd', ticks);
      const expected = '-abd';
      const reported = '-u-----s---d';
      expectObservable(status).toBe(reported, {
        u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick'),
        s: feedStatus('a', 'STALE', 7, 3, { lead: 3, gap: 1 }, 'no tick for 4 ms'),
        d: feedStatus('a', 'DOWN', 11, 3, { lead: 3, gap: 1 }, 'no tick for 8 ms'),
      });
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected, ticks);
    });
  });

  it('emits both of two events at the same ts_event that differ in content, and drops their copies in any order', () => {
    const trade = marketEvent(1);
    const quoteChange = marketEvent(1, { bid_volume1: 99 });
    const sameInstant = {
      x: delivered(trade, 'a', 1),
      y: delivered(quoteChange, 'a', 2),
      Y: delivered(quoteChange, 'b', 1),
      X: delivered(trade, 'b', 2),
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -xyYX|', sameInstant);
      const expected = ' -xy--|';
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected, sameInstant);
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ duplicate: 2 });
  });

  it('passes an error through and stops the health timer', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-#', ticks, new Error('feed lost'));
      const e1subs = '   ^--!';
      const expected = ' -a-#';
      const reported = ' -u--';
      expectObservable(status).toBe(reported, { u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick') });
      expectObservable(e1.pipe(dedupMerge(options))).toBe(expected, ticks, new Error('feed lost'));
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(scheduler.now()).toBe(3);
  });

  it('follows a source that never ends, and stops the health timer when unsubscribed early', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('  -a-b---', ticks);
      const unsub = '   ----!  ';
      const e1subs = '  ^---!  ';
      const expected = '-a-b-  ';
      const reported = '-u-----';
      expectObservable(status).toBe(reported, { u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick') });
      expectObservable(e1.pipe(dedupMerge(options)), unsub).toBe(expected, ticks);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    // Virtual time ends at the unsubscription: no health check (due at frame 7) outlived it.
    expect(scheduler.now()).toBe(4);
  });

  it('fails the stream when the status observer throws', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const boom = new Error('status sink broke');
      const throwingStatus = {
        next: () => {
          throw boom;
        },
      };
      const e1 = cold('  -ab', ticks);
      const e1subs = '   ^!';
      const expected = ' -(a#)';
      expectObservable(e1.pipe(dedupMerge({ ...options, status: throwingStatus }))).toBe(expected, ticks, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('fails the stream when count throws: the ticks before it came out, the rest are not processed, nothing escapes', () => {
    const boom = new Error('counter broke');
    let counted = 0;
    const count = (): void => {
      if (++counted === 2) throw boom;
    };
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -abc', ticks);
      const e1subs = '   ^-!';
      const expected = ' -a#';
      expectObservable(e1.pipe(dedupMerge({ ...options, count }))).toBe(expected, ticks, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(counted).toBe(2);
    expect(uncaught).toEqual([]);
  });

  it('fails the stream when the metrics hook throws on a dropped copy', () => {
    const boom = new Error('metrics broke');
    const throwingMetrics = {
      dropped: () => {
        throw boom;
      },
    };
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -aAb', ticks);
      const e1subs = '   ^-!';
      const expected = ' -a#';
      expectObservable(e1.pipe(dedupMerge({ ...options, metrics: throwingMetrics }))).toBe(expected, ticks, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(uncaught).toEqual([]);
  });

  it('fails the stream when the status observer throws from the health timer, and stops following the feed', () => {
    const boom = new Error('status sink broke');
    const staleThrows = {
      next: (record: FeedStatus) => {
        if (record.state === 'STALE') throw boom;
      },
    };
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('  -a-------', ticks);
      const e1subs = '  ^----!';
      const expected = '-a---#';
      expectObservable(e1.pipe(dedupMerge({ ...options, status: staleThrows }))).toBe(expected, ticks, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(uncaught).toEqual([]);
  });

  it('fails the stream when the status observer throws on an expected feed at subscribe, before following the feeds', () => {
    const boom = new Error('status sink broke');
    const throwing = {
      next: () => {
        throw boom;
      },
    };
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<Tick>('-a');
      expectObservable(e1.pipe(dedupMerge({ ...options, expectedFeeds: ['a'], status: throwing }))).toBe('#', undefined, boom);
      expectSubscriptions(e1.subscriptions).toBe([]);
    });
    expect(uncaught).toEqual([]);
  });

  it('sees its own state when a subscriber or the status observer feeds ticks back in', () => {
    scheduler.run(() => {
      const source = new Subject<Tick>();
      const seen: Tick[] = [];
      const reentrantStatus = {
        next: (record: FeedStatus) => {
          // Fed back from the UP report of a: must not overtake a, which is emitted first.
          if (record.feed_id === 'a' && record.state === 'UP') source.next(ticks.c as Tick);
        },
      };
      source.pipe(dedupMerge({ ...options, status: reentrantStatus })).subscribe((tick) => {
        seen.push(tick);
        // b's copy of what a just delivered must already count as a duplicate.
        if (tick === ticks.a) source.next(ticks.A as Tick);
      });
      source.next(ticks.a as Tick);
      source.next(ticks.b as Tick);
      expect(seen).toEqual([ticks.a, ticks.c]);
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ duplicate: 1, stale: 1 });
  });

  it('rejects thresholds that cannot order STALE before DOWN', () => {
    expect(() => dedupMerge({ staleAfterMs: 0, downAfterMs: 10 })).toThrow(ConfigError);
    expect(() => dedupMerge({ staleAfterMs: 10, downAfterMs: 10 })).toThrow(/'downAfterMs' must exceed 'staleAfterMs'/);
  });

  it('emits each market event exactly once, in order, however complete in-order feeds interleave', () => {
    // Each feed delivers the whole list in order: a tick that reaches the operator only after a newer
    // tick of its instrument was emitted is stale by design, so an incomplete or reordered feed may lose events.
    const eventSteps = fc.array(
      fc.record({
        instrument: fc.constantFrom('SHFE.rb2501', 'DCE.m2501', 'CZCE.SR501'),
        // Equal instants are allowed too: the volume keeps the events distinct.
        advanceUs: fc.constantFrom(0, 1, HALF_SECOND),
        last_price: fc.constantFrom(null, 3500, 3501),
        bid_volume1: fc.integer({ min: 0, max: 3 }),
      }),
      { minLength: 1, maxLength: 25 },
    );
    const scenario = fc.record({ steps: eventSteps, feedCount: fc.integer({ min: 2, max: 4 }) }).chain(({ steps, feedCount }) => {
      const arrivals = Array.from({ length: feedCount * steps.length }, (_, i) => i % feedCount);
      return fc.record({
        steps: fc.constant(steps),
        feedCount: fc.constant(feedCount),
        // Which feed delivers next: a permutation of each feed's turns keeps every feed's own order.
        arrivalOrder: fc.shuffledSubarray(arrivals, { minLength: arrivals.length, maxLength: arrivals.length }),
      });
    });

    fc.assert(
      fc.property(scenario, ({ steps, feedCount, arrivalOrder }) => {
        const latest = new Map<string, { ts: number; volume: number }>();
        const events = steps.map((step) => {
          const previous = latest.get(step.instrument) ?? { ts: T0, volume: 0 };
          const next = { ts: previous.ts + step.advanceUs, volume: previous.volume + 1 };
          latest.set(step.instrument, next);
          return makeTick({
            instrument_id: step.instrument,
            ts_event: next.ts,
            volume: next.volume,
            last_price: step.last_price,
            bid_volume1: step.bid_volume1,
          });
        });
        const delivery = Array.from({ length: feedCount }, () => 0);
        const merged = arrivalOrder.map((feed) => {
          const index = delivery[feed] ?? 0;
          delivery[feed] = index + 1;
          const event = events[index] as Tick;
          return { ...event, feed_id: `feed-${feed}`, sequence: index + 1, ts_recv: event.ts_event + 1_000 * (feed + 1) };
        });

        const output: Tick[] = [];
        const caseMetrics = new StageMetrics('s', 'dedup-merge', [1]);
        // A fresh scheduler per generated case, as beforeEach gives one per test.
        const caseScheduler = createTestScheduler();
        caseScheduler.run(() => {
          from(merged)
            .pipe(dedupMerge({ staleAfterMs: STALE_MS, downAfterMs: DOWN_MS, scheduler: caseScheduler, metrics: caseMetrics }))
            .subscribe((tick) => output.push(tick));
        });

        expect(output.map(marketFieldsOf)).toEqual(events.map(marketFieldsOf));
        const lastTsByInstrument = new Map<string, number>();
        for (const tick of output) {
          expect(tick.ts_event).toBeGreaterThanOrEqual(lastTsByInstrument.get(tick.instrument_id) ?? 0);
          lastTsByInstrument.set(tick.instrument_id, tick.ts_event);
        }
        expect(caseMetrics.droppedTotal).toBe((feedCount - 1) * events.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe('dedupMergeOperator', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  function context(logLines: string[]): ReturnType<typeof testContext> {
    const logger = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => logLines.push(line) });
    return testContext(scheduler, dedupMergeOperator, { stage: 'merge', logger });
  }

  it('fills documented defaults and rejects unknown fields', () => {
    expect(validateConfig('merge', dedupMergeOperator.spec, {})).toEqual({ stale_after_ms: 2000, down_after_ms: 10_000, feeds: [] });
    expect(() => validateConfig('merge', dedupMergeOperator.spec, { stale_ms: 1 })).toThrow(/unknown field 'stale_ms'/);
  });

  it('rejects down_after_ms not above stale_after_ms by its definition, naming both fields', () => {
    expect(() => validateComponentConfig(dedupMergeOperator, { stale_after_ms: 5000, down_after_ms: 5000 })).toThrow(
      /'down_after_ms' must exceed 'stale_after_ms'/,
    );
  });

  it('writes every change of a feed’s state to the status side output and logs it at info, on the context scheduler', () => {
    const logLines: string[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const config = validateConfig('merge', dedupMergeOperator.spec, { stale_after_ms: 4, down_after_ms: 8, feeds: ['b'] });
      const ctx = context(logLines);
      const merge = dedupMergeOperator.create(config, ctx);
      const e1 = cold('  -a-|', ticks);
      const expected = ' -a-|';
      const reported = ' pu';
      expectObservable(ctx.sideOutput<FeedStatus>('status') as Subject<FeedStatus>).toBe(reported, {
        p: feedStatus('b', 'DOWN', 0, null, {}, 'expected feed, no tick yet'),
        u: feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick'),
      });
      expectObservable(e1.pipe(merge)).toBe(expected, ticks);
    });
    expect(dedupMergeOperator.sideOutputs).toEqual({ status: 'FeedStatus' });
    const logged = logLines.map((line) => JSON.parse(line) as { level: number; msg: string; feedStatus: FeedStatus });
    expect(logged.map(({ level, msg }) => ({ level, msg }))).toEqual([
      { level: 30, msg: 'feed b DOWN: expected feed, no tick yet' },
      { level: 30, msg: 'feed a UP: first tick' },
    ]);
    expect(logged[1]?.feedStatus).toEqual(feedStatus('a', 'UP', 1, 0, { lead: 1 }, 'first tick'));
  });

  it('counts every feed’s ticks by outcome in Prometheus', async () => {
    const ctx = context([]);
    const config = validateConfig('merge', dedupMergeOperator.spec, { feeds: ['a', 'b'] });
    scheduler.run(({ cold, expectObservable }) => {
      const tick = makeTick({ feed_id: 'a', sequence: 1 });
      const copy = { ...tick, feed_id: 'b', sequence: 1 };
      const older = makeTick({ feed_id: 'b', sequence: 3, ts_event: tick.ts_event - 1 });
      expectObservable(cold('abc|', { a: tick, b: copy, c: older }).pipe(dedupMergeOperator.create(config, ctx))).toBe('a--|', { a: tick });
    });
    const text = await ctx.registry.metrics();
    expect(text).toContain('tickflow_dedup_merge_feed_ticks_total{stage="merge",feed="a",outcome="lead"} 1');
    expect(text).toContain('tickflow_dedup_merge_feed_ticks_total{stage="merge",feed="b",outcome="lag"} 1');
    expect(text).toContain('tickflow_dedup_merge_feed_ticks_total{stage="merge",feed="b",outcome="stale"} 1');
    expect(text).toContain('tickflow_dedup_merge_feed_ticks_total{stage="merge",feed="b",outcome="gap"} 1');
  });
});

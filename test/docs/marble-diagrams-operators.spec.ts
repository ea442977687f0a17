// The TSDoc marble diagrams of the operators, each run as written on the
// TestScheduler: the input lines are the streams, the output lines what the
// operator must emit, with values defined here after the diagram's notes.
import { Subject } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { bars } from '../../operators/bars.js';
import { dedupMerge } from '../../operators/dedup-merge.js';
import { passThrough } from '../../operators/pass-through.js';
import { quoteDiff } from '../../operators/quote-diff.js';
import { DiffQuoteFields, type QuoteField } from '../../protocols/diff/diff-quote-fields.js';
import type { Bar, FeedStatus, Tick } from '../../schemas/generated.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';
import { readDiagram } from '../support/tsdoc-diagrams.js';

/** Epoch microseconds of a local (UTC+8) time such as `09:00:59.990` on Friday 2025-01-03 (trading day 20250103). */
const at = (time: string): number => Date.parse(`2025-01-03T${time}+08:00`) * 1000;

describe('TSDoc marble diagrams: operators', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('passThrough: every record, unchanged and at its own time', () => {
    const diagram = readDiagram('operators/pass-through.ts', 'passThrough');
    expect(diagram.call).toBe('passThrough()');
    const values = { a: makeTick({ sequence: 1 }), b: makeTick({ sequence: 2 }), c: makeTick({ sequence: 3 }) };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold(diagram.marbles('source'), values);
      expectObservable(e1.pipe(passThrough())).toBe(diagram.marbles('result'), values);
    });
  });

  it('quoteDiff: every field first, then only what changed, nothing for a tick that changes nothing', () => {
    const diagram = readDiagram('operators/quote-diff.ts', 'quoteDiff');
    expect(diagram.call).toBe('quoteDiff()');
    const a = makeTick({ sequence: 1, last_price: 3500 });
    const b = { ...a, sequence: 2, last_price: 3501 };
    const c = { ...b, sequence: 3, ts_recv: b.ts_recv + 100 };
    const d = { ...c, sequence: 4, last_price: null };
    const diff = (tick: Tick, changes: QuoteDiffChanges) => ({ instrument_id: tick.instrument_id, ts_event: tick.ts_event, sequence: tick.sequence, changes });
    const everyField = Object.fromEntries((Object.keys(DiffQuoteFields.keyOf) as QuoteField[]).map((field) => [field, a[field]]));
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold(diagram.marbles('source'), { a, b, c, d });
      expectObservable(e1.pipe(quoteDiff())).toBe(diagram.marbles('result'), {
        A: diff(a, everyField),
        B: diff(b, { last_price: 3501 }),
        D: diff(d, { last_price: null }),
      });
    });
  });

  it('bars: a bar closed by the next period’s tick, by the timer, and at completion', () => {
    const diagram = readDiagram('operators/bars.ts', 'bars');
    expect(diagram.call).toBe('bars({ periodS: 60, closeDelayMs: 2 })');
    const tick = (time: string, price: number, volume: number): Tick =>
      makeTick({ ts_event: at(time), last_price: price, volume, turnover: volume * 35_000, open_interest: 1_000_000 + volume });
    const bar = (from: string, to: string, ohlc: readonly [number, number, number, number], volume: number, ticks: number, lastVolume: number): Bar => ({
      instrument_id: 'SHFE.rb2501',
      period_s: 60,
      trading_day: '20250103',
      ts_open: at(`${from}:00`),
      ts_close: at(`${to}:00`),
      open: ohlc[0],
      high: ohlc[1],
      low: ohlc[2],
      close: ohlc[3],
      volume,
      turnover: volume * 35_000,
      open_interest: 1_000_000 + lastVolume,
      tick_count: ticks,
    });
    // The times of the diagram's note; the first tick counts against its own volume.
    const ticks = { a: tick('09:00:10', 3500, 100), b: tick('09:00:40', 3502, 104), c: tick('09:01:59.996', 3501, 110), d: tick('09:03:20', 3499, 111) };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold(diagram.marbles('source'), ticks);
      expectObservable(e1.pipe(bars({ periodS: 60, closeDelayMs: 2, scheduler }))).toBe(diagram.marbles('result'), {
        A: bar('09:00', '09:01', [3500, 3502, 3500, 3502], 4, 2, 104),
        C: bar('09:01', '09:02', [3501, 3501, 3501, 3501], 6, 1, 110),
        D: bar('09:03', '09:04', [3499, 3499, 3499, 3499], 1, 1, 111),
      });
    });
  });

  it('dedupMerge: the first copy of each event passes; each feed goes UP, STALE and DOWN on the scheduler', () => {
    const diagram = readDiagram('operators/dedup-merge.ts', 'dedupMerge');
    expect(diagram.call).toBe('dedupMerge({ staleAfterMs: 4, downAfterMs: 8 })');
    const event = (i: number): Tick => makeTick({ ts_event: makeTick().ts_event + i * 500_000, volume: 12_000 + i });
    const copy = (tick: Tick, feedId: string, sequence: number): Tick => ({ ...tick, feed_id: feedId, sequence, ts_recv: tick.ts_event + (feedId === 'a' ? 1000 : 3000) });
    const ticks = { x: copy(event(0), 'a', 1), X: copy(event(0), 'b', 1), y: copy(event(1), 'a', 2), Y: copy(event(1), 'b', 2), z: copy(event(2), 'a', 3) };
    const state = (feedId: string, feedState: FeedStatus['state']) => expect.objectContaining({ feed_id: feedId, state: feedState });
    const status = new Subject<FeedStatus>();
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold(diagram.marbles('source'), ticks);
      expectObservable(status).toBe(diagram.marbles('status'), {
        u: state('a', 'UP'),
        U: state('b', 'UP'),
        s: state('a', 'STALE'),
        S: state('b', 'STALE'),
        d: state('a', 'DOWN'),
        D: state('b', 'DOWN'),
      });
      expectObservable(e1.pipe(dedupMerge({ staleAfterMs: 4, downAfterMs: 8, scheduler, status }))).toBe(diagram.marbles('result'), ticks);
    });
  });
});

type QuoteDiffChanges = Record<string, null | number | string>;

import { describe, it, expect, beforeEach } from 'vitest';
import { pino, type Logger } from 'pino';
import { testContext } from '../support/test-context.js';
import { take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { ComponentContext } from '../../pipeline/components/component-definition.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { ConfigError } from '../../errors/errors.js';
import type { Tick } from '../../schemas/generated.js';
import { SimMarket } from '../../sources/sim-market.js';
import { simSource } from '../../sources/sim-source.js';

const DEFAULT_START = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
const DEFAULT_INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'];

/** The first `n` ticks of a market built like the source's with default config and `seed`. */
function expectedTicks(n: number, seed = 1): Tick[] {
  const market = new SimMarket({
    instruments: DEFAULT_INSTRUMENTS,
    seed,
    start: DEFAULT_START,
    tickIntervalMs: 500,
    feedId: 'sim',
    latencyUs: 2000,
  });
  return Array.from({ length: n }, () => market.next());
}

/** Marble values a, b, c… for the first ticks. */
function marbleValues(n: number): Record<string, Tick> {
  return Object.fromEntries(expectedTicks(n).map((tick, i) => [String.fromCharCode(97 + i), tick]));
}

describe('simSource', () => {
  let scheduler: TestScheduler;

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  function context(logger: Logger = pino({ level: 'silent' })): ComponentContext {
    return testContext(scheduler, simSource, { logger });
  }

  function createSource(raw: Record<string, unknown>, logger?: Logger) {
    return simSource.create(validateComponentConfig(simSource, raw, {}, `stage 's' (sim)`), context(logger));
  }

  describe('paced', () => {
    it('emits one tick per second at rate 1 and completes at count', () => {
      scheduler.run(({ expectObservable }) => {
        const e1 = createSource({ rate: 1, count: 3 });
        const expected = '1000ms a 999ms b 999ms (c|)';
        expectObservable(e1).toBe(expected, marbleValues(3));
      });
    });

    it('emits at 500 ms spacing at rate 2', () => {
      scheduler.run(({ expectObservable }) => {
        const e1 = createSource({ rate: 2, count: 3 });
        const expected = '500ms a 499ms b 499ms (c|)';
        expectObservable(e1).toBe(expected, marbleValues(3));
      });
    });

    it('stops emitting when unsubscribed early, on a source that never completes', () => {
      scheduler.run(({ expectObservable }) => {
        const e1 = createSource({ rate: 1 });
        const unsub = '^ 2500ms !';
        const expected = '1000ms a 999ms b';
        expectObservable(e1, unsub).toBe(expected, marbleValues(2));
      });
    });

    it('batches high rates every 10 ms and keeps the long-run rate exact', () => {
      const times: number[] = [];
      scheduler.run(() => {
        const subscription = createSource({ rate: 1000 }).subscribe(() => times.push(scheduler.now()));
        scheduler.schedule(() => subscription.unsubscribe(), 1005);
      });
      expect(times.length).toBe(1000);
      expect(times.filter((t) => t === 10).length).toBe(10);
      expect(new Set(times).size).toBe(100);
    });

    it('counts a fractional period against elapsed time, so no tick is lost to rounding', () => {
      const times: number[] = [];
      scheduler.run(() => {
        const subscription = createSource({ rate: 3 }).subscribe(() => times.push(scheduler.now()));
        scheduler.schedule(() => subscription.unsubscribe(), 10_050);
      });
      expect(times.length).toBe(30);
      expect(times[2]).toBeCloseTo(1000, 6);
      expect(times[29]).toBeCloseTo(10_000, 6);
    });

    it('emits the same ticks as SimMarket', () => {
      const ticks: Tick[] = [];
      scheduler.run(() => {
        createSource({ rate: 50, count: 40 }).subscribe((tick) => ticks.push(tick));
      });
      expect(ticks).toEqual(expectedTicks(40));
    });
  });

  describe('unpaced (rate 0)', () => {
    it('emits count ticks without virtual time passing', () => {
      scheduler.run(({ expectObservable }) => {
        const e1 = createSource({ rate: 0, count: 3 });
        const expected = '(abc|)';
        expectObservable(e1).toBe(expected, marbleValues(3));
      });
    });

    it('emits in chunks of 1000 per zero-delay action, letting other actions run in between', () => {
      const times: number[] = [];
      let completedAt: number | undefined;
      let emittedWhenOtherActionRan: number | undefined;
      scheduler.run(() => {
        createSource({ rate: 0, count: 2500 }).subscribe({
          next: () => times.push(scheduler.now()),
          complete: () => (completedAt = scheduler.now()),
        });
        scheduler.schedule(() => (emittedWhenOtherActionRan = times.length), 0);
      });
      expect(times.length).toBe(2500);
      expect(new Set(times)).toEqual(new Set([0]));
      expect(completedAt).toBe(0);
      expect(emittedWhenOtherActionRan).toBe(1000);
    });

    it('stops at once when the subscriber unsubscribes during next', () => {
      scheduler.run(({ expectObservable }) => {
        const e1 = createSource({ rate: 0 }).pipe(take(2));
        const expected = '(ab|)';
        expectObservable(e1).toBe(expected, marbleValues(2));
      });
    });
  });

  describe('subscriptions', () => {
    it('replays the same ticks for each subscription', () => {
      const first: Tick[] = [];
      const second: Tick[] = [];
      scheduler.run(() => {
        const e1 = createSource({ rate: 0, count: 20 });
        e1.subscribe((tick) => first.push(tick));
        e1.subscribe((tick) => second.push(tick));
      });
      expect(second).toEqual(first);
      expect(first).toEqual(expectedTicks(20));
    });

    it('follows seed, start, interval, feed id and latency from config', () => {
      const ticks: Tick[] = [];
      scheduler.run(() => {
        createSource({
          rate: 0,
          count: 2,
          seed: 7,
          instruments: ['DCE.i2501'],
          start: '2025-01-06T01:00:00Z',
          tick_interval_ms: 250,
          feed_id: 'sim-b',
          latency_us: 10,
        }).subscribe((tick) => ticks.push(tick));
      });
      const start = Date.parse('2025-01-06T09:00:00+08:00') * 1000;
      expect(ticks.map((t) => [t.instrument_id, t.ts_event, t.ts_recv, t.feed_id])).toEqual([
        ['DCE.i2501', start, start + 10, 'sim-b'],
        ['DCE.i2501', start + 250_000, start + 250_010, 'sim-b'],
      ]);
    });

    it('logs once when subscribed', () => {
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
      scheduler.run(() => {
        createSource({ rate: 0, count: 5 }, logger).subscribe();
      });
      expect(lines.length).toBe(1);
      expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 30, msg: 'sim market started', seed: 1, rate: 0, count: 5 });
    });
  });

  describe('config', () => {
    it('throws a ConfigError naming an unknown instrument', () => {
      expect(() => createSource({ instruments: ['SHFE.rb2501', 'SHFE.xx2501'] })).toThrow(ConfigError);
      expect(() => createSource({ instruments: ['SHFE.xx2501'] })).toThrow(/SHFE\.xx2501/);
    });

    it('throws a ConfigError naming the start field for a bad instant', () => {
      const badStarts = [
        'yesterday',
        '2025-01-02T21:00:00',
        '2025-02-30T09:00:00+08:00',
        '2025-01-02T24:00:00+08:00',
        '2025-13-01T09:00:00Z',
      ];
      for (const start of badStarts) {
        expect(() => createSource({ start })).toThrow(ConfigError);
        expect(() => createSource({ start })).toThrow(/'start' must be an ISO-8601 instant/);
      }
    });

    it('accepts instants with Z, seconds omitted and microsecond fractions', () => {
      const ticks: Tick[] = [];
      scheduler.run(() => {
        createSource({ rate: 0, count: 1, instruments: ['SHFE.rb2501'], start: '2025-01-02T01:30:00.000250Z' }).subscribe((tick) =>
          ticks.push(tick),
        );
        createSource({ rate: 0, count: 1, instruments: ['SHFE.rb2501'], start: '2025-01-02T09:30+08:00' }).subscribe((tick) =>
          ticks.push(tick),
        );
      });
      expect(ticks.map((t) => t.ts_event)).toEqual([
        Date.parse('2025-01-02T09:30:00+08:00') * 1000 + 250,
        Date.parse('2025-01-02T09:30:00+08:00') * 1000,
      ]);
    });

    it('rejects a negative rate and unknown fields through the spec', () => {
      expect(() => createSource({ rate: -1 })).toThrow(/'rate' must be at least 0/);
      expect(() => createSource({ speed: 1 })).toThrow(/unknown field 'speed'/);
    });
  });
});

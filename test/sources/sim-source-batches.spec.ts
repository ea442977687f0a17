import { pino } from 'pino';
import { asyncScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { MAX_SIM_BATCH, MAX_SIM_RATE, simSource } from '../../sources/sim-source.js';
import { testContext } from '../support/test-context.js';

describe('simSource', () => {
  let scheduler: TestScheduler;

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  /** How many ticks the source emits at each virtual time, for a config that skipped validation (as a caller in code may). */
  function ticksPerTurn(rate: number, count: number): Map<number, number> {
    const config = { ...validateConfig(`stage 's' (sim)`, simSource.spec, { count }), rate };
    const perTurn = new Map<number, number>();
    scheduler.run(() => {
      simSource.create(config, testContext(scheduler, simSource, { logger: pino({ level: 'silent' }) })).subscribe(() => {
        const now = scheduler.now();
        perTurn.set(now, (perTurn.get(now) ?? 0) + 1);
      });
    });
    return perTurn;
  }

  describe('at its highest rate', () => {
    it(`emits ${MAX_SIM_RATE} ticks a second in batches of at most ${MAX_SIM_BATCH} every 10 ms`, () => {
      const perTurn = ticksPerTurn(MAX_SIM_RATE, 3000);
      expect([...perTurn.entries()]).toEqual([
        [10, 1000],
        [20, 1000],
        [30, 1000],
      ]);
    });

    it(`never emits more than ${MAX_SIM_BATCH} ticks in one scheduler action, even at a rate past the maximum (1e308)`, () => {
      const perTurn = ticksPerTurn(1e308, 5 * MAX_SIM_BATCH);
      expect([...perTurn.entries()]).toEqual([10, 20, 30, 40, 50].map((t) => [t, MAX_SIM_BATCH]));
    });
  });

  it('refuses a rate past the maximum when the config is validated, naming the bound and the value', () => {
    expect(() => validateConfig(`stage 'market' (sim)`, simSource.spec, { rate: 1e308 })).toThrow(
      `stage 'market' (sim): 'rate' must be at most ${MAX_SIM_RATE}, got 1e+308`,
    );
  });

  it('asks the real scheduler for no timer longer than a second at a very slow rate (a longer one overflows and fires at once)', () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    try {
      const config = { ...validateConfig(`stage 's' (sim)`, simSource.spec, {}), rate: 1e-7 };
      const subscription = simSource
        .create(config, testContext(asyncScheduler, simSource, { logger: pino({ level: 'silent' }) }))
        .subscribe();
      subscription.unsubscribe();
      const delays = setIntervalSpy.mock.calls.map(([, delay]) => delay ?? 0);
      expect(delays.length).toBeGreaterThan(0);
      expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    } finally {
      setIntervalSpy.mockRestore();
    }
  });
});

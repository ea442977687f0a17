import { Subject } from 'rxjs';
import { bars } from '../operators/bars.js';
import type { Tick } from '../schemas/generated.js';
import { SimMarket } from '../sources/sim-market.js';
import { formatCount } from './format-count.js';

const TICKS = 300_000;
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
const PERIODS_S = [1, 60, 300] as const;

function simTicks(n: number): Tick[] {
  const market = new SimMarket({
    instruments: ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'],
    seed: 3,
    start: SIM_START_US,
    tickIntervalMs: 500,
    feedId: 'a',
    latencyUs: 0,
  });
  return Array.from({ length: n }, () => market.next());
}

/** Pushes `ticks` through `bars` synchronously (the close timer armed on the async scheduler, as live) and returns ticks in per second. */
function run(ticks: readonly Tick[], periodS: number): { perSecond: number; emitted: number } {
  const input = new Subject<Tick>();
  let emitted = 0;
  const subscription = input.pipe(bars({ periodS, closeDelayMs: 1000 })).subscribe(() => emitted++);
  const started = performance.now();
  for (const tick of ticks) input.next(tick);
  input.complete();
  const seconds = (performance.now() - started) / 1000;
  subscription.unsubscribe();
  return { perSecond: ticks.length / seconds, emitted };
}

/** The bars operator on sim ticks (six instruments, day and night sessions), ticks in per second for periods of 1, 60 and 300 s. */
export async function barsThroughput(): Promise<string[]> {
  const ticks = simTicks(TICKS);
  const lines = [`${TICKS.toLocaleString('en-US')} sim ticks, six instruments, 500 ms apart, records in per second:`];
  for (let round = 0; round < 2; round++) {
    // The first round warms the JIT; the second is reported.
    for (const periodS of PERIODS_S) {
      const result = run(ticks, periodS);
      if (round === 1)
        lines.push(
          `  bars, period ${`${periodS} s`.padEnd(6)} ${formatCount(result.perSecond)} records/s (${result.emitted.toLocaleString('en-US')} bars out)`,
        );
    }
  }
  return lines;
}

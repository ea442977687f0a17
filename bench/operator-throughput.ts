import { Subject } from 'rxjs';
import { dedupMerge } from '../operators/dedup-merge.js';
import { quoteDiff } from '../operators/quote-diff.js';
import type { Tick } from '../schemas/generated.js';
import { SimMarket } from '../sources/sim-market.js';
import { formatCount } from './format-count.js';

const TICKS = 300_000;
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;

function simTicks(n: number, feedId: string): Tick[] {
  const market = new SimMarket({
    instruments: ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'],
    seed: 3,
    start: SIM_START_US,
    tickIntervalMs: 500,
    feedId,
    latencyUs: 0,
  });
  return Array.from({ length: n }, () => market.next());
}

/** Pushes `records` through `operator` synchronously and returns records per second. */
function throughput<T>(
  records: readonly T[],
  operator: (s: Subject<T>) => { subscribe(next: (v: unknown) => void): { unsubscribe(): void } },
): { perSecond: number; emitted: number } {
  const input = new Subject<T>();
  let emitted = 0;
  const subscription = operator(input).subscribe(() => emitted++);
  const started = performance.now();
  for (const r of records) input.next(r);
  const seconds = (performance.now() - started) / 1000;
  subscription.unsubscribe();
  return { perSecond: records.length / seconds, emitted };
}

/** quote-diff and dedup-merge on sim ticks, records in per second. */
export async function operatorThroughput(): Promise<string[]> {
  const ticks = simTicks(TICKS, 'a');
  const lines = [`${TICKS.toLocaleString('en-US')} sim ticks, six instruments, records in per second:`];
  for (let round = 0; round < 2; round++) {
    // The first round warms the JIT; the second is reported.
    const diff = throughput(ticks, (s) => s.pipe(quoteDiff()));
    const copies = simTicks(TICKS / 3, 'b');
    const interleaved = ticks.slice(0, TICKS / 3).flatMap((t, i) => [t, copies[i] as Tick, { ...(copies[i] as Tick), feed_id: 'c' }]);
    const merge = throughput(interleaved, (s) => s.pipe(dedupMerge({ staleAfterMs: 2000, downAfterMs: 10000 })));
    if (round === 1) {
      lines.push(
        `  quote-diff                                  ${formatCount(diff.perSecond)} records/s (${diff.emitted.toLocaleString('en-US')} diffs out)`,
      );
      lines.push(
        `  dedup-merge, 3 identical feeds interleaved  ${formatCount(merge.perSecond)} records/s (${merge.emitted.toLocaleString('en-US')} of ${interleaved.length.toLocaleString('en-US')} kept)`,
      );
    }
  }
  return lines;
}

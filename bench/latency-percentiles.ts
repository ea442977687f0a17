/** Latency percentiles, in the unit of the latencies they came from. */
export interface LatencyPercentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  /** `p50 X ms, p99 Y ms, p99.9 Z ms`, the form bench/figures-of.ts reads (latencies in milliseconds). */
  readonly text: string;
}

/** The p50, p99 and p99.9 of `latencies` (milliseconds; sorted in place), NaN when there are none. */
export function latencyPercentiles(latencies: number[]): LatencyPercentiles {
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const [p50, p99, p999] = [at(0.5), at(0.99), at(0.999)];
  const ms = (value: number): string => `${value.toFixed(2)} ms`;
  return { p50, p99, p999, text: `p50 ${ms(p50)}, p99 ${ms(p99)}, p99.9 ${ms(p999)}` };
}

import type { Figure } from './figures-of.js';

/** One figure of two builds: the median of its rounds in each, and B's median over A's. */
export interface ComparedFigure {
  readonly key: string;
  readonly unit: string;
  readonly a: number;
  readonly b: number;
  /** b / a: above 1 means B printed a larger figure (faster for a rate, slower for a latency). */
  readonly ratio: number;
  readonly rounds: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/**
 * The figures both builds printed, in A's order, each as the median of its
 * rounds: medians, because one round of a shared machine can be far off.
 * A figure only one build printed is left out (the benchmark changed).
 */
export function compareFigures(roundsA: readonly (readonly Figure[])[], roundsB: readonly (readonly Figure[])[]): ComparedFigure[] {
  const collect = (rounds: readonly (readonly Figure[])[]): Map<string, { unit: string; values: number[] }> => {
    const byKey = new Map<string, { unit: string; values: number[] }>();
    for (const figures of rounds) {
      for (const { key, value, unit } of figures) {
        const entry = byKey.get(key) ?? { unit, values: [] };
        entry.values.push(value);
        byKey.set(key, entry);
      }
    }
    return byKey;
  };
  const a = collect(roundsA);
  const b = collect(roundsB);
  const compared: ComparedFigure[] = [];
  for (const [key, { unit, values }] of a) {
    const other = b.get(key);
    if (other === undefined) continue;
    const medianA = median(values);
    const medianB = median(other.values);
    compared.push({ key, unit, a: medianA, b: medianB, ratio: medianB / medianA, rounds: Math.min(values.length, other.values.length) });
  }
  return compared;
}

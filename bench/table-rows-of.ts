import { figuresOf } from './figures-of.js';

/** A number and its unit, as a benchmark printed them (`1,884,619` `records/s`, `5.1` `µs`). */
export interface Measure {
  readonly value: number;
  readonly unit: string;
}

/** One row of the summary table: a figure line of a benchmark that carries a rate and/or latency percentiles. */
export interface TableRow {
  /** The figure line's label (its key in bench:compare). */
  readonly label: string;
  readonly rate?: Measure;
  readonly p50?: Measure;
  readonly p99?: Measure;
  readonly p999?: Measure;
}

/** A named rate: records/s, ticks/s, bars/s, commands/s … */
const NAMED_RATE = /^[A-Za-z_]+\/s$/;

/** Words before a rate that make it the load offered rather than the rate achieved (`at 10,000/s`, `offered 20,000/s`). */
const OFFERED = new Set(['at', 'offered']);

/**
 * The rows of the summary table for one benchmark's lines: one per figure
 * line with a rate (a unit ending in /s) or a p50, p99 or p99.9. A line's
 * rate is its first named rate (`ticks/s` before `dropped/s`), else its first
 * bare `/s` not after `at` or `offered`, so that `offered 10,000/s … 9,998
 * ticks/s delivered` gives the rate delivered.
 */
export function tableRowsOf(lines: readonly string[]): TableRow[] {
  const rows: TableRow[] = [];
  for (const line of lines) {
    const figures = figuresOf(line);
    const first = figures[0];
    if (first === undefined) continue;
    const measure = (found: { value: number; unit: string } | undefined): Measure | undefined =>
      found === undefined ? undefined : { value: found.value, unit: found.unit };
    const rate = measure(
      figures.find((f) => NAMED_RATE.test(f.unit)) ?? figures.find((f) => f.unit === '/s' && !OFFERED.has(f.word ?? '')),
    );
    const percentile = (word: string): Measure | undefined => measure(figures.find((f) => f.word === word));
    const p50 = percentile('p50');
    const p99 = percentile('p99');
    const p999 = percentile('p99.9');
    if (rate === undefined && p50 === undefined && p99 === undefined && p999 === undefined) continue;
    rows.push({
      label: first.key,
      ...(rate === undefined ? {} : { rate }),
      ...(p50 === undefined ? {} : { p50 }),
      ...(p99 === undefined ? {} : { p99 }),
      ...(p999 === undefined ? {} : { p999 }),
    });
  }
  return rows;
}

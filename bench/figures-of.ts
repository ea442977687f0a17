/** One figure a benchmark printed: its line's label, which number of the line it is, the number and the unit after it. */
export interface Figure {
  readonly key: string;
  readonly value: number;
  readonly unit: string;
}

/** A number as the benchmarks print it (thousands separators, decimals; not the 50 of `p50`), and the unit word that follows it. */
const NUMBER = /(?<![\w.])(-?\d[\d,]*(?:\.\d+)?)\s*([^\s\d(),]*)/g;

/**
 * The figures in a benchmark's output. The benchmarks print a figure line as
 * its label, padded with two or more spaces, then its figures
 * (`  quote-diff      1,884,619 records/s (300,000 diffs out)`): the label
 * is the key, and every number after it is a figure, keyed by its place in
 * the line so that `p50 1.43 µs, p99 5.10 µs` gives two. Lines without such
 * a gap (titles, notes) hold no figures.
 */
export function figuresOf(output: string): Figure[] {
  const figures: Figure[] = [];
  for (const line of output.split('\n')) {
    const gap = /\S(\s{2,})(?=\S)/.exec(line);
    if (gap === null) continue;
    const label = line.slice(0, gap.index + 1).trim();
    const rest = line.slice(gap.index + 1 + (gap[1] as string).length);
    let place = 0;
    for (const match of rest.matchAll(NUMBER)) {
      const value = Number((match[1] as string).replaceAll(',', ''));
      if (!Number.isFinite(value)) continue;
      figures.push({ key: place === 0 ? label : `${label} #${place + 1}`, value, unit: match[2] ?? '' });
      place++;
    }
  }
  return figures;
}

/** One figure a benchmark printed: its line's label, which number of the line it is, the number and the unit after it. */
export interface Figure {
  /** The line's label, and ` #2`, ` #3` … for the second, third … number of the line (what bench:compare matches builds by). */
  readonly key: string;
  readonly value: number;
  readonly unit: string;
  /** The word just before the number (`p50`, `p99.9`, `max`, `at`), when the number follows one. */
  readonly word?: string;
}

/** A number as the benchmarks print it (thousands separators, decimals; not the 50 of `p50`), and the unit word that follows it. */
const NUMBER = /(?<![\w.])(-?\d[\d,]*(?:\.\d+)?)\s*([^\s\d(),]*)/g;

/** A percentile word followed by its number: `p50 1.43`, `p99.9 78.9`. */
const PERCENTILE = /(?<![\w.])p\d+(?:\.\d+)?\s+(?=-?\d)/;

/** The word a stretch of text ends with (`, p99 ` → `p99`). */
const LAST_WORD = /([A-Za-z][\w.]*)\s*$/;

/** The label of a line of latencies, and the text its figures are read from; undefined for a line that holds no figures. */
function labelAndFigures(line: string): { label: string; rest: string } | undefined {
  const gap = /\S(\s{2,})(?=\S)/.exec(line);
  const labelled = gap === null ? undefined : line.slice(0, gap.index + 1);
  if (gap !== null && labelled !== undefined && !PERCENTILE.test(labelled)) {
    return { label: labelled.trim(), rest: line.slice(gap.index + 1 + (gap[1] as string).length) };
  }
  // No padded label before the figures, but percentiles (`ack latency at 10,000 records/s: p50 0.21 ms, p99 …`,
  // or a line that is only `p50 1.2 ms   p99 …`): the text before the first percentile is the label.
  const percentile = PERCENTILE.exec(line);
  if (percentile === null) return undefined;
  const label = line
    .slice(0, percentile.index)
    .trim()
    .replace(/[\s:;,]+$/, '');
  return { label: label === '' ? 'latency' : label, rest: line.slice(percentile.index) };
}

/**
 * The figures in a benchmark's output. The benchmarks print a figure line as
 * its label, padded with two or more spaces, then its figures
 * (`  quote-diff      1,884,619 records/s (300,000 diffs out)`): the label
 * is the key, and every number after it is a figure, keyed by its place in
 * the line so that `p50 1.43 µs, p99 5.10 µs` gives two, each knowing the
 * word before it (`p50`, `p99`). A line of percentiles without such a gap
 * (`ack latency at 10,000 records/s: p50 0.21 ms, p99 0.90 ms`) is labelled
 * by the text before its first percentile (`latency` when there is none).
 * Other lines without a gap (titles, notes) hold no figures.
 */
export function figuresOf(output: string): Figure[] {
  const figures: Figure[] = [];
  for (const line of output.split('\n')) {
    const found = labelAndFigures(line);
    if (found === undefined) continue;
    const { label, rest } = found;
    let place = 0;
    let previousEnd = 0;
    for (const match of rest.matchAll(NUMBER)) {
      const word = LAST_WORD.exec(rest.slice(previousEnd, match.index))?.[1];
      previousEnd = match.index + match[0].length;
      const value = Number((match[1] as string).replaceAll(',', ''));
      if (!Number.isFinite(value)) continue;
      // A unit ends at punctuation that closes a clause (`/s:` in `at 10,000/s: p50 …`).
      const unit = (match[2] ?? '').replace(/[:;.]+$/, '');
      const key = place === 0 ? label : `${label} #${place + 1}`;
      figures.push(word === undefined ? { key, value, unit } : { key, value, unit, word });
      place++;
    }
  }
  return figures;
}

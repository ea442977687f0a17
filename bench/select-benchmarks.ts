/** The benchmarks a run asked for, or the names it asked for that are not benchmarks. */
export type BenchmarkSelection = { readonly selected: readonly string[] } | { readonly unknown: readonly string[] };

/**
 * The benchmarks named on the command line (`npm run bench -- bars-throughput risk-throughput`), in the order
 * given and each once; every known benchmark, in the known order, when none is named. Any name not known makes
 * the whole selection `unknown`, so a typo never runs a partial set silently.
 *
 * @param names file names of bench/ without .ts.
 * @param known the benchmarks there are, in the order a full run takes them.
 */
export function selectBenchmarks(names: readonly string[], known: readonly string[]): BenchmarkSelection {
  if (names.length === 0) return { selected: known };
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) return { unknown: [...new Set(unknown)] };
  return { selected: [...new Set(names)] };
}

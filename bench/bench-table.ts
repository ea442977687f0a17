import type { BenchmarkRun } from './run-one-benchmark.js';
import { tableRowsOf, type Measure } from './table-rows-of.js';

const LABEL_WIDTH = 60;
const HEADER = ['benchmark', 'figure', 'rate', 'p50', 'p99', 'p99.9', 'peak RSS MB', 'CPU %'] as const;
/** Which columns hold numbers, right-aligned. */
const NUMERIC = [false, false, true, true, true, true, true, true] as const;

/** A figure about as the benchmarks print it: whole with separators from 100 up, three significant digits below. */
const number = (n: number): string => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : String(Number(n.toPrecision(3))));
const measure = (m: Measure | undefined): string => (m === undefined ? '' : `${number(m.value)} ${m.unit}`.trim());
const shortened = (text: string): string => (text.length > LABEL_WIDTH ? `${text.slice(0, LABEL_WIDTH - 1)}…` : text);

/** A line of Node's report of an uncaught error that is not its message: a stack frame, the source excerpt's caret, the version. */
const NOT_THE_MESSAGE = /^(?:at .*|\^+|Node\.js v[\d.]+|)$/;

/**
 * The line of a stderr tail that says what went wrong: the last error message (`Error: …`, `TypeError: …`), else the last
 * line that is not a stack frame or Node's version.
 */
function whatWentWrong(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim());
  return (
    lines.findLast((line) => /^[A-Za-z]*(?:Error|Exception)\b.*:/.test(line)) ?? lines.findLast((line) => !NOT_THE_MESSAGE.test(line)) ?? ''
  );
}

/** Why a run has no figures, in a table cell: the outcome and what its stderr says went wrong. */
function failure(run: BenchmarkRun): string {
  const lastLine = whatWentWrong(run.stderrTail);
  switch (run.outcome) {
    case 'not built':
      return 'not built';
    case 'timed out':
      return `timed out after ${Math.round(run.elapsedSeconds)} s`;
    default:
      return `failed (exit ${run.exitCode ?? 'none'})${lastLine === '' ? '' : `: ${lastLine}`}`;
  }
}

/**
 * The summary table of a run: one row per figure line with a rate or
 * latency percentiles (see tableRowsOf), each with the peak RSS and CPU of
 * its benchmark's process (CPU time over the process's wall time, so above
 * 100 % means more than one core busy; processes the benchmark started, such
 * as load generators, are not counted). A benchmark without such a line gets
 * one row of its process's figures, and one that did not run, a row saying why.
 */
export function benchTable(runs: readonly BenchmarkRun[]): string {
  const cells: string[][] = [];
  for (const run of runs) {
    if (run.outcome !== 'ran' || run.usage === undefined) {
      cells.push([run.name, shortened(failure(run)), '', '', '', '', '', '']);
      continue;
    }
    const rss = Math.round(run.usage.peakRssMB).toLocaleString('en-US');
    const cpu = run.usage.wallSeconds > 0 ? `${Math.round((100 * run.usage.cpuSeconds) / run.usage.wallSeconds)} %` : '';
    const rows = tableRowsOf(run.lines);
    if (rows.length === 0) cells.push([run.name, '(no rate or latency figure)', '', '', '', '', rss, cpu]);
    for (const row of rows) {
      cells.push([run.name, shortened(row.label), measure(row.rate), measure(row.p50), measure(row.p99), measure(row.p999), rss, cpu]);
    }
  }
  const widths = HEADER.map((title, column) => Math.max(title.length, ...cells.map((row) => (row[column] as string).length)));
  const format = (row: readonly string[]): string =>
    row
      .map((cell, column) => (NUMERIC[column] === true ? cell.padStart(widths[column] as number) : cell.padEnd(widths[column] as number)))
      .join('  ')
      .trimEnd();
  return [format(HEADER), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(format)].join('\n');
}

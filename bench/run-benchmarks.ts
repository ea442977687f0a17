// `npm run bench [-- NAME...]`: runs every benchmark (or the named ones: file names of bench/ without .ts), each in a
// process of its own so that its peak RSS and CPU are its own; prints each benchmark's lines (its first states the
// workload), then one table of the rates and latency percentiles with each benchmark's RSS and CPU, and writes it
// all to bench/results/latest.json. Nothing is asserted; the run exits 1 if any benchmark failed, timed out or is
// not built, after running the rest.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { benchTable } from './bench-table.js';
import { figuresOf } from './figures-of.js';
import { machineFacts } from './machine-facts.js';
import { runOneBenchmark, type BenchmarkRun } from './run-one-benchmark.js';
import { selectBenchmarks } from './select-benchmarks.js';
import { tableRowsOf } from './table-rows-of.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TIMEOUT_MS = 15 * 60_000;

// Listed rather than discovered, so that a full run has a deliberate order (the in-process stages first, the ones
// with servers and client processes after) and helpers of bench/ (compare, start-redis-server …) are never taken
// for benchmarks. A benchmark listed but missing from dist/bench is reported as not built.
const BENCHMARKS = [
  'pipeline-throughput',
  'operator-throughput',
  'bars-throughput',
  'strategy-throughput',
  'risk-throughput',
  'paper-venue-throughput',
  'file-replay-throughput',
  'full-chain-replay',
  'websocket-fanout',
  'redis-throughput',
  'kafka-throughput',
  'kafka-source-throughput',
  'audit-throughput',
  'ctp-callbacks',
];

const selection = selectBenchmarks(process.argv.slice(2), BENCHMARKS);
if ('unknown' in selection) {
  process.stderr.write(`bench: no benchmark ${selection.unknown.join(', ')}; the benchmarks are: ${BENCHMARKS.join(', ')}\n`);
  process.exit(2);
}

// The benchmark's process leads its own group (so a timeout ends what it started): an interrupted run ends it too.
let runningPid: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (runningPid !== undefined) {
      try {
        process.kill(-runningPid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    process.exit(130);
  });
}

const machine = machineFacts(ROOT);
const startedAt = new Date();
process.stdout.write(
  `tickflow benchmarks — node ${machine.node}, ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadAverageAtStart.join(' ')}\n\n`,
);
const runs: BenchmarkRun[] = [];
for (const name of selection.selected) {
  process.stderr.write(`bench: ${name} …\n`);
  const run = await runOneBenchmark(ROOT, name, {
    timeoutMs: TIMEOUT_MS,
    onStart: (pid) => (runningPid = pid),
    onStderr: (chunk) => process.stderr.write(chunk),
  });
  runningPid = undefined;
  runs.push(run);
  const usage =
    run.usage === undefined
      ? `${run.outcome}, ${run.elapsedSeconds.toFixed(1)} s`
      : `${run.usage.wallSeconds.toFixed(1)} s, CPU ${run.usage.cpuSeconds.toFixed(1)} s, peak RSS ${Math.round(run.usage.peakRssMB)} MB`;
  const failure = run.outcome === 'ran' ? [] : ['', `${run.outcome}; the end of its stderr:`, run.stderrTail.trimEnd()];
  process.stdout.write(`== ${name} (${usage})\n${[...run.lines, ...failure].join('\n')}\n\n`);
}
const finishedAt = new Date();
const table = benchTable(runs);
process.stdout.write(`${table}\n`);

const results = {
  machine: { ...machine, loadAverageAtEnd: loadavg().map((load) => Number(load.toFixed(2))) },
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  table,
  benchmarks: runs.map((run) => ({
    name: run.name,
    outcome: run.outcome,
    exitCode: run.exitCode,
    elapsedSeconds: Number(run.elapsedSeconds.toFixed(3)),
    ...(run.usage === undefined
      ? {}
      : {
          wallSeconds: Number(run.usage.wallSeconds.toFixed(3)),
          cpuSeconds: Number(run.usage.cpuSeconds.toFixed(3)),
          cpuPercent: run.usage.wallSeconds > 0 ? Number(((100 * run.usage.cpuSeconds) / run.usage.wallSeconds).toFixed(1)) : null,
          peakRssMB: Number(run.usage.peakRssMB.toFixed(1)),
        }),
    lines: run.lines,
    figures: figuresOf(run.lines.join('\n')),
    rows: tableRowsOf(run.lines),
    ...(run.outcome === 'ran' ? {} : { stderrTail: run.stderrTail }),
  })),
};
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
// Written beside and renamed over, so a reader never sees half a file.
writeFileSync(join(dir, 'latest.json.tmp'), `${JSON.stringify(results, null, 2)}\n`);
renameSync(join(dir, 'latest.json.tmp'), join(dir, 'latest.json'));
process.stdout.write(`\nwritten to bench/results/latest.json\n`);
const failed = runs.filter((run) => run.outcome !== 'ran');
if (failed.length > 0) {
  process.stderr.write(`bench: ${failed.map((run) => `${run.name} ${run.outcome}`).join(', ')}\n`);
  process.exitCode = 1;
}

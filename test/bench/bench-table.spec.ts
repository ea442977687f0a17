import { describe, expect, it } from 'vitest';
import { benchTable } from '../../bench/bench-table.js';
import type { BenchmarkRun } from '../../bench/run-one-benchmark.js';

const ran = (name: string, lines: string[], usage = { cpuSeconds: 3, wallSeconds: 2, peakRssMB: 129.6 }): BenchmarkRun => ({
  name,
  outcome: 'ran',
  exitCode: 0,
  lines,
  stderrTail: '',
  elapsedSeconds: 2.1,
  usage,
});

describe('benchTable', () => {
  it("gives a row per figure line with its benchmark process's peak RSS and CPU over wall time", () => {
    const table = benchTable([
      ran('risk-throughput', [
        '200,000 commands, every rule on:',
        '  decisions                 84,107 /s   (200,000 passed, 0 denied: none)',
        '  decision latency    p50 2.83 µs, p99 12.53 µs, max 45683 µs',
      ]),
      ran('bars-throughput', ['  bars, period 1 s         854,385 records/s (150,000 bars out)'], {
        cpuSeconds: 1,
        wallSeconds: 4,
        peakRssMB: 304,
      }),
    ]);
    expect(table.split('\n')).toEqual([
      'benchmark        figure                         rate      p50      p99  p99.9  peak RSS MB  CPU %',
      '---------------  ----------------  -----------------  -------  -------  -----  -----------  -----',
      'risk-throughput  decisions                 84,107 /s                                   130  150 %',
      'risk-throughput  decision latency                     2.83 µs  12.5 µs                 130  150 %',
      'bars-throughput  bars, period 1 s  854,385 records/s                                   304   25 %',
    ]);
  });

  it('says why a benchmark has no figures: none printed, failed with the last line of its stderr, timed out, not built', () => {
    const failed: BenchmarkRun = {
      name: 'redis-throughput',
      outcome: 'failed',
      exitCode: 1,
      lines: [],
      // As Node reports an uncaught error: the source line, a caret, the message, the stack, its version.
      stderrTail: [
        'file:///work/main/dist/bench/start-redis-server.js:120',
        '        throw new Error(`redis-server did not start`);',
        '              ^',
        '',
        'Error: redis-server did not start',
        '    at startRedisServer (file:///work/main/dist/bench/start-redis-server.js:120:15)',
        '',
        'Node.js v20.20.2',
        '',
      ].join('\n'),
      elapsedSeconds: 3,
    };
    const timedOut: BenchmarkRun = { ...failed, name: 'websocket-fanout', outcome: 'timed out', exitCode: null, elapsedSeconds: 900.2 };
    const notBuilt: BenchmarkRun = { ...failed, name: 'full-chain-replay', outcome: 'not built', exitCode: null, elapsedSeconds: 0 };
    const rows = benchTable([ran('quiet', ['a title only']), failed, timedOut, notBuilt])
      .split('\n')
      .slice(2)
      .map((row) => row.replace(/\s+/g, ' '));
    expect(rows).toEqual([
      'quiet (no rate or latency figure) 130 150 %',
      'redis-throughput failed (exit 1): Error: redis-server did not start',
      'websocket-fanout timed out after 900 s',
      'full-chain-replay not built',
    ]);
  });
});

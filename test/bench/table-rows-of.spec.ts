import { describe, expect, it } from 'vitest';
import { tableRowsOf } from '../../bench/table-rows-of.js';

describe('tableRowsOf', () => {
  it('gives a row per line with a rate or percentiles, and none for titles or lines of counts alone', () => {
    const lines = [
      '200,000 commands (submits and cancels), every rule on:',
      '  decisions                 84,107 /s   (200,000 passed, 0 denied: none)',
      '  decision latency    p50 2.83 µs, p99 12.53 µs, max 45683 µs',
      '   clients  ticks in   server RSS',
      '       100    12,345   80 MB',
    ];
    expect(tableRowsOf(lines)).toEqual([
      { label: 'decisions', rate: { value: 84_107, unit: '/s' } },
      { label: 'decision latency', p50: { value: 2.83, unit: 'µs' }, p99: { value: 12.53, unit: 'µs' } },
    ]);
  });

  it('takes the first named rate over a bare /s offered before it, and p99.9 apart from p99', () => {
    const lines = [
      '  offered    10,000/s, maxBatch 1      9,998 ticks/s delivered          0 dropped/s   p50      41 µs   p99     120 µs',
      '  group_commit_ms 2:    91,204 records/s   ack latency at 10,000/s: p50 1.20 ms, p99 4.75 ms, p99.9 7.5 ms',
    ];
    expect(tableRowsOf(lines)).toEqual([
      { label: 'offered', rate: { value: 9_998, unit: 'ticks/s' }, p50: { value: 41, unit: 'µs' }, p99: { value: 120, unit: 'µs' } },
      {
        label: 'group_commit_ms 2:',
        rate: { value: 91_204, unit: 'records/s' },
        p50: { value: 1.2, unit: 'ms' },
        p99: { value: 4.75, unit: 'ms' },
        p999: { value: 7.5, unit: 'ms' },
      },
    ]);
  });

  it('takes a bare /s as the rate unless it is the load offered', () => {
    expect(tableRowsOf(['  decisions    84,107 /s', '  load    at 10,000 /s'])).toEqual([
      { label: 'decisions', rate: { value: 84_107, unit: '/s' } },
    ]);
  });
});

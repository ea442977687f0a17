import { describe, expect, it } from 'vitest';
import { figuresOf } from '../../bench/figures-of.js';

describe('figuresOf', () => {
  it('reads every number after a padded label, keyed by the label and its place, with its unit and the word before it', () => {
    const output = [
      '300,000 sim ticks, six instruments, records in per second:',
      '  quote-diff                                     1,884,619 records/s (300,000 diffs out)',
      '  decision latency    p50 1.43 µs, p99 5.10 µs, max 9548 µs',
      '  bars, period 1 s       4,408,148 records/s (150,000 bars out)',
      '  bars, period 60 s      5,829,275 records/s (2,500 bars out)',
    ].join('\n');
    expect(figuresOf(output)).toEqual([
      { key: 'quote-diff', value: 1_884_619, unit: 'records/s' },
      { key: 'quote-diff #2', value: 300_000, unit: 'diffs' },
      { key: 'decision latency', value: 1.43, unit: 'µs', word: 'p50' },
      { key: 'decision latency #2', value: 5.1, unit: 'µs', word: 'p99' },
      { key: 'decision latency #3', value: 9548, unit: 'µs', word: 'max' },
      { key: 'bars, period 1 s', value: 4_408_148, unit: 'records/s' },
      { key: 'bars, period 1 s #2', value: 150_000, unit: 'bars' },
      { key: 'bars, period 60 s', value: 5_829_275, unit: 'records/s' },
      { key: 'bars, period 60 s #2', value: 2_500, unit: 'bars' },
    ]);
  });

  it('knows p99.9 as one word, and ends a unit at the colon that closes its clause', () => {
    const line = '  group_commit_ms 2:    91,204 records/s   ack latency at 10,000/s: p50 1.20 ms, p99 4.75 ms, p99.9 7.5 ms';
    expect(figuresOf(line)).toEqual([
      { key: 'group_commit_ms 2:', value: 91_204, unit: 'records/s' },
      { key: 'group_commit_ms 2: #2', value: 10_000, unit: '/s', word: 'at' },
      { key: 'group_commit_ms 2: #3', value: 1.2, unit: 'ms', word: 'p50' },
      { key: 'group_commit_ms 2: #4', value: 4.75, unit: 'ms', word: 'p99' },
      { key: 'group_commit_ms 2: #5', value: 7.5, unit: 'ms', word: 'p99.9' },
    ]);
  });

  it('labels a line of percentiles without a padded label by the text before its first percentile', () => {
    const output = [
      '  ack latency at 10,000 records/s: p50 0.21 ms, p99 0.90 ms, max 3.10 ms (flush_interval_ms 5)',
      '  ticks waited for the event loop before they went in: p99 1.5 ms (not part of the latency above)',
    ].join('\n');
    expect(figuresOf(output)).toEqual([
      { key: 'ack latency at 10,000 records/s', value: 0.21, unit: 'ms', word: 'p50' },
      { key: 'ack latency at 10,000 records/s #2', value: 0.9, unit: 'ms', word: 'p99' },
      { key: 'ack latency at 10,000 records/s #3', value: 3.1, unit: 'ms', word: 'max' },
      { key: 'ack latency at 10,000 records/s #4', value: 5, unit: '', word: 'flush_interval_ms' },
      { key: 'ticks waited for the event loop before they went in', value: 1.5, unit: 'ms', word: 'p99' },
    ]);
  });

  it('labels a line that starts with its percentiles `latency`, rather than by its first figure', () => {
    expect(figuresOf('  p50 1.21 ms   p99 12.0 ms   p99.9 30.5 ms   max 41.0 ms   (12,000 quote updates)')).toEqual([
      { key: 'latency', value: 1.21, unit: 'ms', word: 'p50' },
      { key: 'latency #2', value: 12, unit: 'ms', word: 'p99' },
      { key: 'latency #3', value: 30.5, unit: 'ms', word: 'p99.9' },
      { key: 'latency #4', value: 41, unit: 'ms', word: 'max' },
      { key: 'latency #5', value: 12_000, unit: 'quote' },
    ]);
  });

  it('finds no figures in titles and notes, which have no padded label and no percentile', () => {
    expect(figuresOf('tickflow benchmarks — node v20, 2 cores\n== bars\n  a note at 10,000 ticks/s offered\n')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { figuresOf } from '../../bench/figures-of.js';

describe('figuresOf', () => {
  it('reads every number after a padded label, keyed by the label and its place, with its unit', () => {
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
      { key: 'decision latency', value: 1.43, unit: 'µs' },
      { key: 'decision latency #2', value: 5.1, unit: 'µs' },
      { key: 'decision latency #3', value: 9548, unit: 'µs' },
      { key: 'bars, period 1 s', value: 4_408_148, unit: 'records/s' },
      { key: 'bars, period 1 s #2', value: 150_000, unit: 'bars' },
      { key: 'bars, period 60 s', value: 5_829_275, unit: 'records/s' },
      { key: 'bars, period 60 s #2', value: 2_500, unit: 'bars' },
    ]);
  });

  it('finds no figures in titles and notes, which have no padded label', () => {
    expect(figuresOf('tickflow benchmarks — node v20, 2 cores\n== bars\n')).toEqual([]);
  });
});

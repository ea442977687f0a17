import { describe, expect, it } from 'vitest';
import { selectBenchmarks } from '../../bench/select-benchmarks.js';

const KNOWN = ['pipeline-throughput', 'bars-throughput', 'risk-throughput'];

describe('selectBenchmarks', () => {
  it('selects every benchmark, in the known order, when none is named', () => {
    expect(selectBenchmarks([], KNOWN)).toEqual({ selected: KNOWN });
  });

  it('selects the named ones in the order given, each once', () => {
    expect(selectBenchmarks(['risk-throughput', 'bars-throughput', 'risk-throughput'], KNOWN)).toEqual({
      selected: ['risk-throughput', 'bars-throughput'],
    });
  });

  it('answers with the unknown names when any name is not a benchmark, so that nothing runs', () => {
    expect(selectBenchmarks(['bars-throughput', 'bars', 'risk', 'bars'], KNOWN)).toEqual({ unknown: ['bars', 'risk'] });
  });
});

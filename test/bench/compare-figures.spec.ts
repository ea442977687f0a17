import { describe, expect, it } from 'vitest';
import { compareFigures } from '../../bench/compare-figures.js';

const figure = (key: string, value: number) => ({ key, value, unit: 'records/s' });

describe('compareFigures', () => {
  it("takes each build's median over its rounds and gives B over A, in A's order", () => {
    const a = [
      [figure('bars', 100), figure('risk', 10)],
      [figure('bars', 300), figure('risk', 30)],
      [figure('bars', 200), figure('risk', 20)],
    ];
    const b = [
      [figure('risk', 5), figure('bars', 1000)],
      [figure('risk', 15), figure('bars', 150)],
      [figure('risk', 10), figure('bars', 100)],
    ];
    expect(compareFigures(a, b)).toEqual([
      { key: 'bars', unit: 'records/s', a: 200, b: 150, ratio: 0.75, rounds: 3 },
      { key: 'risk', unit: 'records/s', a: 20, b: 10, ratio: 0.5, rounds: 3 },
    ]);
  });

  it('leaves out a figure only one build printed, and takes the middle two of an even count', () => {
    const a = [[figure('bars', 100), figure('old', 1)], [figure('bars', 200)]];
    const b = [[figure('bars', 300), figure('new', 1)], [figure('bars', 500)]];
    expect(compareFigures(a, b)).toEqual([{ key: 'bars', unit: 'records/s', a: 150, b: 400, ratio: 400 / 150, rounds: 2 }]);
  });
});

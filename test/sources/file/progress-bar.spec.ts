import { describe, expect, it } from 'vitest';
import { ProgressBar, type ProgressStream } from '../../../sources/file/progress-bar.js';

/** A stand-in for stderr that keeps what is written. */
function stream(isTTY: boolean | undefined, columns?: number): ProgressStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, columns, written, write: (text: string) => written.push(text) > 0 };
}

describe('ProgressBar', () => {
  let now = 0;
  const options = { totalBytes: 1000, now: () => now, label: 'replay' };

  it('is not drawn when the stream is not a terminal, whatever the setting', () => {
    const refused: string[] = [];
    for (const isTTY of [false, undefined]) {
      const out = stream(isTTY);
      expect(ProgressBar.create('auto', out, options)).toBeUndefined();
      expect(ProgressBar.create('on', out, options, (reason) => refused.push(reason))).toBeUndefined();
      expect(ProgressBar.create('off', out, options)).toBeUndefined();
      expect(out.written).toEqual([]);
    }
    expect(refused).toEqual(['stderr is not a terminal', 'stderr is not a terminal']);
  });

  it('is not drawn when off, even on a terminal', () => {
    expect(ProgressBar.create('off', stream(true), options)).toBeUndefined();
  });

  it('draws records, percent of bytes and rate in place on a terminal, at most every interval, and ends the line on finish', () => {
    now = 1000;
    const out = stream(true);
    const bar = ProgressBar.create('auto', out, options) as ProgressBar;
    now = 2000;
    bar.update(5000, 250);
    now = 2100;
    bar.update(6000, 300); // within 200 ms of the last redraw: skipped
    now = 3000;
    bar.update(12_345, 500);
    bar.finish(20_000, 1000);
    bar.finish(20_000, 1000);
    bar.update(1, 1);
    expect(out.written).toEqual([
      '\rreplay  [#####---------------]  25.0%  5,000 records  5,000 records/s\x1b[K',
      '\rreplay  [##########----------]  50.0%  12,345 records  6,173 records/s\x1b[K',
      '\rreplay  [####################] 100.0%  20,000 records  10,000 records/s\x1b[K',
      '\n',
    ]);
  });

  it('fits the line into the terminal width', () => {
    now = 0;
    const out = stream(true, 30);
    const bar = ProgressBar.create('on', out, options) as ProgressBar;
    expect(bar.render(1, 10, 0)).toBe('replay  [--------------------');
    expect(bar.render(1, 10, 0).length).toBe(29);
  });

  it('shows 100% for files of no bytes', () => {
    now = 0;
    const bar = ProgressBar.create('on', stream(true), { ...options, totalBytes: 0 }) as ProgressBar;
    expect(bar.render(0, 0, 0)).toBe('replay  [####################] 100.0%  0 records');
  });
});

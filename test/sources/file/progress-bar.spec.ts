import { describe, expect, it } from 'vitest';
import { waitFor } from '../../support/wait-for.js';
import { ProgressBar, type ProgressBarOptions, type ProgressFigures, type ProgressStream } from '../../../sources/file/progress-bar.js';

/** A stand-in for stderr that keeps what is written. */
function stream(isTTY: boolean | undefined, columns?: number): ProgressStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, columns, written, write: (text: string) => written.push(text) > 0 };
}

/** 2025-01-02T13:00:00Z in microseconds, and `s` seconds later. */
const at = (s: number): number => (Date.parse('2025-01-02T13:00:00Z') + s * 1000) * 1000;

describe('ProgressBar', () => {
  let now = 0;
  /** A redraw timer driven by the test: `fire()` is one interval passing. */
  const timer = { redraw: undefined as (() => void) | undefined, ms: 0, stopped: 0 };
  const every = (ms: number, redraw: () => void) => {
    timer.ms = ms;
    timer.redraw = redraw;
    return () => {
      timer.redraw = undefined;
      timer.stopped++;
    };
  };
  const options: ProgressBarOptions = { totalBytes: 1000, now: () => now, label: 'replay', every };

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

  it('redraws on its own timer with the figures of the moment, in place, and ends the line with the final figures on finish', () => {
    now = 1000;
    const out = stream(true);
    const bar = ProgressBar.create('auto', out, options) as ProgressBar;
    let figures: ProgressFigures = { records: 0, bytes: 0, eventTimeUs: undefined };
    bar.start(() => figures);
    expect(timer.ms).toBe(200);
    // The figures change between redraws without the bar being told: each redraw reads them afresh.
    figures = { records: 5000, bytes: 250, eventTimeUs: at(5) };
    now = 3000;
    timer.redraw?.();
    figures = { records: 12_345, bytes: 500, eventTimeUs: at(10.9) };
    now = 5000;
    timer.redraw?.();
    figures = { records: 20_000, bytes: 1000, eventTimeUs: at(20) };
    now = 9000;
    bar.finish();
    bar.finish();
    bar.redraw();
    expect(timer.stopped).toBe(1);
    expect(timer.redraw).toBeUndefined();
    expect(out.written).toEqual([
      '\rreplay  [--------------------]   0.0%  0 records  ETA --:--\x1b[K',
      '\rreplay  [#####---------------]  25.0%  5,000 records  2,500 records/s  event 2025-01-02T13:00:05Z  ETA 0:06\x1b[K',
      '\rreplay  [##########----------]  50.0%  12,345 records  3,086 records/s  event 2025-01-02T13:00:10Z  ETA 0:04\x1b[K',
      '\rreplay  [####################] 100.0%  20,000 records  2,500 records/s  event 2025-01-02T13:00:20Z  in 0:08\x1b[K\n',
    ]);
  });

  it('shows no ETA for the first second, and none while nothing is replayed', () => {
    now = 0;
    const bar = ProgressBar.create('on', stream(true), options) as ProgressBar;
    expect(bar.render({ records: 10, bytes: 100, eventTimeUs: at(0) }, 999)).toMatch(/ETA --:--$/);
    expect(bar.render({ records: 10, bytes: 100, eventTimeUs: at(0) }, 1000)).toMatch(/ETA 0:09$/);
    expect(bar.render({ records: 0, bytes: 0, eventTimeUs: undefined }, 5000)).toMatch(/0 records {2}0 records\/s {2}ETA --:--$/);
    expect(bar.render({ records: 1, bytes: 1, eventTimeUs: at(0) }, 4000)).toMatch(/ETA 1:06:36$/);
  });

  it('on a narrow terminal leaves out the bar itself first, then cuts the line to fit', () => {
    now = 0;
    const figures = { records: 1, bytes: 10, eventTimeUs: at(0) };
    const wide = ProgressBar.create('on', stream(true, 200), options) as ProgressBar;
    expect(wide.render(figures, 2000)).toBe(
      'replay  [--------------------]   1.0%  1 records  1 records/s  event 2025-01-02T13:00:00Z  ETA 3:18',
    );
    const medium = ProgressBar.create('on', stream(true, 80), options) as ProgressBar;
    expect(medium.render(figures, 2000)).toBe('replay  1.0%  1 records  1 records/s  event 2025-01-02T13:00:00Z  ETA 3:18');
    const narrow = ProgressBar.create('on', stream(true, 30), options) as ProgressBar;
    expect(narrow.render(figures, 2000)).toBe('replay  1.0%  1 records  1 re');
    expect(narrow.render(figures, 2000).length).toBe(29);
  });

  it('shows 100% for files of no bytes', () => {
    now = 0;
    const bar = ProgressBar.create('on', stream(true), { ...options, totalBytes: 0 }) as ProgressBar;
    expect(bar.render({ records: 0, bytes: 0, eventTimeUs: undefined }, 0)).toBe(
      'replay  [####################] 100.0%  0 records  ETA --:--',
    );
  });

  it('draws no more after finish, even when started after it', () => {
    const out = stream(true);
    const bar = ProgressBar.create('on', out, options) as ProgressBar;
    bar.finish();
    const before = out.written.length;
    bar.start(() => ({ records: 1, bytes: 1, eventTimeUs: undefined }));
    bar.redraw();
    expect(out.written.length).toBe(before);
  });

  it('by default redraws on an unref’d wall-clock interval, which finish clears', async () => {
    const out = stream(true);
    const bar = ProgressBar.create('on', out, { totalBytes: 10, label: 'replay', intervalMs: 5 }) as ProgressBar;
    let reads = 0;
    bar.start(() => ({ records: ++reads, bytes: 1, eventTimeUs: undefined }));
    await waitFor('two redraws after the first draw', () => (out.written.length >= 3 ? true : undefined));
    bar.finish();
    const after = out.written.length;
    // A second bar on the same interval, started later: its timer fires after the first one's in every round, so three of its redraws span rounds in which a timer left running would have drawn.
    const witness = stream(true);
    const second = ProgressBar.create('on', witness, { totalBytes: 10, label: 'witness', intervalMs: 5 }) as ProgressBar;
    second.start(() => ({ records: 0, bytes: 0, eventTimeUs: undefined }));
    await waitFor('three redraws of the second bar', () => (witness.written.length >= 4 ? true : undefined));
    second.finish();
    expect(out.written.length).toBe(after);
  });
});

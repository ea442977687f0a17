/** Where the bar is drawn: process.stderr, or a stand-in in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export interface ProgressBarOptions {
  /** Bytes of all files to read, for the percentage. */
  readonly totalBytes: number;
  /** Milliseconds; the scheduler's clock, so the rate is of scheduler time. */
  readonly now: () => number;
  /** Shown before the figures, e.g. the stage id. */
  readonly label: string;
  /** Least time between two redraws, in milliseconds. Default 200. */
  readonly intervalMs?: number;
}

const BAR_WIDTH = 20;

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * A one-line progress bar of a replay on a terminal: records, percent of
 * bytes read, and records per second, redrawn in place (`\r`, erase to the
 * end of the line) at most every `intervalMs`, ended with a newline by
 * `finish()`.
 *
 * ```
 * replay  [########------------]  41.7%  1,204,113 records  312,540 records/s
 * ```
 *
 * It is never drawn on a stream that is not a terminal (a file, a pipe, a
 * test runner's capture): `create` returns `undefined` there.
 */
export class ProgressBar {
  private readonly startedAt: number;
  private lastDrawAt = -Infinity;
  private finished = false;

  private constructor(
    private readonly stream: ProgressStream,
    private readonly options: ProgressBarOptions,
  ) {
    this.startedAt = options.now();
  }

  /**
   * A bar for the `progress` setting, or `undefined` when none is drawn:
   * `off`, or a stream that is not a terminal. `auto` and `on` both draw on
   * a terminal; `on` exists to say so explicitly, and `onRefused` is called
   * when it cannot be honoured.
   */
  static create(mode: 'auto' | 'on' | 'off', stream: ProgressStream, options: ProgressBarOptions, onRefused?: (reason: string) => void): ProgressBar | undefined {
    if (mode === 'off') return undefined;
    if (stream.isTTY !== true) {
      if (mode === 'on') onRefused?.('stderr is not a terminal');
      return undefined;
    }
    return new ProgressBar(stream, options);
  }

  /** Redraws with the latest figures, unless the last redraw was less than `intervalMs` ago. */
  update(records: number, bytes: number): void {
    if (this.finished) return;
    const now = this.options.now();
    if (now - this.lastDrawAt < (this.options.intervalMs ?? 200)) return;
    this.lastDrawAt = now;
    this.draw(records, bytes, now);
  }

  /** Draws the final figures and ends the line. Idempotent. */
  finish(records: number, bytes: number): void {
    if (this.finished) return;
    this.finished = true;
    this.draw(records, bytes, this.options.now());
    this.stream.write('\n');
  }

  /** The line for the given figures, without control characters. */
  render(records: number, bytes: number, now: number): string {
    const total = this.options.totalBytes;
    const fraction = total > 0 ? Math.min(1, bytes / total) : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const seconds = (now - this.startedAt) / 1000;
    const rate = seconds > 0 ? `${count(records / seconds)} records/s` : '';
    const line = `${this.options.label}  [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ${count(records)} records  ${rate}`.trimEnd();
    const width = this.stream.columns;
    return width !== undefined && width > 1 && line.length >= width ? line.slice(0, width - 1) : line;
  }

  private draw(records: number, bytes: number, now: number): void {
    this.stream.write(`\r${this.render(records, bytes, now)}\x1b[K`);
  }
}

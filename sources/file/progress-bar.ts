/** Where the bar is drawn: process.stderr, or a stand-in in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

/** What the bar shows, read afresh at every redraw. */
export interface ProgressFigures {
  /** Records replayed so far. */
  readonly records: number;
  /** Bytes of the files up to the latest record replayed (not the bytes read ahead of it), for the percentage and the ETA. */
  readonly bytes: number;
  /** `ts_event` of the latest record replayed, in microseconds; undefined before the first. */
  readonly eventTimeUs: number | undefined;
}

export interface ProgressBarOptions {
  /** Bytes of all files to replay, for the percentage. */
  readonly totalBytes: number;
  /** Shown before the figures, e.g. the stage id. */
  readonly label: string;
  /** Wall-clock milliseconds, for the rate and the ETA; default `performance.now`. The bar is UI: replayed data never reads this clock. */
  readonly now?: () => number;
  /** Milliseconds between two redraws. Default 200. */
  readonly intervalMs?: number;
  /** Calls `redraw` every `ms` until the returned function is called; default an unref'd `setInterval` (it never keeps the process alive). */
  readonly every?: (ms: number, redraw: () => void) => () => void;
}

const BAR_WIDTH = 20;
/** Seconds of replay before an ETA is shown: the first records say little about the rest. */
const ETA_AFTER_S = 1;

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** `0:09`, `12:34`, `1:02:03`. */
function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** `2025-01-02T13:00:05Z`: event time to the second, in UTC. */
function eventTime(us: number): string {
  const date = new Date(Math.floor(us / 1000));
  return Number.isNaN(date.getTime()) ? '?' : `${date.toISOString().slice(0, 19)}Z`;
}

const everyDefault = (ms: number, redraw: () => void): (() => void) => {
  const timer = setInterval(redraw, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * A one-line progress bar of a replay on a terminal: percent of the bytes
 * replayed, records, records per second, the event time reached and the
 * time left, redrawn in place (`\r`, erase to the end of the line) every
 * `intervalMs` from `start()` on, ended with the final figures and a newline
 * by `finish()`.
 *
 * ```
 * replay  [########------------]  41.7%  1,204,113 records  312,540 records/s  event 2025-01-02T13:04:10Z  ETA 0:23
 * replay  [####################] 100.0%  2,887,310 records  301,122 records/s  event 2025-01-02T15:00:00Z  in 0:09
 * ```
 *
 * The redraws run on their own wall-clock timer and read the figures the
 * replay keeps, so the bar moves however the replay is paced and whatever
 * scheduler it runs on; the rate and the ETA are of wall time too. The ETA
 * assumes the rest of the files replays at the pace of what came before
 * (`ETA --:--` for the first second). On a narrow terminal the bar itself
 * goes first, then the line is cut.
 *
 * It is never drawn on a stream that is not a terminal (a file, a pipe, a
 * test runner's capture): `create` returns `undefined` there.
 */
export class ProgressBar {
  private readonly now: () => number;
  private startedAt = 0;
  private figures: () => ProgressFigures = () => ({ records: 0, bytes: 0, eventTimeUs: undefined });
  private stopTimer: (() => void) | undefined;
  private finished = false;

  private constructor(
    private readonly stream: ProgressStream,
    private readonly options: ProgressBarOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
  }

  /**
   * A bar for the `progress` setting, or `undefined` when none is drawn:
   * `off`, or a stream that is not a terminal. `auto` and `on` both draw on
   * a terminal; `on` exists to say so explicitly, and `onRefused` is called
   * when it cannot be honoured.
   */
  static create(
    mode: 'auto' | 'on' | 'off',
    stream: ProgressStream,
    options: ProgressBarOptions,
    onRefused?: (reason: string) => void,
  ): ProgressBar | undefined {
    if (mode === 'off') return undefined;
    if (stream.isTTY !== true) {
      if (mode === 'on') onRefused?.('stderr is not a terminal');
      return undefined;
    }
    return new ProgressBar(stream, options);
  }

  /** Draws now and then every `intervalMs`, each time with what `figures` returns then. Once; not after `finish()`. */
  start(figures: () => ProgressFigures): void {
    if (this.finished || this.stopTimer !== undefined) return;
    this.figures = figures;
    this.startedAt = this.now();
    this.redraw();
    this.stopTimer = (this.options.every ?? everyDefault)(this.options.intervalMs ?? 200, () => this.redraw());
  }

  /** Draws the latest figures (what the timer calls). */
  redraw(): void {
    if (this.finished) return;
    this.stream.write(`\r${this.render(this.figures(), this.now())}\x1b[K`);
  }

  /** Stops the timer, draws the final figures with the time the replay took, and ends the line. Idempotent. */
  finish(): void {
    if (this.finished) return;
    this.stopTimer?.();
    this.stopTimer = undefined;
    this.stream.write(`\r${this.render(this.figures(), this.now(), true)}\x1b[K\n`);
    this.finished = true;
  }

  /** The line for `figures` at wall-clock time `now` (the final line when `done`), without control characters. */
  render(figures: ProgressFigures, now: number, done = false): string {
    const total = this.options.totalBytes;
    const fraction = done || total <= 0 ? 1 : Math.min(1, Math.max(0, figures.bytes / total));
    const seconds = Math.max(0, (now - this.startedAt) / 1000);
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    const figuresText = [
      `${(fraction * 100).toFixed(1).padStart(5)}%`,
      `${count(figures.records)} records`,
      ...(seconds > 0 ? [`${count(figures.records / seconds)} records/s`] : []),
      ...(figures.eventTimeUs === undefined ? [] : [`event ${eventTime(figures.eventTimeUs)}`]),
      done
        ? `in ${clock(seconds)}`
        : seconds >= ETA_AFTER_S && fraction > 0
          ? `ETA ${clock((seconds * (1 - fraction)) / fraction)}`
          : 'ETA --:--',
    ].join('  ');
    const line = `${this.options.label}  ${bar} ${figuresText}`;
    const width = this.stream.columns;
    if (width === undefined || width <= 1 || line.length < width) return line;
    const narrow = `${this.options.label}  ${figuresText.trimStart()}`;
    return narrow.length < width ? narrow : narrow.slice(0, width - 1);
  }
}

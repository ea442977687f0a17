import type { MonoTypeOperatorFunction } from 'rxjs';
import { handWrittenStage } from './hand-written-stage.js';
import type { StageMetrics } from './stage-metrics.js';

/**
 * Counts a stage's records in and out and times, for its input records (each
 * of the first 256, then a sample, see `input()`), the stage's own work: the
 * synchronous time of the record's delivery less the time spent in the
 * stages after it. Wrap every input stream of the stage with `input()` and
 * its output with `output()`.
 *
 * ```
 * source:   --a--b--c--|
 *   source.pipe(meter.input(), map(f), meter.output())
 * result:   --A--B--C--|      metrics: in 3, out 3, 3 latencies
 * ```
 *
 * @example
 * ```ts
 * import { map, of } from 'rxjs';
 * import { StageMetrics } from './stage-metrics.js';
 * const metrics = new StageMetrics('double', 'inline', [0.001, 0.01, 0.1]);
 * const meter = new StageMeter(metrics);
 * of(1, 2).pipe(meter.input(), map((x) => x * 2), meter.output()).subscribe((x) => console.log(x));
 * console.log(metrics.recordsIn, metrics.recordsOut, metrics.latencyCount);
 * // Logs: 2
 * // Logs: 4
 * // Logs: 2 2 2
 * ```
 */
export class StageMeter {
  /** Records timed one by one before sampling starts: a stage's first records, and all of a quiet stage's. */
  static readonly TIMED_FIRST = 256;
  /** After those, one record in this many is timed, and counted for itself and the ones after it that are not. */
  static readonly SAMPLE_EVERY = 8;

  private inRecord = false;
  private downstreamMs = 0;
  /** Records left until the next one timed. */
  private untilSample = 0;

  constructor(private readonly metrics: StageMetrics) {}

  /**
   * Counts each record as the stage receives it, and times it: every one of
   * the first {@link StageMeter.TIMED_FIRST}, then one in
   * {@link StageMeter.SAMPLE_EVERY}, weighted to stand for the ones not timed
   * (four clock reads per record and stage were a tenth of a replay's time).
   * So the latency count is the records in, give or take the weight of the
   * last sample.
   */
  input<T>(): MonoTypeOperatorFunction<T> {
    return (source) =>
      handWrittenStage<T>((stage) => {
        stage.follow(source, (record) => {
          const seen = ++this.metrics.recordsIn;
          if (this.untilSample > 0) {
            this.untilSample--;
            // Its emissions are not timed either: no record of this stage is being timed.
            const outerInRecord = this.inRecord;
            this.inRecord = false;
            stage.emit(record);
            stage.flush();
            this.inRecord = outerInRecord;
            return;
          }
          const weight = seen > StageMeter.TIMED_FIRST ? StageMeter.SAMPLE_EVERY : 1;
          this.untilSample = weight - 1;
          const start = performance.now();
          // A record fed back from downstream is timed on its own; the record it came in during keeps its count.
          const outerInRecord = this.inRecord;
          const outerDownstreamMs = this.downstreamMs;
          this.downstreamMs = 0;
          this.inRecord = true;
          stage.emit(record);
          stage.flush();
          const latencyMs = performance.now() - start - this.downstreamMs;
          this.inRecord = outerInRecord;
          this.downstreamMs = outerDownstreamMs;
          this.metrics.observeLatency(latencyMs / 1000, weight);
        });
      });
  }

  /** Counts each record the stage emits and keeps the time spent downstream out of its latency. */
  output<T>(): MonoTypeOperatorFunction<T> {
    return (source) =>
      handWrittenStage<T>((stage) => {
        stage.follow(source, (value) => {
          this.metrics.recordsOut++;
          stage.emit(value);
          if (!this.inRecord) return;
          const start = performance.now();
          stage.flush();
          this.downstreamMs += performance.now() - start;
        });
      });
  }
}

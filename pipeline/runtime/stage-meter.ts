import type { MonoTypeOperatorFunction } from 'rxjs';
import { handWrittenStage } from './hand-written-stage.js';
import type { StageMetrics } from './stage-metrics.js';

/**
 * Counts a stage's records in and out and times, for each input record, the
 * stage's own work: the synchronous time of the record's delivery less the
 * time spent in the stages after it. Wrap every input stream of the stage
 * with `input()` and its output with `output()`.
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
  private inRecord = false;
  private downstreamMs = 0;

  constructor(private readonly metrics: StageMetrics) {}

  /** Counts and times each record as the stage receives it. */
  input<T>(): MonoTypeOperatorFunction<T> {
    return (source) =>
      handWrittenStage<T>((stage) => {
        stage.follow(source, (record) => {
          this.metrics.recordsIn++;
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
          this.metrics.observeLatency(latencyMs / 1000);
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

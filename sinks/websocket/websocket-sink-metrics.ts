import type { CounterSeries, GaugeSeries, StageMetric } from '../../pipeline/runtime/stage-metrics.js';

/** The WebSocket sink's own metrics (declared by its definition) as its server and client connections update them. */
export interface WebsocketSinkMetrics {
  readonly clients: GaugeSeries;
  readonly messagesSent: CounterSeries;
  /** By error `code`. */
  readonly clientErrors: StageMetric<CounterSeries>;
}

import { Counter, Gauge, type Registry } from 'prom-client';
import { reuseMetric } from '../../pipeline/runtime/reuse-metric.js';
import type { FeedState } from '../../schemas/generated.js';

/**
 * The ctp source's own Prometheus metrics, labelled with the stage and the
 * front: whether each front is UP, how many instruments take their ticks
 * from it, the instruments moved between fronts, and the ticks the addon's
 * queue dropped. Drops by reason are the stage's own `dropped` counter.
 */
export class CtpMetrics {
  private readonly up: Gauge<'stage' | 'front'>;
  private readonly instruments: Gauge<'stage' | 'front'>;
  private readonly moves: Counter<'stage'>;
  private readonly queueDropped: Counter<'stage' | 'front'>;

  constructor(
    registry: Registry,
    private readonly stage: string,
    fronts: readonly string[],
  ) {
    const labelNames = ['stage', 'front'] as const;
    this.up = reuseMetric(registry, 'tickflow_ctp_front_up', () => new Gauge({ name: 'tickflow_ctp_front_up', help: 'Whether a CTP front is logged in and delivering (1) or not (0).', labelNames, registers: [registry] }));
    this.instruments = reuseMetric(
      registry,
      'tickflow_ctp_front_instruments',
      () => new Gauge({ name: 'tickflow_ctp_front_instruments', help: 'Instruments whose ticks the ctp source takes from this front.', labelNames, registers: [registry] }),
    );
    this.moves = reuseMetric(
      registry,
      'tickflow_ctp_instrument_moves_total',
      () => new Counter({ name: 'tickflow_ctp_instrument_moves_total', help: 'Times an instrument began taking its ticks from another front.', labelNames: ['stage'], registers: [registry] }),
    );
    this.queueDropped = reuseMetric(
      registry,
      'tickflow_ctp_queue_dropped_total',
      () => new Counter({ name: 'tickflow_ctp_queue_dropped_total', help: "Ticks a front's addon queue dropped because JavaScript fell behind.", labelNames, registers: [registry] }),
    );
    for (const front of fronts) {
      this.up.set({ stage, front }, 0);
      this.instruments.set({ stage, front }, 0);
      this.queueDropped.inc({ stage, front }, 0);
    }
    this.moves.inc({ stage }, 0);
  }

  frontState(front: string, state: FeedState): void {
    this.up.set({ stage: this.stage, front }, state === 'UP' ? 1 : 0);
  }

  /** An instrument now takes its ticks from `to` (and no longer from `from`, when it had a front). */
  moved(from: string | undefined, to: string): void {
    if (from !== undefined) this.instruments.dec({ stage: this.stage, front: from });
    this.instruments.inc({ stage: this.stage, front: to });
    this.moves.inc({ stage: this.stage });
  }

  queueOverflow(front: string, dropped: number): void {
    this.queueDropped.inc({ stage: this.stage, front }, dropped);
  }
}

import { Counter, Gauge, type Registry } from 'prom-client';
import { reuseMetric } from '../../pipeline/runtime/reuse-metric.js';

/**
 * The Redis sink's own Prometheus metrics, labelled with the stage: commands
 * written, commands buffered (waiting for Redis or for the next batch), the
 * estimated bytes of memory those records take, and reconnects. Several redis stages in one pipeline share the metrics. They
 * are updated once per batch, not per record, to keep the hot path cheap.
 */
export class RedisMetrics {
  private readonly commands: Counter<'stage'>;
  private readonly buffered: Gauge<'stage'>;
  private readonly bufferedBytes: Gauge<'stage'>;
  private readonly reconnects: Counter<'stage'>;

  constructor(
    registry: Registry,
    private readonly stage: string,
  ) {
    this.commands = reuseMetric(registry, 'tickflow_redis_commands_total', () => new Counter({ name: 'tickflow_redis_commands_total', help: 'Commands the redis sink wrote (replied to by Redis).', labelNames: ['stage'], registers: [registry] }));
    this.buffered = reuseMetric(
      registry,
      'tickflow_redis_buffered',
      () => new Gauge({ name: 'tickflow_redis_buffered', help: 'Commands the redis sink holds: for the next batch, sent and not answered yet, or until Redis is reachable again.', labelNames: ['stage'], registers: [registry] }),
    );
    this.bufferedBytes = reuseMetric(
      registry,
      'tickflow_redis_buffered_bytes',
      () =>
        new Gauge({
          name: 'tickflow_redis_buffered_bytes',
          help: 'Estimated bytes of memory the records the redis sink holds take (bounded by max_buffered_bytes).',
          labelNames: ['stage'],
          registers: [registry],
        }),
    );
    this.reconnects = reuseMetric(registry, 'tickflow_redis_reconnects_total', () => new Counter({ name: 'tickflow_redis_reconnects_total', help: 'Times the redis sink connected again after losing Redis.', labelNames: ['stage'], registers: [registry] }));
    this.commands.inc({ stage }, 0);
    this.buffered.set({ stage }, 0);
    this.bufferedBytes.set({ stage }, 0);
    this.reconnects.inc({ stage }, 0);
  }

  commandsWritten(count: number): void {
    if (count > 0) this.commands.inc({ stage: this.stage }, count);
  }

  setBuffered(commands: number, bytes: number): void {
    this.buffered.set({ stage: this.stage }, commands);
    this.bufferedBytes.set({ stage: this.stage }, bytes);
  }

  reconnected(): void {
    this.reconnects.inc({ stage: this.stage });
  }
}

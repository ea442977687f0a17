import { Gauge, Histogram, type Registry } from 'prom-client';
import { reuseMetric } from '../../pipeline/runtime/reuse-metric.js';

/**
 * The audit sink's own Prometheus metrics, labelled with the stage: the
 * duration of each group commit (write and fdatasync, the figure that
 * bounds ack latency), the records waiting for one, and the last seq on disk.
 */
export class AuditMetrics {
  private readonly commitSeconds: Histogram<'stage'>;
  private readonly pending: Gauge<'stage'>;
  private readonly lastSeq: Gauge<'stage'>;

  constructor(
    registry: Registry,
    private readonly stage: string,
  ) {
    this.commitSeconds = reuseMetric(
      registry,
      'tickflow_audit_commit_seconds',
      () =>
        new Histogram({
          name: 'tickflow_audit_commit_seconds',
          help: 'Time of one audit group commit: the write of its block and fdatasync.',
          labelNames: ['stage'],
          buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
          registers: [registry],
        }),
    );
    this.pending = reuseMetric(registry, 'tickflow_audit_pending_records', () => new Gauge({ name: 'tickflow_audit_pending_records', help: 'Records received by the audit sink and not yet on disk.', labelNames: ['stage'], registers: [registry] }));
    this.lastSeq = reuseMetric(registry, 'tickflow_audit_last_seq', () => new Gauge({ name: 'tickflow_audit_last_seq', help: 'seq of the last audit record on disk.', labelNames: ['stage'], registers: [registry] }));
  }

  committed(seconds: number, lastSeq: number, pending: number): void {
    this.commitSeconds.observe({ stage: this.stage }, seconds);
    this.lastSeq.set({ stage: this.stage }, lastSeq);
    this.pending.set({ stage: this.stage }, pending);
  }
}

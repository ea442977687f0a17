import { Registry, collectDefaultMetrics } from 'prom-client';
import { StageMetrics } from './stage-metrics.js';
import type { ComponentDeclarations } from '../components/component-definition.js';

/** Upper bounds of the processing-latency buckets, in seconds: 1 µs to 100 ms. */
const LATENCY_BUCKETS = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1];

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * The metrics of one running pipeline: per-stage counters and latency
 * histograms in the Prometheus text format, plus process metrics and any
 * metric a component registers in `registry`.
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly stages = new Map<string, StageMetrics>();

  constructor(readonly pipeline: string) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tickflow_' });
  }

  /** The metrics of `stage`, checked against what its component declares (nothing is checked for an inline operator, which declares nothing). */
  stage(stage: string, component: string, declarations?: ComponentDeclarations): StageMetrics {
    let metrics = this.stages.get(stage);
    if (metrics === undefined) {
      const declared =
        declarations === undefined ? undefined : { registry: this.registry, metrics: declarations.metrics, drops: declarations.drops };
      this.stages.set(stage, (metrics = new StageMetrics(stage, component, LATENCY_BUCKETS, declared)));
    }
    return metrics;
  }

  all(): StageMetrics[] {
    return [...this.stages.values()];
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<string> {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string, rows: string[]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows);
    };
    const label = (m: StageMetrics, extra = ''): string =>
      `{pipeline="${escape(this.pipeline)}",stage="${escape(m.stage)}",component="${escape(m.component)}"${extra}}`;
    const stages = this.all();
    family(
      'tickflow_stage_records_in_total',
      'counter',
      'Records a stage received.',
      stages.map((m) => `tickflow_stage_records_in_total${label(m)} ${m.recordsIn}`),
    );
    family(
      'tickflow_stage_records_out_total',
      'counter',
      'Records a stage emitted (for sinks: records written).',
      stages.map((m) => `tickflow_stage_records_out_total${label(m)} ${m.recordsOut}`),
    );
    family(
      'tickflow_stage_records_dropped_total',
      'counter',
      'Records a stage dropped, by reason.',
      stages.flatMap((m) =>
        [...m.droppedByReason].map(([reason, n]) => `tickflow_stage_records_dropped_total${label(m, `,reason="${escape(reason)}"`)} ${n}`),
      ),
    );
    family(
      'tickflow_stage_errors_total',
      'counter',
      'Errors a stage raised.',
      stages.map((m) => `tickflow_stage_errors_total${label(m)} ${m.errors}`),
    );
    family(
      'tickflow_stage_processing_seconds',
      'histogram',
      'Time a stage spent on one input record, excluding the stages after it.',
      stages.flatMap((m) => {
        let cumulative = 0;
        const rows = m.bucketBounds.map((bound, i) => {
          cumulative += m.latencyBuckets[i] as number;
          return `tickflow_stage_processing_seconds_bucket${label(m, `,le="${bound}"`)} ${cumulative}`;
        });
        rows.push(
          `tickflow_stage_processing_seconds_bucket${label(m, ',le="+Inf"')} ${m.latencyCount}`,
          `tickflow_stage_processing_seconds_sum${label(m)} ${m.latencySum}`,
          `tickflow_stage_processing_seconds_count${label(m)} ${m.latencyCount}`,
        );
        return rows;
      }),
    );
    return `${lines.join('\n')}\n${await this.registry.metrics()}`;
  }
}

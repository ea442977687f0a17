import { Registry } from 'prom-client';
import { from, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { StageError } from '../../../errors/errors.js';
import type { OperatorDefinition, SourceDefinition } from '../../../pipeline/components/component-definition.js';
import { pipeline } from '../../../pipeline/graph/pipeline.js';
import { metric } from '../../../pipeline/runtime/metric-declaration.js';
import { runPipeline } from '../../../pipeline/runtime/run-pipeline.js';
import { StageMetrics } from '../../../pipeline/runtime/stage-metrics.js';
import type { Tick } from '../../../schemas/generated.js';
import { makeTick } from '../../support/make-tick.js';
import { collectingSink, recordsSource } from '../../support/test-components.js';

const declared = (registry = new Registry()) => ({
  registry,
  metrics: {
    sent_total: metric.counter('Things sent.'),
    queue_depth: metric.gauge('Things waiting.', { labels: ['queue'] }),
    wait_seconds: metric.histogram('Time a thing waited.', { buckets: [0.1, 1] }),
  },
  drops: { late: 'Came after its window' },
});

describe('StageMetrics', () => {
  it('counts the drop reasons its definition declares, and invalid (an edge rejected the record) for every stage', () => {
    const m = new StageMetrics('feed', 'ws-feed', [1], declared());
    m.dropped('late', 2);
    m.dropped(StageMetrics.EDGE_REJECTED);
    expect(Object.fromEntries(m.droppedByReason)).toEqual({ late: 2, invalid: 1 });
  });

  it('refuses a drop reason its definition does not declare, naming the stage, the component and what is declared', () => {
    const m = new StageMetrics('feed', 'ws-feed', [1], declared());
    expect(() => m.dropped('lost')).toThrow(StageError);
    expect(() => m.dropped('lost')).toThrow(
      "stage 'feed' (ws-feed): uses drop reason 'lost', which its definition does not declare; declared: invalid, late",
    );
    expect(m.droppedByReason.size).toBe(0);
  });

  it('checks nothing when built without a definition (an operator used as a plain function)', () => {
    const m = new StageMetrics('s', 'inline', [1]);
    m.dropped('anything');
    expect(m.droppedByReason.get('anything')).toBe(1);
    expect(() => m.counter('sent_total')).toThrow(
      "stage 's' (inline): uses counter 'sent_total', which its definition does not declare; declared: none",
    );
  });

  it('names its own metrics tickflow_<component>_<name>, labels them with the stage and starts an unlabelled one at zero', async () => {
    const registry = new Registry();
    const m = new StageMetrics('out', 'ws-feed', [1], declared(registry));
    const sent = m.counter('sent_total');
    expect(await registry.metrics()).toContain('tickflow_ws_feed_sent_total{stage="out"} 0');
    sent.inc();
    sent.inc(2);
    m.gauge('queue_depth').labels({ queue: 'a' }).set(5);
    m.histogram('wait_seconds').observe(0.5);
    const text = await registry.metrics();
    expect(text).toContain('# HELP tickflow_ws_feed_sent_total Things sent.');
    expect(text).toContain('# TYPE tickflow_ws_feed_sent_total counter');
    expect(text).toContain('tickflow_ws_feed_sent_total{stage="out"} 3');
    expect(text).toContain('tickflow_ws_feed_queue_depth{stage="out",queue="a"} 5');
    expect(text).toContain('tickflow_ws_feed_wait_seconds_bucket{le="1",stage="out"} 1');
    expect(text).toContain('tickflow_ws_feed_wait_seconds_bucket{le="0.1",stage="out"} 0');
  });

  it('adds a counter up between collections and hands Prometheus the sum at each one, never twice', async () => {
    const registry = new Registry();
    const m = new StageMetrics('merge', 'dedup', [1], {
      registry,
      metrics: { sent_total: metric.counter('Things sent.'), by_feed_total: metric.counter('Things by feed.', { labels: ['feed'] }) },
    });
    const sent = m.counter('sent_total');
    const a = m.counter('by_feed_total').labels({ feed: 'a' });
    for (let i = 0; i < 1000; i++) sent.inc();
    a.inc(2);
    m.counter('by_feed_total').labels({ feed: 'a' }).inc(3); // the same series, asked for again
    expect(await registry.metrics()).toContain('tickflow_dedup_sent_total{stage="merge"} 1000');
    const bySeries = await registry.getSingleMetric('tickflow_dedup_by_feed_total')?.get();
    expect(bySeries?.values).toEqual([{ labels: { stage: 'merge', feed: 'a' }, value: 5 }]);
    sent.inc(0.5);
    const text = await registry.metrics();
    expect(text).toContain('tickflow_dedup_sent_total{stage="merge"} 1000.5');
    expect(text).toContain('tickflow_dedup_by_feed_total{stage="merge",feed="a"} 5');
    m.counter('by_feed_total').labels({ feed: 'b' }).inc(0);
    expect(await registry.metrics()).toContain('tickflow_dedup_by_feed_total{stage="merge",feed="b"} 0');
    expect(() => sent.inc(-1)).toThrow('It is not possible to decrease a counter');
    expect(() => a.inc(Number.NaN)).toThrow('Value is not a valid number: NaN');
    expect(await registry.metrics()).toContain('tickflow_dedup_sent_total{stage="merge"} 1000.5');
  });

  it('shares a metric between two stages of one component, a series each', async () => {
    const registry = new Registry();
    new StageMetrics('a', 'redis', [1], declared(registry)).counter('sent_total').inc(1);
    new StageMetrics('b', 'redis', [1], declared(registry)).counter('sent_total').inc(4);
    const text = await registry.metrics();
    expect(text).toContain('tickflow_redis_sent_total{stage="a"} 1');
    expect(text).toContain('tickflow_redis_sent_total{stage="b"} 4');
    expect(text.match(/# TYPE tickflow_redis_sent_total/g)).toHaveLength(1);
  });

  it('refuses a metric that is not declared, or declared as another type', () => {
    const m = new StageMetrics('s', 'redis', [1], declared());
    expect(() => m.counter('received_total')).toThrow(
      /uses counter 'received_total', which its definition does not declare; declared: sent_total \(counter\), queue_depth \(gauge\), wait_seconds \(histogram\)/,
    );
    expect(() => m.gauge('sent_total')).toThrow(/uses gauge 'sent_total'/);
  });

  it('refuses to write a labelled metric without its labels', () => {
    const depth = new StageMetrics('s', 'redis', [1], declared()).gauge('queue_depth');
    expect(() => depth.set(1)).toThrow("stage 's' (redis): metric 'queue_depth' is labelled by queue; write it with labels({ … })");
  });

  it('in a pipeline, fails the stage that uses a metric or drop reason its definition does not declare', async () => {
    const undeclaredMetric: SourceDefinition<'Tick', Record<string, never>> = {
      ...recordsSource('ticks', 'Tick', [makeTick()]),
      create: (_config, ctx) => (ctx.metrics.counter('ticks_total'), from([makeTick()])),
    };
    const run = runPipeline(
      pipeline('p', '', (g) => g.sink('out', collectingSink('collect', 'Tick', []), {}, g.source('market', undeclaredMetric))).build(),
    );
    const done = await run.done;
    expect(done.ok).toBe(false);
    expect(String(done.failures[0]?.error)).toContain(
      "stage 'market' (ticks) could not start: uses counter 'ticks_total', which its definition does not declare; declared: none",
    );

    const dropsUndeclared: OperatorDefinition<'Tick', 'Tick', Record<string, never>> = {
      name: 'dropper',
      kind: 'operator',
      in: 'Tick',
      out: 'Tick',
      description: 'Drops every tick',
      spec: {},
      drops: { late: 'late' },
      create: (_config, ctx) => map((tick: Tick) => (ctx.metrics.dropped('lost'), tick)),
    };
    const failing = runPipeline(
      pipeline('p', '', (g) =>
        g.sink(
          'out',
          collectingSink('collect', 'Tick', []),
          {},
          g.operator('drop', dropsUndeclared, {}, g.source('market', recordsSource('ticks', 'Tick', [makeTick()]))),
        ),
      ).build(),
    );
    const result = await failing.done;
    expect(result.failures.map((f) => f.stage)).toEqual(['drop']);
    expect(String(result.failures[0]?.error)).toContain(
      "uses drop reason 'lost', which its definition does not declare; declared: invalid, late",
    );
  });
});

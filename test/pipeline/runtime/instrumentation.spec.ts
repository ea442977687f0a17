import { VirtualTimeScheduler, ignoreElements, tap, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../errors/errors.js';
import type { SourceDefinition } from '../../../pipeline/components/component-definition.js';
import { pipeline } from '../../../pipeline/graph/pipeline.js';
import { Instrumentation, InstrumentationEvents, type InstrumentationEvent } from '../../../pipeline/runtime/instrumentation.js';
import { runPipeline } from '../../../pipeline/runtime/run-pipeline.js';
import { collectingSink, recordsSource } from '../../support/test-components.js';

describe('Instrumentation', () => {
  it('delivers events in one envelope with scheduler time, until unsubscribed', () => {
    const scheduler = new VirtualTimeScheduler();
    const instrumentation = new Instrumentation(scheduler);
    const seen: InstrumentationEvent[] = [];
    const off = instrumentation.on(InstrumentationEvents.STAGE_FAILED, (e) => seen.push(e));
    instrumentation.emit(InstrumentationEvents.STAGE_FAILED, { stage: 'risk' });
    instrumentation.emit(InstrumentationEvents.PIPELINE_STARTED, {});
    off();
    instrumentation.emit(InstrumentationEvents.STAGE_FAILED, { stage: 'risk' });
    expect(seen).toEqual([{ id: 1, type: 'stage.failed', timestamp: 0, payload: { stage: 'risk' } }]);
  });

  it('rejects an unknown event name', () => {
    const instrumentation = new Instrumentation(new VirtualTimeScheduler());
    expect(() => instrumentation.on('stage.exploded', () => undefined)).toThrow(ConfigError);
    expect(() => instrumentation.on('stage.exploded', () => undefined)).toThrow(
      /unknown event 'stage.exploded'; known events: pipeline.started/,
    );
  });

  it('knows the events the components declare; emitting or listening to another name throws', () => {
    const instrumentation = new Instrumentation(new VirtualTimeScheduler(), { 'source.ctp.moved': 'An instrument moved' });
    const seen: string[] = [];
    instrumentation.on('source.ctp.moved', (e) => seen.push(e.type));
    instrumentation.emit('source.ctp.moved', { instrument: 'SHFE.rb2501' });
    expect(seen).toEqual(['source.ctp.moved']);
    expect(() => instrumentation.emit('source.ctp.lost', {})).toThrow(/unknown event 'source.ctp.lost'; known events: .*source.ctp.moved/);
  });

  it("in a pipeline, knows the events of the pipeline's components and no others", async () => {
    const emits: SourceDefinition<'Tick', Record<string, never>> = {
      ...recordsSource('ticks', 'Tick', []),
      events: { 'source.test.opened': 'The test source opened' },
      // Later than the start, so that the listener below is registered by then.
      create: (_config, ctx) =>
        timer(0, ctx.scheduler).pipe(
          tap(() => ctx.instrumentation.emit('source.test.opened', { at: 1 })),
          ignoreElements(),
        ),
    };
    const graph = pipeline('p', '', (g) => g.sink('out', collectingSink('collect', 'Tick', []), {}, g.source('market', emits))).build();
    const run = runPipeline(graph);
    const seen: unknown[] = [];
    run.instrumentation.on('source.test.opened', (e) => seen.push(e.payload));
    expect(() => run.instrumentation.on('source.ctp.moved', () => undefined)).toThrow(/unknown event 'source.ctp.moved'/);
    expect((await run.done).ok).toBe(true);
    expect(seen).toEqual([{ at: 1 }]);
  });
});
